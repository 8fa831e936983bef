// Firedancer compatibility: decodes every frame of the reference V3 checkpoint
// (testdata/firedancer_ref/ref_v3.checkpt, LZ4 frames) through mmio and
// streaming readers, checks the allocation bytes against the fill formula, and
// re-encodes the whole file from the decoded buffers, which must give the same
// bytes. Frame offsets come from its footer and appendix (spec section 4).
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "checkpt/checkpt.h"
#include "gtest/gtest.h"
#include "testdata/ref_workspace.h"

namespace wk::checkpt {
namespace {

constexpr uint64_t kMax = ~uint64_t{0};
constexpr uint64_t kHeaderSz = 80, kInfoSz = 144, kFooterSz = 120, kCmdSz = 24;

uint64_t U64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

struct Cmd {
  uint64_t a, b, c;
};
Cmd ParseCmd(const uint8_t* p) { return {U64(p), U64(p + 8), U64(p + 16)}; }

struct Alloc {
  uint64_t tag, lo, hi;
  std::vector<uint8_t> bytes;
};

// What the decode of the file gives, buffer by buffer, for re-encoding.
struct Decoded {
  std::vector<uint8_t> header, info, strings, footer;
  std::vector<std::vector<Alloc>> cgroups;
  std::vector<uint64_t> cg_off, cg_cnt;
  Cmd appendix{}, volumes{};
  uint64_t app_off = 0, vol_off = 0;
};

std::vector<uint8_t> LoadFile() {
  std::ifstream in(testdata::RefPath("ref_v3.checkpt"), std::ios::binary);
  EXPECT_TRUE(in.good());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Decodes the whole checkpoint with reader r (positioned anywhere).
void Decode(Reader& r, uint64_t file_sz, Decoded* d) {
  // Footer (RAW) at the end.
  d->footer.resize(kFooterSz);
  ASSERT_TRUE(r.Seek(file_sz - kFooterSz).ok());
  ASSERT_EQ(*r.Open(FrameStyle::kRaw), file_sz - kFooterSz);
  ASSERT_TRUE(r.Meta(d->footer.data(), kFooterSz).ok());
  ASSERT_EQ(*r.Close(), file_sz);
  const uint8_t* f = d->footer.data();
  const uint64_t alloc_cnt = U64(f), cgroup_cnt = U64(f + 8);
  ASSERT_EQ(U64(f + 16), 1u);  // one volume
  d->vol_off = U64(f + 24);
  ASSERT_EQ(U64(f + 32), file_sz);
  ASSERT_EQ(U64(f + 112), ~uint64_t{0xF17EDA2C3731C591});

  // Volumes frame (LZ4): (0, MAX, appendix offset).
  uint8_t cmd[kCmdSz];
  ASSERT_TRUE(r.Seek(d->vol_off).ok());
  ASSERT_EQ(*r.Open(FrameStyle::kLz4), d->vol_off);
  ASSERT_TRUE(r.Meta(cmd, kCmdSz).ok());
  ASSERT_EQ(*r.Close(), file_sz - kFooterSz);
  d->volumes = ParseCmd(cmd);
  ASSERT_EQ(d->volumes.a, 0u);
  ASSERT_EQ(d->volumes.b, kMax);
  d->app_off = d->volumes.c;

  // Appendix (LZ4): (0, G, 0), G offsets, G counts.
  ASSERT_TRUE(r.Seek(d->app_off).ok());
  ASSERT_EQ(*r.Open(FrameStyle::kLz4), d->app_off);
  ASSERT_TRUE(r.Meta(cmd, kCmdSz).ok());
  d->appendix = ParseCmd(cmd);
  const uint64_t g = d->appendix.b;
  ASSERT_EQ(g, cgroup_cnt);
  ASSERT_EQ(d->appendix.c, 0u);
  d->cg_off.resize(g);
  d->cg_cnt.resize(g);
  ASSERT_TRUE(r.Data(d->cg_off.data(), 8 * g).ok());
  ASSERT_TRUE(r.Data(d->cg_cnt.data(), 8 * g).ok());
  ASSERT_EQ(*r.Close(), d->vol_off);

  // Header (RAW) and info (LZ4): struct, then all strings as one buffer.
  ASSERT_TRUE(r.Seek(0).ok());
  d->header.resize(kHeaderSz);
  ASSERT_EQ(*r.Open(FrameStyle::kRaw), 0u);
  ASSERT_TRUE(r.Meta(d->header.data(), kHeaderSz).ok());
  ASSERT_EQ(*r.Close(), kHeaderSz);
  d->info.resize(kInfoSz);
  ASSERT_EQ(*r.Open(FrameStyle::kLz4), kHeaderSz);
  ASSERT_TRUE(r.Meta(d->info.data(), kInfoSz).ok());
  uint64_t strings_sz = 0;
  for (int i = 0; i < 9; ++i) strings_sz += U64(d->info.data() + 72 + 8 * i);
  ASSERT_LE(strings_sz, 65536u);
  d->strings.resize(strings_sz);
  ASSERT_TRUE(r.Meta(d->strings.data(), strings_sz).ok());
  ASSERT_EQ(*r.Close(), g ? d->cg_off[0] : d->app_off);

  // Cgroups, in reverse order to exercise seeking.
  uint64_t total = 0;
  d->cgroups.assign(g, {});
  for (uint64_t k = g; k-- > 0;) {
    ASSERT_TRUE(r.Seek(d->cg_off[k]).ok());
    ASSERT_EQ(*r.Open(FrameStyle::kLz4), d->cg_off[k]);
    std::vector<Alloc>& allocs = d->cgroups[k];
    for (uint64_t i = 0; i < d->cg_cnt[k]; ++i) {
      ASSERT_TRUE(r.Meta(cmd, kCmdSz).ok());
      Cmd m = ParseCmd(cmd);
      ASSERT_GT(m.a, 0u);
      ASSERT_LT(m.b, m.c);
      allocs.push_back({m.a, m.b, m.c, {}});
    }
    ASSERT_TRUE(r.Meta(cmd, kCmdSz).ok());
    Cmd data = ParseCmd(cmd);
    ASSERT_EQ(data.a, 0u);
    ASSERT_EQ(data.b, kMax);
    ASSERT_EQ(data.c, kMax);
    for (Alloc& a : allocs) {
      a.bytes.resize(a.hi - a.lo);
      ASSERT_TRUE(r.Data(a.bytes.data(), a.bytes.size()).ok());
    }
    const uint64_t next = k + 1 < g ? d->cg_off[k + 1] : d->app_off;
    ASSERT_EQ(*r.Close(), next);
    total += allocs.size();
  }
  ASSERT_EQ(total, alloc_cnt);
}

void CheckContents(const Decoded& d) {
  // Allocation bytes against the fill formula, the set against the list.
  std::vector<testdata::RefAlloc> got;
  std::vector<uint8_t> expect;
  for (const auto& cg : d.cgroups) {
    for (const Alloc& a : cg) {
      expect.resize(a.hi - a.lo);
      testdata::RefFill(a.lo, a.hi, a.tag, expect.data());
      ASSERT_EQ(a.bytes, expect) << "allocation at " << a.lo;
      got.push_back({a.lo, a.hi, a.tag});
    }
  }
  std::sort(got.begin(), got.end(),
            [](const auto& x, const auto& y) { return x.lo < y.lo; });
  testdata::RefWorkspace ref = testdata::LoadRef(3);
  ASSERT_EQ(got.size(), ref.allocs.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].lo, ref.allocs[i].lo);
    EXPECT_EQ(got[i].hi, ref.allocs[i].hi);
    EXPECT_EQ(got[i].tag, ref.allocs[i].tag);
  }
  // Info strings: app, thread, host, cpu, group, user, path, binfo, uinfo.
  std::vector<std::string> strs;
  uint64_t at = 0;
  for (int i = 0; i < 9; ++i) {
    uint64_t sz = U64(d.info.data() + 72 + 8 * i);
    ASSERT_GT(sz, 0u);
    ASSERT_EQ(d.strings[at + sz - 1], 0);
    strs.emplace_back(reinterpret_cast<const char*>(d.strings.data() + at));
    EXPECT_EQ(strs.back().size(), sz - 1);
    at += sz;
  }
  EXPECT_EQ(strs[2], "vm");
  EXPECT_EQ(strs[4], "fd_wksp_ref");
  EXPECT_EQ(strs[6], "./ref_v3.checkpt");
  EXPECT_EQ(strs[8], "fdref reference checkpt");
  EXPECT_EQ(U64(d.info.data()), 0644u);  // mode
  EXPECT_EQ(0, std::memcmp(d.header.data() + 20, "ref", 4));
}

// Writes the decoded buffers back with the same boundaries and styles.
std::vector<uint8_t> Reencode(const Decoded& d, uint64_t file_sz) {
  std::vector<uint8_t> out(file_sz + 65536);
  auto w = Writer::Mmio(out);
  EXPECT_TRUE(w.ok());
  auto meta = [&](const void* p, uint64_t n) {
    EXPECT_TRUE(w->Meta(p, n).ok());
  };
  EXPECT_EQ(*w->Open(FrameStyle::kRaw), 0u);
  meta(d.header.data(), d.header.size());
  EXPECT_TRUE(w->Close().ok());
  EXPECT_EQ(*w->Open(FrameStyle::kLz4), kHeaderSz);
  meta(d.info.data(), d.info.size());
  meta(d.strings.data(), d.strings.size());
  EXPECT_TRUE(w->Close().ok());
  for (size_t k = 0; k < d.cgroups.size(); ++k) {
    EXPECT_EQ(*w->Open(FrameStyle::kLz4), d.cg_off[k]);
    for (const Alloc& a : d.cgroups[k]) {
      Cmd m{a.tag, a.lo, a.hi};
      meta(&m, kCmdSz);
    }
    Cmd data{0, kMax, kMax};
    meta(&data, kCmdSz);
    for (const Alloc& a : d.cgroups[k]) {
      EXPECT_TRUE(w->Data(a.bytes.data(), a.bytes.size()).ok());
    }
    EXPECT_TRUE(w->Close().ok());
  }
  EXPECT_EQ(*w->Open(FrameStyle::kLz4), d.app_off);
  meta(&d.appendix, kCmdSz);
  EXPECT_TRUE(w->Data(d.cg_off.data(), 8 * d.cg_off.size()).ok());
  EXPECT_TRUE(w->Data(d.cg_cnt.data(), 8 * d.cg_cnt.size()).ok());
  EXPECT_TRUE(w->Close().ok());
  EXPECT_EQ(*w->Open(FrameStyle::kLz4), d.vol_off);
  meta(&d.volumes, kCmdSz);
  EXPECT_TRUE(w->Close().ok());
  EXPECT_TRUE(w->Open(FrameStyle::kRaw).ok());
  meta(d.footer.data(), d.footer.size());
  EXPECT_TRUE(w->Close().ok());
  absl::StatusOr<uint64_t> end = w->Finish();
  EXPECT_TRUE(end.ok());
  out.resize(*end);
  return out;
}

TEST(RefV3Test, MmioDecodeMatchesAndReencodesBitIdentically) {
  std::vector<uint8_t> file = LoadFile();
  ASSERT_GT(file.size(), 200u);
  auto r = Reader::Mmio(file);
  ASSERT_TRUE(r.ok());
  Decoded d;
  ASSERT_NO_FATAL_FAILURE(Decode(*r, file.size(), &d));
  ASSERT_NO_FATAL_FAILURE(CheckContents(d));
  EXPECT_GT(d.cgroups.size(), 1u);
  std::vector<uint8_t> again = Reencode(d, file.size());
  ASSERT_EQ(again.size(), file.size());
  EXPECT_TRUE(again == file) << "re-encoded bytes differ";
}

TEST(RefV3Test, StreamDecodeMatches) {
  std::vector<uint8_t> file = LoadFile();
  FILE* fp = std::fopen(testdata::RefPath("ref_v3.checkpt").c_str(), "rb");
  ASSERT_NE(fp, nullptr);
  std::vector<uint8_t> rbuf(kRbufMin);
  auto r = Reader::Stream(fileno(fp), rbuf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), file.size());
  Decoded d;
  Decode(*r, file.size(), &d);
  std::fclose(fp);
  ASSERT_NO_FATAL_FAILURE(CheckContents(d));
}

}  // namespace
}  // namespace wk::checkpt
