#include "wksp/checkpt/svw.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace wk::wksp_checkpt::svw {
namespace {

std::vector<uint8_t> Enc(uint64_t x) {
  std::vector<uint8_t> out(kMaxWidth);
  out.resize(Encode(x, out.data()));
  return out;
}

// Byte strings from CHECKPOINT_FORMAT.md §3.2 and §7 (Firedancer output).
TEST(Svw, KnownEncodings) {
  EXPECT_EQ(Enc(0xF17EDA2C3731C591ULL),
            (std::vector<uint8_t>{0x1f, 0x59, 0x1c, 0x73, 0xc3, 0xa2, 0xed,
                                  0x17, 0xff}));
  EXPECT_EQ(Enc(1), (std::vector<uint8_t>{0x02}));
  EXPECT_EQ(Enc(1234), (std::vector<uint8_t>{0x95, 0x26, 0xa0}));
  EXPECT_EQ(Enc(16), (std::vector<uint8_t>{0x20}));
  EXPECT_EQ(Enc(65536), (std::vector<uint8_t>{0x05, 0x00, 0xa8}));
  EXPECT_EQ(Enc(1152), (std::vector<uint8_t>{0x05, 0x24, 0xa0}));
  EXPECT_EQ(Enc(7), (std::vector<uint8_t>{0x0e}));
  EXPECT_EQ(Enc(0), (std::vector<uint8_t>{0x00}));
}

TEST(Svw, WidthBoundaries) {
  const uint64_t edges[] = {0,
                            63,
                            64,
                            1023,
                            1024,
                            (1 << 18) - 1,
                            1 << 18,
                            (1 << 24) - 1,
                            1 << 24,
                            0xFFFFFFFFULL,
                            0x100000000ULL,
                            (1ULL << 56) - 1,
                            1ULL << 56,
                            ~0ULL};
  const size_t widths[] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 8, 8, 9, 9};
  for (size_t i = 0; i < std::size(edges); ++i) {
    auto e = Enc(edges[i]);
    ASSERT_EQ(e.size(), widths[i]) << edges[i];
    EXPECT_EQ(WidthFromFirstByte(e[0]), e.size());
    // The last byte's high nibble also names the width (backward decoding).
    uint64_t back;
    ASSERT_EQ(Decode(e.data(), e.size(), &back), e.size());
    EXPECT_EQ(back, edges[i]);
  }
}

TEST(Svw, RandomRoundTripAndShortInput) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    uint64_t x = rng() >> (rng() % 64);
    auto e = Enc(x);
    uint64_t y = 0;
    ASSERT_EQ(Decode(e.data(), e.size(), &y), e.size());
    ASSERT_EQ(y, x);
    // Any truncation is reported, never read past.
    if (e.size() > 1) {
      EXPECT_EQ(Decode(e.data(), e.size() - 1, &y), 0u);
    }
  }
  uint64_t y;
  EXPECT_EQ(Decode(nullptr, 0, &y), 0u);
}

}  // namespace
}  // namespace wk::wksp_checkpt::svw
