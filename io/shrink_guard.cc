#include "io/shrink_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace wk::io {
namespace {

// Slot::lo while a guard fills the slot in (no mapping starts at address 1).
constexpr uintptr_t kClaiming = 1;

struct Slot {
  std::atomic<uintptr_t> lo{0};  // 0: free
  std::atomic<uintptr_t> hi{0};
  std::atomic<bool> shrank{false};
};

Slot g_slots[ShrinkGuard::kMaxGuards];
struct sigaction g_previous;
std::once_flag g_installed;
std::atomic<bool> g_enabled{true};

void OnSigbus(int signo, siginfo_t* info, void* ucontext) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    const uintptr_t lo = s.lo.load(std::memory_order_acquire);
    if (lo <= kClaiming || addr < lo ||
        addr >= s.hi.load(std::memory_order_acquire))
      continue;
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    void* at = reinterpret_cast<void*>(addr & ~(page - 1));
    // Zeros in place of the vanished page; the faulting read then resumes.
    if (mmap(at, page, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0) != MAP_FAILED) {
      s.shrank.store(true, std::memory_order_release);
      return;
    }
    break;
  }
  // Not ours (or no page could be mapped): what would have happened anyway.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) {
      g_previous.sa_sigaction(signo, info, ucontext);
      return;
    }
  } else if (g_previous.sa_handler != SIG_DFL &&
             g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signo);
    return;
  }
  // Default action: die by SIGBUS when the access is retried.
  signal(SIGBUS, SIG_DFL);
}

void Install() {
  struct sigaction sa = {};
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &g_previous);
}

}  // namespace

void ShrinkGuard::SetEnabled(bool enabled) {
  g_enabled.store(enabled, std::memory_order_relaxed);
}

ShrinkGuard::ShrinkGuard(std::span<const uint8_t> mapping) {
  if (mapping.empty() || !g_enabled.load(std::memory_order_relaxed)) return;
  std::call_once(g_installed, Install);
  const uintptr_t lo = reinterpret_cast<uintptr_t>(mapping.data());
  for (size_t i = 0; i < kMaxGuards; ++i) {
    Slot& s = g_slots[i];
    uintptr_t expected = 0;
    // Claim with a placeholder (ignored by the handler), fill, then publish.
    if (!s.lo.compare_exchange_strong(expected, kClaiming,
                                      std::memory_order_acq_rel)) {
      continue;
    }
    s.shrank.store(false, std::memory_order_relaxed);
    s.hi.store(lo + mapping.size(), std::memory_order_relaxed);
    s.lo.store(lo, std::memory_order_release);
    slot_ = static_cast<int>(i);
    return;
  }
}

ShrinkGuard::~ShrinkGuard() {
  if (slot_ >= 0) g_slots[slot_].lo.store(0, std::memory_order_release);
}

bool ShrinkGuard::shrank() const {
  return slot_ >= 0 && g_slots[slot_].shrank.load(std::memory_order_acquire);
}

}  // namespace wk::io
