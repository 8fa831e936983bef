// Fault injection at I/O events, for tests only.
//
// The library calls FaultPoint at each event; in a production build nothing
// is installed and it costs one relaxed load. Test binaries link
// //util:fault_testing (wksp_ctl_testing is wksp_ctl with it), which at
// startup installs the injector armed by the environment:
//
//   WKSP_FAULT_AT=<event>:<n>[+][:<action>]
//
// makes the n-th (1-based) event of that kind in the process (with +, the
// n-th and every later one) perform the action just before the operation
// it precedes: kill (default) raises
// SIGKILL; int, term, hup raise SIGINT, SIGTERM, SIGHUP (the program's own
// handler then runs, as if a user had sent it); stop raises SIGSTOP, so the
// process halts right there (holding whatever it holds, e.g. a workspace's
// lock) until a SIGCONT, then goes on; enospc and eio make the operation
// fail with that errno; drop fails it with ECANCELED (for alert: the alert
// is lost). Events (FaultEvent): read and write (each
// read(2)/pread(2), write(2)/pwrite(2) call of io/ and of the checkpoint
// readers), sync (fsync), publish (a finished file about to be synced and
// linked at its path), published (just after it got its name), frame (a
// checkpoint frame opened for reading), scanned (a mapped v2/v3 checkpoint
// scanned, its frames' data about to be read), header (a v2/v3 header
// decoded from a file's bytes: once per read of a checkpoint, which tests
// count), alert (a fetch about to handle libtorrent's file_error_alert or
// torrent_error_alert: any errno action drops it, as a full alert queue
// would). Only events of the armed kind are counted. A bad value is reported on
// stderr once (by the test binary) and ignores the variable. Kill points are
// exact counts, not timings, so a test that kills at event n is reproducible.
//
// In-process tests may install their own injector with SetFaultHook (e.g. to
// truncate a file at an exact read).
#ifndef WKSPKIT_UTIL_FAULT_H_
#define WKSPKIT_UTIL_FAULT_H_

#include <atomic>

namespace wk {

enum class FaultEvent : int {
  kRead,
  kWrite,
  kSync,
  kPublish,
  kPublished,
  kFrame,
  kScanned,
  kHeader,
  kAlert,
};

// An injector: returns 0, or an errno the operation must fail with.
using FaultHook = int (*)(FaultEvent event);

namespace fault_internal {
extern std::atomic<FaultHook> g_hook;
}  // namespace fault_internal

// Installs `hook` for the whole process (nullptr: none), returning the one
// it replaces. Tests only: production code never calls it.
FaultHook SetFaultHook(FaultHook hook);

// Returns 0, or an errno the caller must fail the operation with. May not
// return at all (kill).
inline int FaultPoint(FaultEvent event) {
  FaultHook hook = fault_internal::g_hook.load(std::memory_order_relaxed);
  if (hook == nullptr) [[likely]]
    return 0;
  return hook(event);
}

}  // namespace wk

#endif  // WKSPKIT_UTIL_FAULT_H_
