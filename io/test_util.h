// Test helpers for io and its users (testonly): unique paths under
// TEST_TMPDIR that are removed when the guard goes away, pipes owned as two
// Fds, and waiting until a thread is blocked in a system call. Nothing here
// is meant for production code.
#ifndef WKSPKIT_IO_TEST_UTIL_H_
#define WKSPKIT_IO_TEST_UTIL_H_

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "io/fd.h"

namespace wk::io::testing {

// A path under $TEST_TMPDIR (or /tmp) unique within the process; the file it
// names (if any) is unlinked on destruction. Creates nothing itself.
class TempPath {
 public:
  explicit TempPath(std::string_view stem);
  ~TempPath();
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Both ends of a pipe(2) (O_CLOEXEC). Aborts the test binary if pipe fails.
struct Pipe {
  Pipe();
  Fd read_end;
  Fd write_end;
};

// Writes `contents` to a new file at `path` (mode 0600); returns false on
// failure.
bool WriteFile(const std::string& path, std::string_view contents);

// Byte i of the deterministic test pattern (not a multiple of 256 in period,
// so shifted copies differ).
inline unsigned char PatternByte(uint64_t i) {
  return static_cast<unsigned char>((i * 131 + (i >> 9)) % 251);
}
std::string Pattern(size_t n, uint64_t start = 0);

// Odd piece sizes, so reads and writes rarely line up.
inline constexpr size_t kOddPieces[] = {1, 7, 333, 4093, 2, 65537, 13, 1021};

// Writes `data` to `fd` in kOddPieces-sized pieces, pausing now and then so a
// reader sees partial data, then closes fd. Returns the first error (the
// caller compares what arrived anyway). Meant to run on its own thread.
absl::Status WriteSlowly(Fd fd, const std::string& data);

// The system call thread `tid` of this process is blocked in, from
// /proc/self/task/<tid>/syscall, or -1 when it is running.
long BlockedSyscall(pid_t tid);

// Waits (10 s at most) until thread `tid` of this process sits in one of the
// system calls `nrs`; false if it never did. The observable way for a test
// to know a thread is blocked, instead of sleeping and hoping.
bool WaitBlockedIn(pid_t tid, std::initializer_list<long> nrs);

}  // namespace wk::io::testing

#endif  // WKSPKIT_IO_TEST_UTIL_H_
