#include "io/fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_format.h"
#include "util/cancel.h"
#include "util/fault.h"
#include "util/status.h"

namespace wk::io {
namespace {

// Marks end-of-file errors so IsEndOfFile does not depend on message text.
constexpr char kEofPayload[] = "wkspkit/eof";

// `mode` matters only with O_CREAT, but must then be passed: open(2) reads
// the third argument regardless, and fortified glibc aborts without it.
absl::StatusOr<Fd> OpenFlags(const std::string& path, int flags,
                             mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) [[unlikely]]
    return ErrnoError(errno, "open", path);
  return Fd(fd);
}

// What every read/write/sync system call of this file is preceded by: a
// fault injected by a test (WKSP_FAULT_AT), then a pending cancellation
// (util/cancel.h), so a signal handler's request fails the next call.
absl::Status BeforeCall(FaultEvent event, const char* op, int fd) {
  if (int err = FaultPoint(event); err != 0) [[unlikely]]
    return ErrnoError(err, op, FdName(fd));
  return CheckCancel();
}

}  // namespace

std::string FdName(int fd) {
  // An operator knows the standard streams by name, not number.
  switch (fd) {
    case 0:
      return "stdin";
    case 1:
      return "stdout";
    case 2:
      return "stderr";
    default:
      return absl::StrFormat("fd %d", fd);
  }
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);  // Linux frees the descriptor even on EINTR
  fd_ = fd;
}

absl::Status Fd::Close() {
  if (fd_ < 0) return absl::OkStatus();
  int fd = release();
  if (::close(fd) != 0 && errno != EINTR) [[unlikely]] {
    return ErrnoError(errno, "close", FdName(fd));
  }
  return absl::OkStatus();
}

absl::StatusOr<Fd> OpenRead(const std::string& path) {
  return OpenFlags(path, O_RDONLY);
}

absl::StatusOr<Fd> OpenReadWrite(const std::string& path) {
  return OpenFlags(path, O_RDWR);
}

absl::StatusOr<Fd> CreateExclusive(const std::string& path, mode_t mode) {
  if (mode & ~mode_t{07777}) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("create %s: bad mode 0%o", path, mode));
  }
  WK_ASSIGN_OR_RETURN(Fd fd,
                      OpenFlags(path, O_RDWR | O_CREAT | O_EXCL, mode & 0777));
  // open(2) applies the umask; fchmod gives the exact bits asked for.
  if (::fchmod(fd.get(), mode) != 0) [[unlikely]] {
    absl::Status status = ErrnoError(errno, "fchmod", path);
    fd.reset();
    ::unlink(path.c_str());
    return status;
  }
  return fd;
}

absl::Status EndOfFileError(std::string_view what, uint64_t got,
                            uint64_t want) {
  absl::Status status = absl::OutOfRangeError(absl::StrFormat(
      "read %s: unexpected end of file after %u of %u bytes", what, got, want));
  status.SetPayload(kEofPayload, absl::Cord("1"));
  return status;
}

bool IsEndOfFile(const absl::Status& status) {
  return status.GetPayload(kEofPayload).has_value();
}

absl::StatusOr<size_t> ReadAtLeast(int fd, void* buf, size_t min, size_t max) {
  if (min > max) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("read %s: min %u > max %u", FdName(fd), min, max));
  }
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  // A plain loop rather than do/while: `continue` after EINTR must retry the
  // read even when min == 0 (a do/while would test got < min and return 0,
  // which the caller would take for end of file).
  for (;;) {
    WK_RETURN_IF_ERROR(BeforeCall(FaultEvent::kRead, "read", fd));
    ssize_t r = ::read(fd, p + got, max - got);
    if (r > 0) {
      got += static_cast<size_t>(r);
      if (got >= min) return got;
      continue;
    }
    if (r == 0) {
      if (got < min) [[unlikely]]
        return EndOfFileError(FdName(fd), got, min);
      return got;
    }
    if (errno == EINTR) continue;
    return ErrnoError(errno, "read", FdName(fd));
  }
}

absl::Status ReadExact(int fd, void* buf, size_t n) {
  if (n == 0) return absl::OkStatus();
  auto got = ReadAtLeast(fd, buf, n, n);
  return got.status();
}

absl::Status WriteExact(int fd, const void* buf, size_t n) {
  const auto* p = static_cast<const char*>(buf);
  while (n) {
    WK_RETURN_IF_ERROR(BeforeCall(FaultEvent::kWrite, "write", fd));
    ssize_t w = ::write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    // write(2) returning 0 for n > 0 is not expected; treat it as no space.
    return ErrnoError(w < 0 ? errno : ENOSPC, "write", FdName(fd));
  }
  return absl::OkStatus();
}

absl::Status PReadExact(int fd, void* buf, size_t n, uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    WK_RETURN_IF_ERROR(BeforeCall(FaultEvent::kRead, "pread", fd));
    ssize_t r = ::pread(fd, p + got, n - got, static_cast<off_t>(offset + got));
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) [[unlikely]]
      return EndOfFileError(FdName(fd), got, n);
    if (errno == EINTR) continue;
    return ErrnoError(errno, "pread", FdName(fd));
  }
  return absl::OkStatus();
}

absl::Status PWriteExact(int fd, const void* buf, size_t n, uint64_t offset) {
  const auto* p = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < n) {
    WK_RETURN_IF_ERROR(BeforeCall(FaultEvent::kWrite, "pwrite", fd));
    ssize_t w =
        ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (w > 0) {
      done += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    return ErrnoError(w < 0 ? errno : ENOSPC, "pwrite", FdName(fd));
  }
  return absl::OkStatus();
}

namespace {

// Runs `call` (a readv/writev-shaped system call taking an iovec array and
// the bytes done so far) until all of `iov` has been transferred, resuming
// inside a partly done buffer on a copy of its entry. `on_zero`: the error
// when the call transfers nothing.
template <typename Call, typename OnZero>
absl::Status TransferV(std::span<const iovec> iov, FaultEvent event,
                       const char* op, int fd, Call call, OnZero on_zero) {
  size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  // At most IOV_MAX entries per call.
  constexpr size_t kMax = 1024;
  iovec local[kMax];
  size_t i = 0, skip = 0, done = 0;  // entry i, skip bytes of it done
  while (i < iov.size()) {
    if (iov[i].iov_len == skip) {
      ++i;
      skip = 0;
      continue;
    }
    WK_RETURN_IF_ERROR(BeforeCall(event, op, fd));
    const size_t n = std::min(kMax, iov.size() - i);
    for (size_t j = 0; j < n; ++j) local[j] = iov[i + j];
    local[0].iov_base = static_cast<char*>(local[0].iov_base) + skip;
    local[0].iov_len -= skip;
    const ssize_t r = call(local, static_cast<int>(n), done);
    if (r > 0) {
      done += static_cast<size_t>(r);
      for (size_t left = static_cast<size_t>(r); left > 0;) {
        const size_t take = std::min(left, iov[i].iov_len - skip);
        skip += take;
        left -= take;
        if (skip == iov[i].iov_len) {
          ++i;
          skip = 0;
        }
      }
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return on_zero(done, total);
    return ErrnoError(errno, op, FdName(fd));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WritevExact(int fd, std::span<const iovec> iov) {
  return TransferV(
      iov, FaultEvent::kWrite, "writev", fd,
      [fd](const iovec* v, int n, size_t) { return ::writev(fd, v, n); },
      [fd](size_t, size_t) {
        return ErrnoError(ENOSPC, "writev", FdName(fd));
      });
}

absl::Status PReadvExact(int fd, std::span<const iovec> iov, uint64_t offset) {
  return TransferV(
      iov, FaultEvent::kRead, "preadv", fd,
      [fd, offset](const iovec* v, int n, size_t done) {
        return ::preadv(fd, v, n, static_cast<off_t>(offset + done));
      },
      [fd](size_t got, size_t want) {
        return EndOfFileError(FdName(fd), got, want);
      });
}

absl::Status Fsync(int fd) {
  WK_RETURN_IF_ERROR(BeforeCall(FaultEvent::kSync, "fsync", fd));
  if (::fsync(fd) != 0) [[unlikely]]
    return ErrnoError(errno, "fsync", FdName(fd));
  return absl::OkStatus();
}

absl::Status Fallocate(int fd, uint64_t offset, uint64_t len) {
  int r;
  do {
    r = ::fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(len));
  } while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EOPNOTSUPP && errno != ENOSYS) [[unlikely]] {
    return ErrnoError(errno, "fallocate", FdName(fd));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Seek(int fd, int64_t offset, Whence whence) {
  int w = whence == Whence::kSet   ? SEEK_SET
          : whence == Whence::kCur ? SEEK_CUR
                                   : SEEK_END;
  off_t r = ::lseek(fd, static_cast<off_t>(offset), w);
  if (r < 0) [[unlikely]] {
    if (errno == ESPIPE) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "seek %s: not seekable (pipe, socket or terminal)", FdName(fd)));
    }
    return ErrnoError(errno, "seek", FdName(fd));
  }
  return static_cast<uint64_t>(r);
}

bool IsSeekable(int fd) { return ::lseek(fd, 0, SEEK_CUR) >= 0; }

bool IsRegularFile(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

absl::StatusOr<uint64_t> FileSize(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) [[unlikely]]
    return ErrnoError(errno, "fstat", FdName(fd));
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    WK_ASSIGN_OR_RETURN(uint64_t cur, Seek(fd, 0, Whence::kCur));
    WK_ASSIGN_OR_RETURN(uint64_t end, Seek(fd, 0, Whence::kEnd));
    WK_RETURN_IF_ERROR(
        Seek(fd, static_cast<int64_t>(cur), Whence::kSet).status());
    return end;
  }
  return absl::FailedPreconditionError(absl::StrFormat(
      "size of %s: not a regular file (no size known)", FdName(fd)));
}

}  // namespace wk::io
