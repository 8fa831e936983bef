#include "util/cancel.h"

#include <atomic>
#include <csignal>
#include <vector>

#include "gtest/gtest.h"
#include "util/thread_pool.h"

namespace wk {
namespace {

TEST(CancelTest, FirstRequestWinsAndNamesTheSignal) {
  ClearCancelForTest();
  EXPECT_FALSE(CancelRequested());
  EXPECT_TRUE(CheckCancel().ok());
  RequestCancel(SIGTERM);
  RequestCancel(SIGINT);
  EXPECT_TRUE(CancelRequested());
  EXPECT_EQ(CancelSignal(), SIGTERM);
  absl::Status st = CheckCancel();
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled);
  EXPECT_NE(st.message().find("SIGTERM"), absl::string_view::npos) << st;
  ClearCancelForTest();
  EXPECT_TRUE(CheckCancel().ok());
}

TEST(CancelTest, RequestFromARealSignalHandler) {
  ClearCancelForTest();
  struct sigaction sa = {};
  sa.sa_handler = [](int signo) { RequestCancel(signo); };
  struct sigaction old;
  ASSERT_EQ(sigaction(SIGHUP, &sa, &old), 0);
  ASSERT_EQ(raise(SIGHUP), 0);  // the handler has run when raise returns
  EXPECT_EQ(CancelSignal(), SIGHUP);
  ASSERT_EQ(sigaction(SIGHUP, &old, nullptr), 0);
  ClearCancelForTest();
}


TEST(CancelTest, CallFlagStopsOnlyItsScope) {
  ClearCancelForTest();
  int flag = 0;
  {
    ScopedCallCancel scope(&flag);
    EXPECT_EQ(CallCancelFlag(), &flag);
    EXPECT_TRUE(CheckCancel().ok());
    __atomic_store_n(&flag, 1, __ATOMIC_RELAXED);
    EXPECT_TRUE(CancelRequested());
    absl::Status st = CheckCancel();
    EXPECT_EQ(st.code(), absl::StatusCode::kCancelled);
    EXPECT_NE(st.message().find("cancelled by the caller"),
              absl::string_view::npos)
        << st;
    {
      ScopedCallCancel inner(nullptr);  // a nested call without a flag
      EXPECT_FALSE(CancelRequested());
    }
    EXPECT_TRUE(CancelRequested());
  }
  EXPECT_EQ(CallCancelFlag(), nullptr);
  EXPECT_FALSE(CancelRequested());
  EXPECT_EQ(CancelSignal(), 0);  // the process was never asked
}

TEST(CancelTest, SignalWinsOverCallFlagInTheMessage) {
  ClearCancelForTest();
  int flag = 1;
  ScopedCallCancel scope(&flag);
  RequestCancel(SIGINT);
  EXPECT_NE(CheckCancel().message().find("SIGINT"), absl::string_view::npos);
  ClearCancelForTest();
}

TEST(CancelTest, ThreadPoolWorkersSeeTheCallersFlag) {
  ClearCancelForTest();
  ThreadPool pool(4);
  int flag = 1;
  std::vector<int> seen(pool.size(), -1);
  {
    ScopedCallCancel scope(&flag);
    pool.ExecAll([&](size_t i) { seen[i] = CancelRequested() ? 1 : 0; });
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << i;
  // The next fork, from a caller without a flag, sees none.
  pool.ExecAll([&](size_t i) { seen[i] = CancelRequested() ? 1 : 0; });
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 0) << i;
}

}  // namespace
}  // namespace wk
