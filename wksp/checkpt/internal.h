// Private to the checkpoint/restore implementation (wksp_checkpt.h): what
// the styles share. Not part of the package's public interface.
#ifndef WKSPKIT_WKSP_CHECKPT_INTERNAL_H_
#define WKSPKIT_WKSP_CHECKPT_INTERNAL_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/stream.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

// Where, when and by whom a checkpoint is being made (the info record).
format::Info MakeInfo(const std::string& path, mode_t mode,
                      const std::string& uinfo);

size_t ResolveThreads(size_t threads);

// Marks a status as "the workspace was reset" (see IsWorkspaceReset).
absl::Status WorkspaceReset(const absl::Status& cause);

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

// Scans a whole v2/v3 checkpoint held in memory with `threads` threads. With
// a target, also checks that everything fits it (CheckFit). info_only stops
// after the info frame (header and info filled in).
absl::Status ScanV2(std::span<const uint8_t> file, size_t threads,
                    const wksp::Wksp* target, bool info_only, V2Scan* out);

// Writing into a locked workspace during a restore. The first Begin() clears
// every allocation; Place() records one allocation in slot `slot`; Finish()
// rebuilds with the seed. Fail(cause) after Begin() resets the workspace and
// returns a WorkspaceReset status; before Begin() it returns cause as is.
class RestoreTarget {
 public:
  RestoreTarget(wksp::Wksp& wksp, uint32_t seed) : wksp_(wksp), seed_(seed) {}
  void Begin();
  bool touched() const { return touched_; }
  // Thread safe for distinct slots once Begin() has run.
  absl::Status Place(uint64_t slot, const format::Alloc& a);
  uint8_t* Dest(uint64_t gaddr) { return wksp_.laddr(gaddr); }
  absl::Status Finish();
  absl::Status Fail(const absl::Status& cause);

 private:
  wksp::Wksp& wksp_;
  uint32_t seed_;
  bool touched_ = false;
};

// A v1 checkpoint's fields up to the allocation records.
struct V1Header {
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0;
  wksp::Limits src;  // the source workspace's
  std::string name;
  format::Info info;  // mode and path are not stored in v1
};

// Reads fields 2.. of a v1 checkpoint (the magic was consumed) through the
// end of uinfo, checking them (§3.3 steps 1-2).
absl::Status ReadV1Header(io::BufferedReader& r, V1Header* h);
// Reads the next record header: false at the terminator. Checks the range
// against the source region and that it starts at or after prev_hi.
absl::StatusOr<bool> ReadV1Record(io::BufferedReader& r, const V1Header& h,
                                  uint64_t prev_hi, format::Alloc* a);
// Seeks over a record's data, which must end within file_sz.
absl::Status SkipV1Data(io::BufferedReader& r, const format::Alloc& a,
                        uint64_t file_sz);

// Style-specific entry points, called with the workspace locked.
absl::Status WriteV1(wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd,
                     const CheckptOptions& options);
// fd is positioned just past the 9-byte magic (already read and checked).
absl::Status RestoreV1(wksp::Wksp& wksp, int fd, bool seekable,
                       const RestoreOptions& options);
absl::Status WriteV2(wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd, bool seekable,
                     const CheckptOptions& options);
absl::Status RestoreV2File(wksp::Wksp& wksp, int fd,
                           const RestoreOptions& options);
// `header` holds the first kHeaderSz bytes, already read from fd.
absl::Status RestoreV2Stream(wksp::Wksp& wksp, int fd,
                             std::span<const uint8_t> header,
                             const RestoreOptions& options);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_INTERNAL_H_
