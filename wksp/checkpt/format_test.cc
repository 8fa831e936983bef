#include "wksp/checkpt/format.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "gtest/gtest.h"
#include "testdata/ref_workspace.h"

namespace wk::wksp_checkpt::format {
namespace {

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

// The worked example of CHECKPOINT_FORMAT.md §7.
TEST(Format, HeaderBytes) {
  Header h;
  h.name = "demo";
  h.seed = 1234;
  h.part_max = 16;
  h.data_max = 65536;
  uint8_t b[kHeaderSz];
  EncodeHeader(h, b);
  const uint8_t want[20] = {0x91, 0xc5, 0x31, 0x37, 0x2c, 0xda, 0x7e,
                            0xf1, 0x02, 0,    0,    0,    0x01, 0,
                            0,    0,    0,    0,    0,    0};
  EXPECT_EQ(std::memcmp(b, want, 20), 0);
  EXPECT_EQ(std::memcmp(b + 20, "demo\0\0", 6), 0);
  Header back;
  ASSERT_TRUE(DecodeHeader(b, &back).ok());
  EXPECT_EQ(back.name, "demo");
  EXPECT_EQ(back.seed, 1234u);
  EXPECT_EQ(back.part_max, 16u);
  EXPECT_EQ(back.data_max, 65536u);

  uint8_t bad[kHeaderSz];
  std::memcpy(bad, b, kHeaderSz);
  bad[0] ^= 1;
  EXPECT_EQ(DecodeHeader(bad, &back).code(), absl::StatusCode::kDataLoss);
  std::memcpy(bad, b, kHeaderSz);
  bad[12] = 3;  // frame style
  EXPECT_FALSE(DecodeHeader(bad, &back).ok());
  std::memcpy(bad, b, kHeaderSz);
  bad[16] = 1;  // reserved
  EXPECT_FALSE(DecodeHeader(bad, &back).ok());
  std::memcpy(bad, b, kHeaderSz);
  std::memset(bad + 20, 'a', 40);  // no NUL in the name
  EXPECT_FALSE(DecodeHeader(bad, &back).ok());
  std::memcpy(bad, b, kHeaderSz);
  StoreU64(bad + 64, 0);  // part_max 0
  EXPECT_FALSE(DecodeHeader(bad, &back).ok());
  EXPECT_FALSE(DecodeHeader(std::span<const uint8_t>(b, 79), &back).ok());
}

TEST(Format, InfoRoundTripAndLimits) {
  Info info;
  info.mode = 0600;
  info.wallclock = -5;
  info.app = "app";
  info.host = std::string(100, 'h');  // truncated to 39
  info.path = "/x/y";
  info.uinfo = std::string(20000, 'u');  // truncated to 16383
  uint8_t s[kInfoSz];
  std::string strings;
  EncodeInfo(info, s, &strings);
  Info back;
  uint64_t sz = 0;
  ASSERT_TRUE(DecodeInfoStruct(s, &back, &sz).ok());
  ASSERT_EQ(sz, strings.size());
  ASSERT_TRUE(DecodeInfoStrings(
                  std::span(reinterpret_cast<const uint8_t*>(strings.data()),
                            strings.size()),
                  &back)
                  .ok());
  EXPECT_EQ(back.mode, 0600u);
  EXPECT_EQ(back.wallclock, -5);
  EXPECT_EQ(back.app, "app");
  EXPECT_EQ(back.host, std::string(39, 'h'));
  EXPECT_EQ(back.path, "/x/y");
  EXPECT_EQ(back.uinfo.size(), 16383u);
  EXPECT_EQ(back.thread, "");

  StoreU64(s + 72, 41);  // sz_app over its limit
  EXPECT_FALSE(DecodeInfoStruct(s, &back, &sz).ok());
  StoreU64(s + 72, 0);
  EXPECT_FALSE(DecodeInfoStruct(s, &back, &sz).ok());
}

// Parses Firedancer's v2 reference file (RAW frames) and checks that our
// header, footer and cgroup assignment reproduce it exactly.
TEST(Format, ReproducesFiredancerV2Layout) {
  std::vector<uint8_t> f = ReadFile(testdata::RefPath("ref_v2.checkpt"));
  ASSERT_GT(f.size(), kHeaderSz + kFooterSz);
  testdata::RefWorkspace ref = testdata::LoadRef(2);

  Header h;
  ASSERT_TRUE(DecodeHeader(f, &h).ok());
  EXPECT_EQ(h.name, ref.name);
  EXPECT_EQ(h.seed, ref.seed);
  EXPECT_EQ(h.frame_style_compressed, checkpt::FrameStyle::kRaw);
  uint8_t hb[kHeaderSz];
  EncodeHeader(h, hb);
  EXPECT_EQ(std::memcmp(hb, f.data(), kHeaderSz), 0);

  Info info;
  uint64_t ssz = 0;
  ASSERT_TRUE(
      DecodeInfoStruct(std::span(f).subspan(kHeaderSz), &info, &ssz).ok());
  ASSERT_TRUE(
      DecodeInfoStrings(std::span(f).subspan(kHeaderSz + kInfoSz, ssz), &info)
          .ok());
  EXPECT_EQ(info.uinfo, "fdref reference checkpt");
  EXPECT_EQ(info.path, "./ref_v2.checkpt");
  uint8_t ib[kInfoSz];
  std::string strings;
  EncodeInfo(info, ib, &strings);
  EXPECT_EQ(std::memcmp(ib, f.data() + kHeaderSz, kInfoSz), 0);
  EXPECT_EQ(std::memcmp(strings.data(), f.data() + kHeaderSz + kInfoSz, ssz),
            0);

  const uint8_t* fp = f.data() + f.size() - kFooterSz;
  Footer ftr = DecodeFooter(fp);
  ASSERT_TRUE(CheckFooterMatchesHeader(ftr, h, f.data()).ok());
  EXPECT_EQ(ftr.checkpt_sz, f.size());
  EXPECT_EQ(ftr.alloc_cnt, ref.allocs.size());
  EXPECT_EQ(ftr.volume_cnt, 1u);
  uint8_t fb[kFooterSz];
  EncodeFooter(ftr, fb);
  EXPECT_EQ(std::memcmp(fb, fp, kFooterSz), 0);

  Cmd vol = DecodeCmd(f.data() + ftr.frame_off);
  ASSERT_TRUE(vol.IsVolumes());
  Cmd app = DecodeCmd(f.data() + vol.c);
  ASSERT_TRUE(app.IsAppendix());
  uint64_t g = app.b;
  EXPECT_EQ(g, ftr.cgroup_cnt);

  std::vector<Alloc> allocs;
  for (const auto& a : ref.allocs) allocs.push_back({a.lo, a.hi, a.tag});
  auto lists = AssignCgroups(allocs);
  ASSERT_EQ(lists.size(), g);
  const uint8_t* offs = f.data() + vol.c + kCmdSz;
  const uint8_t* cnts = offs + 8 * g;
  for (uint64_t i = 0; i < g; ++i) {
    uint64_t off = LoadU64(offs + 8 * i);
    ASSERT_EQ(LoadU64(cnts + 8 * i), lists[i].size()) << i;
    for (size_t j = 0; j < lists[i].size(); ++j) {
      Cmd m = DecodeCmd(f.data() + off + kCmdSz * j);
      const Alloc& want = allocs[lists[i][j]];
      EXPECT_EQ(m.a, want.tag);
      EXPECT_EQ(m.b, want.lo);
      EXPECT_EQ(m.c, want.hi);
    }
    EXPECT_TRUE(DecodeCmd(f.data() + off + kCmdSz * lists[i].size()).IsData());
  }
}

TEST(Format, AssignCgroupsShape) {
  EXPECT_TRUE(AssignCgroups({}).empty());
  std::vector<Alloc> allocs;
  for (uint64_t i = 0; i < 100000; ++i) {
    allocs.push_back({1000 + 100 * i, 1000 + 100 * i + 1 + i % 90, 1});
  }
  auto lists = AssignCgroups(allocs);
  ASSERT_EQ(lists.size(), 1024u);
  size_t total = 0;
  for (const auto& l : lists) {
    total += l.size();
    for (size_t j = 1; j < l.size(); ++j) ASSERT_LT(l[j - 1], l[j]);
  }
  EXPECT_EQ(total, allocs.size());
}

}  // namespace
}  // namespace wk::wksp_checkpt::format
