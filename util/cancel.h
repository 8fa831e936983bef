// Process-wide cancellation, requested by a signal and seen by I/O.
//
// A program that wants SIGINT/SIGTERM/SIGHUP to stop work cleanly installs
// a handler (the library installs none) that calls RequestCancel(signo).
// From then on every read, write, sync and frame of io/ and checkpt/ returns
// CancelledStatus(): an operation in progress unwinds through its ordinary
// error path (a checkpoint removes its temporary, a restore resets the
// workspace) and the program decides the exit status from CancelSignal().
//
// RequestCancel is async-signal-safe (one lock-free atomic store). Only the
// first request is kept. There is no way back short of ClearCancelForTest:
// a process that was asked to stop stays asked.
//
// One call can also be stopped on its own: a ScopedCallCancel names a flag
// (an int the caller sets nonzero, from any thread or a signal handler) that
// the same checks read in this thread, and ThreadPool and Prefetcher hand it
// to the threads they run for the call. The C API's cancel option is this.
#ifndef WKSPKIT_UTIL_CANCEL_H_
#define WKSPKIT_UTIL_CANCEL_H_

#include <atomic>

#include "absl/status/status.h"

namespace wk {

namespace cancel_internal {
inline std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
}  // namespace cancel_internal

// Records that signal `signo` (> 0) asked the process to stop. Safe to call
// from a signal handler.
inline void RequestCancel(int signo) noexcept {
  int none = 0;
  cancel_internal::g_signal.compare_exchange_strong(none, signo,
                                                    std::memory_order_relaxed);
}

namespace cancel_internal {
// The flag of the call this thread works for, or null. Initial-exec TLS, as
// every read and write checks it (glibc keeps static TLS spare for libraries).
inline constinit thread_local const int* t_call_flag
    __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace cancel_internal

// The calling thread's call flag (to hand to a thread working for the call).
inline const int* CallCancelFlag() noexcept {
  return cancel_internal::t_call_flag;
}

// Whether the calling thread's call was asked to stop through its flag.
inline bool CallCancelled() noexcept {
  const int* f = cancel_internal::t_call_flag;
  return f != nullptr && __atomic_load_n(f, __ATOMIC_RELAXED) != 0;
}

// Makes `flag` (may be null: none) this thread's call flag until destroyed,
// then restores the one before. The flag must outlive the scope.
class ScopedCallCancel {
 public:
  explicit ScopedCallCancel(const int* flag) noexcept
      : prev_(cancel_internal::t_call_flag) {
    cancel_internal::t_call_flag = flag;
  }
  ~ScopedCallCancel() { cancel_internal::t_call_flag = prev_; }
  ScopedCallCancel(const ScopedCallCancel&) = delete;
  ScopedCallCancel& operator=(const ScopedCallCancel&) = delete;

 private:
  const int* prev_;
};

// True once RequestCancel was called, or this thread's call flag is set.
// Two relaxed loads: cheap enough for every system call of the I/O layer.
inline bool CancelRequested() noexcept {
  return cancel_internal::g_signal.load(std::memory_order_relaxed) != 0 ||
         CallCancelled();
}

// The signal of the first request, or 0.
inline int CancelSignal() noexcept {
  return cancel_internal::g_signal.load(std::memory_order_relaxed);
}

// Cancelled("interrupted by SIGINT") when a request was made,
// Cancelled("cancelled by the caller ...") when only this thread's call flag
// is set, else OK.
absl::Status CheckCancel();

// "SIGINT", "SIGTERM", "SIGHUP", else "a signal".
const char* SignalName(int signo);

// Forgets the request (tests only).
void ClearCancelForTest();

}  // namespace wk

#endif  // WKSPKIT_UTIL_CANCEL_H_
