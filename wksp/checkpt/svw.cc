#include "wksp/checkpt/svw.h"

namespace wk::wksp_checkpt::svw {
namespace {

// Little-endian store/load of the low n bytes of w (n <= 8).
void StoreLe(uint64_t w, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(w >> (8 * i));
}
uint64_t LoadLe(const uint8_t* in, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{in[i]} << (8 * i);
  return w;
}

}  // namespace

size_t Encode(uint64_t x, uint8_t* out) {
  size_t n = Width(x);
  switch (n) {
    case 1:
      StoreLe(x << 1, 1, out);
      break;
    case 2:
      StoreLe(0x8001ULL | (x << 3), 2, out);
      break;
    case 3:
      StoreLe(0xA00005ULL | (x << 3), 3, out);
      break;
    case 4:
      StoreLe(0xC0000003ULL | (x << 4), 4, out);
      break;
    case 5:
      StoreLe(0xD00000000BULL | (x << 4), 5, out);
      break;
    case 8:
      StoreLe(0xE000000000000007ULL | (x << 4), 8, out);
      break;
    default:  // 72-bit word: 0x0F low tag, 0xF0 high tag, x in bits 4..67
      StoreLe(0x0FULL | (x << 4), 8, out);
      out[8] = static_cast<uint8_t>(0xF0 | (x >> 60));
      break;
  }
  return n;
}

size_t Decode(const uint8_t* in, size_t avail, uint64_t* x) {
  if (avail == 0) [[unlikely]]
    return 0;
  size_t n = WidthFromFirstByte(in[0]);
  if (n > avail) [[unlikely]]
    return 0;
  switch (n) {
    case 1:
      *x = in[0] >> 1;
      break;
    case 2:
      *x = (LoadLe(in, 2) >> 3) & ((1ULL << 10) - 1);
      break;
    case 3:
      *x = (LoadLe(in, 3) >> 3) & ((1ULL << 18) - 1);
      break;
    case 4:
      *x = (LoadLe(in, 4) >> 4) & ((1ULL << 24) - 1);
      break;
    case 5:
      *x = (LoadLe(in, 5) >> 4) & ((1ULL << 32) - 1);
      break;
    case 8:
      *x = (LoadLe(in, 8) >> 4) & ((1ULL << 56) - 1);
      break;
    default:
      *x = (LoadLe(in, 8) >> 4) | (uint64_t{in[8]} << 60);
      break;
  }
  return n;
}

}  // namespace wk::wksp_checkpt::svw
