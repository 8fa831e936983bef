// Test-only fault injection at I/O events, armed by the environment.
//
//   WKSP_FAULT_AT=<event>:<n>[:<action>]
//
// makes the n-th (1-based) event of that kind in the process perform the
// action just before the operation it precedes: kill (default) raises
// SIGKILL; int, term, hup raise SIGINT, SIGTERM, SIGHUP (the program's own
// handler then runs, as if a user had sent it); stop raises SIGSTOP, so the
// process halts right there (holding whatever it holds, e.g. a workspace's
// lock) until a SIGCONT, then goes on; enospc and eio make the operation
// fail with that errno. Events (FaultEvent): read and write (each
// read(2)/pread(2), write(2)/pwrite(2) call of io/), sync (fsync),
// publish (a finished file about to be synced and linked at its path),
// published (just after it got its name), frame (a checkpoint frame opened for reading). Only events of the
// armed kind are counted.
//
// Unset (production), FaultPoint costs one load of a flag read once from the
// environment. The variable is read at the first event; a bad value is
// reported on stderr once and ignores the variable. Kill points are exact
// counts, not timings, so a test that kills at event n is reproducible.
#ifndef WKSPKIT_UTIL_FAULT_H_
#define WKSPKIT_UTIL_FAULT_H_

namespace wk {

enum class FaultEvent : int {
  kRead,
  kWrite,
  kSync,
  kPublish,
  kPublished,
  kFrame,
};

namespace fault_internal {
bool Armed();
int Fire(FaultEvent event);
}  // namespace fault_internal

// Returns 0, or an errno the caller must fail the operation with. May not
// return at all (kill).
inline int FaultPoint(FaultEvent event) {
  if (!fault_internal::Armed()) [[likely]]
    return 0;
  return fault_internal::Fire(event);
}

}  // namespace wk

#endif  // WKSPKIT_UTIL_FAULT_H_
