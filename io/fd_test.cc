#include "io/fd.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"
#include "util/status.h"

namespace wk::io {
namespace {

using ::testing::HasSubstr;
using testing::Pattern;
using testing::Pipe;
using testing::TempPath;
using testing::WaitBlockedIn;
using testing::WriteFile;

using testing::kOddPieces;
using testing::WriteSlowly;

TEST(FdTest, ReadExactAssemblesShortReads) {
  Pipe pipe;
  const std::string data = Pattern(300'000);
  absl::Status write_status;
  std::thread writer(
      [&](Fd fd) { write_status = WriteSlowly(std::move(fd), data); },
      std::move(pipe.write_end));
  std::string got(data.size(), '\0');
  // Several ReadExact calls of odd sizes, each spanning many short reads.
  size_t off = 0;
  for (size_t n : {size_t{5}, size_t{100'000}, size_t{1}, size_t{199'994}}) {
    ASSERT_TRUE(ReadExact(pipe.read_end.get(), got.data() + off, n).ok());
    off += n;
  }
  ASSERT_EQ(off, data.size());
  writer.join();
  EXPECT_TRUE(write_status.ok()) << write_status;
  EXPECT_EQ(got, data);
  // The writer closed: one more byte is end of file.
  char c;
  absl::Status eof = ReadExact(pipe.read_end.get(), &c, 1);
  EXPECT_TRUE(IsEndOfFile(eof)) << eof;
}

TEST(FdTest, WriteExactAssemblesShortWrites) {
  Pipe pipe;
  // A one-page pipe forces write(2) to return early many times.
  ASSERT_GE(::fcntl(pipe.write_end.get(), F_SETPIPE_SZ, 4096), 0);
  const std::string data = Pattern(500'000, 17);
  std::string got;
  std::thread reader([&] {
    std::vector<char> buf(70'000);
    for (int i = 0;; ++i) {
      size_t want = kOddPieces[i % std::size(kOddPieces)];
      auto n = ReadAtLeast(pipe.read_end.get(), buf.data(), 0, want);
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
      got.append(buf.data(), *n);
      if (i % 5 == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  ASSERT_TRUE(WriteExact(pipe.write_end.get(), data.data(), data.size()).ok());
  ASSERT_TRUE(pipe.write_end.Close().ok());
  reader.join();
  EXPECT_EQ(got, data);
}

// --- EINTR ---------------------------------------------------------------

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

// Installs the counting SIGUSR1 handler WITHOUT SA_RESTART, so a blocked
// read/write returns EINTR to user space; restores the old one afterwards.
class ScopedSigusr1 {
 public:
  ScopedSigusr1() {
    struct sigaction sa = {};
    sa.sa_handler = CountSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    EXPECT_EQ(::sigaction(SIGUSR1, &sa, &old_), 0);
  }
  ~ScopedSigusr1() { ::sigaction(SIGUSR1, &old_, nullptr); }

 private:
  struct sigaction old_;
};

// Runs `body` on a thread; once that thread is blocked in syscall `nr`,
// interrupts it with SIGUSR1 and checks that it goes back into the same
// syscall (the function retried instead of failing), then calls `unblock`.
template <typename Body, typename Unblock>
void InterruptWhileBlocked(long nr, Body body, Unblock unblock) {
  ScopedSigusr1 handler;
  std::atomic<pid_t> tid{0};
  pthread_t thread_handle;
  std::atomic<bool> have_handle{false};
  std::thread t([&] {
    thread_handle = pthread_self();
    have_handle.store(true);
    tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    body();
  });
  while (tid.load() == 0 || !have_handle.load()) std::this_thread::yield();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(WaitBlockedIn(tid.load(), {nr})) << "thread never blocked";
    int before = g_signals.load();
    ASSERT_EQ(::pthread_kill(thread_handle, SIGUSR1), 0);
    for (int i = 0; i < 20'000 && g_signals.load() == before; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    ASSERT_GT(g_signals.load(), before) << "signal not delivered";
  }
  // Back in the syscall after the last interruption: the EINTR was retried.
  ASSERT_TRUE(WaitBlockedIn(tid.load(), {nr}));
  unblock();
  t.join();
}

TEST(FdTest, ReadExactRetriesAfterEintr) {
  Pipe pipe;
  const std::string data = Pattern(1000);
  std::string got(data.size(), '\0');
  absl::Status status = absl::UnknownError("not run");
  InterruptWhileBlocked(
      SYS_read,
      [&] { status = ReadExact(pipe.read_end.get(), got.data(), got.size()); },
      [&] {
        ASSERT_TRUE(
            WriteExact(pipe.write_end.get(), data.data(), data.size()).ok());
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(got, data);
}

TEST(FdTest, ReadAtLeastZeroMinRetriesAfterEintr) {
  // min == 0 makes a single read; EINTR must not be mistaken for EOF (0).
  Pipe pipe;
  char buf[16];
  absl::StatusOr<size_t> n = absl::UnknownError("not run");
  InterruptWhileBlocked(
      SYS_read, [&] { n = ReadAtLeast(pipe.read_end.get(), buf, 0, 16); },
      [&] { ASSERT_TRUE(WriteExact(pipe.write_end.get(), "abc", 3).ok()); });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

TEST(FdTest, WriteExactRetriesAfterEintr) {
  Pipe pipe;
  ASSERT_GE(::fcntl(pipe.write_end.get(), F_SETPIPE_SZ, 4096), 0);
  const std::string data = Pattern(100'000, 3);
  absl::Status status = absl::UnknownError("not run");
  std::string got(data.size(), '\0');
  InterruptWhileBlocked(
      SYS_write,
      [&] {
        status = WriteExact(pipe.write_end.get(), data.data(), data.size());
      },
      [&] {
        ASSERT_TRUE(
            ReadExact(pipe.read_end.get(), got.data(), got.size()).ok());
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(got, data);
}

// --- ReadAtLeast -----------------------------------------------------------

TEST(FdTest, ReadAtLeastBounds) {
  TempPath path("ral");
  ASSERT_TRUE(WriteFile(path.path(), "0123456789"));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok()) << fd.status();
  char buf[32] = {};
  // At most max even when more is available.
  auto n = ReadAtLeast(fd->get(), buf, 2, 3);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(std::string(buf, 3), "012");
  // EOF after min: returns what was there.
  n = ReadAtLeast(fd->get(), buf, 4, sizeof(buf));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 7u);
  EXPECT_EQ(std::string(buf, 7), "3456789");
  // At EOF: min 0 returns 0, min 1 is an end-of-file error.
  n = ReadAtLeast(fd->get(), buf, 0, sizeof(buf));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  n = ReadAtLeast(fd->get(), buf, 1, sizeof(buf));
  EXPECT_TRUE(IsEndOfFile(n.status())) << n.status();
  // min > max is rejected without reading.
  n = ReadAtLeast(fd->get(), buf, 5, 4);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(n.status().message(), HasSubstr(FdName(fd->get())));
}

TEST(FdTest, ReadAtLeastEndOfFileBeforeMin) {
  Pipe pipe;
  ASSERT_TRUE(WriteExact(pipe.write_end.get(), "abc", 3).ok());
  ASSERT_TRUE(pipe.write_end.Close().ok());
  char buf[16];
  auto n = ReadAtLeast(pipe.read_end.get(), buf, 5, sizeof(buf));
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(IsEndOfFile(n.status()));
  EXPECT_THAT(n.status().message(), HasSubstr("3 of 5"));
  EXPECT_THAT(n.status().message(), HasSubstr(FdName(pipe.read_end.get())));
}

TEST(FdTest, ReadAtLeastWaitsForMinAcrossWrites) {
  Pipe pipe;
  std::thread writer([&] {
    ASSERT_TRUE(WriteExact(pipe.write_end.get(), "ab", 2).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(WriteExact(pipe.write_end.get(), "cdef", 4).ok());
    ASSERT_TRUE(pipe.write_end.Close().ok());
  });
  char buf[16];
  auto n = ReadAtLeast(pipe.read_end.get(), buf, 4, sizeof(buf));
  writer.join();
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_GE(*n, 4u);
  ASSERT_LE(*n, 6u);
  EXPECT_EQ(std::string(buf, *n), std::string("abcdef").substr(0, *n));
}

// --- Seeking and sizes -----------------------------------------------------

TEST(FdTest, PipesAreNotSeekable) {
  Pipe pipe;
  EXPECT_FALSE(IsSeekable(pipe.read_end.get()));
  EXPECT_FALSE(IsRegularFile(pipe.read_end.get()));
  auto pos = Seek(pipe.read_end.get(), 0, Whence::kSet);
  EXPECT_EQ(pos.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(pos.status().message(), HasSubstr("not seekable"));
  EXPECT_THAT(pos.status().message(), HasSubstr(FdName(pipe.read_end.get())));
  auto size = FileSize(pipe.read_end.get());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(size.status().message(), HasSubstr("not a regular file"));
  EXPECT_THAT(size.status().message(), HasSubstr(FdName(pipe.read_end.get())));
  EXPECT_FALSE(IsEndOfFile(size.status()));
}

TEST(FdTest, SeekAndSizeOnFiles) {
  TempPath path("seek");
  ASSERT_TRUE(WriteFile(path.path(), "0123456789"));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(IsSeekable(fd->get()));
  EXPECT_TRUE(IsRegularFile(fd->get()));
  EXPECT_EQ(*FileSize(fd->get()), 10u);
  EXPECT_EQ(*Seek(fd->get(), 4, Whence::kSet), 4u);
  EXPECT_EQ(*Seek(fd->get(), 2, Whence::kCur), 6u);
  char c;
  ASSERT_TRUE(ReadExact(fd->get(), &c, 1).ok());
  EXPECT_EQ(c, '6');
  EXPECT_EQ(*Seek(fd->get(), -1, Whence::kEnd), 9u);
  auto bad = Seek(fd->get(), -100, Whence::kCur);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("seek " + FdName(fd->get())));
}

TEST(FdTest, TruncatedFilesAreEndOfFile) {
  TempPath path("trunc");
  ASSERT_TRUE(WriteFile(path.path(), "0123456789"));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  char buf[20];
  absl::Status s = ReadExact(fd->get(), buf, 20);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("10 of 20"));
  EXPECT_THAT(s.message(), HasSubstr(FdName(fd->get())));

  s = PReadExact(fd->get(), buf, 10, 8);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("2 of 10"));
  s = PReadExact(fd->get(), buf, 1, 1000);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
  // Positional reads leave the file position alone.
  ASSERT_TRUE(PReadExact(fd->get(), buf, 3, 2).ok());
  EXPECT_EQ(std::string(buf, 3), "234");
  EXPECT_EQ(*Seek(fd->get(), 0, Whence::kCur), 10u);
}

TEST(FdTest, PositionalWriteThenRead) {
  TempPath path("pwrite");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(PWriteExact(fd->get(), "xyz", 3, 5).ok());
  EXPECT_EQ(*FileSize(fd->get()), 8u);
  EXPECT_EQ(*Seek(fd->get(), 0, Whence::kCur), 0u);
  char buf[8];
  ASSERT_TRUE(PReadExact(fd->get(), buf, 8, 0).ok());
  EXPECT_EQ(std::string(buf, 8), std::string("\0\0\0\0\0xyz", 8));
  EXPECT_TRUE(Fsync(fd->get()).ok());
}

TEST(FdTest, GatherWriteScatterRead) {
  TempPath path("vec");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  // Entries of every shape: empty, small, one larger than a pipe's or a
  // page's worth, and more entries than one system call takes.
  std::string big(100'000, 'b');
  std::vector<std::string> parts = {"", "ab", big, "", "c"};
  for (int i = 0; i < 1500; ++i) parts.push_back(std::string(1, 'A' + i % 26));
  std::string want;
  std::vector<iovec> w;
  for (std::string& p : parts) {
    w.push_back({p.data(), p.size()});
    want += p;
  }
  ASSERT_TRUE(WritevExact(fd->get(), w).ok());
  EXPECT_EQ(*FileSize(fd->get()), want.size());

  // Read back at an offset into pieces of other sizes.
  const uint64_t off = 1;
  std::string got(want.size() - off, '?');
  std::vector<iovec> r;
  for (size_t at = 0, n = 1; at < got.size(); at += n, n = n * 3 + 1) {
    n = std::min(n, got.size() - at);
    r.push_back({got.data() + at, n});
    r.push_back({nullptr, 0});
  }
  ASSERT_TRUE(PReadvExact(fd->get(), r, off).ok());
  EXPECT_EQ(got, want.substr(off));
  EXPECT_EQ(*Seek(fd->get(), 0, Whence::kCur), want.size());

  // Past the end: end of file, with the bytes there were.
  char buf[8];
  iovec past[2] = {{buf, 4}, {buf + 4, 4}};
  absl::Status s = PReadvExact(fd->get(), past, want.size() - 5);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("5 of 8"));
}

// --- Creation, opening, errors ---------------------------------------------

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(old_); }

 private:
  mode_t old_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0xffff;
  return st.st_mode & 07777;
}

TEST(FdTest, FallocateReservesAndGrows) {
  TempPath path("falloc");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(Fallocate(fd->get(), 100, 5000).ok());
  EXPECT_EQ(*FileSize(fd->get()), 5100u);
  char c = 1;
  ASSERT_TRUE(PReadExact(fd->get(), &c, 1, 5099).ok());
  EXPECT_EQ(c, 0);
  Pipe pipe;  // not a file: a clear error
  absl::Status st = Fallocate(pipe.write_end.get(), 0, 10);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("fallocate"));
}

TEST(FdTest, CreateExclusiveModeIgnoresUmask) {
  for (mode_t mask : {mode_t{077}, mode_t{0}, mode_t{022}}) {
    for (mode_t mode : {mode_t{0644}, mode_t{0600}, mode_t{0755}, mode_t{0}}) {
      UmaskGuard guard(mask);
      TempPath path("mode");
      auto fd = CreateExclusive(path.path(), mode);
      ASSERT_TRUE(fd.ok()) << fd.status();
      EXPECT_EQ(ModeOf(path.path()), mode) << "umask 0" << std::oct << mask;
    }
  }
}

TEST(FdTest, CreateExclusiveRejectsBadMode) {
  TempPath path("badmode");
  auto fd = CreateExclusive(path.path(), 010644);
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fd.status().message(), HasSubstr(path.path()));
  EXPECT_NE(::access(path.path().c_str(), F_OK), 0);
}

TEST(FdTest, CreateExclusiveKeepsExistingFile) {
  TempPath path("exists");
  ASSERT_TRUE(WriteFile(path.path(), "keep"));
  auto fd = CreateExclusive(path.path(), 0600);
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(fd.status().message(), HasSubstr("open " + path.path()));
  EXPECT_EQ(StatusErrno(fd.status()), EEXIST);
  auto rd = OpenRead(path.path());
  ASSERT_TRUE(rd.ok());
  char buf[8];
  auto n = ReadAtLeast(rd->get(), buf, 0, sizeof(buf));
  EXPECT_EQ(std::string(buf, *n), "keep");
}

TEST(FdTest, CreateExclusiveUnderANonDirectory) {
  TempPath file("notdir");
  ASSERT_TRUE(WriteFile(file.path(), "x"));
  const std::string path = file.path() + "/child";
  auto fd = CreateExclusive(path, 0600);
  EXPECT_EQ(StatusErrno(fd.status()), ENOTDIR) << fd.status();
  EXPECT_THAT(fd.status().message(), HasSubstr(path));
}

TEST(FdTest, CreateExclusiveInReadOnlyDirectory) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: directory permissions are not enforced";
  }
  TempPath dir("rodir");
  ASSERT_EQ(::mkdir(dir.path().c_str(), 0500), 0);
  const std::string path = dir.path() + "/child";
  auto fd = CreateExclusive(path, 0600);
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(fd.status().message(), HasSubstr(path));
  ::rmdir(dir.path().c_str());
}

TEST(FdTest, OpenMissingFile) {
  TempPath path("missing");
  auto fd = OpenRead(path.path());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(fd.status().message(), HasSubstr("open " + path.path()));
  EXPECT_FALSE(IsEndOfFile(fd.status()));
  fd = OpenReadWrite(path.path());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound);
}

TEST(FdTest, WriteToFullDevice) {
  auto fd = OpenReadWrite("/dev/full");
  if (!fd.ok()) GTEST_SKIP() << "no /dev/full here: " << fd.status();
  char buf[100] = {};
  absl::Status s = WriteExact(fd->get(), buf, sizeof(buf));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(StatusErrno(s), ENOSPC);
  EXPECT_THAT(s.message(), HasSubstr("write " + FdName(fd->get())));
}

TEST(FdTest, WriteToReadOnlyDescriptor) {
  TempPath path("rdonly");
  ASSERT_TRUE(WriteFile(path.path(), "x"));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  absl::Status s = WriteExact(fd->get(), "y", 1);
  EXPECT_EQ(StatusErrno(s), EBADF) << s;
  EXPECT_THAT(s.message(), HasSubstr("write " + FdName(fd->get())));
  s = PWriteExact(fd->get(), "y", 1, 0);
  EXPECT_THAT(s.message(), HasSubstr("pwrite " + FdName(fd->get())));
}

// --- Fd ownership ----------------------------------------------------------

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(FdTest, OwnershipAndMove) {
  Pipe pipe;
  int raw = pipe.read_end.get();
  {
    Fd moved = std::move(pipe.read_end);
    EXPECT_FALSE(pipe.read_end.valid());
    EXPECT_EQ(moved.get(), raw);
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));  // closed by the destructor

  int w = pipe.write_end.release();
  EXPECT_FALSE(pipe.write_end.valid());
  EXPECT_TRUE(IsOpen(w));
  Fd again(w);
  EXPECT_TRUE(again.Close().ok());
  EXPECT_FALSE(again.valid());
  EXPECT_FALSE(IsOpen(w));
  EXPECT_TRUE(again.Close().ok());  // empty: nothing to do
}

TEST(FdTest, CloseReportsErrors) {
  Pipe pipe;
  int raw = pipe.read_end.get();
  ASSERT_EQ(::close(raw), 0);  // closed behind the owner's back
  absl::Status s = pipe.read_end.Close();
  EXPECT_EQ(StatusErrno(s), EBADF);
  EXPECT_THAT(s.message(), HasSubstr("close " + FdName(raw)));
}

}  // namespace
}  // namespace wk::io
