// Admin primitives: the lock guard, the used-partition walk, and the restore
// sequence (clear, set slots, rebuild or reset), including its failure modes.
#include "wksp/wksp_admin.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wksp/test_util.h"

namespace wk::wksp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AdminTest, UsedPartitionsInAddressOrder) {
  auto w = Wksp::CreateAnonymous("adm", 16, 1 << 16);
  ASSERT_TRUE(w.ok());
  uint64_t a = *w->Alloc(64, 10, 3);
  uint64_t b = *w->Alloc(64, 20, 4);
  ASSERT_TRUE(w->Free(a).ok());
  uint64_t c = *w->Alloc(1, 5, 5);
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  EXPECT_FALSE(guard->recovered());
  auto used = UsedPartitionsLocked(*w);
  ASSERT_TRUE(used.ok());
  std::vector<PartitionInfo> want{{b, b + 20, 4}, {c, c + 5, 5}};
  if (c < b) std::swap(want[0], want[1]);
  EXPECT_EQ(*used, want);
}

TEST(AdminTest, AllocatorCallWhileHoldingLockFailsInsteadOfDeadlocking) {
  auto w = Wksp::CreateAnonymous("reent", 8, 4096);
  ASSERT_TRUE(w.ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  auto s = w->Alloc(0, 8, 1);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.status().message(), HasSubstr("already held by this thread"));
  EXPECT_EQ(w->Lock().status().code(), absl::StatusCode::kFailedPrecondition);
  guard->Release();
  EXPECT_TRUE(w->Alloc(0, 8, 1).ok());
}

TEST(AdminTest, GuardExcludesOtherThreads) {
  auto w = Wksp::CreateAnonymous("excl", 8, 1 << 14);
  ASSERT_TRUE(w.ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  std::atomic<bool> done{false};
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = testing::ThisTid();
    EXPECT_TRUE(w->Alloc(0, 8, 1).ok());
    done = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  // It went to sleep waiting for the lock this thread holds, not done.
  ASSERT_TRUE(testing::WaitSleepingForLock(tid.load()));
  EXPECT_FALSE(done.load());
  EXPECT_EQ(internal::LockOwner(&testing::Hdr(*w)->lock),
            internal::SelfOwnerId());
  guard->Release();
  t.join();
  EXPECT_TRUE(done.load());
}

TEST(AdminTest, RestoreSequence) {
  auto w = Wksp::CreateAnonymous("rest", 16, 1 << 16, {.seed = 1});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Alloc(0, 1000, 9).ok());
  const uint64_t lo = w->gaddr_lo();
  {
    auto guard = w->Lock();
    ASSERT_TRUE(guard.ok());
    BeginRestoreLocked(*w);
    // Metadata is inconsistent until the rebuild; the walk says so.
    EXPECT_EQ(UsedPartitionsLocked(*w).status().code(),
              absl::StatusCode::kDataLoss);
    ASSERT_TRUE(SetPartitionLocked(*w, 5, lo + 100, lo + 200, 7).ok());
    ASSERT_TRUE(SetPartitionLocked(*w, 2, lo, lo + 16, 3).ok());
    ASSERT_TRUE(SetPartitionLocked(*w, 0, lo + 200, lo + 300, 7).ok());
    // Still marked: nothing may read the half-restored contents.
    ASSERT_TRUE(w->CurrentRestoreMark().has_value());
    EXPECT_TRUE(w->CurrentRestoreMark()->in_progress);
    ASSERT_TRUE(FinishRestoreLocked(*w, 42).ok());
    EXPECT_FALSE(w->CurrentRestoreMark().has_value());
    EXPECT_TRUE(VerifyLocked(*w).ok());
    EXPECT_THAT(*UsedPartitionsLocked(*w),
                ElementsAre(PartitionInfo{lo, lo + 16, 3},
                            PartitionInfo{lo + 100, lo + 200, 7},
                            PartitionInfo{lo + 200, lo + 300, 7}));
  }
  EXPECT_EQ(w->seed(), 42u);
  EXPECT_EQ(*w->Tag(lo + 150), 7u);
  EXPECT_TRUE(w->Free(lo + 150).ok());  // the restored allocations are real
  EXPECT_TRUE(w->Alloc(1, 50, 1).ok());
  EXPECT_TRUE(w->Verify().ok());
}

TEST(AdminTest, SetPartitionValidates) {
  auto w = Wksp::CreateAnonymous("setp", 4, 4096);
  ASSERT_TRUE(w.ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  const uint64_t lo = w->gaddr_lo(), hi = w->gaddr_hi();
  struct Case {
    uint64_t slot, lo, hi, tag;
  } bad[] = {{4, lo, lo + 1, 1},           {0, lo, lo + 1, 0},
             {0, lo - 1, lo + 1, 1},       {0, lo + 5, lo + 5, 1},
             {0, lo + 6, lo + 5, 1},       {0, lo, hi + 1, 1},
             {~uint64_t{0}, lo, lo + 1, 1}};
  for (const Case& c : bad) {
    auto s = SetPartitionLocked(*w, c.slot, c.lo, c.hi, c.tag);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << c.slot << " " << c.lo << " " << c.hi << " " << c.tag;
  }
  EXPECT_TRUE(SetPartitionLocked(*w, 3, lo, hi, 1).ok());  // whole region
  EXPECT_TRUE(RebuildLocked(*w, 0).ok());
  EXPECT_TRUE(VerifyLocked(*w).ok());
}

TEST(AdminTest, RewriteKeepsTheTableAndOnlyMarks) {
  auto w = Wksp::CreateAnonymous("rewrite", 8, 4096);
  ASSERT_TRUE(w.ok());
  auto a = w->Alloc(0, 100, 3);
  ASSERT_TRUE(a.ok());
  const uint32_t seed = w->seed();
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  const std::vector<PartitionInfo> before = *UsedPartitionsLocked(*w);
  BeginRewriteLocked(*w);
  // Marked: the allocator refuses, as during a restore.
  EXPECT_TRUE(w->CurrentRestoreMark().has_value());
  EXPECT_EQ(UsedPartitionsLocked(*w).status().code(),
            absl::StatusCode::kDataLoss);
  FinishRewriteLocked(*w);
  EXPECT_FALSE(w->CurrentRestoreMark().has_value());
  EXPECT_TRUE(VerifyLocked(*w).ok());
  EXPECT_EQ(*UsedPartitionsLocked(*w), before);
  guard->Release();
  EXPECT_EQ(w->seed(), seed);
  EXPECT_TRUE(w->Free(*a).ok());
}

TEST(AdminTest, RebuildRefusesOverlapThenResetRecovers) {
  auto w = Wksp::CreateAnonymous("ovl", 8, 4096);
  ASSERT_TRUE(w.ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  const uint64_t lo = w->gaddr_lo();
  BeginRestoreLocked(*w);
  ASSERT_TRUE(SetPartitionLocked(*w, 1, lo, lo + 100, 1).ok());
  ASSERT_TRUE(SetPartitionLocked(*w, 6, lo + 99, lo + 150, 2).ok());
  auto s = RebuildLocked(*w, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("overlap"));
  EXPECT_THAT(s.message(), HasSubstr("slot 1"));
  EXPECT_THAT(s.message(), HasSubstr("slot 6"));
  ResetLocked(*w, 8);
  EXPECT_TRUE(VerifyLocked(*w).ok());
  EXPECT_THAT(*UsedPartitionsLocked(*w), ElementsAre());
  guard->Release();
  EXPECT_EQ(w->seed(), 8u);
  EXPECT_TRUE(w->Alloc(0, 100, 1).ok());
}

TEST(AdminTest, RebuildNeedsASlotPerGap) {
  auto w = Wksp::CreateAnonymous("gaps", 4, 4096);
  ASSERT_TRUE(w.ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  const uint64_t lo = w->gaddr_lo();
  // Two allocations with gaps before, between and after: 2 + 3 > 4 slots.
  BeginRestoreLocked(*w);
  ASSERT_TRUE(SetPartitionLocked(*w, 0, lo + 10, lo + 20, 1).ok());
  ASSERT_TRUE(SetPartitionLocked(*w, 1, lo + 30, lo + 40, 1).ok());
  auto s = FinishRestoreLocked(*w, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(w->CurrentRestoreMark().has_value());  // a failure keeps it
  EXPECT_THAT(s.message(), HasSubstr("2 allocations and 3 free gaps"));
  EXPECT_THAT(s.message(), HasSubstr("part_max is 4"));
  // Adjacent at the start leaves one gap: 3 slots, fits.
  ASSERT_TRUE(SetPartitionLocked(*w, 0, lo, lo + 30, 1).ok());
  EXPECT_TRUE(FinishRestoreLocked(*w, 0).ok());
  EXPECT_TRUE(VerifyLocked(*w).ok());
  auto u = UsageLocked(*w);
  EXPECT_EQ(u->used_cnt, 2u);
  EXPECT_EQ(u->free_cnt, 1u);
}

TEST(AdminTest, CheckFitAgainstTheWorkspace) {
  auto w = Wksp::CreateAnonymous("fit", 4, 4096);
  ASSERT_TRUE(w.ok());
  const uint64_t lo = w->gaddr_lo();
  std::vector<PartitionInfo> a = {{lo, lo + 10, 1}, {lo + 20, lo + 30, 2}};
  EXPECT_TRUE(CheckFit(*w, a).ok());
  a.push_back({lo + 40, lo + 50, 3});
  auto s = CheckFit(*w, a);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("workspace fit: "));
  a = {{lo, w->gaddr_hi() + 1, 1}};
  EXPECT_EQ(CheckFit(*w, a).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AdminTest, ConcurrentSetPartitionOnDistinctSlots) {
  constexpr int kThreads = 4, kPer = 200;
  auto w = Wksp::CreateAnonymous("par", kThreads * kPer * 2 + 1,
                                 kThreads * kPer * 64);
  ASSERT_TRUE(w.ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  BeginRestoreLocked(*w);
  const uint64_t lo = w->gaddr_lo();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPer; ++k) {
        uint64_t n = static_cast<uint64_t>(t) * kPer + k;  // slot and place
        EXPECT_TRUE(
            SetPartitionLocked(*w, n, lo + 64 * n, lo + 64 * n + 32, t + 1)
                .ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(FinishRestoreLocked(*w, 1).ok());
  EXPECT_TRUE(VerifyLocked(*w).ok());
  auto used = UsedPartitionsLocked(*w);
  ASSERT_EQ(used->size(), static_cast<size_t>(kThreads * kPer));
  for (size_t n = 0; n < used->size(); ++n) {
    EXPECT_EQ((*used)[n].lo, lo + 64 * n);
  }
}

TEST(AdminTest, UsedPartitionsDetectsBrokenList) {
  auto w = Wksp::CreateAnonymous("brk", 8, 4096);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Alloc(1, 10, 1).ok());
  ASSERT_TRUE(w->Alloc(1, 10, 2).ok());
  auto guard = w->Lock();
  ASSERT_TRUE(guard.ok());
  internal::Header* h = testing::Hdr(*w);
  internal::PartInfo* p = testing::Slots(*w);
  internal::Idx head = h->part_head;
  internal::Idx second = p[head].next;
  // A cycle: the second partition points back at the first.
  internal::Idx saved = p[second].next;
  p[second].next = head;
  auto s = UsedPartitionsLocked(*w);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  p[second].next = saved;
  // A hole: the first partition ends early.
  p[head].hi -= 1;
  s = UsedPartitionsLocked(*w);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("not contiguous"));
  p[head].hi += 1;
  // Bad index.
  p[second].next = 1000;
  EXPECT_EQ(UsedPartitionsLocked(*w).status().code(),
            absl::StatusCode::kDataLoss);
  p[second].next = saved;
  EXPECT_TRUE(UsedPartitionsLocked(*w).ok());
}

}  // namespace
}  // namespace wk::wksp
