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

// True once RequestCancel was called. One relaxed load: cheap enough for
// every system call of the I/O layer.
inline bool CancelRequested() noexcept {
  return cancel_internal::g_signal.load(std::memory_order_relaxed) != 0;
}

// The signal of the first request, or 0.
inline int CancelSignal() noexcept {
  return cancel_internal::g_signal.load(std::memory_order_relaxed);
}

// Cancelled("interrupted by SIGINT") when a request was made, else OK.
absl::Status CheckCancel();

// "SIGINT", "SIGTERM", "SIGHUP", else "a signal".
const char* SignalName(int signo);

// Forgets the request (tests only).
void ClearCancelForTest();

}  // namespace wk

#endif  // WKSPKIT_UTIL_CANCEL_H_
