#include "apps/output.h"

#include "gtest/gtest.h"

namespace wk::apps {
namespace {

TEST(OutputTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("ab"), "\"ab\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString(std::string("\n\x01\xff", 3)),
            "\"\\u000a\\u0001\\u00ff\"");
}

TEST(OutputTest, FreeGapsTileTheRegion) {
  std::vector<wksp::PartitionInfo> used = {
      {20, 30, 5}, {30, 40, 6}, {50, 60, 7}};
  auto all = WithFreeGaps(used, 10, 70);
  std::vector<wksp::PartitionInfo> want = {{10, 20, 0}, {20, 30, 5},
                                           {30, 40, 6}, {40, 50, 0},
                                           {50, 60, 7}, {60, 70, 0}};
  EXPECT_EQ(all, want);
  EXPECT_EQ(WithFreeGaps({}, 10, 70),
            (std::vector<wksp::PartitionInfo>{{10, 70, 0}}));
  EXPECT_EQ(WithFreeGaps({{10, 70, 1}}, 10, 70),
            (std::vector<wksp::PartitionInfo>{{10, 70, 1}}));
}

TEST(OutputTest, UsageFormats) {
  wksp::Usage u;
  u.total_max = 9;
  u.total_cnt = 3;
  u.total_sz = 1000;
  u.used_cnt = 2;
  u.used_sz = 300;
  u.free_cnt = 1;
  u.free_sz = 700;
  u.largest_free = 700;
  u.tagged_cnt = 1;
  u.tagged_sz = 100;
  std::string t = UsageText("w", 4, u);
  EXPECT_NE(t.find("wksp w\n"), std::string::npos);
  EXPECT_NE(t.find("300 bytes used  (2 allocations)"), std::string::npos);
  EXPECT_NE(t.find("100 bytes tag 4 (1 allocations)"), std::string::npos);
  EXPECT_EQ(UsageJson("w", 4, u),
            "{\"wksp\":\"w\",\"usage\":{\"total_max\":9,\"total_cnt\":3,"
            "\"total_sz\":1000,\"free_cnt\":1,\"free_sz\":700,\"used_cnt\":2,"
            "\"used_sz\":300,\"largest_free\":700},\"tag\":4,\"tagged_cnt\":1,"
            "\"tagged_sz\":100}\n");
}

TEST(OutputTest, CheckptJsonLevels) {
  wksp_checkpt::Preview p;
  p.style = wksp_checkpt::Style::kV3;  // stored as style 2, LZ4 frames
  p.seed = 7;
  p.part_max = 8;
  p.data_max = 100;
  p.name = "n";
  std::string base =
      "{\"path\":\"f\",\"verbose\":0,\"style\":2,\"frame_style_compressed\":2,"
      "\"name\":\"n\",\"seed\":7,\"part_max\":8,\"data_max\":100";
  EXPECT_EQ(CheckptJson("f", 0, p, nullptr, false), base + "}\n");
  std::vector<wksp::PartitionInfo> a = {{1, 3, 9}, {5, 10, 2}};
  std::string v3 = CheckptJson("f", 3, p, &a, false);
  EXPECT_NE(v3.find("\"alloc_cnt\":2,\"alloc_bytes\":7}"), std::string::npos);
  std::string v4 = CheckptJson("f", 4, p, &a, true);
  EXPECT_NE(v4.find("\"allocations\":[{\"lo\":1,\"hi\":3,\"sz\":2,\"tag\":9},"
                    "{\"lo\":5,\"hi\":10,\"sz\":5,\"tag\":2}]"),
            std::string::npos);
}

TEST(OutputTest, QueryListsPartitions) {
  WkspSummary s;
  s.name = "q";
  s.gaddr_lo = 10;
  s.gaddr_hi = 40;
  s.partitions = {{10, 20, 3}, {20, 40, 0}};
  std::string t = QueryText(s);
  EXPECT_NE(t.find("partition [10, 20) sz 10 tag 3\n"), std::string::npos);
  EXPECT_NE(t.find("partition [20, 40) sz 20 free\n"), std::string::npos);
  std::string j = QueryJson(s);
  EXPECT_NE(j.find("\"partitions\":[{\"lo\":10,\"hi\":20,\"sz\":10,\"tag\":3},"
                   "{\"lo\":20,\"hi\":40,\"sz\":20,\"tag\":0}]"),
            std::string::npos);
}

}  // namespace
}  // namespace wk::apps
