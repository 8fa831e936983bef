// Private to wksp/checkpt: the v1 style's layout (CHECKPOINT_FORMAT.md §3)
// and its readers, shared by the restore and by preview and print. A v1 file
// is one stream of SVW integers and strings: the magic, a fixed list of
// header fields, the name and the info strings, then one record per
// allocation (tag, gaddr, size, bytes) and a 0 tag.
#ifndef WKSPKIT_WKSP_CHECKPT_READ_V1_H_
#define WKSPKIT_WKSP_CHECKPT_READ_V1_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/stream.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/svw.h"
#include "wksp/geometry.h"

namespace wk::wksp_checkpt::internal {

// Longest strings v1 stores (its lengths have no NUL; v2's sizes do).
inline constexpr uint64_t kV1LogStrMax = format::kLogStrMax - 1;
inline constexpr uint64_t kV1InfoStrMax = format::kInfoStrMax - 1;

// The magic as it starts a v1 file: the SVW encoding of format::kMagic,
// always kMaxWidth bytes.
std::array<uint8_t, svw::kMaxWidth> V1Magic();

// Whether `first` starts with exactly those bytes. The one v1 magic test of
// every reader: an SVW with a padding bit changed decodes to the same
// number but is not the magic.
bool IsV1Magic(std::span<const uint8_t> first);

// A v1 checkpoint's fields up to the allocation records.
struct V1Header {
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0;
  wksp::Limits src;  // of the workspace it was taken from
  std::string name;
  format::Info info;  // mode and path are not stored in v1
};

// Reads the fields after the magic (which the caller consumed) through the
// end of the info strings, checking them (§3.3 steps 1-2).
absl::Status ReadV1Header(io::BufferedReader& r, V1Header* h);

// Reads the next record's header: false at the terminating 0 tag. Checks the
// record against the source's data region (format::CheckInSource) and that
// it starts at or after prev_hi (v1 records ascend).
absl::StatusOr<bool> ReadV1Record(io::BufferedReader& r, const V1Header& h,
                                  uint64_t prev_hi, format::Alloc* a);

// DataLoss for a v1 file that ends inside the data of allocation `a`: it
// has `has` bytes and needs at least `needs` (the end of that data).
absl::Status V1DataEndsEarly(const format::Alloc& a, uint64_t has,
                             uint64_t needs);

// Seeks over a record's data (reading none of it), which must end within
// file_sz.
absl::Status SkipV1Data(io::BufferedReader& r, const format::Alloc& a,
                        uint64_t file_sz);

// The §5 v1 test on a file's first bytes (for preview): the magic
// (IsV1Magic), style 1,
// a 32-bit seed, valid limits and a valid name. Fills what it read.
bool PreviewV1(std::span<const uint8_t> first, V1Header* h);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_READ_V1_H_
