// Process-shared spin lock with owner-death detection (see lock.h).
#include "wksp/internal/lock.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_format.h"

namespace wk::wksp::internal {
namespace {

thread_local uint64_t tls_owner_id = 0;
std::atomic<CriticalSectionHook> g_hook{nullptr};

void ResetOwnerIdInChild() { tls_owner_id = 0; }

uint64_t ComputeOwnerId() {
  static const bool registered = [] {
    // Only the forking thread survives in the child; clearing its cache is
    // enough for the child to pick up its new pid and tid.
    pthread_atfork(nullptr, nullptr, &ResetOwnerIdInChild);
    return true;
  }();
  (void)registered;
  uint64_t pid = static_cast<uint32_t>(getpid());
  uint64_t tid = static_cast<uint32_t>(syscall(SYS_gettid));
  return (pid << 32) | tid;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

uint64_t SelfOwnerId() {
  uint64_t id = tls_owner_id;
  if (id == 0) [[unlikely]] {
    id = ComputeOwnerId();
    tls_owner_id = id;
  }
  return id;
}

bool OwnerIsDead(uint64_t id) {
  pid_t pid = static_cast<pid_t>(id >> 32);
  pid_t tid = static_cast<pid_t>(id & 0xFFFFFFFFu);
  if (pid <= 0 || tid <= 0) return false;  // not an identity we wrote
  long rc = syscall(SYS_tgkill, pid, tid, 0);
  return rc != 0 && errno == ESRCH;
}

uint64_t LockOwner(const uint64_t* word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

absl::Status LockWord(uint64_t* word, LockResult* result) {
  const uint64_t me = SelfOwnerId();
  uint64_t expected = 0;
  if (__atomic_compare_exchange_n(word, &expected, me, false, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED)) [[likely]] {
    *result = LockResult::kAcquired;
    return absl::OkStatus();
  }
  if (expected == me) [[unlikely]] {
    return absl::FailedPreconditionError(
        "workspace lock is already held by this thread (an allocator call "
        "made while holding Wksp::Lock()?)");
  }
  // Contended: spin briefly, then yield, then sleep with a growing delay.
  // The owner's liveness is checked every round once we stop spinning, since
  // that costs a system call.
  long sleep_ns = 1000;
  for (uint64_t round = 1;; ++round) {
    uint64_t owner = __atomic_load_n(word, __ATOMIC_RELAXED);
    if (owner == 0) {
      expected = 0;
      if (__atomic_compare_exchange_n(word, &expected, me, false,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        *result = LockResult::kAcquired;
        return absl::OkStatus();
      }
      continue;
    }
    if (round < 64) {
      CpuRelax();
      continue;
    }
    if (OwnerIsDead(owner)) {
      expected = owner;
      if (__atomic_compare_exchange_n(word, &expected, me, false,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        *result = LockResult::kRecovered;
        return absl::OkStatus();
      }
      continue;  // someone else took it over first
    }
    if (round < 128) {
      sched_yield();
    } else {
      timespec ts{0, sleep_ns};
      nanosleep(&ts, nullptr);
      if (sleep_ns < 256 * 1000) sleep_ns *= 2;
    }
  }
}

void UnlockWord(uint64_t* word) { __atomic_store_n(word, 0, __ATOMIC_RELEASE); }

void SetCriticalSectionHook(CriticalSectionHook hook) {
  g_hook.store(hook, std::memory_order_release);
}

void CriticalSectionPoint(const char* where) {
  CriticalSectionHook hook = g_hook.load(std::memory_order_relaxed);
  if (hook != nullptr) [[unlikely]]
    hook(where);
}

}  // namespace wk::wksp::internal
