// Symmetric variable-width (SVW) integers, the encoding of every integer in
// a v1 workspace checkpoint (CHECKPOINT_FORMAT.md §3.1). A value takes 1, 2,
// 3, 4, 5, 8 or 9 bytes; both its first and its last byte carry the width,
// so a stream can be decoded forwards or backwards.
#ifndef WKSPKIT_WKSP_CHECKPT_SVW_H_
#define WKSPKIT_WKSP_CHECKPT_SVW_H_

#include <cstddef>
#include <cstdint>

namespace wk::wksp_checkpt::svw {

inline constexpr size_t kMaxWidth = 9;

// Width of the smallest encoding of x (the only one an encoder may emit, for
// bit-identical files).
constexpr size_t Width(uint64_t x) {
  return x < (uint64_t{1} << 6)    ? 1
         : x < (uint64_t{1} << 10) ? 2
         : x < (uint64_t{1} << 18) ? 3
         : x < (uint64_t{1} << 24) ? 4
         : x < (uint64_t{1} << 32) ? 5
         : x < (uint64_t{1} << 56) ? 8
                                   : 9;
}

// Width announced by the first byte of an encoding.
constexpr size_t WidthFromFirstByte(uint8_t b0) {
  return static_cast<size_t>((0x9131512181314121ULL >> (4 * (b0 & 15))) & 15);
}

// Writes x's encoding at out (room for kMaxWidth bytes); returns its width.
size_t Encode(uint64_t x, uint8_t* out);

// Decodes the value at in[0, avail). Returns its width, or 0 when avail is
// less than the width the first byte announces (nothing is read past avail).
// Like the reference, non-minimal encodings and the trailing width tag are
// not checked.
size_t Decode(const uint8_t* in, size_t avail, uint64_t* x);

}  // namespace wk::wksp_checkpt::svw

#endif  // WKSPKIT_WKSP_CHECKPT_SVW_H_
