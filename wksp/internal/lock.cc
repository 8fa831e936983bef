// Process-shared spin lock with owner-death detection (see lock.h).
#include "wksp/internal/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/status.h"
#include "wksp/internal/layout.h"

namespace wk::wksp::internal {
namespace {

// This thread's lock identity, read on every acquire. Initial-exec TLS:
// inside libwkspkit.so the default model would cost a __tls_get_addr call
// per lock (glibc keeps spare static TLS for libraries, dlopen'd ones too).
constinit thread_local uint64_t tls_owner_id
    __attribute__((tls_model("initial-exec"))) = 0;
std::atomic<CriticalSectionHook> g_hook{nullptr};

// Per-process facts, computed on first use and again in a forked child
// (which may live in a new pid namespace after unshare(CLONE_NEWPID)).
struct ProcFacts {
  uint32_t pid = 0;
  uint32_t pid_ns = 0;
  bool proc_is_ours = false;  // /proc numbers processes as our namespace does
};
std::atomic<bool> g_facts_valid{false};
ProcFacts g_facts;  // written once per process before g_facts_valid
std::atomic<int> g_facts_lock{0};

void ResetInChild() {
  // Only the forking thread survives; clearing its caches is enough for the
  // child to pick up its new pid, tid and namespace.
  tls_owner_id = 0;
  g_facts_valid.store(false, std::memory_order_relaxed);
  g_facts_lock.store(0, std::memory_order_relaxed);
}

void RegisterAtFork() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, &ResetInChild);
    return true;
  }();
  (void)registered;
}

ProcFacts ComputeFacts() {
  ProcFacts f;
  f.pid = static_cast<uint32_t>(getpid());
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) == 0) {
    f.pid_ns = static_cast<uint32_t>(st.st_ino);
  }
  // /proc may be mounted for another namespace (a child that unshared its
  // pid namespace without remounting /proc): then /proc/N is not our N.
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
  uint32_t self = 0;
  f.proc_is_ours =
      n > 0 &&
      absl::SimpleAtoi(absl::string_view(buf, static_cast<size_t>(n)), &self) &&
      self == f.pid;
  return f;
}

const ProcFacts& Facts() {
  if (!g_facts_valid.load(std::memory_order_acquire)) [[unlikely]] {
    RegisterAtFork();
    int expected = 0;
    if (g_facts_lock.compare_exchange_strong(expected, 1)) {
      g_facts = ComputeFacts();
      g_facts_valid.store(true, std::memory_order_release);
    } else {
      while (!g_facts_valid.load(std::memory_order_acquire)) sched_yield();
    }
  }
  return g_facts;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The state letter of /proc/ID/stat (the field after the parenthesised
// command, which may itself hold spaces and parentheses), or 0.
char ProcState(uint32_t id) {
  char path[48];
  snprintf(path, sizeof(path), "/proc/%u/stat", id);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* close_paren = strrchr(buf, ')');
  if (close_paren == nullptr || close_paren[1] != ' ') return 0;
  return close_paren[2];
}

}  // namespace

uint32_t SelfPidNs() { return Facts().pid_ns; }
uint32_t SelfPid() { return Facts().pid; }

uint64_t SelfOwnerId() {
  uint64_t id = tls_owner_id;
  if (id == 0) [[unlikely]] {
    uint32_t ns = Facts().pid_ns;
    id = PackIdentity(ns, static_cast<uint32_t>(syscall(SYS_gettid)));
    tls_owner_id = id;
  }
  return id;
}

Liveness ProcessLiveness(uint32_t pid_ns, uint32_t id) {
  const ProcFacts& f = Facts();
  if (pid_ns != f.pid_ns) return Liveness::kUnknown;
  if (id == 0 || id > static_cast<uint32_t>(INT32_MAX)) {
    return Liveness::kAlive;  // not an identity we wrote: never take over
  }
  // kill() accepts any thread id, not only a process id, and signal 0 only
  // checks existence; EPERM means it exists but is someone else's.
  if (kill(static_cast<pid_t>(id), 0) != 0 && errno == ESRCH) {
    return Liveness::kDead;
  }
  if (f.proc_is_ours) {
    char state = ProcState(id);
    if (state == 'Z' || state == 'X') return Liveness::kDead;
  }
  return Liveness::kAlive;
}

Liveness OwnerLiveness(uint64_t id) {
  return ProcessLiveness(IdentityNs(id), IdentityId(id));
}

std::string ProcessCommand(uint32_t pid) {
  if (!Facts().proc_is_ours || pid == 0) return "";
  char path[48];
  snprintf(path, sizeof(path), "/proc/%u/comm", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n <= 0) return "";
  while (n > 0 && buf[n - 1] == '\n') --n;
  return std::string(buf, n);
}

uint64_t LockOwner(const uint64_t* word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

absl::Status LockWord(uint64_t* word, LockResult* result, int64_t deadline_ns,
                      LockWaitFn on_wait) {
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
  // Contended: spin briefly, then yield, then sleep with a growing delay,
  // checking the owner's liveness before each sleep.
  long sleep_ns = 1000;
  int64_t wait_start = 0, next_report = 0;
  uint64_t naps = 0, last_owner = 0;
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
    if (round < 128) {
      sched_yield();
      continue;
    }
    // Only a waiter that sleeps pays for the liveness check (a signal and a
    // read of /proc/TID/stat, ~20 us): a hand-off between live threads never
    // does, and a long wait looks every 10th nap (~100 ms), which keeps the
    // waiter well under 1% of a core.
    ++naps;
    if ((sleep_ns < kLockSleepMaxNs || naps % 10 == 0 || owner != last_owner) &&
        OwnerLiveness(owner) == Liveness::kDead) {
      expected = owner;
      if (__atomic_compare_exchange_n(word, &expected, me, false,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        *result = LockResult::kRecovered;
        return absl::OkStatus();
      }
      continue;  // someone else took it over first
    }
    // A signal handler's request (or one that arrived while we slept: the
    // sleep returns early with EINTR) ends the wait before anything changed.
    last_owner = owner;
    WK_RETURN_IF_ERROR(CheckCancel());
    const int64_t now = MonotonicNs();
    if (deadline_ns != kNoDeadline && now >= deadline_ns) {
      return absl::DeadlineExceededError(
          "gave up waiting for the workspace lock (wait limit reached)");
    }
    if (wait_start == 0) {
      wait_start = now;
      next_report = now + kLockWaitReportNs;
    } else if (now >= next_report) {
      WK_RETURN_IF_ERROR(on_wait(owner, now - wait_start));
      next_report = MonotonicNs() + kLockWaitRepeatNs;
    }
    long nap = sleep_ns;
    if (deadline_ns != kNoDeadline && deadline_ns - now < nap) {
      nap = static_cast<long>(deadline_ns - now);
    }
    timespec ts{0, nap};
    nanosleep(&ts, nullptr);
    if (sleep_ns < kLockSleepMaxNs) {
      sleep_ns = std::min(sleep_ns * 2, kLockSleepMaxNs);
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
