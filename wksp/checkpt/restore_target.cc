#include "wksp/checkpt/restore_target.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace {

constexpr char kResetPayload[] = "wkspkit/wksp-reset";

}  // namespace

bool IsWorkspaceReset(const absl::Status& status) {
  return status.GetPayload(kResetPayload).has_value();
}

namespace internal {

absl::Status WorkspaceReset(const absl::Status& cause) {
  absl::Status st = WithMessage(
      cause,
      absl::StrFormat("%s; the workspace was reset to empty", cause.message()));
  st.SetPayload(kResetPayload, absl::Cord("1"));
  return st;
}

void RestoreTarget::Begin() {
  if (touched_) return;
  wksp::BeginRestoreLocked(wksp_);
  touched_ = true;
}

void RestoreTarget::BeginKeepingTable() {
  if (touched_) return;
  wksp::BeginRewriteLocked(wksp_);
  touched_ = table_kept_ = true;
}

absl::Status RestoreTarget::Place(uint64_t slot, const format::Alloc& a) {
  return wksp::SetPartitionLocked(wksp_, slot, a.lo, a.hi, a.tag);
}

absl::Status RestoreTarget::Prepare(
    std::span<const format::Alloc> allocs) const {
  for (const format::Alloc& a : allocs) {
    WK_RETURN_IF_ERROR(Prefault(wksp_, a.lo, a.hi, io::PopulateFor::kWrite));
  }
  return absl::OkStatus();
}

absl::Status RestoreTarget::Finish() {
  if (table_kept_) {
    wksp::FinishRewriteLocked(wksp_);
    return absl::OkStatus();
  }
  absl::Status st = wksp::FinishRestoreLocked(wksp_, seed_);
  if (!st.ok()) [[unlikely]] {
    wksp::ResetLocked(wksp_, seed_);
    return WorkspaceReset(
        Annotate(st, "restored allocations do not form a valid workspace"));
  }
  return absl::OkStatus();
}

absl::Status RestoreTarget::Fail(const absl::Status& cause) {
  if (!touched_) return cause;
  wksp::ResetLocked(wksp_, seed_);
  return WorkspaceReset(cause);
}

}  // namespace internal
}  // namespace wk::wksp_checkpt
