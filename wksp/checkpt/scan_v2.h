// Private to wksp/checkpt: reading everything a v2/v3 checkpoint says but
// its allocations' bytes, from the file mapped in memory. The file restore
// (restore_v2.cc) scans before it touches the workspace; print and
// CheckptAllocations scan to describe a file.
#ifndef WKSPKIT_WKSP_CHECKPT_SCAN_V2_H_
#define WKSPKIT_WKSP_CHECKPT_SCAN_V2_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "checkpt/checkpt.h"
#include "wksp/checkpt/format.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

// One cgroup frame as described by an appendix.
struct CgroupTask {
  uint64_t off = 0;   // frame offset
  uint64_t next = 0;  // where the next frame (or the appendix) starts
  uint64_t cnt = 0;   // allocations
  uint64_t slot = 0;  // index of its first allocation in V2Scan::allocs
};

// Everything a v2/v3 file says, checked (§4.8 steps 1-4 and every cgroup's
// commands; no allocation data is read).
struct V2Scan {
  format::Header header;
  format::Info info;
  format::Footer footer;
  std::vector<CgroupTask> tasks;      // every cgroup of every volume
  std::vector<format::Alloc> allocs;  // in slot order (file order)
};

// Reads the commands of the cgroup `task` describes from its frame and
// leaves the frame open before the allocations' data: allocation j goes to
// each(j, a); a count other than task.cnt is an error.
absl::Status ReadCgroupOf(
    checkpt::Reader& r, const format::Header& h, const CgroupTask& task,
    absl::FunctionRef<absl::Status(uint64_t j, const format::Alloc&)> each);

// Scans a whole v2/v3 checkpoint held in memory with `threads` threads: the
// frames and how they point at each other, every cgroup's commands, and that
// the allocations fit `target` (wksp::CheckFit) or, without one, the
// workspace they were taken from. info_only stops after the info frame
// (header and info filled in).
absl::Status ScanV2(std::span<const uint8_t> file, size_t threads,
                    const wksp::Wksp* target, bool info_only, V2Scan* out);

// The layout alone (ScanV2 without the cgroups' commands and the fit):
// header, info, footer, volumes and appendices, into out (allocs stays
// empty); *info_end is where the info frame ends. The volumes and appendix
// frames must start at or above trailer_lo (FailedPrecondition otherwise):
// a caller that holds only the file's first and last bytes says where its
// last bytes begin. Reads nothing of the cgroup frames.
absl::Status ScanV2Layout(std::span<const uint8_t> file,
                          const wksp::Wksp* target, uint64_t trailer_lo,
                          V2Scan* out, uint64_t* info_end);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_SCAN_V2_H_
