#include "io/pending_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "util/cancel.h"
#include "util/fault.h"
#include "util/status.h"

namespace wk::io {
namespace {

// Tries for a free temporary name before giving up (names collide only with
// leftovers of a killed process that had the same pid).
constexpr int kNameTries = 100;

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// lstat, so that a dangling symlink counts: link(2) would not replace it.
bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

int OpenRetry(const char* path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Permission bits exactly `mode`: open(2) applies the umask.
absl::Status ExactMode(int fd, mode_t mode, const std::string& path) {
  if (::fchmod(fd, mode) != 0) [[unlikely]]
    return ErrnoError(errno, "fchmod", path);
  return absl::OkStatus();
}

std::string ProcFdPath(int fd) {
  return absl::StrFormat("/proc/self/fd/%d", fd);
}

absl::Status SyncDir(const std::string& dir) {
  int fd = OpenRetry(dir.c_str(), O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) [[unlikely]]
    return ErrnoError(errno, "open directory", dir);
  Fd owner(fd);
  return Fsync(owner.get());
}

std::atomic<uint64_t> g_temp_seq{0};

}  // namespace

std::string TempName(const std::string& path, std::string_view tag, pid_t pid,
                     uint64_t n) {
  std::string dir = DirOf(path);
  std::string prefix = path.rfind('/') == std::string::npos ? "" : dir + "/";
  return absl::StrFormat("%s.%s.%s.%d.%u", prefix, BaseOf(path), tag, pid, n);
}

absl::StatusOr<PendingFile> PendingFile::Create(const std::string& path,
                                                mode_t mode,
                                                std::string_view tag,
                                                PendingKind kind) {
  if (mode & ~mode_t{07777}) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("create %s: bad mode 0%o", path, mode));
  }
  if (path.empty() || path.back() == '/') [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("create \"%s\": not a file name", path));
  }
  // Fail now, before any work, rather than only at Publish.
  if (Exists(path)) return ErrnoError(EEXIST, "create", path);
  const std::string dir = DirOf(path);
  // linkat through /proc/self/fd names an O_TMPFILE inode without
  // privileges (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
  if (kind != PendingKind::kNamed && ::access("/proc/self/fd", X_OK) == 0) {
    int fd = OpenRetry(dir.c_str(), O_TMPFILE | O_RDWR, mode & 0777);
    if (fd >= 0) {
      Fd owner(fd);
      WK_RETURN_IF_ERROR(ExactMode(fd, mode, path));
      return PendingFile(path, std::move(owner), PendingKind::kUnnamed, "");
    }
    // EOPNOTSUPP/EISDIR/EINVAL: no O_TMPFILE here; anything else is real.
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
      return ErrnoError(errno, "create in directory", dir);
    }
  }
  if (kind == PendingKind::kUnnamed) {
    return absl::UnimplementedError(absl::StrFormat(
        "create %s: unnamed files (O_TMPFILE) not supported there", path));
  }
  for (int i = 0; i < kNameTries; ++i) {
    std::string temp = TempName(path, tag, ::getpid(), g_temp_seq.fetch_add(1));
    int fd = OpenRetry(temp.c_str(), O_RDWR | O_CREAT | O_EXCL, mode & 0777);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) [[unlikely]]
      return ErrnoError(errno, "create", temp);
    PendingFile file(path, Fd(fd), PendingKind::kNamed, std::move(temp));
    WK_RETURN_IF_ERROR(ExactMode(fd, mode, file.temp_));
    return file;
  }
  return ErrnoError(EEXIST, "create temporary for", path);
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      kind_(other.kind_),
      temp_(std::move(other.temp_)) {
  other.temp_.clear();
}

PendingFile::~PendingFile() { Discard(); }

void PendingFile::Discard() {
  fd_.reset();
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

absl::Status PendingFile::Publish(Durability durability) {
  if (!fd_.valid()) [[unlikely]] {
    return absl::FailedPreconditionError(
        absl::StrFormat("publish %s: nothing to publish", path_));
  }
  absl::Status st;
  if (int err = FaultPoint(FaultEvent::kPublish); err != 0) [[unlikely]]
    st = ErrnoError(err, "publish", path_);
  if (st.ok() && durability == Durability::kSync) st = Fsync(fd_.get());
  // The last moment a cancellation can keep the name free.
  if (st.ok()) st = CheckCancel();
  if (!st.ok()) [[unlikely]] {
    Discard();
    return st;
  }
  int r;
  if (kind_ == PendingKind::kUnnamed) {
    r = ::linkat(AT_FDCWD, ProcFdPath(fd_.get()).c_str(), AT_FDCWD,
                 path_.c_str(), AT_SYMLINK_FOLLOW);
  } else {
    r = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, path_.c_str(),
                    RENAME_NOREPLACE);
    if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
      // No RENAME_NOREPLACE on this file system: link(2) never replaces
      // either; the temporary's name goes after.
      r = ::link(temp_.c_str(), path_.c_str());
      if (r == 0) ::unlink(temp_.c_str());
    }
    if (r == 0) temp_.clear();
  }
  if (r != 0) [[unlikely]] {
    st = ErrnoError(errno, "publish", path_);
    Discard();
    return st;
  }
  (void)FaultPoint(FaultEvent::kPublished);
  st = fd_.Close();
  if (st.ok() && durability == Durability::kSync) st = SyncDir(DirOf(path_));
  if (!st.ok()) [[unlikely]] {
    // Published but not known to be stored: take the name back.
    ::unlink(path_.c_str());
    return Annotate(st, absl::StrFormat("publish %s", path_));
  }
  return absl::OkStatus();
}

}  // namespace wk::io
