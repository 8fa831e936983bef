#include "apps/progress.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace wk::apps {
namespace {

// Captures what a Progress writes.
struct Capture {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  ~Capture() {
    if (f) std::fclose(f);
    free(buf);
  }
  std::string Text() {
    std::fflush(f);
    return std::string(buf, len);
  }
};

TEST(ProgressTest, NotATerminalPrintsOnlyTheSummary) {
  Capture c;
  int64_t now = 0;
  Progress p("checkpt w", c.f, false, [&] { return now; });
  auto fn = p.Callback();
  for (int i = 1; i <= 10; ++i) {
    now += 100'000'000;
    fn(static_cast<uint64_t>(i) * 100, 1000);
  }
  EXPECT_EQ(c.Text(), "");
  now = 2'000'000'000;
  p.Finish(4'000'000'000);
  EXPECT_EQ(c.Text(), "checkpt w: 4000000000 bytes in 2.000 s (2.00 GB/s)\n");
}

TEST(ProgressTest, TerminalRedrawsAtMostTenTimesASecond) {
  Capture c;
  int64_t now = 0;
  Progress p("restore w", c.f, true, [&] { return now; });
  // 1000 updates over 1 s: about 10 redraws, plus the final one.
  for (int i = 1; i <= 1000; ++i) {
    now += 1'000'000;
    p.Update(static_cast<uint64_t>(i) << 20, uint64_t{1000} << 20);
  }
  p.Finish();
  std::string t = c.Text();
  size_t redraws = 0;
  for (char ch : t) redraws += ch == '\r';
  EXPECT_GE(redraws, 10u);
  EXPECT_LE(redraws, 13u);
  EXPECT_NE(t.find("100%"), std::string::npos);
  EXPECT_NE(t.find("ETA"), std::string::npos);
  EXPECT_NE(t.find(" MiB/s  ETA"), std::string::npos);
  EXPECT_EQ(t.find(" MB"), std::string::npos);  // IEC in the bar
  EXPECT_NE(t.find("\nrestore w: 1048576000 bytes in 1.000 s (1.05 GB/s)\n"),
            std::string::npos);
}

TEST(ProgressTest, UnknownTotalHasNoBar) {
  Capture c;
  int64_t now = 0;
  Progress p("restore w", c.f, true, [&] { return now; });
  now = 500'000'000;
  p.Update(1'000'000, 0);
  std::string t = c.Text();
  EXPECT_EQ(t.find(" ["), std::string::npos);
  EXPECT_EQ(t.find("ETA"), std::string::npos);
  EXPECT_NE(t.find("976.6 KiB"), std::string::npos) << t;
  EXPECT_NE(t.find("1.9 MiB/s"), std::string::npos) << t;
}

// A total known only from the file size is shown as an estimate and the bar
// stops short of 100% until Finish.
TEST(ProgressTest, FallbackTotalIsAnEstimate) {
  Capture c;
  int64_t now = 0;
  Progress p("restore w", c.f, true, [&] { return now; });
  p.SetFallbackTotal(1000);
  now = 100'000'000;
  p.Update(1000, 0);
  std::string t = c.Text();
  EXPECT_NE(t.find(" 99% "), std::string::npos) << t;
  EXPECT_NE(t.find("/ ~1000 B"), std::string::npos) << t;
  now = 200'000'000;
  p.Finish(1000);
  t = c.Text();
  EXPECT_NE(t.find("100% "), std::string::npos) << t;
}

TEST(ProgressTest, SummarySuffixAndLineErase) {
  Capture c;
  int64_t now = 0;
  Progress p("checkpt w", c.f, true, [&] { return now; });
  now = 100'000'000;
  p.Update(500, 1000);
  p.Finish(1000, "; file 510 bytes (51.0%)");
  std::string t = c.Text();
  // Every redraw erases what a longer line left behind.
  EXPECT_NE(t.find("\033[K"), std::string::npos);
  EXPECT_NE(t.find("(0.00 GB/s); file 510 bytes (51.0%)\n"), std::string::npos)
      << t;
}

TEST(ProgressTest, Modes) {
  EXPECT_EQ(*ParseProgressMode("auto"), ProgressMode::kAuto);
  EXPECT_EQ(*ParseProgressMode("always"), ProgressMode::kAlways);
  EXPECT_EQ(*ParseProgressMode("never"), ProgressMode::kNever);
  EXPECT_FALSE(ParseProgressMode("sometimes").ok());
}

TEST(ProgressTest, QuietPrintsNothing) {
  Capture c;
  ProgressOptions o;
  o.quiet = true;
  o.mode = ProgressMode::kAlways;
  Progress p("checkpt w", c.f, o);
  EXPECT_FALSE(p.drawing());
  p.Update(10, 100);
  p.Finish(100);
  EXPECT_EQ(c.Text(), "");
}

// The ticker redraws while the work reports nothing (inside one large
// allocation), and Update may come from another thread meanwhile. Waits on
// the file growing, bounded.
TEST(ProgressTest, TickerRedrawsWithoutUpdates) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto size = [&] {
    struct stat st;
    return fstat(fileno(f), &st) == 0 ? st.st_size : -1;
  };
  ProgressOptions o;
  o.mode = ProgressMode::kAlways;
  {
    Progress p("checkpt w", f, o);
    ASSERT_TRUE(p.drawing());
    std::thread worker([&] {
      for (uint64_t i = 1; i <= 100'000; ++i) p.Update(i, 1'000'000);
    });
    worker.join();
    const off_t after_updates = size();
    int grew = 0;
    off_t last = after_updates;
    for (int i = 0; i < 500 && grew < 2; ++i) {  // at most 5 s
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (size() > last) {
        last = size();
        ++grew;
      }
    }
    EXPECT_EQ(grew, 2) << "the ticker did not redraw";
    p.Finish(1'000'000);
  }
  std::fclose(f);
}

TEST(ProgressTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(1073741824.0), "1.0 GiB");
  EXPECT_EQ(HumanBytes(943.7e6), "900.0 MiB");
}

// kNumeric: one integer per line, only when it changes, ending at 100; no
// bar, no control codes, no summary line.
TEST(ProgressTest, NumericPrintsPercentLines) {
  Capture c;
  {
    ProgressOptions o;
    o.mode = ProgressMode::kNumeric;
    Progress p("checkpt w", c.f, o);
    p.Update(0, 1000);
    p.Update(250, 1000);
    p.Update(251, 1000);  // still 25%
    p.Update(500, 1000);
    p.Finish(1000);
  }
  EXPECT_EQ(c.Text(), "0\n25\n50\n100\n");
}

// Without a total the numbers are the bytes done, as pv -n prints them.
TEST(ProgressTest, NumericWithoutTotalPrintsBytes) {
  Capture c;
  {
    ProgressOptions o;
    o.mode = ProgressMode::kNumeric;
    Progress p("restore w", c.f, o);
    p.Update(4096, 0);
    p.Update(8192, 0);
    p.Finish(8192);
  }
  EXPECT_EQ(c.Text(), "4096\n8192\n");
}

}  // namespace
}  // namespace wk::apps
