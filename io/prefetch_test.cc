#include "io/prefetch.h"

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "io/fd.h"
#include "io/test_util.h"

namespace wk::io {
namespace {

using testing::Pattern;
using testing::Pipe;

// Odd block sizes and read sizes over a slowly fed pipe: every byte arrives,
// in order, and the end is reported as end of file.
TEST(Prefetcher, DeliversEveryByteInOrder) {
  for (size_t block : {3, 100, 4096, 1 << 20}) {
    Pipe p;
    const std::string data = Pattern(300000, block);
    std::thread writer([&, fd = std::move(p.write_end)]() mutable {
      ASSERT_TRUE(testing::WriteSlowly(std::move(fd), data).ok());
    });
    Prefetcher pf(p.read_end.get(), block, 3);
    std::string got;
    size_t step = 1;
    for (;;) {
      std::string buf(step, '\0');
      absl::StatusOr<size_t> n = pf.Read(buf.data(), 0, step);
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
      got.append(buf.data(), *n);
      step = step * 7 % 100003 + 1;
    }
    writer.join();
    EXPECT_TRUE(got == data) << "block " << block;
  }
}

TEST(Prefetcher, EndOfFileBeforeMin) {
  Pipe p;
  ASSERT_TRUE(WriteExact(p.write_end.get(), "abcde", 5).ok());
  p.write_end.reset();
  Prefetcher pf(p.read_end.get(), 2, 2);
  char buf[16];
  absl::StatusOr<size_t> n = pf.Read(buf, 3, 3);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, 3), "abc");
  n = pf.Read(buf, 5, 10);
  EXPECT_TRUE(IsEndOfFile(n.status())) << n.status();
  n = pf.Read(buf, 0, 10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(pf.Read(buf, 4, 3).ok());
}

TEST(Prefetcher, ReadErrorIsReported) {
  Prefetcher pf(-1, 64, 2);  // EBADF on the first read
  char buf[8];
  absl::StatusOr<size_t> n = pf.Read(buf, 1, 8);
  EXPECT_FALSE(n.ok());
  EXPECT_FALSE(IsEndOfFile(n.status()));
}

// Destruction must not wait for a writer that stays open and silent.
TEST(Prefetcher, StopsWhileTheWriterIsSilent) {
  Pipe p;
  auto t0 = std::chrono::steady_clock::now();
  {
    Prefetcher pf(p.read_end.get(), 64, 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace wk::io
