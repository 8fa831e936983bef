#include "io/test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"

namespace wk::io::testing {

long BlockedSyscall(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  if (!(in >> first) || first == "running") return -1;
  try {
    return std::stol(first);
  } catch (...) {
    return -1;
  }
}

bool WaitBlockedIn(pid_t tid, std::initializer_list<long> nrs) {
  for (int i = 0; i < 20'000; ++i) {
    long nr = BlockedSyscall(tid);
    if (std::find(nrs.begin(), nrs.end(), nr) != nrs.end()) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return false;
}

TempPath::TempPath(std::string_view stem) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  path_ = absl::StrFormat("%s/%s.%d.%d", dir && *dir ? dir : "/tmp", stem,
                          static_cast<int>(::getpid()), counter.fetch_add(1));
}

TempPath::~TempPath() { ::unlink(path_.c_str()); }

Pipe::Pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    std::abort();
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
}

bool WriteFile(const std::string& path, std::string_view contents) {
  auto fd = CreateExclusive(path, 0600);
  if (!fd.ok()) return false;
  return WriteExact(fd->get(), contents.data(), contents.size()).ok() &&
         fd->Close().ok();
}

std::string Pattern(size_t n, uint64_t start) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(PatternByte(start + i));
  return s;
}

absl::Status WriteSlowly(Fd fd, const std::string& data) {
  size_t off = 0;
  for (int i = 0; off < data.size(); ++i) {
    size_t n =
        std::min(kOddPieces[i % std::size(kOddPieces)], data.size() - off);
    absl::Status s = WriteExact(fd.get(), data.data() + off, n);
    if (!s.ok()) return s;
    off += n;
    if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return fd.Close();
}

}  // namespace wk::io::testing
