// Private to wksp/checkpt: writing into a locked workspace during a restore,
// with the promise every restore keeps: until Begin() the workspace is
// untouched; after it, a failure (Fail) or allocations that do not form a
// valid workspace (Finish) leave it reset to empty, and the status says so
// (IsWorkspaceReset).
#ifndef WKSPKIT_WKSP_CHECKPT_RESTORE_TARGET_H_
#define WKSPKIT_WKSP_CHECKPT_RESTORE_TARGET_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "wksp/checkpt/format.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

// Marks `cause` as "the workspace was reset": the message says so, the code
// and every payload of the cause (errno, checkpoint error class) stay.
absl::Status WorkspaceReset(const absl::Status& cause);

// The caller holds the workspace lock for the object's whole life.
class RestoreTarget {
 public:
  RestoreTarget(wksp::Wksp& wksp, uint32_t seed) : wksp_(wksp), seed_(seed) {}

  // The first call clears every allocation (later calls do nothing).
  void Begin();
  // Instead of Begin, where the allocations stay exactly as they are and
  // the seed is the workspace's (only their bytes are written): marks the
  // workspace without clearing it, and Finish then only clears the mark.
  // Call Place not at all.
  void BeginKeepingTable();
  // Whether the seed given is the workspace's own.
  bool keeps_seed() const { return seed_ == wksp_.seed(); }
  bool touched() const { return touched_; }
  // Records allocation `a` in slot `slot` (after Begin). Thread safe for
  // distinct slots.
  absl::Status Place(uint64_t slot, const format::Alloc& a);
  // Call just before copying the bytes of `allocs` (placed already): maps
  // each one's pages writable in one go where that pays (Prefault,
  // internal.h), never the free space between them. After Begin; thread
  // safe. An error
  // means the copy would have met SIGBUS; nothing was written.
  absl::Status Prepare(std::span<const format::Alloc> allocs) const;
  // Where the bytes of gaddr go.
  uint8_t* Dest(uint64_t gaddr) const { return wksp_.laddr(gaddr); }
  // Rebuilds the metadata from the placed allocations with the seed; if they
  // do not fit, resets and returns a WorkspaceReset status.
  absl::Status Finish();
  // After Begin: resets the workspace and returns WorkspaceReset(cause).
  // Before: returns cause as it is (the workspace was not touched).
  absl::Status Fail(const absl::Status& cause);

 private:
  wksp::Wksp& wksp_;
  uint32_t seed_;
  bool touched_ = false;
  bool table_kept_ = false;
};

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_RESTORE_TARGET_H_
