// Workspace API tests: layout quantities, lifecycle, allocator semantics,
// text addresses and every bad-input case (which must change nothing).
#include "wksp/wksp.h"

#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wksp/test_util.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class WkspTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = testing::UseTestShmemRoot(); }
  std::string root_;
};

// The state a bad call must leave unchanged.
struct Snapshot {
  std::vector<PartitionInfo> used;
  Usage usage;
  uint32_t seed;
};
Snapshot Snap(Wksp& w) {
  auto guard = w.Lock();
  EXPECT_TRUE(guard.ok());
  Snapshot s;
  s.used = *UsedPartitionsLocked(w);
  s.usage = *UsageLocked(w);
  s.seed = w.seed();
  return s;
}
void ExpectSame(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.used, b.used);
  EXPECT_EQ(a.usage.free_cnt, b.usage.free_cnt);
  EXPECT_EQ(a.usage.free_sz, b.usage.free_sz);
  EXPECT_EQ(a.usage.used_cnt, b.usage.used_cnt);
  EXPECT_EQ(a.seed, b.seed);
}

TEST_F(WkspTest, LayoutMatchesCheckpointSpec) {
  // CHECKPOINT_FORMAT.md §5 example: part_max 16, data_max 65536.
  auto w = Wksp::CreateAnonymous("demo", 16, 65536, {.seed = 1234});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->gaddr_lo(), 1152u);
  EXPECT_EQ(w->gaddr_hi(), 66688u);
  EXPECT_EQ(w->footprint(), 66688u + 128u);  // roundup(66689, 128)
  EXPECT_EQ(w->name(), "demo");
  EXPECT_EQ(w->seed(), 1234u);
  EXPECT_EQ(w->part_max(), 16u);
  EXPECT_EQ(w->data_max(), 65536u);
  EXPECT_EQ(*Wksp::Footprint(16, 65536), 66816u);
  EXPECT_EQ(*Wksp::Footprint(1, 1), 256u);  // 128+64+1+1 -> 256
  EXPECT_FALSE(Wksp::Footprint(0, 1).ok());
  EXPECT_FALSE(Wksp::Footprint(1, 0).ok());
  EXPECT_FALSE(Wksp::Footprint(uint64_t{1} << 32, 1).ok());
  EXPECT_FALSE(Wksp::Footprint(1, ~uint64_t{0} - 200).ok());
}

uint64_t AlignDown128(uint64_t x) { return x & ~uint64_t{127}; }

TEST_F(WkspTest, Estimators) {
  // Whatever the estimates say must actually fit, and one more must not.
  for (uint64_t fp : {uint64_t{4096}, uint64_t{1} << 20, uint64_t{1} << 30}) {
    for (uint64_t sz : {uint64_t{1}, uint64_t{64}, uint64_t{4096}}) {
      uint64_t pm = Wksp::PartMaxEst(fp, sz);
      if (pm == 0) {
        EXPECT_GT(*Wksp::Footprint(1, sz), fp);
        continue;
      }
      EXPECT_LE(*Wksp::Footprint(pm, pm * sz), fp);
      EXPECT_GT(*Wksp::Footprint(pm + 1, (pm + 1) * sz), fp);
      uint64_t dm = Wksp::DataMaxEst(fp, pm);
      ASSERT_GT(dm, 0u);
      EXPECT_EQ(*Wksp::Footprint(pm, dm), AlignDown128(fp));
      EXPECT_GT(*Wksp::Footprint(pm, dm + 1), fp);
    }
  }
  EXPECT_EQ(Wksp::PartMaxEst(0, 64), 0u);
  EXPECT_EQ(Wksp::PartMaxEst(4096, 0), 0u);
  EXPECT_EQ(Wksp::PartMaxEst(128, 64), 0u);
  EXPECT_EQ(Wksp::DataMaxEst(4096, 0), 0u);
  EXPECT_EQ(Wksp::DataMaxEst(4096, 100), 0u);  // slots alone exceed it
}

TEST_F(WkspTest, CreateJoinLeaveDelete) {
  std::string name = testing::UniqueName("cjld");
  {
    auto w = Wksp::Create(name, 8, 1 << 16, {.seed = 5, .mode = 0640});
    ASSERT_TRUE(w.ok()) << w.status();
    struct stat st;
    ASSERT_EQ(stat((root_ + "/" + name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_GE(static_cast<uint64_t>(st.st_size), w->footprint());
    auto g = w->Alloc(64, 100, 9);
    ASSERT_TRUE(g.ok()) << g.status();
    memcpy(w->laddr(*g), "hello", 6);

    EXPECT_EQ(Wksp::Create(name, 8, 1 << 16).status().code(),
              absl::StatusCode::kAlreadyExists);

    auto j = Wksp::Join(name);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(j->seed(), 5u);
    EXPECT_EQ(j->gaddr_hi(), w->gaddr_hi());
    EXPECT_STREQ(reinterpret_cast<char*>(j->laddr(*g)), "hello");
    EXPECT_EQ(*j->Tag(*g), 9u);
    EXPECT_TRUE(j->Free(*g).ok());
    EXPECT_EQ(*w->Tag(*g), 0u);

    auto ro = Wksp::Join(name, /*read_only=*/true);
    ASSERT_TRUE(ro.ok()) << ro.status();
    EXPECT_TRUE(ro->read_only());
    EXPECT_STREQ(reinterpret_cast<char*>(ro->laddr(*g)), "hello");
    EXPECT_EQ(ro->Alloc(0, 8, 1).status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(ro->Lock().status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_TRUE(Wksp::Delete(name).ok());
  EXPECT_EQ(Wksp::Join(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Wksp::Delete(name).code(), absl::StatusCode::kNotFound);
}

TEST_F(WkspTest, JoinRefusesNonWorkspace) {
  std::string name = testing::UniqueName("junk");
  {
    auto m = ShmemCreate(name, 4096, {});
    ASSERT_TRUE(m.ok());
    memset(m->mutable_span().data(), 0x5a, 4096);
  }
  auto j = Wksp::Join(name);
  EXPECT_EQ(j.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(j.status().message(), HasSubstr("not a workspace"));
  EXPECT_TRUE(Wksp::Delete(name).ok());
}

TEST_F(WkspTest, BadNamesRefusedWithTheRule) {
  for (const char* bad : {"", "-x", "_x", ".x", "a/b", "a b", "a:b",
                          "0123456789012345678901234567890123456789"}) {
    auto w = Wksp::CreateAnonymous(bad, 4, 4096);
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(w.status().message(), HasSubstr("1 to 39 characters"));
    EXPECT_EQ(Wksp::Create(bad, 4, 4096).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(
      Wksp::CreateAnonymous("012345678901234567890123456789012345678", 4, 4096)
          .ok());
  EXPECT_TRUE(Wksp::CreateAnonymous("a-b_c.D9", 4, 4096).ok());
}

TEST_F(WkspTest, AllocationsAreFullyTrimmedAndAligned) {
  auto w = Wksp::CreateAnonymous("trim", 64, 1 << 20);
  ASSERT_TRUE(w.ok());
  auto a = w->AllocAtLeast(0, 100, 1);  // default align 4096
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->lo % kDefaultAlign, 0u);
  EXPECT_EQ(a->hi, a->lo + 100);
  EXPECT_EQ(a->tag, 1u);
  auto b = w->AllocAtLeast(1, 7, 2);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->hi - b->lo, 7u);
  auto c = w->AllocAtLeast(256, 300, 3);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->lo % 256, 0u);
  EXPECT_EQ(c->hi - c->lo, 300u);
  auto used = w->TagQuery(std::vector<uint64_t>{1, 2, 3});
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->size(), 3u);
  for (const PartitionInfo& p : *used)
    EXPECT_TRUE(p == *a || p == *b || p == *c);
  auto u = w->GetUsage();
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->used_sz, 407u);
  EXPECT_EQ(u->total_sz, w->data_max());
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, WholeRegionAllocationUsesAlignedFallback) {
  // data region starts at gaddr_lo = 128 + 64*2 = 256: aligned to 256 but
  // not to 4096, and the worst-case size sz + 255 does not fit.
  auto w = Wksp::CreateAnonymous("whole", 2, 1024);
  ASSERT_TRUE(w.ok());
  auto g = w->Alloc(256, 1024, 5);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g, w->gaddr_lo());
  EXPECT_EQ(w->Alloc(1, 1, 5).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, FreeAnyByteAndCoalesce) {
  auto w = Wksp::CreateAnonymous("coal", 16, 1 << 16);
  ASSERT_TRUE(w.ok());
  std::vector<uint64_t> g;
  for (int i = 0; i < 4; ++i) g.push_back(*w->Alloc(64, 1000, 10 + i));
  auto u = *w->GetUsage();
  EXPECT_EQ(u.used_cnt, 4u);
  // Free the middle two by an interior byte and the last byte.
  EXPECT_TRUE(w->Free(g[1] + 500).ok());
  EXPECT_TRUE(w->Free(g[2] + 999).ok());
  EXPECT_EQ(w->Free(g[2]).code(), absl::StatusCode::kNotFound);  // double free
  EXPECT_TRUE(w->Verify().ok());
  EXPECT_TRUE(w->Free(g[0]).ok());
  EXPECT_TRUE(w->Free(g[3]).ok());
  u = *w->GetUsage();
  EXPECT_EQ(u.used_cnt, 0u);
  EXPECT_EQ(u.free_cnt, 1u);  // everything coalesced back
  EXPECT_EQ(u.largest_free, w->data_max());
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, TagsQueryFreeMemsetUsage) {
  auto w = Wksp::CreateAnonymous("tags", 32, 1 << 16);
  ASSERT_TRUE(w.ok());
  uint64_t a = *w->Alloc(0, 100, 7);
  uint64_t b = *w->Alloc(0, 200, 8);
  uint64_t c = *w->Alloc(0, 300, 7);
  EXPECT_EQ(*w->Tag(a + 99), 7u);
  EXPECT_EQ(*w->Tag(a + 100), 0u);  // just past the trimmed end
  EXPECT_EQ(*w->Tag(b), 8u);

  auto q = w->TagQuery(std::vector<uint64_t>{7});
  ASSERT_TRUE(q.ok());
  EXPECT_THAT(*q, ElementsAre(PartitionInfo{a, a + 100, 7},
                              PartitionInfo{c, c + 300, 7}));
  auto u = w->GetUsage(std::vector<uint64_t>{7});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->total_max, 32u);
  EXPECT_EQ(u->used_cnt, 3u);
  EXPECT_EQ(u->used_sz, 600u);
  EXPECT_EQ(u->tagged_cnt, 2u);
  EXPECT_EQ(u->tagged_sz, 400u);
  EXPECT_EQ(u->total_cnt, u->used_cnt + u->free_cnt);
  EXPECT_EQ(u->free_sz + u->used_sz, w->data_max());

  ASSERT_TRUE(w->Memset(b + 17, 0xab).ok());
  for (uint64_t i = 0; i < 200; ++i) ASSERT_EQ(w->laddr(b)[i], 0xab);
  EXPECT_EQ(w->Memset(b + 200, 0).code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(*w->TagFree(std::vector<uint64_t>{7, 99}), 2u);
  EXPECT_EQ(*w->Tag(a), 0u);
  EXPECT_EQ(*w->Tag(b), 8u);
  EXPECT_EQ(*w->TagFree(std::vector<uint64_t>{7}), 0u);
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, ResetFreesAllAndReseeds) {
  auto w = Wksp::CreateAnonymous("reset", 8, 1 << 14, {.seed = 1});
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w->Alloc(0, 10, 1).ok());
  ASSERT_TRUE(w->Reset(77).ok());
  EXPECT_EQ(w->seed(), 77u);
  auto u = *w->GetUsage();
  EXPECT_EQ(u.used_cnt, 0u);
  EXPECT_EQ(u.free_cnt, 1u);
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, SlotExhaustionFailsInsteadOfBloating) {
  // 3 slots: the first aligned alloc needs a leading and a trailing free
  // partition (3 slots in all); the second has none left to trim with.
  auto w = Wksp::CreateAnonymous("slots", 3, 1 << 16);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Alloc(4096, 100, 1).ok());
  Snapshot before = Snap(*w);
  auto s = w->Alloc(1, 100, 2);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.status().message(), HasSubstr("part_max"));
  ExpectSame(before, Snap(*w));
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, OutOfSpace) {
  auto w = Wksp::CreateAnonymous("full", 8, 8192);
  ASSERT_TRUE(w.ok());
  auto s = w->Alloc(1, 8193, 1);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.status().message(), HasSubstr("largest free partition"));
}

TEST_F(WkspTest, BadInputRefusedAndChangesNothing) {
  auto w = Wksp::CreateAnonymous("bad", 16, 1 << 16);
  ASSERT_TRUE(w.ok());
  uint64_t g = *w->Alloc(0, 64, 3);
  Snapshot before = Snap(*w);
  auto code = [](const absl::Status& s) { return s.code(); };
  using absl::StatusCode;
  EXPECT_EQ(code(w->Alloc(3, 8, 1).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w->Alloc(0, 0, 1).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w->Alloc(0, 8, 0).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      code(w->Alloc(uint64_t{1} << 63, (uint64_t{1} << 63) + 1, 1).status()),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w->AllocAtLeast(6, 8, 1).status()),
            StatusCode::kInvalidArgument);
  EXPECT_THAT(w->Alloc(0, 8, 0).status().message(), HasSubstr("tag 0"));
  EXPECT_THAT(w->Alloc(3, 8, 1).status().message(), HasSubstr("power of two"));
  for (uint64_t bad :
       {uint64_t{0}, w->gaddr_lo() - 1, w->gaddr_hi(), ~uint64_t{0}}) {
    EXPECT_EQ(code(w->Free(bad)), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(code(w->Tag(bad).status()), StatusCode::kInvalidArgument);
    EXPECT_EQ(code(w->Memset(bad, 1)), StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(w->Free(w->gaddr_hi()).message(), HasSubstr("outside"));
  EXPECT_EQ(code(w->Free(g + 64)), StatusCode::kNotFound);  // free space
  std::vector<uint64_t> zero{0};
  EXPECT_EQ(code(w->TagQuery(zero).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w->TagFree(zero).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w->GetUsage(zero).status()), StatusCode::kInvalidArgument);
  ExpectSame(before, Snap(*w));
  EXPECT_TRUE(w->Verify().ok());
}

TEST_F(WkspTest, LocalGlobalAddressConversion) {
  auto w = Wksp::CreateAnonymous("addr", 4, 4096);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->laddr(0), nullptr);
  EXPECT_EQ(w->laddr(w->gaddr_lo() - 1), nullptr);
  EXPECT_EQ(w->laddr(w->gaddr_hi() + 1), nullptr);
  uint8_t* lo = w->laddr(w->gaddr_lo());
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(w->laddr(w->gaddr_hi()), lo + w->data_max());
  EXPECT_EQ(w->gaddr(lo), w->gaddr_lo());
  EXPECT_EQ(w->gaddr(lo + 10), w->gaddr_lo() + 10);
  EXPECT_EQ(w->gaddr(nullptr), 0u);
  EXPECT_EQ(w->gaddr(lo - 1), 0u);
  EXPECT_EQ(w->gaddr(lo + w->data_max() + 1), 0u);
}

TEST_F(WkspTest, PageSizeNamesAndHugeRequiresMount) {
  EXPECT_STREQ(PageSizeName(PageSize::kHuge), "huge");
  auto dir = ShmemDir(PageSize::kHuge);
  if (!dir.ok()) {
    // No hugetlbfs here: creating must fail clearly, naming what to mount.
    auto w = Wksp::Create(testing::UniqueName("huge"), 4, 4096,
                          {.page_size = PageSize::kHuge});
    EXPECT_EQ(w.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(w.status().message(), HasSubstr("mount -t hugetlbfs"));
  }
  EXPECT_EQ(*ShmemDir(PageSize::kNormal), root_);
}

TEST_F(WkspTest, NumaHintIsHarmless) {
  auto w = Wksp::CreateAnonymous("numa", 4, 1 << 16, {.cpu_idx = 0});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(w->Alloc(0, 100, 1).ok());
}

}  // namespace
}  // namespace wk::wksp
