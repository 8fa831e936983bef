#include "util/parse.h"

#include "gtest/gtest.h"

namespace wk {
namespace {

TEST(Parse, Bases) {
  EXPECT_EQ(ParseUintBase("0", 10), 0u);
  EXPECT_EQ(ParseUintBase("777", 8), 0777u);
  EXPECT_EQ(ParseUintBase("fF", 16), 255u);
  EXPECT_EQ(ParseUintBase("18446744073709551615", 10), UINT64_MAX);
  EXPECT_EQ(ParseUintBase("ffffffffffffffff", 16), UINT64_MAX);
  for (auto [text, base] : {std::pair{"", 10u},
                            {"8", 8u},
                            {"a", 10u},
                            {"g", 16u},
                            {"18446744073709551616", 10u},
                            {"10000000000000000", 16u},
                            {"-1", 10u},
                            {"+1", 10u},
                            {" 1", 10u}}) {
    EXPECT_EQ(ParseUintBase(text, base), std::nullopt) << text << " " << base;
  }
}

TEST(Parse, DecimalOrHex) {
  EXPECT_EQ(ParseUint("65664"), 65664u);
  EXPECT_EQ(ParseUint("0x1F"), 31u);
  EXPECT_EQ(ParseUint("0X1f"), 31u);
  EXPECT_EQ(ParseUint("0"), 0u);
  EXPECT_EQ(ParseUint("0xffffffffffffffff"), UINT64_MAX);
  for (const char* bad : {"", "0x", "1x", "0x10000000000000000", "1f", "1 "}) {
    EXPECT_EQ(ParseUint(bad), std::nullopt) << bad;
  }
}

TEST(Parse, ByteCounts) {
  EXPECT_EQ(ParseByteCount("4096"), 4096u);
  EXPECT_EQ(ParseByteCount("2048k"), 2u << 20);
  EXPECT_EQ(ParseByteCount("2M"), 2u << 20);
  EXPECT_EQ(ParseByteCount("1G"), 1u << 30);
  EXPECT_EQ(ParseByteCount("16777215T"), uint64_t{16777215} << 40);
  EXPECT_EQ(ParseByteCount("17179869183G"), uint64_t{17179869183} << 30);
  for (const char* bad : {"", "K", "1.5G", "16777216T", "17179869184G", "4X",
                          "0x10", "-1K", "2MB"}) {
    EXPECT_EQ(ParseByteCount(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(ByteSuffixShift('t'), 40);
  EXPECT_EQ(ByteSuffixShift('B'), -1);
}

}  // namespace
}  // namespace wk
