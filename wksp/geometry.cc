#include "wksp/geometry.h"

#include <string>

#include "absl/strings/str_format.h"
#include "util/bits.h"

namespace wk::wksp {
namespace {

std::string Describe(std::span<const PartitionInfo> parts,
                     std::span<const uint32_t> slots, size_t i) {
  std::string d = absl::StrFormat("[%u, %u) tag %u", parts[i].lo, parts[i].hi,
                                  parts[i].tag);
  if (i < slots.size()) absl::StrAppendFormat(&d, " (slot %u)", slots[i]);
  return d;
}

}  // namespace

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

absl::Status CheckFit(std::span<const PartitionInfo> sorted,
                      const Limits& limits, std::span<const uint32_t> slots) {
  uint64_t gaps = 0, g = limits.gaddr_lo;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const PartitionInfo& a = sorted[i];
    if (a.lo < limits.gaddr_lo || a.lo >= a.hi || a.hi > limits.gaddr_hi)
        [[unlikely]] {
      return absl::FailedPreconditionError(absl::StrFormat(
          "allocation %s is outside the data region [%u, %u)",
          Describe(sorted, slots, i), limits.gaddr_lo, limits.gaddr_hi));
    }
    if (a.lo < g) [[unlikely]] {
      return absl::DataLossError(absl::StrFormat(
          "allocations %s and %s overlap", Describe(sorted, slots, i - 1),
          Describe(sorted, slots, i)));
    }
    gaps += a.lo > g;
    g = a.hi;
  }
  gaps += g < limits.gaddr_hi;
  const uint64_t need = sorted.size() + gaps;
  if (need > limits.part_max) [[unlikely]] {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%u allocations and %u free gaps need %u partition slots but "
        "part_max is %u",
        sorted.size(), gaps, need, limits.part_max));
  }
  return absl::OkStatus();
}

}  // namespace wk::wksp
