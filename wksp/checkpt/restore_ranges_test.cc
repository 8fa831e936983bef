#include "wksp/checkpt/restore_ranges.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace {

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<uint8_t> CheckptBytes(wksp::Wksp& w, Style style) {
  const std::string path = TmpPath("ranges.ckpt");
  ::unlink(path.c_str());
  CheckptOptions opt;
  opt.style = style;
  EXPECT_TRUE(Checkpt(w, path, opt).ok());
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), {});
  ::unlink(path.c_str());
  return b;
}

wksp::Wksp Source() {
  auto w = wksp::Wksp::CreateAnonymous("src", 1024, 8 << 20);
  EXPECT_TRUE(w.ok());
  std::mt19937_64 rng(3);
  for (int i = 0; i < 300; ++i) {
    uint64_t sz = 1 + rng() % 9000;
    auto g = w->Alloc(8, sz, 1 + i % 3);
    EXPECT_TRUE(g.ok());
    for (uint64_t j = 0; j < sz; ++j) w->laddr(*g)[j] = uint8_t(rng());
  }
  return std::move(*w);
}

std::vector<std::pair<wksp::PartitionInfo, std::vector<uint8_t>>> Content(
    wksp::Wksp& w) {
  auto lock = w.Lock();
  EXPECT_TRUE(lock.ok());
  auto parts = wksp::UsedPartitionsLocked(w);
  EXPECT_TRUE(parts.ok());
  std::vector<std::pair<wksp::PartitionInfo, std::vector<uint8_t>>> c;
  for (const auto& p : *parts) {
    c.push_back({p, {w.laddr(p.lo), w.laddr(p.lo) + (p.hi - p.lo)}});
  }
  return c;
}

// Bytes arrive head and tail first, then each frame in a shuffled order,
// each restored as soon as it is there.
TEST(RangeRestoreTest, FramesInAnyOrder) {
  wksp::Wksp src = Source();
  for (Style style : {Style::kV2, Style::kV3}) {
    const std::vector<uint8_t> file = CheckptBytes(src, style);
    const uint64_t n = file.size();
    std::vector<uint8_t> region(n, 0);
    std::copy_n(file.begin(), RangeHeadSize(n), region.begin());
    std::copy(file.end() - RangeTailSize(n), file.end(),
              region.end() - RangeTailSize(n));
    auto dst = wksp::Wksp::CreateAnonymous("dst", 1024, 8 << 20);
    ASSERT_TRUE(dst.ok());
    ASSERT_TRUE(dst->Alloc(8, 100, 9).ok());  // replaced by the restore
    RestoreOptions ro;
    ro.seed = src.seed();
    auto rr = RangeRestore::Open(*dst, region, ro);
    ASSERT_TRUE(rr.ok()) << rr.status();
    std::vector<size_t> order((*rr)->frames().size());
    ASSERT_GT(order.size(), 3u);
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(5));
    for (size_t k : order) {
      const auto& f = (*rr)->frames()[k];
      std::copy(file.begin() + f.off, file.begin() + f.end,
                region.begin() + f.off);
      ASSERT_TRUE((*rr)->RestoreFrame(k).ok());
    }
    ASSERT_TRUE((*rr)->Finish().ok());
    rr->reset();
    EXPECT_EQ(Content(src), Content(*dst));
  }
}

// Without its tail, nothing is restored and the workspace is untouched; a
// corrupt frame after others were restored leaves it reset.
TEST(RangeRestoreTest, FailuresBeforeAndAfterTouching) {
  wksp::Wksp src = Source();
  const std::vector<uint8_t> file = CheckptBytes(src, Style::kV3);
  const uint64_t n = file.size();
  auto dst = wksp::Wksp::CreateAnonymous("dst", 1024, 8 << 20);
  ASSERT_TRUE(dst.ok());
  ASSERT_TRUE(dst->Alloc(8, 100, 9).ok());
  std::vector<uint8_t> region(n, 0);
  std::copy_n(file.begin(), RangeHeadSize(n), region.begin());
  EXPECT_FALSE(RangeRestore::Open(*dst, region, {}).ok());
  EXPECT_EQ(Content(*dst).size(), 1u);

  region = file;
  auto rr = RangeRestore::Open(*dst, region, {});
  ASSERT_TRUE(rr.ok()) << rr.status();
  ASSERT_TRUE((*rr)->RestoreFrame(0).ok());
  const auto& f = (*rr)->frames()[1];
  std::fill(region.begin() + f.off + 3, region.begin() + f.end, 0xA5);
  absl::Status st = (*rr)->RestoreFrame(1);
  ASSERT_FALSE(st.ok());
  st = (*rr)->Fail(st);
  EXPECT_TRUE(IsWorkspaceReset(st)) << st;
  rr->reset();
  EXPECT_TRUE(Content(*dst).empty());
}


std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

// A delta applied from its bytes as they arrive: only the ranges RangeLayout
// names are there at Open (the rest of the region is zero), then the groups
// arrive in reverse order. A workspace not in the base state is refused
// untouched; a group that fails its check after the first write resets.
TEST(RangeRestoreTest, DeltaGroupsInAnyOrder) {
  wksp::Wksp src = Source();
  const std::string base = TmpPath("ranges.base"), delta = TmpPath("ranges.delta");
  ASSERT_TRUE(Checkpt(src, base, {}).ok());
  auto at_base = [&]() {
    auto w = wksp::Wksp::CreateAnonymous("dst", 1024, 8 << 20);
    EXPECT_TRUE(w.ok());
    RestoreOptions ro;
    ro.seed = src.seed();
    EXPECT_TRUE(Restore(*w, base, ro).ok());
    return std::move(*w);
  };
  wksp::Wksp dst = at_base(), bad = at_base(), other = at_base();
  // Every third allocation written, some freed, one added.
  const auto parts = Content(src);
  for (size_t i = 0; i < parts.size(); i += 3) {
    src.laddr(parts[i].first.lo)[0] ^= 1;
  }
  for (size_t i = 1; i < parts.size(); i += 29) {
    ASSERT_TRUE(src.Free(parts[i].first.lo).ok());
  }
  ASSERT_TRUE(src.Alloc(8, 70000, 5).ok());
  CheckptOptions dopt;
  dopt.base = base;
  ASSERT_TRUE(Checkpt(src, delta, dopt).ok());
  const std::vector<uint8_t> file = ReadAll(delta);
  ::unlink(base.c_str());
  ::unlink((base + ".wkspidx").c_str());
  ::unlink(delta.c_str());
  const uint64_t n = file.size();

  std::vector<uint8_t> region(n, 0);
  std::copy_n(file.begin(), RangeHeadSize(n), region.begin());
  const std::vector<ByteRange> layout = RangeLayout(region, n);
  ASSERT_EQ(layout.size(), 4u);  // head, tail, header + index, trailer
  for (const ByteRange& r : layout) {
    std::copy(file.begin() + r.lo, file.begin() + r.hi, region.begin() + r.lo);
  }
  std::vector<uint8_t> with_layout = region;

  // Another state: refused before anything is written.
  other.laddr(Content(other)[5].first.lo)[1] ^= 1;
  const auto other_before = Content(other);
  auto refused = RangeRestore::Open(other, region, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Content(other) == other_before);

  RestoreOptions ro;
  ro.seed = src.seed();
  ro.threads = 2;
  auto rr = RangeRestore::Open(dst, region, ro);
  ASSERT_TRUE(rr.ok()) << rr.status();
  const auto frames = (*rr)->frames();
  ASSERT_GE(frames.size(), 2u);
  for (size_t k = frames.size(); k-- > 0;) {
    std::copy(file.begin() + frames[k].off, file.begin() + frames[k].end,
              region.begin() + frames[k].off);
    ASSERT_TRUE((*rr)->RestoreFrame(k).ok()) << k;
  }
  ASSERT_TRUE((*rr)->Finish().ok());
  rr->reset();
  EXPECT_TRUE(Content(dst) == Content(src));
  EXPECT_TRUE(dst.Verify().ok());

  // Group 1 damaged (what a download never delivers, but a bad file could).
  region = file;
  region[frames[1].off + 20] ^= 0x10;
  auto rb = RangeRestore::Open(bad, region, ro);
  ASSERT_TRUE(rb.ok()) << rb.status();
  ASSERT_TRUE((*rb)->RestoreFrame(0).ok());
  absl::Status st = (*rb)->RestoreFrame(1);
  ASSERT_FALSE(st.ok());
  st = (*rb)->Fail(st);
  EXPECT_TRUE(IsWorkspaceReset(st)) << st;
  rb->reset();
  EXPECT_TRUE(Content(bad).empty());
}

}  // namespace
}  // namespace wk::wksp_checkpt
