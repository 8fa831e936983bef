#include "wksp/checkpt/ordered_output.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "io/fd.h"
#include "io/test_util.h"

namespace wk::wksp_checkpt::internal {
namespace {

// Runs out.WaitTurn(k) on a thread; reports its tid and when it returned.
class Waiter {
 public:
  Waiter(OrderedOutput& out, size_t k)
      : thread_([this, &out, k] {
          tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
          status_ = out.WaitTurn(k);
          returned_.store(true);
        }) {}
  ~Waiter() {
    if (thread_.joinable()) thread_.join();
  }
  // True once the waiter sleeps in the output's condition variable.
  bool Asleep() {
    while (tid_.load() == 0) std::this_thread::yield();
    return io::testing::WaitBlockedIn(tid_.load(), {SYS_futex});
  }
  bool returned() const { return returned_.load(); }
  void Join() { thread_.join(); }
  const absl::Status& status() const { return status_; }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> returned_{false};
  absl::Status status_;
  std::thread thread_;
};

// The bug this guards against: in positional mode the trailer (appendix and
// footer) was written while cgroups were still being written, so a kill in
// between left a file with a footer over missing data.
TEST(OrderedOutputTest, PositionalWaitTurnWaitsForEveryEarlierSegment) {
  io::testing::TempPath path("ordered_positional");
  absl::StatusOr<io::Fd> fd = io::CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  OrderedOutput out(fd->get(), 0, {0, 4, 8, 12});
  ASSERT_TRUE(out.positional());
  {
    Waiter w(out, 2);
    ASSERT_TRUE(w.Asleep());
    EXPECT_FALSE(w.returned());
    // Out of order: segment 1 first, then 0 releases the waiter.
    out.Done(1);
    ASSERT_TRUE(w.Asleep());
    EXPECT_FALSE(w.returned());
    out.Done(0);
  }
  EXPECT_TRUE(out.WaitTurn(2).ok());
  EXPECT_TRUE(out.WaitTurn(1).ok());  // an earlier turn has passed already
}

TEST(OrderedOutputTest, PositionalWaitTurnReturnsTheFailure) {
  io::testing::TempPath path("ordered_fail");
  absl::StatusOr<io::Fd> fd = io::CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  OrderedOutput out(fd->get(), 0, {0, 4, 8});
  absl::Status st;
  {
    Waiter w(out, 1);
    ASSERT_TRUE(w.Asleep());
    out.Fail(absl::DataLossError("boom"));
    w.Join();
    st = w.status();
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
}

TEST(OrderedOutputTest, SequentialWaitTurnWaitsForEarlierSegments) {
  io::testing::TempPath path("ordered_seq");
  absl::StatusOr<io::Fd> fd = io::CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  OrderedOutput out(fd->get(), 3);
  const uint8_t bytes[] = {1, 2, 3};
  ASSERT_TRUE(out.Write(0, bytes).ok());
  {
    Waiter w(out, 1);
    ASSERT_TRUE(w.Asleep());
    EXPECT_FALSE(w.returned());
    out.Done(0);
  }
  EXPECT_EQ(out.SegmentOffset(1), sizeof(bytes));
}

}  // namespace
}  // namespace wk::wksp_checkpt::internal
