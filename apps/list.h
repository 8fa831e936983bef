// wksp_ctl list: every region under the shared-memory directories (one per
// page size, wksp/shmem.h), what each is, and who uses it.
#ifndef WKSPKIT_APPS_LIST_H_
#define WKSPKIT_APPS_LIST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/output.h"

namespace wk::apps {

// One entry per file with a valid workspace name, directory by directory,
// names sorted. A workspace's usage needs its lock (a read-write join):
// without write permission, or while the lock is held (by a live or a dead
// process) or a restore mark is set, used_sz stays empty; list never waits
// for a lock nor takes one over. Attached processes are
// those whose /proc/PID/maps map the file (this process excluded).
// An error if a directory cannot be read (e.g. $WKSP_SHMEM_ROOT does not
// exist).
absl::StatusOr<std::vector<ListEntry>> ListWorkspaces();

// Every other process that maps `path`.
std::vector<ProcRef> ProcessesMapping(const std::string& path);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_LIST_H_
