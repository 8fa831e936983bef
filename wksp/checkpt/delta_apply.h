// Private to wksp/checkpt: applying a delta checkpoint in place, in steps a
// caller can drive from a file (ApplyDelta, RestoreChain) or from a
// download whose groups arrive in any order (RangeRestore, restore_ranges.h).
// The caller holds the workspace lock throughout.
//
// Order of use: CheckBase (hashes the workspace: its state must be the
// delta's base) then DeltaApplier::Plan (the new table fits, the changed
// chunks are as many as the delta stores), or for a delta from a file
// DeltaApplier::PlanInPlace alone (nothing written either way), then under a
// RestoreTarget: PlaceTable once, WriteGroup or ReadGroupInPlace once per
// group (any order, any threads), and the target's Finish. A failure after
// PlaceTable must go through the target's Fail (the workspace is reset and
// marked).
#ifndef WKSPKIT_WKSP_CHECKPT_DELTA_APPLY_H_
#define WKSPKIT_WKSP_CHECKPT_DELTA_APPLY_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/delta_format.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

// Hashes the workspace with `threads` threads and returns its index when
// its state id is d's base; FailedPrecondition naming both states (and
// `what`, e.g. "the workspace") otherwise. Nothing is written.
absl::StatusOr<ChunkIndex> CheckBase(wksp::Wksp& wksp,
                                     const delta::DeltaFile& d, size_t threads,
                                     std::string_view what);

// FailedPrecondition: `what` is in state `have`, not d's base.
absl::Status NotBase(const delta::DeltaFile& d, const StateId& have,
                     std::string_view what);

class DeltaApplier {
 public:
  // d and the workspace must outlive the applier. `cur_mapped`: every
  // allocation of `cur` is mapped in this process's page tables (it was
  // just hashed, e.g. by CheckBase): changed chunks that lie inside one are
  // then written without a page-table check first (RestoreTarget::Prepare).
  static absl::StatusOr<DeltaApplier> Plan(wksp::Wksp& wksp,
                                           const delta::DeltaFile& d,
                                           const ChunkIndex& cur,
                                           bool cur_mapped);

  // For an apply from d's file onto a workspace whose allocation table is
  // already d's (the caller checks; elsewhere Plan applies): the changed
  // chunks are those d's records name (each must be a chunk of d's state,
  // ascending), and every other chunk of d's state (those d keeps) must
  // hold in the workspace the bytes of its digest: hashed with `threads`
  // threads, the replaced chunks skipped (their old bytes cannot change
  // the result). FailedPrecondition when a kept chunk differs, DataLoss
  // for a bad record; nothing written either way. Every chunk of the new
  // table is pre-faulted. With the target's groups written, the workspace
  // is exactly d's state.
  static absl::StatusOr<DeltaApplier> PlanInPlace(wksp::Wksp& wksp,
                                                  const delta::DeltaFile& d,
                                                  size_t threads);

  // Reads every group's chunk records from d's file and checks them against
  // the plan (a delta opened from a path only): done before the first
  // write, so a delta whose records disagree fails untouched.
  absl::Status CheckRecords() const;

  // Begins the target and places the new allocation table; where the plan
  // is PlanInPlace's (the table is the workspace's already) and the target
  // keeps the workspace's seed, begins it keeping the table instead.
  absl::Status PlaceTable(RestoreTarget& target) const;

  // Writes group g from `bytes` (the group's bytes): each chunk's record
  // must be the planned one and its decoded bytes must match the new
  // index's digest. The group's digest is checked too where a chunk is
  // LZ4 (other blocks could decode to the same bytes); a group of raw
  // chunks has every byte checked without it (records equal to the plan's,
  // chunk bytes against their digests). Thread safe for distinct g.
  // *written: the chunk bytes written.
  absl::Status WriteGroup(RestoreTarget& target, uint64_t g,
                          std::span<const uint8_t> bytes,
                          uint64_t* written) const;

  // For a delta opened from a path: reads group g's chunks straight from
  // the file into the workspace when every one is stored raw (checked as
  // WriteGroup checks them, after the read: a failure leaves bytes written,
  // so the caller must Fail the target). *done false (nothing written):
  // the group holds an LZ4 chunk; call WriteGroup with its bytes instead.
  // Thread safe for distinct g.
  absl::Status ReadGroupInPlace(RestoreTarget& target, uint64_t g, bool* done,
                                uint64_t* written) const;

  // Bytes of every changed chunk.
  uint64_t total_bytes() const { return total_; }

 private:
  DeltaApplier(const delta::DeltaFile& d) : d_(&d) {}
  // Changed chunk k of the delta (k-th in delta order) and its digest.
  const ChunkRef& Changed(uint64_t k) const { return changed_refs_[k]; }
  // Calls fn(group, index in group, gaddr, size) for each chunk record of
  // d's file, group by group, stopping at the first failure (a read's or
  // fn's).
  template <typename F>
  absl::Status ForEachRecord(F&& fn) const;

  // changed_ from the records of d's file (PlanInPlace).
  absl::Status ReadRecords();
  // Maps chunk k's pages writable first unless they are known mapped.
  absl::Status Prepare(const RestoreTarget& target, uint64_t k) const;
  // The chunk at k now in the workspace must match its digest.
  absl::Status CheckChunk(const RestoreTarget& target, uint64_t k) const;
  // Record i of group g must say (gaddr, usz) of the planned chunk.
  absl::Status CheckRecord(uint64_t g, uint64_t i, uint64_t gaddr,
                           uint64_t usz) const;

  const delta::DeltaFile* d_;
  // The changed chunks, in delta order: their indices in the new state's
  // chunk order, and where they lie.
  std::vector<uint64_t> changed_;
  std::vector<ChunkRef> changed_refs_;
  std::vector<bool> mapped_;       // per changed chunk: known mapped
  uint64_t total_ = 0;
  bool table_kept_ = false;  // the workspace's table is d's (PlanInPlace)
};

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_DELTA_APPLY_H_
