#include "io/populate.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "io/mmio.h"

namespace wk::io {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kPages = 64;

// How many pages of [p, p + pages * 4 KiB) are present in this process's
// page tables (/proc/self/pagemap bit 63); -1 if pagemap cannot be read.
int PresentPages(const uint8_t* p, size_t pages) {
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -1;
  int present = 0;
  for (size_t i = 0; i < pages; i++) {
    uint64_t entry = 0;
    off_t off = static_cast<off_t>(
        (reinterpret_cast<uintptr_t>(p) / kPage + i) * sizeof entry);
    if (pread(fd, &entry, sizeof entry, off) != sizeof entry) {
      close(fd);
      return -1;
    }
    present += (entry >> 63) & 1;
  }
  close(fd);
  return present;
}

// A file of kPages pages holding a pattern, mapped afresh (no page present).
// Only presence inside a populated range is asserted: the kernel may map
// more around it (a large page-cache folio is mapped whole).
class PopulateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    path_ = absl::StrFormat("%s/populate.%d", tmp ? tmp : "/tmp",
                            static_cast<int>(getpid()));
    int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    pattern_.resize(kPages * kPage);
    for (size_t i = 0; i < pattern_.size(); i++) pattern_[i] = i * 7 + i / 4096;
    ASSERT_EQ(write(fd, pattern_.data(), pattern_.size()),
              static_cast<ssize_t>(pattern_.size()));
    auto m = MapRange(fd, 0, pattern_.size(), /*writable=*/true);
    close(fd);
    ASSERT_TRUE(m.ok()) << m.status();
    map_ = std::move(*m);
  }
  void TearDown() override { unlink(path_.c_str()); }

  std::string path_;
  std::vector<uint8_t> pattern_;
  Mapping map_;
};

TEST_F(PopulateTest, MakesPagesPresentAndChangesNothing) {
  int before = PresentPages(map_.data(), kPages);
  if (before < 0) GTEST_SKIP() << "/proc/self/pagemap not readable here";
  EXPECT_EQ(before, 0);
  // A range that starts and ends inside pages covers them whole.
  std::span<const uint8_t> mid = map_.span().subspan(kPage + 100, 10 * kPage);
  ASSERT_TRUE(Populate(mid, PopulateFor::kWrite).ok());
  EXPECT_EQ(PresentPages(map_.data() + kPage, 11), 11);

  ASSERT_TRUE(Populate(map_.span(), PopulateFor::kRead).ok());
  EXPECT_EQ(PresentPages(map_.data(), kPages), static_cast<int>(kPages));
  EXPECT_EQ(memcmp(map_.data(), pattern_.data(), pattern_.size()), 0);
  EXPECT_TRUE(Populate({}, PopulateFor::kWrite).ok());
}

TEST_F(PopulateTest, TouchingFallbackDoesTheSame) {
  int before = PresentPages(map_.data(), kPages);
  if (before < 0) GTEST_SKIP() << "/proc/self/pagemap not readable here";
  EXPECT_EQ(before, 0);
  internal::PopulateByTouching(map_.span().subspan(0, 3 * kPage + 1),
                               PopulateFor::kWrite);
  EXPECT_EQ(PresentPages(map_.data(), 4), 4);
  internal::PopulateByTouching(map_.span(), PopulateFor::kRead);
  EXPECT_EQ(PresentPages(map_.data(), kPages), static_cast<int>(kPages));
  EXPECT_EQ(memcmp(map_.data(), pattern_.data(), pattern_.size()), 0);
}

TEST_F(PopulateTest, PagePresentSaysWhetherAPageIsMapped) {
  if (PresentPages(map_.data(), kPages) < 0) {
    GTEST_SKIP() << "/proc/self/pagemap not readable here";
  }
  EXPECT_FALSE(PagePresent(map_.data() + 5 * kPage));
  ASSERT_TRUE(
      Populate(map_.span().subspan(5 * kPage, kPage), PopulateFor::kWrite)
          .ok());
  EXPECT_TRUE(PagePresent(map_.data() + 5 * kPage + 123));
  EXPECT_EQ(PresentPages(map_.data() + 5 * kPage, 1), 1);
  // Dropped from this process's page tables (the file keeps the bytes).
  uint8_t* const base = const_cast<uint8_t*>(map_.data());
  ASSERT_EQ(madvise(base, map_.size(), MADV_DONTNEED), 0);
  EXPECT_FALSE(PagePresent(map_.data() + 5 * kPage));
  // A forked child asks about its own page tables, not its parent's.
  ASSERT_TRUE(
      Populate(map_.span().subspan(7 * kPage, kPage), PopulateFor::kWrite)
          .ok());
  uint8_t* const page7 = base + 7 * kPage;
  ASSERT_TRUE(PagePresent(page7));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Dropped from the child's page tables only: a PagePresent reading the
    // parent's pagemap would still see it.
    (void)madvise(page7, kPage, MADV_DONTNEED);
    _exit(PagePresent(page7) ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(PagePresent(page7));
}

TEST_F(PopulateTest, ReadOnlyMappingCannotBePopulatedForWrite) {
  int fd = open(path_.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  auto ro = MapRange(fd, 0, kPage, /*writable=*/false);
  close(fd);
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(Populate(ro->span(), PopulateFor::kRead).ok());
  absl::Status s = Populate(ro->span(), PopulateFor::kWrite);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("MADV_POPULATE_WRITE"), std::string::npos) << s;
}

}  // namespace
}  // namespace wk::io
