// Admin primitives (wksp_admin.h): thin checked wrappers over
// internal/core.h for callers that hold the lock through a LockGuard.
#include "wksp/wksp_admin.h"

#include "absl/strings/str_format.h"
#include "util/clock.h"
#include "util/status.h"
#include "wksp/internal/core.h"
#include "wksp/internal/lock.h"

namespace wk::wksp {

// Friend of Wksp: hands the admin functions the metadata view.
struct AdminAccess {
  static internal::Region R(const Wksp& w) { return w.region(); }
  static absl::Status Mark(const Wksp& w) { return w.RestoreMarkStatus(); }
};

absl::StatusOr<std::vector<PartitionInfo>> UsedPartitionsLocked(const Wksp& w) {
  WK_RETURN_IF_ERROR(AdminAccess::Mark(w));
  return internal::UsedPartitionsLocked(AdminAccess::R(w));
}

absl::StatusOr<Usage> UsageLocked(const Wksp& w,
                                  std::span<const uint64_t> tags) {
  WK_RETURN_IF_ERROR(AdminAccess::Mark(w));
  return internal::UsageLocked(AdminAccess::R(w), tags);
}

absl::Status VerifyLocked(const Wksp& w) {
  WK_RETURN_IF_ERROR(internal::VerifyLocked(AdminAccess::R(w)));
  return AdminAccess::Mark(w);
}

namespace {

// Sets the restore mark to this process: from here a death is seen as an
// interrupted restore.
void SetRestoreMark(const internal::Region& r) {
  __atomic_store_n(&r.hdr->restore_since,
                   static_cast<uint32_t>(WallclockNs() / 1000000000),
                   __ATOMIC_RELAXED);
  internal::OrderedStore(
      &r.hdr->restore,
      internal::PackIdentity(internal::SelfPidNs(), internal::SelfPid()));
}

}  // namespace

void BeginRewriteLocked(Wksp& w) { SetRestoreMark(AdminAccess::R(w)); }

void FinishRewriteLocked(Wksp& w) {
  internal::OrderedStore(&AdminAccess::R(w).hdr->restore, 0);
}

void BeginRestoreLocked(Wksp& w) {
  const internal::Region r = AdminAccess::R(w);
  // The mark goes first: from the first changed slot on, a death must be
  // seen as an interrupted restore.
  SetRestoreMark(r);
  internal::OrderedStore(&r.hdr->op, internal::kOpRestore);
  for (uint64_t i = 0; i < r.part_max; ++i) {
    internal::PartInfo& q = r.pinfo[i];
    q.tag = 0;
    q.lo = q.hi = 0;
  }
}

absl::Status SetPartitionLocked(Wksp& w, uint64_t slot, uint64_t lo,
                                uint64_t hi, uint64_t tag) {
  const internal::Region r = AdminAccess::R(w);
  if (slot >= r.part_max || tag == 0 || lo < r.gaddr_lo || lo >= hi ||
      hi > r.gaddr_hi) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "workspace %s: bad partition for slot %u: [%u, %u) tag %u (need slot "
        "< part_max %u, %u <= lo < hi <= %u, tag != 0)",
        w.name(), slot, lo, hi, tag, r.part_max, r.gaddr_lo, r.gaddr_hi));
  }
  internal::PartInfo& q = r.pinfo[slot];
  q.lo = lo;
  q.hi = hi;
  internal::OrderedStore(&q.tag, tag);
  internal::CriticalSectionPoint(internal::kRestoreSlotPlacedPoint);
  return absl::OkStatus();
}

absl::Status CheckFit(const Wksp& w, std::span<const PartitionInfo> sorted) {
  return Annotate(CheckFit(sorted, w.limits()),
                  absl::StrFormat("workspace %s", w.name()));
}

absl::Status RebuildLocked(Wksp& w, uint32_t seed) {
  return internal::RebuildLocked(AdminAccess::R(w), seed);
}

absl::Status FinishRestoreLocked(Wksp& w, uint32_t seed) {
  const internal::Region r = AdminAccess::R(w);
  WK_RETURN_IF_ERROR(internal::RebuildLocked(r, seed));
  internal::OrderedStore(&r.hdr->restore, 0);
  return absl::OkStatus();
}

void ResetLocked(Wksp& w, uint32_t seed) {
  const internal::Region r = AdminAccess::R(w);
  internal::ResetLocked(r, seed);
  internal::OrderedStore(&r.hdr->restore, 0);
}

}  // namespace wk::wksp
