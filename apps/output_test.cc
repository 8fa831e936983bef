#include "apps/output.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace wk::apps {
namespace {

// Parsed back with the same library a reader would use.
nlohmann::json Parse(const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  return nlohmann::json::parse(line);
}

TEST(OutputTest, JsonIsUtf8AndExact) {
  wksp_checkpt::CheckptDescription d;
  d.preview.name = "n";
  std::string j = CheckptJson("caf\xc3\xa9/\"x\"", 0, d);
  // Raw UTF-8, not "\u00c3\u00a9" (which would read back as two letters).
  EXPECT_NE(j.find("caf\xc3\xa9"), std::string::npos) << j;
  EXPECT_EQ(Parse(j)["path"], "caf\xc3\xa9/\"x\"");
  // Bytes that are not UTF-8 become U+FFFD, never invalid output.
  std::string bad = CheckptJson("a\xff", 0, d);
  EXPECT_EQ(Parse(bad)["path"], "a\xef\xbf\xbd");
  // 64-bit values are numbers, written exactly (a 64-bit reader gets them
  // back; 2^53 + 1 is where doubles would round).
  wksp::Usage u;
  u.tagged_sz = (uint64_t{1} << 53) + 1;
  std::string us = UsageJson("w", UINT64_MAX, u);
  EXPECT_NE(us.find("\"tag\":18446744073709551615"), std::string::npos) << us;
  nlohmann::json uj = Parse(us);
  EXPECT_EQ(uj["tag"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(uj["tagged_sz"].get<uint64_t>(), (uint64_t{1} << 53) + 1);
  EXPECT_EQ(uj["schema_version"], kJsonSchemaVersion);
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
  EXPECT_EQ(
      UsageJson("w", 4, u),
      "{\"schema_version\":2,\"wksp\":\"w\",\"usage\":{\"total_max\":9,"
      "\"total_cnt\":3,\"total_sz\":1000,\"free_cnt\":1,\"free_sz\":"
      "700,\"used_cnt\":2,\"used_sz\":300,\"largest_free\":700},"
      "\"tag\":4,\"tagged_cnt\":1,\"tagged_sz\":100}\n");
}

// Each level has every field the text shows at it, and no more.
TEST(OutputTest, CheckptJsonLevels) {
  wksp_checkpt::CheckptDescription d;
  wksp_checkpt::Preview& p = d.preview;
  p.style = wksp_checkpt::Style::kV3;  // stored as style 2, LZ4 frames
  p.seed = 7;
  p.part_max = 8;
  p.data_max = 100;
  p.name = "n";
  d.has_info = true;
  d.magic = 0xf17eda2c3731c591;
  d.wallclock = 1795607959158101045;
  d.tid = 5;
  d.user = "u";
  d.mode = 0644;
  d.path = "./f";
  d.binfo = "b";
  d.uinfo = "i";
  d.has_allocs = true;
  d.allocs = {{1, 3, 9}, {5, 10, 2}};
  nlohmann::json j0 = Parse(CheckptJson("f", 0, d));
  EXPECT_EQ(j0["style"], 3);  // as the user writes it, not as stored
  EXPECT_FALSE(j0.contains("frame_style_compressed"));
  EXPECT_EQ(j0["wksp"], "n");
  EXPECT_EQ(j0["data_max"], 100);
  EXPECT_FALSE(j0.contains("wallclock_ns"));
  nlohmann::json j1 = Parse(CheckptJson("f", 1, d));
  EXPECT_EQ(j1["magic"], "f17eda2c3731c591");
  EXPECT_EQ(j1["wallclock_ns"], 1795607959158101045);
  EXPECT_EQ(j1["tid"], 5);
  EXPECT_FALSE(j1.contains("tid_id"));
  EXPECT_EQ(j1["user"], "u");
  EXPECT_FALSE(j1.contains("uinfo"));
  nlohmann::json j2 = Parse(CheckptJson("f", 2, d));
  EXPECT_EQ(j2["mode"], "644");
  EXPECT_EQ(j2["info_path"], "./f");
  EXPECT_EQ(j2["binfo"], "b");
  EXPECT_EQ(j2["uinfo"], "i");
  EXPECT_FALSE(j2.contains("alloc_cnt"));
  nlohmann::json j3 = Parse(CheckptJson("f", 3, d));
  EXPECT_EQ(j3["alloc_cnt"], 2);
  EXPECT_EQ(j3["alloc_sz"], 7);
  EXPECT_EQ(j3["free_sz"], 93);
  EXPECT_FALSE(j3.contains("allocations"));
  nlohmann::json j4 = Parse(CheckptJson("f", 4, d));
  ASSERT_EQ(j4["allocations"].size(), 2u);
  EXPECT_EQ(j4["allocations"][1]["lo"], 5);
  EXPECT_EQ(j4["allocations"][1]["sz"], 5);
  EXPECT_EQ(j4["allocations"][1]["tag"], 2);
  // v1 stores no mode, path, frames: null, not missing.
  d.preview.style = wksp_checkpt::Style::kV1;
  nlohmann::json v1 = Parse(CheckptJson("f", 3, d));
  EXPECT_EQ(v1["style"], 1);
  EXPECT_TRUE(v1["mode"].is_null());
  EXPECT_TRUE(v1["cgroup_cnt"].is_null());
  EXPECT_EQ(v1["sealed"], false);
}

TEST(OutputTest, ListFormats) {
  ListEntry w;
  w.name = "w";
  w.page_size = "normal";
  w.is_wksp = true;
  w.footprint = 4096;
  w.used_sz = 100;
  w.attached = {{12, "a"}, {13, "b"}};
  wksp::LockHolder dead;
  dead.pid = 16549;
  dead.same_pid_ns = true;
  dead.liveness = wksp::Liveness::kDead;
  ListEntry held = w;
  held.name = "held";
  held.lock = dead;
  ListEntry junk;
  junk.name = "junk";
  junk.page_size = "normal";
  junk.file_sz = 7;
  junk.error = "not a workspace: no magic";
  std::string t = ListText({w, junk, held});
  EXPECT_NE(t.find("12(a),13(b)"), std::string::npos) << t;
  EXPECT_NE(t.find("16549(dead)"), std::string::npos) << t;
  EXPECT_NE(t.find("not a workspace: no magic"), std::string::npos) << t;
  nlohmann::json j = Parse(ListJson({w, junk, held}));
  EXPECT_EQ(j["workspaces"][0]["used_sz"], 100);
  EXPECT_TRUE(j["workspaces"][0]["lock"].is_null());
  EXPECT_TRUE(j["workspaces"][0]["restore_mark"].is_null());
  EXPECT_EQ(j["workspaces"][0]["attached"][1]["pid"], 13);
  EXPECT_EQ(j["workspaces"][1]["is_wksp"], false);
  EXPECT_TRUE(j["workspaces"][1]["footprint"].is_null());
  EXPECT_EQ(j["workspaces"][2]["lock"]["pid"], 16549);
  EXPECT_EQ(j["workspaces"][2]["lock"]["alive"], false);
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
  EXPECT_NE(j.find("\"partitions\":[{\"lo\":10,\"hi\":20,\"sz\":10,"
                   "\"tag\":3},{\"lo\":20,\"hi\":40,\"sz\":20,"
                   "\"tag\":0}]"),
            std::string::npos)
      << j;
}

}  // namespace
}  // namespace wk::apps
