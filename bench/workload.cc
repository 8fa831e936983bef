#include "bench/workload.h"

#include <cstring>

#include "util/hash.h"

namespace wk::bench {
namespace {
constexpr char kText[] = "The quick brown fox jumps over the lazy dog. ";
constexpr uint64_t kTextLen = sizeof(kText) - 1;
}  // namespace

void FillHalfCompressible(std::span<uint8_t> out, uint64_t gaddr,
                          uint64_t seed) {
  for (uint64_t i = 0; i < out.size();) {
    uint64_t g = gaddr + i;
    uint64_t in_page = g & 4095;
    uint64_t n = std::min<uint64_t>(out.size() - i, 4096 - in_page);
    for (uint64_t j = 0; j < n; ++j) {
      uint64_t a = g + j, off = in_page + j;
      out[i + j] =
          off < 2048
              ? static_cast<uint8_t>(HashU64((a >> 3) ^ seed) >> (8 * (a & 7)))
              : static_cast<uint8_t>(kText[a % kTextLen]);
    }
    i += n;
  }
}

}  // namespace wk::bench
