// Workspace geometry (CHECKPOINT_FORMAT.md §2): where the data region of a
// workspace with part_max partition slots and data_max data bytes lies, the
// size of the whole workspace, which limits are valid, and whether a set of
// allocations fits. The shared-memory layout, the allocator's rebuild and the
// checkpoint code all take these from here.
//
//   [0, kHeaderSize)                         header
//   [kHeaderSize, gaddr_lo)                  part_max slot records
//   [gaddr_lo, gaddr_hi)                     data region
//   gaddr_lo = kHeaderSize + kPartInfoSize * part_max
//   gaddr_hi = gaddr_lo + data_max, then one guard byte
//   footprint = AlignUp(gaddr_hi + 1, kFootprintAlign)
#ifndef WKSPKIT_WKSP_GEOMETRY_H_
#define WKSPKIT_WKSP_GEOMETRY_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/wksp_types.h"

namespace wk::wksp {

inline constexpr uint64_t kHeaderSize = 128;
inline constexpr uint64_t kPartInfoSize = 64;
inline constexpr uint64_t kFootprintAlign = 128;
inline constexpr uint64_t kPartMaxLimit = 0xFFFFFFFFu;  // 2^32 - 1

// The first gaddr of the data region; part_max must be at most
// kPartMaxLimit (then it cannot overflow).
constexpr uint64_t GaddrLo(uint64_t part_max) {
  return kHeaderSize + kPartInfoSize * part_max;
}

// The footprint of a workspace with these limits, or InvalidArgument naming
// the bad one: part_max must be in [1, 2^32-1] and data_max in
// [1, 2^64 - 129 - gaddr_lo] (the footprint must not overflow).
absl::StatusOr<uint64_t> Footprint(uint64_t part_max, uint64_t data_max);

// What allocations must fit: the data region and the partition slots.
struct Limits {
  uint64_t part_max = 0;
  uint64_t gaddr_lo = 0, gaddr_hi = 0;
};

// The limits of a workspace of valid (part_max, data_max) (Footprint OK).
constexpr Limits LimitsOf(uint64_t part_max, uint64_t data_max) {
  return {part_max, GaddrLo(part_max), GaddrLo(part_max) + data_max};
}

// Checks that allocations `sorted` (ascending lo) can be the allocations of a
// workspace with these limits: each a non-empty range inside
// [gaddr_lo, gaddr_hi), none overlapping the one before, and part_max enough
// for one slot per allocation plus one per free gap around them. The one
// check of these facts, whoever places allocations (a rebuild, a restore).
// Errors name what is wrong: FailedPrecondition for an allocation outside
// the region, DataLoss for two that overlap, ResourceExhausted with the
// counts when the slots are too few. `slots`, when given (one per
// allocation), are slot numbers for the messages.
absl::Status CheckFit(std::span<const PartitionInfo> sorted,
                      const Limits& limits,
                      std::span<const uint32_t> slots = {});

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_GEOMETRY_H_
