#include "wksp/geometry.h"

#include "absl/strings/str_format.h"
#include "util/bits.h"

namespace wk::wksp {

absl::StatusOr<uint64_t> Footprint(uint64_t part_max, uint64_t data_max) {
  if (part_max == 0 || part_max > kPartMaxLimit) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad part_max %u: must be in [1, 2^32-1]", part_max));
  }
  uint64_t lo = GaddrLo(part_max);
  uint64_t end, fp;
  if (data_max == 0 || !AddChecked(lo, data_max, &end) ||
      !AddChecked(end, 1, &end) || !AlignUpChecked(end, kFootprintAlign, &fp)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad data_max %u: must be in [1, 2^64 - 129 - gaddr_lo] (gaddr_lo %u)",
        data_max, lo));
  }
  return fp;
}

}  // namespace wk::wksp
