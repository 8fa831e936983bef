// The C++ wrapper (include/wkspkit/wkspkit.hpp), compiled as C++17 and linked
// against libwkspkit.so as a consumer would be: RAII, exceptions carrying the
// C error class and message, progress callables, the count-then-fill query.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "wkspkit/wkspkit.hpp"

namespace {

static_assert(__cplusplus < 202002L, "this test checks the C++17 claim");

std::string Tmp(const std::string& what) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + what;
}

class WrapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = Tmp("shm");
    mkdir(root.c_str(), 0700);
    wkspkit::SetShmemRoot(root);
  }
};

TEST_F(WrapperTest, ErrorsAreExceptionsWithClassAndMessage) {
  try {
    wkspkit::Workspace::Join("cpp-no-such");
    FAIL() << "joined a missing workspace";
  } catch (const wkspkit::Error& e) {
    EXPECT_EQ(e.code(), WKSPKIT_ERR_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("cpp-no-such"), std::string::npos);
    EXPECT_FALSE(e.wksp_reset());
  }
  EXPECT_THROW(wkspkit::Preview(Tmp("missing.ckpt")), wkspkit::Error);
  EXPECT_THROW(wkspkit::SetShmemRoot("relative"), wkspkit::Error);
}

TEST_F(WrapperTest, LifecycleAllocAndQueries) {
  const std::string name = "cpp-" + std::to_string(getpid());
  {
    auto w = wkspkit::Workspace::Create(name, 64, 1 << 20);
    EXPECT_THROW(wkspkit::Workspace::Create(name, 64, 1 << 20), wkspkit::Error);
    std::vector<uint64_t> g;
    for (int i = 0; i < 10; ++i) g.push_back(w.Alloc(100 + i, 9));
    g.push_back(w.Alloc(64, 3, 64));
    EXPECT_EQ(g.back() % 64, 0u);
    EXPECT_EQ(w.Tag(g[0]), 9u);
    EXPECT_EQ(w.Gaddr(w.Laddr(g[3])), g[3]);
    EXPECT_EQ(w.TagQuery({9}).size(), 10u);  // grows its array as needed
    EXPECT_EQ(w.Usage({3}).tagged_cnt, 1u);
    EXPECT_FALSE(w.LockHolder().has_value());
    EXPECT_FALSE(w.RestoreMark().has_value());

    // Moving transfers the join; the moved-from object leaves nothing.
    wkspkit::Workspace moved = std::move(w);
    EXPECT_EQ(moved.TagFree({9}), 10u);
    auto ro = wkspkit::Workspace::Join(name, /*read_only=*/true);
    EXPECT_EQ(ro.Info().read_only, 1);
    try {
      ro.Alloc(10, 1);
      FAIL();
    } catch (const wkspkit::Error& e) {
      EXPECT_EQ(e.code(), WKSPKIT_ERR_FAILED_PRECONDITION);
    }
    moved.Free(g.back());
    EXPECT_THROW(moved.Free(g.back()), wkspkit::Error);
    moved.Verify();
  }
  wkspkit::Workspace::Delete(name);
  EXPECT_THROW(wkspkit::Workspace::Delete(name), wkspkit::Error);
}

TEST_F(WrapperTest, CancelFlagStopsOneCall) {
  auto src = wkspkit::Workspace::CreateAnonymous("cpp-cancel", 64, 8 << 20);
  const uint64_t g = src.Alloc(3 << 20, 5);
  std::memset(src.Laddr(g), 0x3C, 3 << 20);
  std::atomic<int> stop{0};
  wkspkit::CheckptOptions co;
  co.style = WKSPKIT_STYLE_V2;
  co.threads = 2;
  co.cancel = &stop;
  co.progress = [&](uint64_t, uint64_t) { stop.store(1); };
  const std::string path = Tmp("cancel.ckpt");
  try {
    src.Checkpt(path, co);
    ADD_FAILURE() << "the checkpoint was not stopped";
  } catch (const wkspkit::Error& e) {
    EXPECT_EQ(e.code(), WKSPKIT_ERR_CANCELLED) << e.what();
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  co.cancel = nullptr;  // the next call goes on
  src.Checkpt(path, co);
  auto dst = wkspkit::Workspace::CreateAnonymous("cpp-cancel-dst", 64, 8 << 20);
  wkspkit::RestoreOptions ro;
  ro.cancel = &stop;  // still set: stopped before it writes
  EXPECT_THROW(dst.Restore(path, ro), wkspkit::Error);
  ro.cancel = nullptr;
  dst.Restore(path, ro);
  EXPECT_EQ(std::memcmp(src.Laddr(g), dst.Laddr(g), 3 << 20), 0);
}

TEST_F(WrapperTest, CheckptRestoreWithProgressAndReset) {
  auto src = wkspkit::Workspace::CreateAnonymous("cpp-src", 64, 8 << 20);
  const uint64_t g = src.Alloc(3 << 20, 5);
  std::memset(src.Laddr(g), 0x5A, 3 << 20);
  uint64_t calls = 0, last = 0;
  wkspkit::CheckptOptions co;
  co.style = WKSPKIT_STYLE_V2;
  co.progress = [&](uint64_t done, uint64_t) {
    ++calls;
    last = done;
  };
  const std::string path = Tmp("cpp.ckpt");
  src.Checkpt(path, co);
  EXPECT_GT(calls, 0u);
  EXPECT_EQ(last, uint64_t{3} << 20);
  EXPECT_EQ(wkspkit::VerifyCheckpt(path, 2).allocs, 1u);
  EXPECT_EQ(wkspkit::Preview(path).style, WKSPKIT_STYLE_V2);

  auto dst = wkspkit::Workspace::CreateAnonymous("cpp-dst", 64, 8 << 20);
  wkspkit::RestoreOptions ro;
  ro.seed = 77;
  dst.Restore(path, ro);
  EXPECT_EQ(dst.Info().seed, 77u);
  EXPECT_EQ(std::memcmp(src.Laddr(g), dst.Laddr(g), 3 << 20), 0);

  // A stream cut short: the exception says the target was reset.
  const int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const off_t size = lseek(fd, 0, SEEK_END);
  const std::string half = Tmp("half.ckpt");
  const int out = open(half.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(out, 0);
  std::vector<char> buf(size / 2);
  ASSERT_EQ(pread(fd, buf.data(), buf.size(), 0), ssize_t(buf.size()));
  ASSERT_EQ(write(out, buf.data(), buf.size()), ssize_t(buf.size()));
  close(out);
  close(fd);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(p[0]);
    const int in = open(half.c_str(), O_RDONLY);
    ssize_t n;
    char b[65536];
    while ((n = read(in, b, sizeof b)) > 0)
      if (write(p[1], b, n) != n) _exit(1);
    _exit(0);
  }
  close(p[1]);
  try {
    dst.RestoreFd(p[0]);
    FAIL() << "restored half a stream";
  } catch (const wkspkit::Error& e) {
    EXPECT_EQ(e.code(), WKSPKIT_ERR_DATA_LOSS);
    EXPECT_TRUE(e.wksp_reset());
  }
  close(p[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(dst.Usage().used_cnt, 0u);
}

}  // namespace
