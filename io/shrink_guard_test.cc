#include "io/shrink_guard.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "io/mmio.h"

namespace wk::io {
namespace {

constexpr size_t kPage = 4096;

// ThreadSanitizer intercepts signal handlers and delivers SIGBUS its own way:
// under it a fault in another thread was not seen by the guard and the
// default action did not kill, so those two cases are production-only (the
// single-thread case and wksp/checkpt:shrink_test still run under it).
#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

std::string TempPath(const char* what) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrFormat("%s/%s.%d", tmp ? tmp : "/tmp", what,
                         static_cast<int>(getpid()));
}

// A 16-page file of 0x5A bytes, mapped read-only, then cut to 4 pages.
struct Shrunk {
  std::string path;
  Mapping map;
  explicit Shrunk(const char* what) : path(TempPath(what)) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    std::vector<uint8_t> bytes(16 * kPage, 0x5A);
    EXPECT_EQ(write(fd, bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
    auto m = MapFileReadOnly(fd);
    EXPECT_TRUE(m.ok());
    map = std::move(*m);
    EXPECT_EQ(ftruncate(fd, 4 * kPage), 0);
    close(fd);
  }
  ~Shrunk() { unlink(path.c_str()); }
};

uint64_t Sum(std::span<const uint8_t> bytes) {
  uint64_t sum = 0;
  for (uint8_t b : bytes) sum += b;
  return sum;
}

TEST(ShrinkGuardTest, ReadPastTheNewEndSeesZerosAndIsReported) {
  Shrunk f("shrink");
  ShrinkGuard guard(f.map.span());
  ASSERT_TRUE(guard.guarded());
  EXPECT_EQ(Sum(f.map.span().first(4 * kPage)), 4 * kPage * 0x5A);
  EXPECT_FALSE(guard.shrank());
  // Pages 4..15 are gone from the file: zeros, not a crash.
  EXPECT_EQ(Sum(f.map.span()), 4 * kPage * 0x5A);
  EXPECT_TRUE(guard.shrank());
}

TEST(ShrinkGuardTest, EachGuardReportsOnlyItsOwnMapping) {
  if (kTsan) GTEST_SKIP() << "ThreadSanitizer changes SIGBUS delivery";
  Shrunk a("shrink_a"), b("shrink_b");
  ShrinkGuard ga(a.map.span()), gb(b.map.span());
  std::thread reader([&] { (void)Sum(b.map.span()); });
  reader.join();
  EXPECT_TRUE(gb.shrank());
  EXPECT_FALSE(ga.shrank());
}

TEST(ShrinkGuardDeathTest, UnguardedMappingStillDies) {
  if (kTsan) GTEST_SKIP() << "ThreadSanitizer changes SIGBUS delivery";
  // Outside every guard a SIGBUS keeps its default action.
  ASSERT_EXIT(
      {
        Shrunk f("shrink_unguarded");
        { ShrinkGuard other(f.map.span().first(kPage)); }
        ShrinkGuard unrelated(f.map.span().first(kPage));
        (void)Sum(f.map.span());
        std::exit(0);
      },
      // AddressSanitizer reports the SIGBUS itself and then aborts.
      [](int status) {
        return WIFSIGNALED(status) &&
               (WTERMSIG(status) == SIGBUS ||
                (kAsan && WTERMSIG(status) == SIGABRT));
      },
      "");
}

}  // namespace
}  // namespace wk::io
