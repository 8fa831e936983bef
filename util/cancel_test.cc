#include "util/cancel.h"

#include <csignal>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace wk
