// wksp_ctl's exit statuses: one per error class (util/status.h says which
// absl::StatusCode carries which class), so a script can tell "try again
// later" from "free some memory" from "this file is bad" without reading
// messages. docs/wksp_ctl.md ("Exit statuses") is the user's copy.
#ifndef WKSPKIT_APPS_EXIT_STATUS_H_
#define WKSPKIT_APPS_EXIT_STATUS_H_

#include "absl/status/status.h"

namespace wk::apps {

enum ExitStatus : int {
  kExitOk = 0,
  kExitFailed = 1,        // failed for a reason outside the classes below
                          // (the name exists already, the state forbids it)
  kExitUsage = 2,         // unknown command, missing or malformed argument
  kExitWkspReset = 3,     // restore failed after it had modified the
                          // workspace, which was then reset to empty
  kExitNotFound = 4,      // a workspace, file or directory does not exist
  kExitPermission = 5,    // permission denied
  kExitNoSpace = 6,       // out of space or memory: file system full, huge
                          // page pool empty, workspace full
  kExitLockWait = 7,      // the workspace lock is held: --wait ran out, or
                          // the holder waits on us; or a timeout
  kExitCorrupt = 8,       // corrupt or truncated data: a checkpoint file, or
                          // a workspace's metadata (not a workspace, corrupt,
                          // a restore that did not finish)
  kExitSignalBase = 128,  // + N: interrupted by signal N (SIGINT: 130)
  kExitBrokenPipe = 141,  // stdout's reader went away (128 + SIGPIPE, what a
                          // shell reports for a program SIGPIPE killed);
                          // nothing is printed
};

// The exit status for a command that failed with `status` (not OK), by its
// class. A restore that reset the workspace (kExitWkspReset) and a signal
// (128+N) are decided by the runner before this.
ExitStatus ExitStatusOf(const absl::Status& status);

// "usage", "not found", ... for kExit* values (messages and tests).
const char* ExitStatusName(int exit_status);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_EXIT_STATUS_H_
