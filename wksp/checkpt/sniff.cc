// Style detection and header decoding of every reader (sniff.h).
#include "wksp/checkpt/sniff.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/svw.h"

namespace wk::wksp_checkpt::internal {
namespace {

// The first byte tells the styles apart: v1 files start with the SVW of the
// magic, v2 files with its first little-endian byte.
constexpr uint8_t kV2First = static_cast<uint8_t>(format::kMagic);

// A file that ends inside its header: cut short (DataLoss with what it has
// and needs) when the bytes it has are the start of the style's magic,
// otherwise not a checkpoint at all.
absl::Status TooShort(std::span<const uint8_t> have, size_t needs,
                      std::span<const uint8_t> magic_prefix) {
  if (std::equal(magic_prefix.begin(), magic_prefix.end(), have.begin())) {
    return absl::DataLossError(absl::StrFormat(
        "checkpoint ends early, inside its header: has %u bytes, needs at "
        "least %u",
        have.size(), needs));
  }
  return NotCheckpt("too short for a header");
}

}  // namespace

absl::Status NotCheckpt(std::string_view why) {
  return absl::DataLossError(
      absl::StrFormat("not a workspace checkpoint (%s)", why));
}

absl::StatusOr<Sniffed> SniffBytes(std::span<const uint8_t> first) {
  if (first.empty()) return NotCheckpt("empty");
  Sniffed s;
  if (first[0] == V1Magic()[0]) {
    if (first.size() < svw::kMaxWidth) {
      const auto magic = V1Magic();
      return TooShort(first, svw::kMaxWidth,
                      std::span(magic.data(), first.size()));
    }
    if (!IsV1Magic(first)) return NotCheckpt("bad v1 magic");
    s.style = Style::kV1;
    s.size = svw::kMaxWidth;
    return s;
  }
  if (first[0] != kV2First) return NotCheckpt("unknown first byte");
  if (first.size() < format::kHeaderSz) {
    uint8_t magic[8];
    format::StoreU64(magic, format::kMagic);
    return TooShort(first, format::kHeaderSz,
                    std::span<const uint8_t>(magic).first(
                        std::min(first.size(), sizeof(magic))));
  }
  // One byte in 256 of any file matches kV2First: without the whole magic
  // it is not a checkpoint at all, rather than a corrupt one.
  if (format::LoadU64(first.data()) != format::kMagic) {
    return NotCheckpt("bad magic");
  }
  WK_RETURN_IF_ERROR(format::DecodeHeader(first, &s.header));
  std::copy_n(first.begin(), format::kHeaderSz, s.header_bytes.begin());
  s.style = s.header.frame_style_compressed == FrameStyleOf(Style::kV2)
                ? Style::kV2
                : Style::kV3;
  s.size = format::kHeaderSz;
  return s;
}

absl::StatusOr<Sniffed> SniffFd(int fd) {
  std::array<uint8_t, format::kHeaderSz> head;
  static_assert(format::kHeaderSz >= svw::kMaxWidth);
  absl::Status st = io::ReadExact(fd, head.data(), 1);
  if (io::IsEndOfFile(st)) return NotCheckpt("empty");
  WK_RETURN_IF_ERROR(st);
  const size_t want =
      head[0] == V1Magic()[0] ? svw::kMaxWidth : format::kHeaderSz;
  if (head[0] == V1Magic()[0] || head[0] == kV2First) {
    // Up to the header's end or the file's, counted: a file cut inside its
    // header says how many bytes it has.
    size_t got = 1;
    while (got < want) {
      WK_ASSIGN_OR_RETURN(size_t n,
                          io::ReadAtLeast(fd, head.data() + got, 0, want - got));
      if (n == 0) break;
      got += n;
    }
    return SniffBytes(std::span(head.data(), got));
  }
  return SniffBytes(std::span(head.data(), 1));
}

}  // namespace wk::wksp_checkpt::internal
