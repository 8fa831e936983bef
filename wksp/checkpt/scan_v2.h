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
#include "wksp/checkpt/seal.h"
#include "wksp/checkpt/sniff.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

// One cgroup frame as described by an appendix.
struct CgroupTask {
  uint64_t off = 0;   // frame offset
  uint64_t next = 0;  // where the next frame (or the appendix) starts
  uint64_t end = 0;   // where the frame must end: next, less its seal
  uint64_t cnt = 0;   // allocations
  uint64_t slot = 0;  // index of its first allocation in V2Scan::allocs
  seal::Seal seal;    // sealed files: its seal, whose range was checked
};

// Everything a v2/v3 file says, checked (§4.8 steps 1-4 and every cgroup's
// commands; no allocation data is read).
struct V2Scan {
  // Sealed (§4.10): every frame but the cgroups' was verified against its
  // seal, and each cgroup's seal is in its task. Either way frames lie back
  // to back (with their seals between them when sealed).
  bool sealed = false;
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

// Verifies the cgroup frame `task` describes against its seal (unsealed:
// nothing) by hashing its bytes as they lie in `file`, without decoding.
absl::Status VerifyCgroupSeal(std::span<const uint8_t> file,
                              const CgroupTask& task);

// Reads every allocation's bytes too (LZ4 blocks decoded into a scratch
// buffer, never into a workspace), with `threads` threads, checking each
// cgroup frame's end and, sealed, its seal: after a scan, everything a
// restore checks.
absl::Status ReadAllCgroups(std::span<const uint8_t> file, size_t threads,
                            const V2Scan& scan);

// Scans a whole v2/v3 checkpoint held in memory with `threads` threads: the
// frames and how they point at each other, every cgroup's commands, and that
// the allocations fit `target` (wksp::CheckFit) or, without one, the
// workspace they were taken from. info_only stops after the info frame
// (header and info filled in). `sniffed` is the file's sniff (a v2/v3 one):
// its header is the file's, decoded once, and the file's first kHeaderSz
// bytes are not read again (a sealed file's first seal is checked against
// sniffed.header_bytes and the info frame's bytes).
absl::Status ScanV2(std::span<const uint8_t> file, const Sniffed& sniffed,
                    size_t threads, const wksp::Wksp* target, bool info_only,
                    V2Scan* out);
// The same for a caller that holds only the bytes: sniffs them first
// (SniffBytes), then scans.
absl::Status ScanV2(std::span<const uint8_t> file, size_t threads,
                    const wksp::Wksp* target, bool info_only, V2Scan* out);

// The layout alone (ScanV2 without the cgroups' commands and the fit): header, info, footer, volumes and
// appendices, into out (allocs stays empty); *info_end is where the info
// frame ends. The volumes and appendix frames must start at or above
// trailer_lo (FailedPrecondition otherwise): a caller that holds only the
// file's first and last bytes says where its last bytes begin. Reads nothing
// of the cgroup frames, so for a sealed file each cgroup's seal is left
// undecoded: once the frame's bytes are there, CheckCgroupSealRange decodes
// it into the task and checks its range (the digest is then checked as the
// frame is read, as in a file restore).
absl::Status ScanV2Layout(std::span<const uint8_t> file,
                          const Sniffed& sniffed, const wksp::Wksp* target,
                          uint64_t trailer_lo, V2Scan* out,
                          uint64_t* info_end);
// The same for a caller that holds only the bytes (sniffs them first).
absl::Status ScanV2Layout(std::span<const uint8_t> file,
                          const wksp::Wksp* target, uint64_t trailer_lo,
                          V2Scan* out, uint64_t* info_end);
absl::Status CheckCgroupSealRange(std::span<const uint8_t> file,
                                  CgroupTask& task);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_SCAN_V2_H_
