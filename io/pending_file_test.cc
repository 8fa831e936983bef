#include "io/pending_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "io/fd.h"
#include "io/test_util.h"
#include "util/cancel.h"

namespace wk::io {
namespace {

using testing::TempPath;

// Names in the directory of `path` that start with `prefix`.
std::vector<std::string> Entries(const std::string& dir,
                                 const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  ::closedir(d);
  return out;
}

std::string Dir(const std::string& p) { return p.substr(0, p.rfind('/')); }
std::string Base(const std::string& p) { return p.substr(p.rfind('/') + 1); }

std::string ReadAll(const std::string& path) {
  absl::StatusOr<Fd> fd = OpenRead(path);
  if (!fd.ok()) return "<" + std::string(fd.status().message()) + ">";
  std::string s(1 << 16, '\0');
  absl::StatusOr<size_t> n = ReadAtLeast(fd->get(), s.data(), 0, s.size());
  s.resize(n.ok() ? *n : 0);
  return s;
}

class PendingFileTest : public ::testing::TestWithParam<PendingKind> {};

TEST_P(PendingFileTest, AppearsOnlyWhenPublished) {
  TempPath path("pending");
  absl::StatusOr<PendingFile> f =
      PendingFile::Create(path.path(), 0640, "test-tmp", GetParam());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kind(), GetParam());
  ASSERT_TRUE(WriteExact(f->fd(), "hello", 5).ok());
  // Nothing at the path; a named temporary is the only other trace.
  EXPECT_NE(::access(path.path().c_str(), F_OK), 0);
  std::vector<std::string> leftovers =
      Entries(Dir(path.path()), "." + Base(path.path()) + ".test-tmp.");
  EXPECT_EQ(leftovers.size(), GetParam() == PendingKind::kNamed ? 1u : 0u);
  ASSERT_TRUE(f->Publish(Durability::kSync).ok());
  EXPECT_EQ(ReadAll(path.path()), "hello");
  struct stat st;
  ASSERT_EQ(::stat(path.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);  // exactly, whatever the umask
  EXPECT_TRUE(Entries(Dir(path.path()), "." + Base(path.path()) + ".test-tmp.")
                  .empty());
}

TEST_P(PendingFileTest, UnpublishedLeavesNothing) {
  TempPath path("pending_drop");
  {
    absl::StatusOr<PendingFile> f =
        PendingFile::Create(path.path(), 0600, "test-tmp", GetParam());
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE(WriteExact(f->fd(), "partial", 7).ok());
  }
  EXPECT_NE(::access(path.path().c_str(), F_OK), 0);
  EXPECT_TRUE(Entries(Dir(path.path()), "." + Base(path.path()) + ".test-tmp.")
                  .empty());
}

TEST_P(PendingFileTest, ExistingFileIsRefusedAtCreate) {
  TempPath path("pending_exists");
  ASSERT_TRUE(testing::WriteFile(path.path(), "theirs"));
  absl::StatusOr<PendingFile> f =
      PendingFile::Create(path.path(), 0600, "test-tmp", GetParam());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kAlreadyExists) << f.status();
  EXPECT_EQ(ReadAll(path.path()), "theirs");
}

TEST_P(PendingFileTest, NeverReplacesAFileThatAppearedMeanwhile) {
  TempPath path("pending_race");
  absl::StatusOr<PendingFile> f =
      PendingFile::Create(path.path(), 0600, "test-tmp", GetParam());
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(WriteExact(f->fd(), "ours", 4).ok());
  ASSERT_TRUE(testing::WriteFile(path.path(), "theirs"));
  absl::Status st = f->Publish(Durability::kNone);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_EQ(ReadAll(path.path()), "theirs");
  EXPECT_TRUE(Entries(Dir(path.path()), "." + Base(path.path()) + ".test-tmp.")
                  .empty());
}

TEST_P(PendingFileTest, CancellationPublishesNothing) {
  TempPath path("pending_cancel");
  absl::StatusOr<PendingFile> f =
      PendingFile::Create(path.path(), 0600, "test-tmp", GetParam());
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(WriteExact(f->fd(), "x", 1).ok());
  RequestCancel(SIGTERM);
  absl::Status write = WriteExact(f->fd(), "y", 1);
  absl::Status st = f->Publish(Durability::kNone);
  ClearCancelForTest();
  EXPECT_EQ(write.code(), absl::StatusCode::kCancelled) << write;
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
  EXPECT_NE(::access(path.path().c_str(), F_OK), 0);
  EXPECT_TRUE(Entries(Dir(path.path()), "." + Base(path.path()) + ".test-tmp.")
                  .empty());
}

INSTANTIATE_TEST_SUITE_P(Kinds, PendingFileTest,
                         ::testing::Values(PendingKind::kUnnamed,
                                           PendingKind::kNamed),
                         [](const auto& info) {
                           return info.param == PendingKind::kNamed ? "Named"
                                                                    : "Unnamed";
                         });

TEST(PendingFileTest, AutoPrefersUnnamedWhereSupported) {
  TempPath path("pending_auto");
  absl::StatusOr<PendingFile> f =
      PendingFile::Create(path.path(), 0600, "test-tmp");
  ASSERT_TRUE(f.ok()) << f.status();
  // TEST_TMPDIR is on ext4 or tmpfs here, both of which have O_TMPFILE.
  EXPECT_EQ(f->kind(), PendingKind::kUnnamed);
}

TEST(PendingFileTest, TempNameIsRecognisable) {
  EXPECT_EQ(TempName("/d/x.ckpt", "wkspckpt-tmp", 42, 3),
            "/d/.x.ckpt.wkspckpt-tmp.42.3");
  EXPECT_EQ(TempName("x.ckpt", "t", 1, 0), ".x.ckpt.t.1.0");
}

TEST(PendingFileTest, MissingDirectoryIsNotFound) {
  absl::StatusOr<PendingFile> f =
      PendingFile::Create("/nonexistent-dir-wkspkit/x", 0600, "test-tmp");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound) << f.status();
}

}  // namespace
}  // namespace wk::io
