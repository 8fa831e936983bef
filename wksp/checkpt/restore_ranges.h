// Restore of a v2/v3 checkpoint whose bytes arrive in pieces, in any order,
// into a region the size of the file (a download, distrib/fetch.h): each
// cgroup frame is restored as soon as its bytes are there, by whichever
// thread calls RestoreFrame, in any order.
//
// A delta checkpoint (CHECKPOINT_FORMAT.md §9.3) is applied in place the
// same way: its frames are its chunk groups. Open needs its header, index
// and trailer (RangeLayout says where), checks them, and hashes the
// workspace: a workspace not in the delta's base state is refused untouched
// (FailedPrecondition). Each group's records and chunk digests are checked
// as it is written; a failure after the first frame resets and marks the
// workspace, as for a restore.
//
// Open needs the file's first RangeHeadSize(n) and last RangeTailSize(n)
// bytes (n = file size) and nothing else: there it reads and checks the
// header, info, footer, volumes and appendix frames (a file whose appendices
// lie further from its end, e.g. several volumes, is refused), and that the
// checkpoint's allocation count fits the target. Such a failure leaves the
// workspace untouched. The workspace is locked from Open until Finish or
// Fail (or destruction, which fails an unfinished restore).
//
// A cgroup frame's commands are checked as the file restore checks them
// (each allocation inside the checkpoint's and the target's data region, the
// count its appendix gives); overlaps are found when Finish rebuilds. After
// the first RestoreFrame any failure resets the workspace to empty, as for a
// stream restore (IsWorkspaceReset). Nothing outside the data region is ever
// written, whatever the bytes say; the region is only read inside
// [0, n).
#ifndef WKSPKIT_WKSP_CHECKPT_RESTORE_RANGES_H_
#define WKSPKIT_WKSP_CHECKPT_RESTORE_RANGES_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {

// How many of the first and last bytes of an n-byte file Open reads. The
// head holds the header and any valid info frame (at most 80 + 144 + 64 KiB
// before LZ4's worst-case growth); the tail a single volume's appendix for up
// to 1024 cgroups, the volumes frame and the footer.
uint64_t RangeHeadSize(uint64_t file_sz);
uint64_t RangeTailSize(uint64_t file_sz);

// The byte ranges [lo, hi) of an n-byte file that Open reads, told from its
// first RangeHeadSize(n) bytes (`head`): the head and the tail, and for a
// delta checkpoint also its header and index section and its trailer
// (however large). A head too damaged to tell: the head and tail only (Open
// then says what is wrong).
struct ByteRange {
  uint64_t lo = 0, hi = 0;
};
std::vector<ByteRange> RangeLayout(std::span<const uint8_t> head,
                                   uint64_t file_sz);

class RangeRestore {
 public:
  // A cgroup frame: its bytes [off, end) must be present to restore it.
  struct Frame {
    uint64_t off = 0, end = 0;
  };

  // `file` must stay mapped until the object is gone. options.threads is
  // used only to hash the workspace before a delta (callers run
  // RestoreFrame on their own threads); progress is used.
  static absl::StatusOr<std::unique_ptr<RangeRestore>> Open(
      wksp::Wksp& wksp, std::span<const uint8_t> file,
      const RestoreOptions& options);
  ~RangeRestore();
  RangeRestore(const RangeRestore&) = delete;
  RangeRestore& operator=(const RangeRestore&) = delete;

  // Every cgroup frame (a delta's chunk groups), in file order.
  const std::vector<Frame>& frames() const;
  // How many allocations the checkpoint holds (its footer, or a delta's
  // header, says).
  uint64_t alloc_cnt() const;

  // Restores frame k (once per k; concurrent calls for distinct k are
  // safe). A failure is returned as it is: call Fail with it.
  absl::Status RestoreFrame(size_t k);
  // After every frame: rebuilds the target's metadata (RestoreOptions::seed).
  absl::Status Finish();
  // Ends the restore with `cause`: resets the workspace if it was touched
  // (WorkspaceReset status) or returns cause as it is.
  absl::Status Fail(const absl::Status& cause);

 private:
  struct State;
  explicit RangeRestore(std::unique_ptr<State> s);
  static absl::Status OpenDelta(State& s);
  absl::Status RestoreGroup(size_t k);
  std::unique_ptr<State> s_;
};

}  // namespace wk::wksp_checkpt

#endif  // WKSPKIT_WKSP_CHECKPT_RESTORE_RANGES_H_
