// Named shared-memory regions backed by files, and anonymous shared mappings.
//
// A named region is the file <dir>/<name>, where <dir> depends on the page
// size: normal (4 KiB) pages live in the process's shared-memory root
// (SetShmemRoot below; /dev/shm unless the program sets another); huge
// (2 MiB) and gigantic (1 GiB) pages live in a hugetlbfs mount with that page
// size, found in /proc/mounts. Names follow wksp/name.h.
//
// The library reads no environment variable: a program that wants one to
// choose the root (wksp_ctl maps WKSP_SHMEM_ROOT) passes it to SetShmemRoot.
//
// Regions come back as io::Mapping (io/mmio.h), which unmaps on destruction.
// Unlinking a name does not affect existing mappings (the memory lives until
// the last one goes).
#ifndef WKSPKIT_WKSP_SHMEM_H_
#define WKSPKIT_WKSP_SHMEM_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/mmio.h"

namespace wk::wksp {

enum class PageSize : uint64_t {
  kNormal = uint64_t{1} << 12,
  kHuge = uint64_t{1} << 21,
  kGigantic = uint64_t{1} << 30,
};

// Every page size, smallest first.
inline constexpr PageSize kPageSizes[] = {PageSize::kNormal, PageSize::kHuge,
                                          PageSize::kGigantic};

// "normal", "huge" or "gigantic" (apps/parse.h reads them back).
const char* PageSizeName(PageSize page_size);

// Sets the directory of normal-page named regions for the whole process
// (every later create, join, unlink and list of a normal-page name); an
// empty `dir` restores the default, /dev/shm. The directory is not checked
// or created here: a missing one makes the later calls fail with NotFound.
// Thread-safe, but a call racing a create or join in another thread lets
// that one use either root: set it once at startup, before threads use
// workspaces.
void SetShmemRoot(std::string_view dir);

// The directory of normal-page named regions: what SetShmemRoot last set,
// else "/dev/shm".
std::string ShmemRoot();

// The directory holding regions of this page size. For huge and gigantic
// pages: NotFound naming what to mount when no such hugetlbfs is mounted.
absl::StatusOr<std::string> ShmemDir(PageSize page_size);

struct ShmemCreateOptions {
  PageSize page_size = PageSize::kNormal;
  mode_t mode = 0600;  // exact permission bits, whatever the umask
  int cpu_idx = -1;    // >= 0: prefer the NUMA node of this CPU (best effort)
};

// Creates region `name` of at least `size` bytes (rounded up to the page
// size), zero filled, and maps it read-write shared. Its memory is allocated
// now (io::Reserve::kAllocate: tmpfs pages, advised MADV_HUGEPAGE first in
// a tmpfs mounted huge=advise, or huge pages from the pool), so
// using it never dies of SIGBUS on a full file system; a region that does
// not fit fails with ResourceExhausted "needs N bytes, M bytes free in DIR".
// AlreadyExists if the name is taken. On failure nothing is left behind.
absl::StatusOr<io::Mapping> ShmemCreate(std::string_view name, uint64_t size,
                                        const ShmemCreateOptions& options);

// Maps existing region `name` (searched in the normal, huge, then gigantic
// directories) read-write or read-only. NotFound if it does not exist.
// *page_size, if given, receives the page size it was found under.
absl::StatusOr<io::Mapping> ShmemJoin(std::string_view name, bool read_only,
                                      PageSize* page_size = nullptr);

// Removes region `name`. NotFound if it does not exist.
absl::Status ShmemUnlink(std::string_view name);

// Maps `size` bytes (rounded up to the page size) of anonymous shared
// memory, zero filled; shared with children forked afterwards. Nothing is
// left to reserve by hand: huge and gigantic pages are reserved from the
// pool by the mapping itself (ResourceExhausted here when the pool is
// short, never SIGBUS later), and normal pages are charged to the kernel's
// commit accounting (which refuses the mapping under overcommit_memory=2;
// otherwise memory that runs out later meets the OOM killer, as any
// process memory does, not a full file system).
absl::StatusOr<io::Mapping> MapAnonymous(uint64_t size, PageSize page_size,
                                         int cpu_idx = -1);

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_SHMEM_H_
