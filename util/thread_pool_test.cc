#include "util/thread_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "util/clock.h"

namespace wk {
namespace {

TEST(ThreadPool, RunsEveryIndexOnceCallerIsT0) {
  ThreadPool pool(4);
  ASSERT_EQ(pool.size(), 4u);
  std::vector<int> hits(4, 0);  // each index writes only its own slot
  std::vector<std::thread::id> who(4);
  pool.ExecAll([&](size_t i) {
    hits[i]++;
    who[i] = std::this_thread::get_id();
  });
  for (int h : hits) EXPECT_EQ(h, 1);
  EXPECT_EQ(who[0], std::this_thread::get_id());
  for (size_t i = 1; i < 4; ++i) EXPECT_NE(who[i], who[0]);
}

TEST(ThreadPool, SubRangesAndRepeatedForks) {
  ThreadPool pool(3);
  std::atomic<uint64_t> sum{0};
  for (int round = 0; round < 2000; ++round) {
    size_t t0 = round % 3, t1 = t0 + 1 + round % (3 - t0);
    std::vector<int> hits(3, 0);
    pool.Exec(t0, t1, [&](size_t i) {
      hits[i]++;
      sum += i;
    });
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_EQ(hits[i], (i >= t0 && i < t1) ? 1 : 0) << round << " " << i;
    }
  }
  EXPECT_GT(sum.load(), 0u);
}

TEST(ThreadPool, ClampsBadRanges) {
  ThreadPool pool(2);
  int calls = 0;
  pool.Exec(5, 9, [&](size_t) { ++calls; });
  pool.Exec(1, 1, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  pool.Exec(1, 100, [&](size_t i) { calls += static_cast<int>(i); });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, SizeOneSpawnsNothing) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1u);
  int calls = 0;
  pool.ExecAll([&](size_t i) { calls += 1 + static_cast<int>(i); });
  EXPECT_EQ(calls, 1);
  EXPECT_GE(ThreadPool::HardwareConcurrency(), 1u);
}

TEST(ThreadPool, WorkersRunConcurrently) {
  // Each worker arrives, then waits until all have: only workers running at
  // the same time all see everyone arrive. A pool that ran them one after
  // another would leave all but the last waiting in vain until the deadline
  // (which only bounds a broken pool's test time), and fail below.
  constexpr int kWorkers = 3;
  ThreadPool pool(kWorkers);
  std::atomic<int> arrived{0};
  std::vector<int> saw_all(kWorkers, 0);  // each index writes its own slot
  pool.ExecAll([&](size_t i) {
    arrived++;
    int64_t deadline = MonotonicNs() + 10'000'000'000;
    while (arrived.load() < kWorkers && MonotonicNs() < deadline) {
      std::this_thread::yield();
    }
    saw_all[i] = arrived.load() == kWorkers;
  });
  for (int i = 0; i < kWorkers; ++i) EXPECT_TRUE(saw_all[i]) << "worker " << i;
}

}  // namespace
}  // namespace wk
