// Many threads and forked processes sharing one workspace, and crash safety:
// a child SIGKILLed while it holds the lock (parked inside the critical
// section by the test hook) must never block the others, and the survivor
// must find the workspace consistent.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/clock.h"
#include "wksp/internal/lock.h"
#include "wksp/test_util.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp {
namespace {

using ::testing::ElementsAreArray;

// Allocates and frees at random, keeping up to 16 live allocations whose
// contents are checked before freeing. Returns the number of failures.
int Churn(Wksp& w, uint64_t tag, int iters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<uint64_t, uint64_t>> live;  // (gaddr, sz)
  int failures = 0;
  auto release = [&](size_t k) {
    auto [g, sz] = live[k];
    const uint8_t* m = w.laddr(g);
    for (uint64_t i = 0; i < sz; ++i) {
      if (m[i] != static_cast<uint8_t>(tag)) {
        ++failures;
        break;
      }
    }
    if (!w.Free(g + rng() % sz).ok()) ++failures;
    live[k] = live.back();
    live.pop_back();
  };
  for (int i = 0; i < iters; ++i) {
    if (live.size() < 16 && (live.empty() || rng() % 2)) {
      uint64_t sz = 1 + rng() % 3000;
      auto g = w.Alloc(1ull << (rng() % 8), sz, tag);
      if (g.ok()) {
        memset(w.laddr(*g), static_cast<int>(tag), sz);
        live.emplace_back(*g, sz);
      } else if (g.status().code() != absl::StatusCode::kResourceExhausted) {
        ++failures;
      }
    } else {
      release(rng() % live.size());
    }
  }
  while (!live.empty()) release(0);
  return failures;
}

// Waits for `pid` to exit within `timeout_ms`; kills it if it does not.
// Returns the wait status, or -1 on timeout.
int WaitWithTimeout(pid_t pid, int timeout_ms) {
  int64_t deadline = MonotonicNs() + int64_t{timeout_ms} * 1000000;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (MonotonicNs() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    usleep(1000);
  }
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::UseTestShmemRoot(); }
};

TEST_F(ConcurrencyTest, ThreadsShareOneJoin) {
  auto w = Wksp::CreateAnonymous("thr", 256, 1 << 20);
  ASSERT_TRUE(w.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { failures += Churn(*w, t + 1, 1500, t); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(w->Verify().ok());
  EXPECT_EQ(w->GetUsage()->used_cnt, 0u);
}

TEST_F(ConcurrencyTest, ThreadsWithSeparateJoins) {
  std::string name = testing::UniqueName("joins");
  auto w = Wksp::Create(name, 256, 1 << 20);
  ASSERT_TRUE(w.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      auto j = Wksp::Join(name);
      if (!j.ok()) {
        ++failures;
        return;
      }
      failures += Churn(*j, 10 + t, 1000, 100 + t);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(w->Verify().ok());
  EXPECT_TRUE(Wksp::Delete(name).ok());
}

TEST_F(ConcurrencyTest, ForkedProcesses) {
  std::string name = testing::UniqueName("procs");
  auto w = Wksp::Create(name, 256, 1 << 20);
  ASSERT_TRUE(w.ok());
  std::vector<pid_t> kids;
  for (int k = 0; k < 3; ++k) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(30);                  // never outlive a broken test
      auto j = Wksp::Join(name);  // each child joins by name
      int failures = j.ok() ? Churn(*j, 20 + k, 4000, 200 + k) : 1;
      _exit(failures == 0 ? 0 : 1);
    }
    kids.push_back(pid);
  }
  int parent_failures = Churn(*w, 99, 4000, 7);
  for (pid_t pid : kids) {
    int status = WaitWithTimeout(pid, 30000);
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "child status " << status;
  }
  EXPECT_EQ(parent_failures, 0);
  EXPECT_TRUE(w->Verify().ok());
  EXPECT_EQ(w->GetUsage()->used_cnt, 0u);
  EXPECT_TRUE(Wksp::Delete(name).ok());
}

// ---- crash safety -----------------------------------------------------------

int g_park_fd = -1;
const char* g_park_at = nullptr;

// Runs in the child: at the chosen point, tell the parent and wait to die.
void ParkHook(const char* where) {
  if (strcmp(where, g_park_at) != 0) return;
  char c = 1;
  (void)!write(g_park_fd, &c, 1);
  for (;;) pause();
}

// Forks a child that runs `body` with the hook parked at `at`, waits until
// it is parked (holding the lock), then SIGKILLs it. Returns false if the
// child never reached the point.
template <class Body>
bool KillChildInside(const char* at, Body body) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    alarm(20);
    close(fds[0]);
    g_park_fd = fds[1];
    g_park_at = at;
    internal::SetCriticalSectionHook(&ParkHook);
    body();
    _exit(3);  // did not park: the parent sees EOF
  }
  close(fds[1]);
  pollfd pfd{fds[0], POLLIN, 0};
  char c = 0;
  bool parked = poll(&pfd, 1, 20000) == 1 && read(fds[0], &c, 1) == 1;
  close(fds[0]);
  kill(pid, SIGKILL);
  int status = WaitWithTimeout(pid, 20000);
  return parked && status != -1 && WIFSIGNALED(status);
}

std::vector<PartitionInfo> Used(Wksp& w) {
  auto q = w.TagQuery(std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : std::vector<PartitionInfo>{};
}

struct CrashCase {
  const char* at;
  bool committed;  // does the cut-short operation count as done?
};

class CrashTest : public ::testing::TestWithParam<CrashCase> {};

TEST_P(CrashTest, DeadLockOwnerIsRecoveredFrom) {
  const CrashCase& cc = GetParam();
  auto w = Wksp::CreateAnonymous("crash", 32, 1 << 16, {.seed = 11});
  ASSERT_TRUE(w.ok());
  uint64_t a = *w->Alloc(64, 500, 1);
  uint64_t b = *w->Alloc(64, 700, 2);
  ASSERT_TRUE(w->Alloc(64, 300, 3).ok());
  std::vector<PartitionInfo> before = Used(*w);

  bool is_free = strncmp(cc.at, "free", 4) == 0;
  bool killed = KillChildInside(cc.at, [&] {
    if (is_free) {
      (void)w->Free(b);
    } else {
      (void)w->Alloc(64, 1000, 4);
    }
  });
  ASSERT_TRUE(killed);
  // The dead child still owns the lock.
  EXPECT_NE(internal::LockOwner(&testing::Hdr(*w)->lock), 0u);
  EXPECT_NE(testing::Hdr(*w)->op, 0u);

  // A waiter in another thread gets through, and so does this one.
  std::thread waiter([&] { EXPECT_TRUE(w->Check().ok()); });
  waiter.join();
  EXPECT_EQ(internal::LockOwner(&testing::Hdr(*w)->lock), 0u);
  EXPECT_TRUE(w->Verify().ok()) << w->Verify();

  std::vector<PartitionInfo> after = Used(*w);
  if (is_free) {
    std::vector<PartitionInfo> want;
    for (const auto& p : before) {
      if (!(cc.committed && p.lo == b)) want.push_back(p);
    }
    EXPECT_THAT(after, ElementsAreArray(want));
  } else if (cc.committed) {
    ASSERT_EQ(after.size(), before.size() + 1);
    bool found = false;
    for (const auto& p : after) found |= p.tag == 4 && p.hi - p.lo == 1000;
    EXPECT_TRUE(found);
  } else {
    EXPECT_THAT(after, ElementsAreArray(before));
  }
  // Business as usual afterwards.
  EXPECT_TRUE(w->Free(a).ok());
  EXPECT_TRUE(w->Alloc(0, 5000, 5).ok());
  EXPECT_TRUE(w->Verify().ok());
}

INSTANTIATE_TEST_SUITE_P(
    Points, CrashTest,
    ::testing::Values(
        CrashCase{"alloc: trimmed, not yet tagged", false},
        CrashCase{"alloc: tagged, not yet in the used treap", true},
        CrashCase{"free: untagged, still in the used treap", true}));

TEST_F(ConcurrencyTest, WaiterBlockedOnDeadOwnerProceeds) {
  auto w = Wksp::CreateAnonymous("wait", 32, 1 << 16);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Alloc(0, 100, 1).ok());
  // The child parks holding the lock; a thread here starts waiting before
  // the child dies, and must get the lock once it does.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    close(fds[0]);
    g_park_fd = fds[1];
    g_park_at = "alloc: trimmed, not yet tagged";
    internal::SetCriticalSectionHook(&ParkHook);
    (void)w->Alloc(0, 100, 2);
    _exit(3);
  }
  close(fds[1]);
  pollfd pfd{fds[0], POLLIN, 0};
  char c;
  ASSERT_EQ(poll(&pfd, 1, 20000), 1);
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  close(fds[0]);
  std::atomic<bool> done{false};
  std::atomic<pid_t> tid{0};
  std::thread waiter([&] {
    tid = testing::ThisTid();
    EXPECT_TRUE(w->Alloc(0, 200, 3).ok());
    done = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  // Asleep waiting for the lock the live child owns.
  ASSERT_TRUE(testing::WaitSleepingForLock(tid.load()));
  EXPECT_FALSE(done.load());
  // The child is single threaded: its tid is its pid.
  EXPECT_EQ(internal::IdentityId(internal::LockOwner(&testing::Hdr(*w)->lock)),
            static_cast<uint32_t>(pid));
  kill(pid, SIGKILL);
  EXPECT_NE(WaitWithTimeout(pid, 20000), -1);
  waiter.join();
  EXPECT_TRUE(done.load());
  EXPECT_TRUE(w->Verify().ok());
  EXPECT_EQ(w->GetUsage()->used_cnt, 2u);
}

// Forks a child that takes w's lock, runs `work` under it and dies there
// (SIGKILL is what a crash looks like), then checks what the next locker
// finds: the dead child's restore mark, reported and refused by the
// allocator, and after a reset an empty, unmarked workspace.
void ExpectDeadMarkerEmptied(Wksp& w, const std::function<void()>& work) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    auto g = w.Lock();
    if (!g.ok()) _exit(1);
    work();
    raise(SIGKILL);
    _exit(2);
  }
  int status = WaitWithTimeout(pid, 20000);
  ASSERT_TRUE(status != -1 && WIFSIGNALED(status));
  auto guard = w.Lock();
  ASSERT_TRUE(guard.ok());
  EXPECT_TRUE(guard->recovered());
  auto mark = w.CurrentRestoreMark();
  ASSERT_TRUE(mark.has_value());
  EXPECT_EQ(mark->pid, static_cast<uint32_t>(pid));
  EXPECT_FALSE(mark->in_progress);
  EXPECT_THAT(VerifyLocked(w).message(),
              ::testing::HasSubstr("did not finish"));
  EXPECT_EQ(UsedPartitionsLocked(w).status().code(),
            absl::StatusCode::kDataLoss);
  ResetLocked(w, 0);
  EXPECT_FALSE(w.CurrentRestoreMark().has_value());
  EXPECT_THAT(*UsedPartitionsLocked(w),
              ElementsAreArray(std::vector<PartitionInfo>{}));
}

TEST_F(ConcurrencyTest, DeadRestorerLeavesEmptyMarkedWorkspace) {
  // A child dies between BeginRestoreLocked and FinishRestoreLocked with one
  // slot record written: the next locker must not rebuild that record into
  // an allocation, but empty the workspace and keep the mark.
  auto w = Wksp::CreateAnonymous("restorer", 16, 1 << 16);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Alloc(0, 100, 1).ok());
  ExpectDeadMarkerEmptied(*w, [&] {
    BeginRestoreLocked(*w);
    (void)SetPartitionLocked(*w, 3, w->gaddr_lo() + 64, w->gaddr_lo() + 128, 6);
  });
}

TEST_F(ConcurrencyTest, DeadRewriterLeavesEmptyMarkedWorkspace) {
  // A child dies between BeginRewriteLocked and FinishRewriteLocked, the
  // table valid throughout: its allocations hold half-written bytes, so the
  // next locker must empty the workspace and keep the mark, as for a
  // restore, not keep the allocations because their records are intact.
  auto w = Wksp::CreateAnonymous("rewriter", 16, 1 << 16);
  ASSERT_TRUE(w.ok());
  auto a = w->Alloc(0, 100, 1);
  ASSERT_TRUE(a.ok());
  ExpectDeadMarkerEmptied(*w, [&] {
    BeginRewriteLocked(*w);
    std::memset(w->laddr(*a), 0x5a, 50);
  });
}

}  // namespace
}  // namespace wk::wksp
