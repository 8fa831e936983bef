// File descriptors: an RAII owner and exact, EINTR-safe reads, writes and
// seeks. Every error names the operation, the descriptor or path, and the
// errno text (see util/status.h). Reaching end of file before the requested
// byte count is its own error class: IsEndOfFile(status) is true for it and
// for nothing else this package returns.
//
// Cancellation (util/cancel.h): once a signal handler requested it, every
// read, write and fsync here fails with Cancelled before its system call, and
// a call that EINTR interrupted does not resume. Test faults (util/fault.h)
// are injected at the same points.
//
// Functions taking `int fd` do not own it. On failure, a read or write may
// have transferred part of the data (the file position moved accordingly);
// callers that need all-or-nothing must handle it themselves.
#ifndef WKSPKIT_IO_FD_H_
#define WKSPKIT_IO_FD_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wk::io {

// Owns one descriptor; closes it on destruction (errors ignored: call Close()
// to see them). Move-only. -1 means "none".
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing; returns the descriptor.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the owned descriptor (if any) and takes `fd`.
  void reset(int fd = -1);
  // Closes now and reports the result; the object is empty afterwards.
  absl::Status Close();

 private:
  int fd_ = -1;
};

// Opens an existing file read-only / read-write (O_CLOEXEC).
absl::StatusOr<Fd> OpenRead(const std::string& path);
absl::StatusOr<Fd> OpenReadWrite(const std::string& path);

// Creates `path` read-write with O_CREAT|O_EXCL (fails with AlreadyExists if
// it exists) and permission bits exactly `mode` whatever the process umask.
// On failure nothing is left behind.
absl::StatusOr<Fd> CreateExclusive(const std::string& path, mode_t mode);

// Reads exactly n bytes. End of file first: IsEndOfFile error.
absl::Status ReadExact(int fd, void* buf, size_t n);

// Reads at least `min` and at most `max` bytes (min <= max), in as many
// read(2) calls as needed to reach min; returns the count. End of file before
// min: IsEndOfFile error. min == 0 makes one read(2) call (0 means EOF).
absl::StatusOr<size_t> ReadAtLeast(int fd, void* buf, size_t min, size_t max);

// Writes exactly n bytes (a full disk is ResourceExhausted).
absl::Status WriteExact(int fd, const void* buf, size_t n);

// Positional variants: the file position is not used or moved.
absl::Status PReadExact(int fd, void* buf, size_t n, uint64_t offset);
absl::Status PWriteExact(int fd, const void* buf, size_t n, uint64_t offset);

// Gather/scatter variants: the buffers in order, as one run of bytes, in as
// few system calls as the kernel allows (one when it takes them all). The
// iovec entries themselves are left as they were.
absl::Status WritevExact(int fd, std::span<const iovec> iov);
absl::Status PReadvExact(int fd, std::span<const iovec> iov, uint64_t offset);

absl::Status Fsync(int fd);

// Reserves disk blocks for [offset, offset + len) of the file behind fd
// (fallocate mode 0: the file grows to cover the range, new bytes read as
// zeros), so a full disk fails now (ResourceExhausted) rather than at a later
// write. A file system that cannot reserve (EOPNOTSUPP, ENOSYS) is left alone
// and OK is returned: writes work there all the same.
absl::Status Fallocate(int fd, uint64_t offset, uint64_t len);

enum class Whence { kSet, kCur, kEnd };

// Moves the file position; returns the new absolute offset. An unseekable
// descriptor (pipe, socket, tty) gives FailedPrecondition "not seekable".
absl::StatusOr<uint64_t> Seek(int fd, int64_t offset, Whence whence);

// True when lseek works on fd (regular files, block devices).
bool IsSeekable(int fd);

// True when fd is a regular file (not a pipe, socket, terminal or device).
bool IsRegularFile(int fd);

// Size of the file behind fd (fstat). Not a regular file or block device:
// FailedPrecondition.
absl::StatusOr<uint64_t> FileSize(int fd);

// Error for "end of file after got of want bytes" on `what` (e.g. "fd 3").
absl::Status EndOfFileError(std::string_view what, uint64_t got, uint64_t want);
bool IsEndOfFile(const absl::Status& status);

// "stdin", "stdout", "stderr" or "fd N", used in error messages.
std::string FdName(int fd);

}  // namespace wk::io

#endif  // WKSPKIT_IO_FD_H_
