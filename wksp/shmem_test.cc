// Shared-memory layer: named create/join/unlink under a test
// root, permission bits, anonymous mappings shared with a forked child.
#include "wksp/shmem.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wksp/test_util.h"

namespace wk::wksp {
namespace {

using ::testing::HasSubstr;

class ShmemTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = testing::UseTestShmemRoot(); }
  std::string root_;
};

TEST_F(ShmemTest, CreateJoinUnlink) {
  std::string name = testing::UniqueName("raw");
  {
    auto m = ShmemCreate(name, 5000, {.mode = 0604});
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->size(), 8192u);  // rounded up to 4 KiB pages
    memcpy(m->mutable_span().data(), "abc", 4);
    struct stat st;
    ASSERT_EQ(stat((root_ + "/" + name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0604u);
    EXPECT_EQ(ShmemCreate(name, 4096, {}).status().code(),
              absl::StatusCode::kAlreadyExists);
    PageSize ps = PageSize::kHuge;
    auto j = ShmemJoin(name, /*read_only=*/true, &ps);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(ps, PageSize::kNormal);
    EXPECT_STREQ(reinterpret_cast<const char*>(j->data()), "abc");
    EXPECT_NE(j->data(), m->data());  // a second, distinct mapping
  }
  EXPECT_TRUE(ShmemUnlink(name).ok());
  EXPECT_EQ(ShmemJoin(name, false).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ShmemUnlink(name).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ShmemCreate("bad/name", 4096, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ShmemCreate(name, 0, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ShmemTest, AnonymousIsSharedWithForkedChild) {
  auto m = MapAnonymous(100, PageSize::kNormal);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 4096u);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    memcpy(m->mutable_span().data(), "child", 6);
    _exit(0);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_STREQ(reinterpret_cast<const char*>(m->data()), "child");
}

TEST_F(ShmemTest, HugePagesNeedAMount) {
  if (ShmemDir(PageSize::kGigantic).ok()) GTEST_SKIP() << "gigantic mounted";
  auto m = ShmemCreate(testing::UniqueName("gig"), 1,
                       {.page_size = PageSize::kGigantic});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(m.status().message(), HasSubstr("pagesize=1G"));
  EXPECT_THAT(m.status().message(), HasSubstr("mount -t hugetlbfs"));
}

// kB of the mapping starting at `addr` that this process maps with PMDs
// (whole 2 MiB pages), from /proc/self/smaps: ShmemPmdMapped for tmpfs,
// FilePmdMapped for other files. -1 if the mapping is not found.
int64_t PmdMappedKb(const void* addr) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  const uintptr_t want = reinterpret_cast<uintptr_t>(addr);
  bool in_mapping = false;
  int64_t kb = -1;
  while (std::getline(in, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 &&
        line.find(':') > line.find(' ')) {
      if (in_mapping) break;  // the next mapping's header
      in_mapping = lo == want;
      if (in_mapping) kb = 0;
      continue;
    }
    if (!in_mapping) continue;
    std::istringstream fields(line);
    std::string key;
    int64_t value = 0;
    if ((fields >> key >> value) &&
        (key == "ShmemPmdMapped:" || key == "FilePmdMapped:")) {
      kb += value;
    }
  }
  return kb;
}

// Reads one byte of every 4 KiB page, so each page is mapped in this
// process the way a first touch maps it.
uint64_t TouchEveryPage(const io::Mapping& m) {
  uint64_t sum = 0;
  for (size_t off = 0; off < m.size(); off += 4096) {
    sum += *reinterpret_cast<const volatile uint8_t*>(m.data() + off);
  }
  return sum;
}

// A private tmpfs mounted with huge=advise, unmounted (and its directory
// removed) on destruction. error() says why it could not be had.
class HugeAdviseTmpfs {
 public:
  HugeAdviseTmpfs() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/hugeadviseXXXXXX";
    if (::mkdtemp(dir_.data()) == nullptr) {
      error_ = std::string("mkdtemp: ") + std::strerror(errno);
      dir_.clear();
      return;
    }
    if (::mount("wksp-test", dir_.c_str(), "tmpfs", 0,
                "size=64m,huge=advise,mode=0700") != 0) {
      error_ =
          std::string("mount -t tmpfs -o huge=advise: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~HugeAdviseTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string error_;
  bool mounted_ = false;
};

// On a tmpfs mounted huge=advise, only a range advised MADV_HUGEPAGE gets
// 2 MiB pages, and only for pages allocated after the advice: ShmemCreate
// must advise before it reserves the region's memory. Were it to allocate
// first (fallocate) and advise after, the region would stay on 4 KiB pages
// and every process would pay a fault per 4 KiB on first touch.
TEST_F(ShmemTest, HugeAdviseTmpfsRegionGetsHugePages) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  if (::access("/sys/kernel/mm/transparent_hugepage/shmem_enabled", F_OK) !=
      0) {
    GTEST_SKIP() << "kernel without transparent huge pages for tmpfs";
  }
  HugeAdviseTmpfs fs;
  if (!fs.ok()) GTEST_SKIP() << fs.error();
  SetShmemRoot(fs.dir());
  constexpr uint64_t kSize = 8 << 20;

  // Control: allocated, then advised. If this kernel gives that huge pages
  // anyway, the order cannot be told apart here.
  {
    auto m = io::CreateAndMap(fs.dir() + "/control", kSize, 0600,
                              io::Reserve::kAllocate);
    ASSERT_TRUE(m.ok()) << m.status();
    (void)m->Advise(io::Advice::kHugePage);
    EXPECT_EQ(TouchEveryPage(*m), 0u);
    const int64_t kb = PmdMappedKb(m->data());
    ASSERT_GE(kb, 0) << "mapping not found in /proc/self/smaps";
    ASSERT_EQ(::unlink((fs.dir() + "/control").c_str()), 0);
    if (kb > 0) {
      SetShmemRoot(root_);
      GTEST_SKIP() << "this kernel maps huge pages allocated before the "
                      "advice too ("
                   << kb << " kB)";
    }
  }

  const std::string name = testing::UniqueName("thp");
  {
    auto m = ShmemCreate(name, kSize, {});
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(TouchEveryPage(*m), 0u);  // zero filled
    const int64_t kb = PmdMappedKb(m->data());
    EXPECT_GE(kb, 2048) << "region on a huge=advise tmpfs is not on huge "
                           "pages: advised after its memory was allocated?";
    // A second mapping, as a joining process makes, maps them whole too.
    auto j = ShmemJoin(name, /*read_only=*/true);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(TouchEveryPage(*j), 0u);
    EXPECT_GE(PmdMappedKb(j->data()), 2048);
  }
  EXPECT_TRUE(ShmemUnlink(name).ok());

  // The reservation still holds: too big for the mount fails at creation
  // with what it needs and what is free, and leaves nothing behind.
  auto big = ShmemCreate(name, 128 << 20, {});
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("needs 134217728 bytes, "));
  EXPECT_THAT(big.status().message(), HasSubstr(" bytes free in "));
  EXPECT_NE(::access((fs.dir() + "/" + name).c_str(), F_OK), 0);
  SetShmemRoot(root_);
}

}  // namespace
}  // namespace wk::wksp
