#include "util/bits.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace wk {
namespace {

TEST(Bits, Pow2) {
  EXPECT_FALSE(IsPow2(0));
  EXPECT_TRUE(IsPow2(1));
  EXPECT_TRUE(IsPow2(uint64_t{1} << 63));
  EXPECT_FALSE(IsPow2(6));
  EXPECT_FALSE(IsPow2(~uint64_t{0}));
}

TEST(Bits, Align) {
  EXPECT_EQ(AlignUp(0, 64), 0u);
  EXPECT_EQ(AlignUp(1, 64), 64u);
  EXPECT_EQ(AlignUp(64, 64), 64u);
  EXPECT_EQ(AlignDown(127, 64), 64u);
  EXPECT_TRUE(IsAligned(4096, 4096));
  EXPECT_FALSE(IsAligned(4097, 4096));
  uint64_t out = 7;
  EXPECT_FALSE(AlignUpChecked(~uint64_t{0} - 2, 8, &out));
  EXPECT_EQ(out, 7u);
  EXPECT_TRUE(AlignUpChecked(9, 8, &out));
  EXPECT_EQ(out, 16u);
}

TEST(Bits, Checked) {
  uint64_t out = 0;
  EXPECT_TRUE(AddChecked(1, 2, &out));
  EXPECT_EQ(out, 3u);
  EXPECT_FALSE(AddChecked(~uint64_t{0}, 1, &out));
  EXPECT_TRUE(MulChecked(uint64_t{1} << 31, uint64_t{1} << 32, &out));
  EXPECT_EQ(out, uint64_t{1} << 63);
  EXPECT_FALSE(MulChecked(uint64_t{1} << 32, uint64_t{1} << 32, &out));
  EXPECT_EQ(Log2Floor(1), 0);
  EXPECT_EQ(Log2Floor(4095), 11);
  EXPECT_EQ(Log2Floor(~uint64_t{0}), 63);
}

}  // namespace
}  // namespace wk
