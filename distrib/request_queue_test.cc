#include "distrib/request_queue.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace wk::distrib::internal {
namespace {

TEST(RequestQueue, ShortOnlyWhereTheCongestionControlIgnoresLoss) {
  EXPECT_EQ(RequestQueueSeconds("bbr"), 1);
  EXPECT_EQ(RequestQueueSeconds("bbr2"), 1);
  EXPECT_EQ(RequestQueueSeconds("cubic"), 3);
  EXPECT_EQ(RequestQueueSeconds("reno"), 3);
}

// The system's default, read here from the sysctl, is what a socket gets.
TEST(RequestQueue, EmptyMeansTheSystemsDefault) {
  std::ifstream in("/proc/sys/net/ipv4/tcp_congestion_control");
  std::string sysctl;
  if (!(in >> sysctl)) {
    GTEST_SKIP() << "cannot read /proc/sys/net/ipv4/tcp_congestion_control";
  }
  EXPECT_EQ(DefaultCongestion(), sysctl);
  EXPECT_EQ(RequestQueueSeconds(""), RequestQueueSeconds(sysctl));
}

}  // namespace
}  // namespace wk::distrib::internal
