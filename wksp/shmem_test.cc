// Shared-memory layer: named create/join/unlink under a test
// root, permission bits, anonymous mappings shared with a forked child.
#include "wksp/shmem.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
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

}  // namespace
}  // namespace wk::wksp
