#include "apps/parse.h"

#include "gtest/gtest.h"

namespace wk::apps {
namespace {

TEST(ParseTest, Numbers) {
  EXPECT_EQ(*ParseU64("0", "x"), 0u);
  EXPECT_EQ(*ParseU64("0x1F", "x"), 31u);
  EXPECT_EQ(*ParseU64("18446744073709551615", "x"), UINT64_MAX);
  // Firedancer's (strtoul base 0) forms: a leading 0 is octal.
  EXPECT_EQ(*ParseU64("010", "x"), 8u);
  EXPECT_EQ(*ParseU64("0777", "x"), 511u);
  for (const char* bad :
       {"", "-1", "18446744073709551616", "1x", "0x", "1 ", "08", "0x-1"}) {
    auto r = ParseU64(bad, "align");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("bad align"), std::string::npos);
  }
  EXPECT_EQ(*ParseRange("255", "c", 0, 255), 255u);
  EXPECT_FALSE(ParseRange("256", "c", 0, 255).ok());
  EXPECT_FALSE(ParseRange("0", "tag", 1, 9).ok());
}

TEST(ParseTest, Sizes) {
  EXPECT_EQ(*ParseSize("4096", "sz"), 4096u);
  EXPECT_EQ(*ParseSize("64K", "sz"), 65536u);
  EXPECT_EQ(*ParseSize("3m", "sz"), 3u << 20);
  EXPECT_EQ(*ParseSize("4G", "sz"), uint64_t{4} << 30);
  EXPECT_EQ(*ParseSize("2T", "sz"), uint64_t{2} << 40);
  EXPECT_EQ(*ParseSize("16777215T", "sz"), uint64_t{16777215} << 40);
  EXPECT_EQ(*ParseSize("0x100000", "sz"), 1u << 20);
  EXPECT_EQ(*ParseSize("0x10M", "sz"), 16u << 20);
  EXPECT_EQ(*ParseSize("010K", "sz"), 8u << 10);
  for (const char* bad : {"", "K", "1.5G", "16777216T", "4X", "0x", "-1K",
                          "0xK", "0x1000000000000000K"}) {
    EXPECT_FALSE(ParseSize(bad, "sz").ok()) << bad;
  }
  EXPECT_TRUE(HasSizeSuffix("80M"));
  EXPECT_FALSE(HasSizeSuffix("80"));
  EXPECT_FALSE(HasSizeSuffix(""));
}

TEST(ParseTest, ModesSeedsPages) {
  EXPECT_EQ(*ParseMode("600"), 0600u);
  EXPECT_EQ(*ParseMode("0644"), 0644u);
  EXPECT_FALSE(ParseMode("8").ok());
  EXPECT_FALSE(ParseMode("1000").ok());
  EXPECT_FALSE(ParseMode("").ok());
  EXPECT_FALSE(ParseSeed("-").value().has_value());
  EXPECT_EQ(*ParseSeed("4294967295").value(), UINT32_MAX);
  EXPECT_FALSE(ParseSeed("4294967296").ok());
  EXPECT_FALSE(ParseSeed("--").ok());
  EXPECT_EQ(*ParsePageSizeArg("normal"), wksp::PageSize::kNormal);
  EXPECT_EQ(*ParsePageSizeArg("4K"), wksp::PageSize::kNormal);
  EXPECT_EQ(*ParsePageSizeArg("Huge"), wksp::PageSize::kHuge);
  EXPECT_EQ(*ParsePageSizeArg("2m"), wksp::PageSize::kHuge);
  EXPECT_EQ(*ParsePageSizeArg("gigantic"), wksp::PageSize::kGigantic);
  EXPECT_EQ(*ParsePageSizeArg("1G"), wksp::PageSize::kGigantic);
  EXPECT_EQ(*ParsePageSizeArg("4096"), wksp::PageSize::kNormal);
  EXPECT_EQ(*ParsePageSizeArg("2097152"), wksp::PageSize::kHuge);
  EXPECT_EQ(*ParsePageSizeArg("1073741824"), wksp::PageSize::kGigantic);
  EXPECT_EQ(*ParsePageSizeArg("0x200000"), wksp::PageSize::kHuge);
  EXPECT_FALSE(ParsePageSizeArg("large").ok());
  EXPECT_FALSE(ParsePageSizeArg("8192").ok());
  for (wksp::PageSize ps : wksp::kPageSizes) {
    EXPECT_EQ(*ParsePageSizeArg(wksp::PageSizeName(ps)), ps);
  }
}

TEST(ParseTest, TextAddresses) {
  auto r = ParseGaddr("ref:65664");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "ref");
  EXPECT_EQ(r->gaddr, 65664u);
  r = ParseGaddr("a.b-c:0x1F");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->gaddr, 31u);
  EXPECT_EQ(ParseGaddr("x:18446744073709551615")->gaddr, ~uint64_t{0});
  EXPECT_EQ(FormatGaddr("ref", 65664), "ref:65664");
  EXPECT_EQ(ParseGaddr(FormatGaddr("w", 12345))->gaddr, 12345u);
  for (const char* bad : {"ref", "ref:", ":12", "ref:12x", "ref:0x", "ref:-1",
                          "ref:18446744073709551616", "-r:1", "ref:0xG"}) {
    EXPECT_EQ(ParseGaddr(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ParseTest, CpuSeq) {
  EXPECT_EQ(*ParseCpuSeq("0"), std::vector<int>{0});
  EXPECT_EQ(*ParseCpuSeq("2-4,8"), (std::vector<int>{2, 3, 4, 8}));
  EXPECT_EQ(*ParseCpuSeq("5,1"), (std::vector<int>{5, 1}));
  EXPECT_EQ(*ParseCpuSeq("0-6/2"), (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(*ParseCpuSeq("1-7/3,9"), (std::vector<int>{1, 4, 7, 9}));
  for (const char* bad : {"", ",", "1,", "3-1", "1-", "-1", "a", "65536",
                          "1-2-3", "0-6/0", "0-6/", "4/2", "0-6/x"}) {
    EXPECT_FALSE(ParseCpuSeq(bad).ok()) << bad;
  }
}

TEST(ParseTest, CpuSeqOnMachine) {
  std::vector<int> missing = {99};
  EXPECT_EQ(*ParseCpuSeqOn("0-1", 2, &missing), (std::vector<int>{0, 1}));
  EXPECT_TRUE(missing.empty());
  absl::StatusOr<std::vector<int>> r = ParseCpuSeqOn("5000,0", 2, &missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("CPU 5000 does not exist; this machine "
                                      "has CPUs 0-1"),
            std::string_view::npos)
      << r.status().message();
  EXPECT_EQ(*ParseCpuSeqOn("0-6/2", 2, &missing),
            (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(missing, (std::vector<int>{2, 4, 6}));
}

}  // namespace
TEST(ParseTest, StyleAndUinfo) {
  EXPECT_EQ(*ParseStyle("2"), wksp_checkpt::Style::kV2);
  EXPECT_EQ(*ParseStyle("0"), wksp_checkpt::Style::kDefault);
  absl::StatusOr<wksp_checkpt::Style> bad = ParseStyle("7");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("supported-styles"), std::string::npos);
  EXPECT_FALSE(ParseStyle("two").ok());
  EXPECT_EQ(*ParseUinfo("note"), "note");
  const std::string longest(wksp_checkpt::kUinfoMaxLen, 'x');
  EXPECT_EQ(*ParseUinfo(longest), longest);
  EXPECT_FALSE(ParseUinfo(longest + "x").ok());
}

}  // namespace wk::apps
