// Checkpoint/restore entry points: argument checks, file handling, locking,
// style detection; plus the pieces every style shares.
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/svw.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace internal {
namespace {

constexpr char kResetPayload[] = "wkspkit/wksp-reset";

// The v1 magic as the 9-byte SVW it always is.
constexpr uint8_t kV1Magic[svw::kMaxWidth] = {0x1f, 0x59, 0x1c, 0x73, 0xc3,
                                              0xa2, 0xed, 0x17, 0xff};

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "?";
  return buf;
}

std::string UserName() {
  struct passwd pw, *result = nullptr;
  char buf[1024];
  if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &result) == 0 && result) {
    return result->pw_name;
  }
  return absl::StrFormat("%d", getuid());
}

std::string ThreadName() {
  char buf[32] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return "?";
  return buf;
}

}  // namespace

format::Info MakeInfo(const std::string& path, mode_t mode,
                      const std::string& uinfo) {
  format::Info info;
  int cpu = sched_getcpu();
  info.mode = mode;
  info.wallclock = WallclockNs();
  info.app_id = 0;
  info.thread_id = 0;
  info.host_id = static_cast<uint64_t>(gethostid()) & 0xFFFFFFFFULL;
  info.cpu_id = cpu < 0 ? 0 : static_cast<uint64_t>(cpu);
  info.group_id = static_cast<uint64_t>(getpid());
  info.tid = static_cast<uint64_t>(syscall(SYS_gettid));
  info.user_id = getuid();
  info.app = program_invocation_short_name;
  info.thread = ThreadName();
  info.host = Hostname();
  info.cpu = absl::StrFormat("%d", cpu);
  info.group = program_invocation_short_name;
  info.user = UserName();
  info.path = path;
  info.binfo =
      absl::StrFormat("wkspkit checkpoint writer\ncompiler %s\n", __VERSION__);
  info.uinfo = uinfo;
  return info;
}

size_t ResolveThreads(size_t threads) {
  return threads ? threads : ThreadPool::HardwareConcurrency();
}

absl::Status WorkspaceReset(const absl::Status& cause) {
  absl::Status st = WithMessage(
      cause,
      absl::StrFormat("%s; the workspace was reset to empty", cause.message()));
  st.SetPayload(kResetPayload, absl::Cord("1"));
  return st;
}

void RestoreTarget::Begin() {
  if (touched_) return;
  wksp::ClearForRestoreLocked(wksp_);
  touched_ = true;
}

absl::Status RestoreTarget::Place(uint64_t slot, const format::Alloc& a) {
  return wksp::SetPartitionLocked(wksp_, slot, a.lo, a.hi, a.tag);
}

absl::Status RestoreTarget::Finish() {
  absl::Status st = wksp::RebuildLocked(wksp_, seed_);
  if (!st.ok()) [[unlikely]] {
    wksp::ResetLocked(wksp_, seed_);
    return WorkspaceReset(
        Annotate(st, "restored allocations do not form a valid workspace"));
  }
  return absl::OkStatus();
}

absl::Status RestoreTarget::Fail(const absl::Status& cause) {
  if (!touched_) return cause;
  wksp::ResetLocked(wksp_, seed_);
  return WorkspaceReset(cause);
}

}  // namespace internal

namespace {

absl::Status CheckOptions(const CheckptOptions& options) {
  if (!StyleIsSupported(options.style)) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint style %d not supported (0 default, 1 v1, 2 v2, 3 v3)",
        options.style));
  }
  if (options.mode & ~mode_t{07777}) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad file mode 0%o", options.mode));
  }
  return absl::OkStatus();
}

absl::Status LockAndCheckpt(wksp::Wksp& wksp, int fd, bool seekable,
                            const std::string& path,
                            const CheckptOptions& options) {
  if (wksp.read_only()) [[unlikely]] {
    // Reading is all a checkpoint does, but the lock word needs a write.
    return absl::FailedPreconditionError(
        "checkpoint needs a read-write join of the workspace");
  }
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
  WK_ASSIGN_OR_RETURN(std::vector<wksp::PartitionInfo> parts,
                      wksp::UsedPartitionsLocked(wksp));
  std::vector<format::Alloc> allocs;
  allocs.reserve(parts.size());
  for (const auto& p : parts) allocs.push_back({p.lo, p.hi, p.tag});
  format::Info info = internal::MakeInfo(path, options.mode, options.uinfo);
  if (options.style == format::kStyleV1) {
    return internal::WriteV1(wksp, allocs, info, fd, options);
  }
  return internal::WriteV2(wksp, allocs, info, fd, seekable, options);
}

bool IsRegularFile(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

absl::Status LockAndRestore(wksp::Wksp& wksp, int fd, bool mappable,
                            const RestoreOptions& options) {
  if (wksp.read_only()) [[unlikely]] {
    return absl::FailedPreconditionError(
        "restore needs a read-write join of the workspace");
  }
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
  const bool seekable = IsRegularFile(fd);
  // The first byte tells the styles apart (v1's magic starts 1f, v2's 91).
  uint8_t head[format::kHeaderSz];
  absl::Status st = io::ReadExact(fd, head, 1);
  if (st.ok() && head[0] == internal::kV1Magic[0]) {
    st = io::ReadExact(fd, head + 1, svw::kMaxWidth - 1);
    if (st.ok() && std::memcmp(head, internal::kV1Magic, svw::kMaxWidth) != 0) {
      return absl::DataLossError("not a workspace checkpoint (bad v1 magic)");
    }
    if (st.ok()) return internal::RestoreV1(wksp, fd, seekable, options);
  } else if (st.ok() && head[0] == 0x91) {
    st = io::ReadExact(fd, head + 1, format::kHeaderSz - 1);
    if (st.ok()) {
      format::Header h;
      WK_RETURN_IF_ERROR(format::DecodeHeader(head, &h));
      if (mappable) return internal::RestoreV2File(wksp, fd, options);
      return internal::RestoreV2Stream(wksp, fd, head, options);
    }
  } else if (st.ok()) {
    return absl::DataLossError(
        "not a workspace checkpoint (unknown first byte)");
  }
  if (io::IsEndOfFile(st)) {
    return absl::DataLossError(
        "not a workspace checkpoint (too short for a header)");
  }
  return st;
}

}  // namespace

bool StyleIsSupported(int style) { return style >= 0 && style <= 3; }

bool IsWorkspaceReset(const absl::Status& status) {
  return status.GetPayload(internal::kResetPayload).has_value();
}

absl::Status Checkpt(wksp::Wksp& wksp, const std::string& path,
                     const CheckptOptions& options) {
  WK_RETURN_IF_ERROR(CheckOptions(options));
  absl::StatusOr<io::Fd> fd = io::CreateExclusive(path, options.mode);
  if (!fd.ok()) [[unlikely]]
    return Annotate(fd.status(), "checkpt");
  absl::Status st = LockAndCheckpt(wksp, fd->get(), true, path, options);
  if (st.ok()) st = fd->Close();
  if (!st.ok()) [[unlikely]] {
    fd->reset();
    ::unlink(path.c_str());  // never leave a partial file behind
    return Annotate(st, absl::StrFormat("checkpt %s", path));
  }
  return absl::OkStatus();
}

absl::Status CheckptFd(wksp::Wksp& wksp, int fd,
                       const CheckptOptions& options) {
  WK_RETURN_IF_ERROR(CheckOptions(options));
  absl::Status st = LockAndCheckpt(wksp, fd, IsRegularFile(fd),
                                   absl::StrFormat("fd:%d", fd), options);
  return Annotate(st, absl::StrFormat("checkpt to fd %d", fd));
}

absl::Status Restore(wksp::Wksp& wksp, const std::string& path,
                     const RestoreOptions& options) {
  absl::StatusOr<io::Fd> fd = io::OpenRead(path);
  if (!fd.ok()) [[unlikely]]
    return Annotate(fd.status(), "restore");
  return Annotate(
      LockAndRestore(wksp, fd->get(), IsRegularFile(fd->get()), options),
      absl::StrFormat("restore %s", path));
}

absl::Status RestoreFd(wksp::Wksp& wksp, int fd,
                       const RestoreOptions& options) {
  // A regular file read from its start can be mapped (parallel restore).
  absl::StatusOr<uint64_t> pos = io::Seek(fd, 0, io::Whence::kCur);
  bool mappable = IsRegularFile(fd) && pos.ok() && *pos == 0;
  return Annotate(LockAndRestore(wksp, fd, mappable, options),
                  absl::StrFormat("restore from fd %d", fd));
}

}  // namespace wk::wksp_checkpt
