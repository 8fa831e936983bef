// Administrative primitives for checkpoint/restore and tools. Everything here
// except Wksp::Lock() requires that the caller holds the workspace lock
// through a LockGuard of the same workspace, and a read-write join.
//
// While a thread holds the lock it must not call the Wksp allocator methods
// (Alloc, Free, Tag, ..., Verify, Rebuild, Reset): they take the lock
// themselves and fail with FailedPrecondition instead of deadlocking. Use the
// *Locked functions instead. Other threads calling allocator methods simply
// wait, for as long as the guard lives.
//
// Thread safety under the lock: SetPartitionLocked touches only the record of
// its own slot, so several threads of the lock holder's process may call it
// concurrently on distinct slots, provided their work happens-before the
// following FinishRestoreLocked / RebuildLocked (e.g. they are joined first).
#ifndef WKSPKIT_WKSP_WKSP_ADMIN_H_
#define WKSPKIT_WKSP_WKSP_ADMIN_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/wksp.h"

namespace wk::wksp {

// Holds the lock of one workspace; releases it on destruction (or Release()).
// Move-only. The Wksp must outlive it.
class LockGuard {
 public:
  LockGuard(LockGuard&& o) noexcept : w_(o.w_), recovered_(o.recovered_) {
    o.w_ = nullptr;
  }
  LockGuard& operator=(LockGuard&& o) noexcept;
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  ~LockGuard() { Release(); }

  // Releases now; idempotent.
  void Release();
  Wksp& wksp() const { return *w_; }
  bool holds() const { return w_ != nullptr; }
  // True if taking the lock meant taking it over from a dead owner (the
  // metadata was then verified and, if needed, rebuilt).
  bool recovered() const { return recovered_; }

 private:
  friend class Wksp;
  explicit LockGuard(Wksp* w) : w_(w) {}
  Wksp* w_;
  bool recovered_ = false;
};

// The allocations (tag != 0) in ascending lo, found by walking the
// address-ordered partition list from the region's start. DataLoss naming the
// problem if the list has a bad index or a cycle, or does not tile
// [gaddr_lo, gaddr_hi) exactly, or if the workspace carries a restore mark
// (wksp.h): a checkpoint of it would silently hold nothing.
absl::StatusOr<std::vector<PartitionInfo>> UsedPartitionsLocked(const Wksp& w);

// Partition counts as Wksp::GetUsage, under the caller's lock (DataLoss for a
// restore mark, as above).
absl::StatusOr<Usage> UsageLocked(const Wksp& w,
                                  std::span<const uint64_t> tags = {});

// Full metadata check as Wksp::Verify (which reports a restore mark too).
absl::Status VerifyLocked(const Wksp& w);

// Starts a restore: first sets the restore mark (wksp.h) to this process,
// then marks every slot untagged and empty, so the data region holds no
// allocations. The metadata is inconsistent until FinishRestoreLocked or
// ResetLocked. A lock holder that dies in between leaves the mark, so the
// next locker resets the workspace to empty (never rebuilding from the
// half-written records) and reports the interrupted restore until a Reset or
// a successful restore.
//
// Not an RAII object on purpose: the one case that matters, a killed
// process, runs no destructors; the mark in shared memory is what survives
// it. A restore must end in FinishRestoreLocked or ResetLocked; returning
// without either leaves the workspace marked (and so reported, never silently
// wrong).
void BeginRestoreLocked(Wksp& w);

// Ends a restore begun by BeginRestoreLocked: RebuildLocked(w, seed), and on
// success clears the restore mark. On failure nothing is written (the mark
// stays); the caller then resets.
absl::Status FinishRestoreLocked(Wksp& w, uint32_t seed);

// Starts changing the bytes of allocations in place, the allocation table
// kept as it is (an apply that moves no allocation): sets the restore mark
// as BeginRestoreLocked does and nothing else. The metadata stays valid
// throughout, but the data is half old, half new until FinishRewriteLocked,
// so a holder that dies in between leaves the mark, and the next locker
// resets the workspace to empty, as after an interrupted restore. A failed
// rewrite ends in ResetLocked.
void BeginRewriteLocked(Wksp& w);

// Ends a rewrite begun by BeginRewriteLocked: clears the restore mark.
void FinishRewriteLocked(Wksp& w);

// Writes slot `slot` as the allocation [lo, hi) with `tag`. Checks only
// slot < part_max, gaddr_lo <= lo < hi <= gaddr_hi and tag != 0
// (InvalidArgument otherwise, nothing written); overlaps are RebuildLocked's
// business.
absl::Status SetPartitionLocked(Wksp& w, uint64_t slot, uint64_t lo,
                                uint64_t hi, uint64_t tag);

// Whether allocations `sorted` (ascending lo) can be placed in w and rebuilt:
// CheckFit (wksp/geometry.h) against w's limits, the error naming the
// workspace. The check RebuildLocked makes, for a caller that wants it before
// it changes anything (a restore). Reads only w's immutable limits, so it
// needs no lock.
absl::Status CheckFit(const Wksp& w, std::span<const PartitionInfo> sorted);

// Reconstructs all metadata from the slot records: every slot with tag != 0
// is an allocation; the gaps before, between and after them become free
// partitions taken from the other slots; the seed becomes `seed`. The records
// must fit (CheckFit, naming slots: FailedPrecondition for an allocation
// outside the data region, DataLoss for overlapping ones, ResourceExhausted
// with the counts when the gaps need more slots than are left). Nothing is
// written on failure; the caller then normally calls ResetLocked.
absl::Status RebuildLocked(Wksp& w, uint32_t seed);

// Empties the workspace: one free partition covering the data region, seed
// `seed`, corrupt flag and restore mark cleared (in that order, so a holder
// killed in between leaves a marked workspace that is reset again). Always
// succeeds.
void ResetLocked(Wksp& w, uint32_t seed);

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_WKSP_ADMIN_H_
