// Byte layouts of workspace checkpoints (CHECKPOINT_FORMAT.md §2-§4): the
// constants, the fixed-size v2/v3 records (header, info, command, footer)
// with little-endian encoders and validating decoders, and the writer's
// deterministic cgroup assignment (§4.7). Pure functions: no I/O, no
// workspace access; the checkpoint and restore code build on them.
#ifndef WKSPKIT_WKSP_CHECKPT_FORMAT_H_
#define WKSPKIT_WKSP_CHECKPT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "checkpt/checkpt.h"
#include "wksp/geometry.h"
#include "wksp/name.h"
#include "wksp/wksp_types.h"

namespace wk::wksp_checkpt::format {

inline constexpr uint64_t kMagic = 0xF17EDA2C3731C591ULL;
inline constexpr uint64_t kMax = ~uint64_t{0};

// The style numbers files store: a v1 file says 1; v2 and v3 files say 2
// (v3 is told apart by frame_style_compressed, checkpt::FrameStyle::kLz4).
inline constexpr int32_t kFileStyleV1 = 1;
inline constexpr int32_t kFileStyleV2 = 2;

inline constexpr size_t kHeaderSz = 80;
inline constexpr size_t kInfoSz = 144;
inline constexpr size_t kCmdSz = 24;
inline constexpr size_t kFooterSz = 120;
// Where the header holds its kNameFieldSz-byte name field (the footer holds
// the same 40 bytes).
inline constexpr size_t kHeaderNameOff = 20;

inline constexpr uint64_t kCgroupMax = 1024;   // G never exceeds this
inline constexpr uint64_t kCgroupTarget = 32;  // allocations per cgroup

// Limits on the info strings (sizes include the NUL, §4.3) and on v1's
// stored lengths (no NUL, §3.2).
inline constexpr uint64_t kLogStrMax = 40;
inline constexpr uint64_t kPathMax = 4096;
inline constexpr uint64_t kInfoStrMax = 16384;
inline constexpr uint64_t kInfoStrTotalMax = 65536;

struct Header {
  int32_t style = kFileStyleV2;
  checkpt::FrameStyle frame_style_compressed = checkpt::FrameStyle::kRaw;
  uint32_t reserved = 0;
  std::string name;
  uint32_t seed = 0;
  uint64_t part_max = 0;
  uint64_t data_max = 0;
};

struct Info {
  uint64_t mode = 0;
  int64_t wallclock = 0;
  uint64_t app_id = 0, thread_id = 0, host_id = 0, cpu_id = 0, group_id = 0,
           tid = 0, user_id = 0;
  // Strings without their NUL, in file order.
  std::string app, thread, host, cpu, group, user, path, binfo, uinfo;
};

struct Cmd {
  uint64_t a = 0, b = 0, c = 0;
  bool IsMeta() const { return a != 0; }
  bool IsData() const { return a == 0 && b == kMax && c == kMax; }
  bool IsAppendix() const { return a == 0 && b != kMax && c != kMax; }
  bool IsVolumes() const { return a == 0 && b == kMax && c != kMax; }
};

struct Footer {
  uint64_t alloc_cnt = 0, cgroup_cnt = 0, volume_cnt = 0;
  uint64_t frame_off = 0;   // offset of the volumes frame
  uint64_t checkpt_sz = 0;  // footer offset + kFooterSz
  uint64_t data_max = 0, part_max = 0;
  uint32_t seed = 0;
  char name[wksp::kNameFieldSz] = {};  // all 40 bytes, as in the header
  uint32_t reserved = 0;
  checkpt::FrameStyle frame_style_compressed = checkpt::FrameStyle::kDefault;
  int32_t style = kFileStyleV2;
  uint64_t unmagic = ~kMagic;
};

void EncodeHeader(const Header& h, uint8_t out[kHeaderSz]);
// Checks magic, style 2, frame style RAW or LZ4, reserved 0, name and
// geometry (the §5 v2 test). DataLoss naming the first bad field.
absl::Status DecodeHeader(std::span<const uint8_t> in, Header* h);

// Info: the 144-byte struct, then the strings as one buffer. InfoStrings
// returns that buffer (every string NUL-terminated; log strings truncated to
// 39 characters, path to 4095, binfo/uinfo to 16383).
void EncodeInfo(const Info& info, uint8_t out[kInfoSz], std::string* strings);
// Decodes the struct; *strings_sz is the size of the string buffer that
// follows, validated against the limits (DataLoss otherwise).
absl::Status DecodeInfoStruct(std::span<const uint8_t> in, Info* info,
                              uint64_t* strings_sz);
// Fills info's strings from the buffer, checking each size and NUL.
absl::Status DecodeInfoStrings(std::span<const uint8_t> in, Info* info);

void EncodeCmd(const Cmd& c, uint8_t out[kCmdSz]);
Cmd DecodeCmd(const uint8_t in[kCmdSz]);

void EncodeFooter(const Footer& f, uint8_t out[kFooterSz]);
Footer DecodeFooter(const uint8_t in[kFooterSz]);
// Checks the footer's copies of the header fields and its unmagic.
absl::Status CheckFooterMatchesHeader(const Footer& f, const Header& h,
                                      const uint8_t header_bytes[kHeaderSz]);

// An allocation record: [lo, hi) with its tag, as the workspace API has it.
using Alloc = wksp::PartitionInfo;

// A checkpoint's own rule for its allocation records: each a non-empty range
// with a nonzero tag inside the data region of the workspace it was taken
// from (`src`, from its header). DataLoss "corrupt checkpoint" naming the
// record otherwise. Whether the records also fit a target is wksp::CheckFit's
// business.
absl::Status CheckInSource(const Alloc& a, const wksp::Limits& src);

// The writer's cgroup assignment (§4.7). `allocs` must be in ascending lo.
// Returns G lists of indices into allocs, each in ascending lo; G =
// min(ceil(A / 32), 1024) (0 lists when allocs is empty).
std::vector<std::vector<uint32_t>> AssignCgroups(std::span<const Alloc> allocs);

// Little-endian helpers for the records above.
inline void StoreU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t LoadU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}
inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{p[i]} << (8 * i);
  return v;
}

}  // namespace wk::wksp_checkpt::format

#endif  // WKSPKIT_WKSP_CHECKPT_FORMAT_H_
