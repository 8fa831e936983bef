// The allocator and integrity operations on one workspace's metadata. Every
// function here requires the caller to hold the workspace lock and a
// read-write join; arguments are validated by the callers (wksp.cc,
// wksp_admin.cc) unless stated otherwise.
#ifndef WKSPKIT_WKSP_INTERNAL_CORE_H_
#define WKSPKIT_WKSP_INTERNAL_CORE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/internal/layout.h"
#include "wksp/wksp_types.h"

namespace wk::wksp::internal {

// align: a power of two; sz > 0; tag != 0; sz + align - 1 must not overflow.
absl::StatusOr<PartitionInfo> AllocLocked(const Region& r, uint64_t align,
                                          uint64_t sz, uint64_t tag);
// `i` must be a used partition. Coalesces with free neighbours.
void FreeLocked(const Region& r, Idx i);
// The used partition containing g, or kNull.
Idx FindUsedLocked(const Region& r, uint64_t g);

// Walks the address-ordered partition list checking that it tiles
// [gaddr_lo, gaddr_hi) exactly; calls visit(i) per partition in order.
// DataLoss saying what is wrong otherwise (visit may have been called for a
// prefix).
template <class Visit>
absl::Status WalkPartitionsLocked(const Region& r, Visit&& visit);
absl::Status PartitionListError(const Region& r, const char* what, Idx i,
                                uint64_t expected_lo);

absl::StatusOr<Usage> UsageLocked(const Region& r,
                                  std::span<const uint64_t> tags);
absl::StatusOr<std::vector<PartitionInfo>> UsedPartitionsLocked(
    const Region& r);

absl::Status VerifyLocked(const Region& r);
// Validates the tagged slots first and changes nothing if they are unusable.
absl::Status RebuildLocked(const Region& r, uint32_t seed);
// Always succeeds: one free partition over the data region (slot 0).
void ResetLocked(const Region& r, uint32_t seed);

// Writes that other processes may observe after this one dies: the compiler
// must not move them across neighbouring metadata writes.
inline void OrderedStore(uint64_t* field, uint64_t v) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(field, v, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
inline void OrderedStore(uint32_t* field, uint32_t v) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(field, v, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

template <class Visit>
absl::Status WalkPartitionsLocked(const Region& r, Visit&& visit) {
  const PartInfo* p = r.pinfo;
  uint64_t g = r.gaddr_lo;
  Idx prev = kNull;
  Idx i = r.hdr->part_head;
  for (uint64_t steps = 0; i != kNull; ++steps) {
    if (i >= r.part_max || steps >= r.part_max) [[unlikely]] {
      return PartitionListError(r, i >= r.part_max ? "bad slot index" : "cycle",
                                i, g);
    }
    if (p[i].lo != g || p[i].hi <= p[i].lo || p[i].hi > r.gaddr_hi ||
        p[i].prev != prev) [[unlikely]] {
      return PartitionListError(r, "not contiguous", i, g);
    }
    visit(i);
    g = p[i].hi;
    prev = i;
    i = p[i].next;
  }
  if (g != r.gaddr_hi || r.hdr->part_tail != prev) [[unlikely]] {
    return PartitionListError(r, "ends early", prev, g);
  }
  return absl::OkStatus();
}

}  // namespace wk::wksp::internal

#endif  // WKSPKIT_WKSP_INTERNAL_CORE_H_
