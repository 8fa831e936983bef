// Private to wksp/checkpt: the one place that tells a checkpoint's style
// from its first bytes and decodes what they hold (the v1 magic, or the
// v2/v3 header), for restore, verify and print alike, so that every reader
// gives one verdict on the same bytes.
#ifndef WKSPKIT_WKSP_CHECKPT_SNIFF_H_
#define WKSPKIT_WKSP_CHECKPT_SNIFF_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/wksp_checkpt.h"

namespace wk::wksp_checkpt::internal {

struct Sniffed {
  Style style = Style::kV1;  // kV1, kV2 or kV3
  // v2/v3: the header, decoded and checked, and its bytes as read.
  format::Header header;
  std::array<uint8_t, format::kHeaderSz> header_bytes{};
  // How many bytes the decision covered: the v1 magic or the v2 header.
  size_t size = 0;
};

// The error every reader gives for bytes that are no checkpoint: DataLoss
// "not a workspace checkpoint (why)".
absl::Status NotCheckpt(std::string_view why);

// Decides from a checkpoint's first bytes (all of them that there are, at
// least the v2 header's worth when the file has that many). A v1 file must
// start with the exact bytes of its magic; a v2/v3 file with a header
// format::DecodeHeader accepts.
absl::StatusOr<Sniffed> SniffBytes(std::span<const uint8_t> first);

// Reads from fd's position exactly the bytes the decision needs (the first
// byte, then the rest of the v1 magic or of the v2 header) through io/ (so
// cancellation and test faults apply), leaving fd just past them.
absl::StatusOr<Sniffed> SniffFd(int fd);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_SNIFF_H_
