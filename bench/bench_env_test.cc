// Checks the BENCH_QUICK / size-override contract of bench/bench_env.h.
#include "bench/bench_env.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace wk::bench {
namespace {

class BenchEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("BENCH_QUICK");
    unsetenv("WK_TEST_BYTES");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(BenchEnvTest, QuickModeFollowsVariable) {
  EXPECT_FALSE(QuickMode());
  setenv("BENCH_QUICK", "1", 1);
  EXPECT_TRUE(QuickMode());
  setenv("BENCH_QUICK", "0", 1);
  EXPECT_FALSE(QuickMode());
  setenv("BENCH_QUICK", "", 1);
  EXPECT_FALSE(QuickMode());
}

TEST_F(BenchEnvTest, SizePicksFullOrQuick) {
  EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), 1000u);
  setenv("BENCH_QUICK", "1", 1);
  EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), 10u);
  EXPECT_EQ(SizeFromEnv(nullptr, 1000, 10), 10u);
}

TEST_F(BenchEnvTest, ExplicitSizeWinsWithSuffixes) {
  setenv("BENCH_QUICK", "1", 1);
  setenv("WK_TEST_BYTES", "4096", 1);
  EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), 4096u);
  setenv("WK_TEST_BYTES", "3K", 1);
  EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), 3u << 10);
  setenv("WK_TEST_BYTES", "64M", 1);
  EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), 64u << 20);
  setenv("WK_TEST_BYTES", "2g", 1);
  EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), uint64_t{2} << 30);
}

TEST_F(BenchEnvTest, MalformedSizeIsIgnored) {
  for (const char* bad : {"abc", "12x", "0", "-5", "5MB", "99999999999999G",
                          "99999999999999999999999", " 5"}) {
    setenv("WK_TEST_BYTES", bad, 1);
    EXPECT_EQ(SizeFromEnv("WK_TEST_BYTES", 1000, 10), 1000u) << bad;
  }
}

}  // namespace
}  // namespace wk::bench
