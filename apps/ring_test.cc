#include "apps/ring.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace wk::apps {
namespace {

TEST(RingTest, FifoFullEmpty) {
  std::vector<uint64_t> mem(Ring::Footprint(4) / 8 + 8);
  void* p = reinterpret_cast<void*>(
      (reinterpret_cast<uintptr_t>(mem.data()) + 63) & ~uintptr_t{63});
  Ring r = Ring::Format(p, 4);
  Ring::Item it;
  EXPECT_FALSE(r.Pop(&it));
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(r.Push({i, i * 10}));
  EXPECT_FALSE(r.Push({9, 9}));
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.Pop(&it));
    EXPECT_EQ(it.a, i);
    EXPECT_EQ(it.b, i * 10);
  }
  EXPECT_FALSE(r.Pop(&it));
  // Wraps around many times.
  for (uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(r.Push({i, ~i}));
    ASSERT_TRUE(Ring::Attach(p).Pop(&it));
    EXPECT_EQ(it.a, i);
    EXPECT_EQ(it.b, ~i);
  }
}

// Every item pushed by any producer is popped exactly once, each producer's
// items in its order.
TEST(RingTest, ManyProducersManyConsumers) {
  constexpr int kProducers = 3, kConsumers = 3;
  constexpr uint64_t kPer = 20000;
  auto mem = std::make_unique<uint64_t[]>(Ring::Footprint(64) / 8 + 8);
  void* p = reinterpret_cast<void*>(
      (reinterpret_cast<uintptr_t>(mem.get()) + 63) & ~uintptr_t{63});
  Ring r = Ring::Format(p, 64);
  std::vector<std::vector<uint64_t>> got(kConsumers);
  std::atomic<uint64_t> popped{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < kProducers; ++i) {
    ts.emplace_back([&, i] {
      for (uint64_t n = 0; n < kPer; ++n) {
        while (!r.Push({static_cast<uint64_t>(i), n}))
          std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    ts.emplace_back([&, c] {
      std::vector<uint64_t> last(kProducers, UINT64_MAX);
      Ring::Item it;
      while (popped.load() < kProducers * kPer) {
        if (!r.Pop(&it)) {
          std::this_thread::yield();
          continue;
        }
        popped.fetch_add(1);
        ASSERT_LT(it.a, static_cast<uint64_t>(kProducers));
        // Per producer, one consumer sees increasing numbers.
        if (last[it.a] != UINT64_MAX) {
          EXPECT_GT(it.b, last[it.a]);
        }
        last[it.a] = it.b;
        got[c].push_back(it.a * kPer + it.b);
      }
    });
  }
  for (auto& t : ts) t.join();
  std::vector<int> seen(kProducers * kPer, 0);
  for (const auto& g : got) {
    for (uint64_t v : g) ++seen[v];
  }
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << i;
}

// Across processes through shared memory.
TEST(RingTest, AcrossProcesses) {
  size_t sz = Ring::Footprint(16);
  void* p = mmap(nullptr, sz, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  Ring r = Ring::Format(p, 16);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Ring c = Ring::Attach(p);
    for (uint64_t n = 0; n < 5000; ++n) {
      while (!c.Push({n, n * 3})) sched_yield();
    }
    _exit(0);
  }
  Ring::Item it;
  for (uint64_t n = 0; n < 5000; ++n) {
    while (!r.Pop(&it)) sched_yield();
    ASSERT_EQ(it.a, n);
    ASSERT_EQ(it.b, n * 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  munmap(p, sz);
}

}  // namespace
}  // namespace wk::apps
