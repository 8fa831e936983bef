// Workspace geometry (CHECKPOINT_FORMAT.md §2): where the data region of a
// workspace with part_max partition slots and data_max data bytes lies, the
// size of the whole workspace, and which limits are valid. The shared-memory
// layout and the checkpoint format both take these from here.
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

#include "absl/status/statusor.h"

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

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_GEOMETRY_H_
