// Checkpoint and restore entry points (wksp_checkpt.h): option checks, files
// and descriptors, the lock, and telling the styles apart; plus the style
// numbers.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/pending_file.h"
#include "io/shrink_guard.h"
#include "util/fault.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/sniff.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace internal {

size_t ResolveThreads(size_t threads) {
  return threads ? threads : ThreadPool::HardwareConcurrency();
}

absl::Status FileShrank() {
  return absl::DataLossError(
      "the checkpoint file shrank while it was being read (truncated or "
      "rewritten by another process?); use a file nobody changes meanwhile");
}

bool ShorterThan(int fd, uint64_t scanned) {
  absl::StatusOr<uint64_t> now = io::FileSize(fd);
  return now.ok() && *now < scanned;
}

absl::Status AfterScan() {
  if (int err = FaultPoint(FaultEvent::kScanned); err != 0) [[unlikely]]
    return ErrnoError(err, "read", "checkpoint (injected fault)");
  return absl::OkStatus();
}

checkpt::FrameStyle FrameStyleOf(Style style) {
  return style == Style::kV2 ? checkpt::FrameStyle::kRaw
                             : checkpt::FrameStyle::kLz4;
}

}  // namespace internal

namespace {

absl::Status CheckOptions(const CheckptOptions& options) {
  if (!StyleIsSupported(options.style)) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint style %d not supported (0 default, 1 v1, 2 v2, 3 v3)",
        StyleNumber(options.style)));
  }
  if (options.mode & ~mode_t{07777}) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad file mode 0%o", options.mode));
  }
  return absl::OkStatus();
}

absl::Status LockAndCheckpt(wksp::Wksp& wksp, int fd, bool seekable,
                            const std::string& path,
                            const CheckptOptions& options,
                            internal::ChunkIndex* index = nullptr) {
  if (wksp.read_only()) [[unlikely]] {
    // Reading is all a checkpoint does, but the lock word needs a write.
    return absl::FailedPreconditionError(
        "checkpoint needs a read-write join of the workspace");
  }
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
  WK_ASSIGN_OR_RETURN(std::vector<format::Alloc> allocs,
                      wksp::UsedPartitionsLocked(wksp));
  format::Info info = internal::MakeInfo(path, options);
  if (options.style == Style::kV1) {
    return internal::WriteV1(wksp, allocs, info, fd, options);
  }
  // The index's digests come from the writer's own pass over the bytes.
  std::vector<internal::ChunkDigest> digests;
  if (index) digests.resize(internal::ChunkCount(allocs));
  WK_RETURN_IF_ERROR(
      internal::WriteV2(wksp, allocs, info, fd, seekable, options, digests));
  if (index) {
    index->allocs = std::move(allocs);
    index->digests = std::move(digests);
  }
  return absl::OkStatus();
}

// The sniff (sniff.h) reads the v1 magic or the v2 header from fd and says
// which style it is; the style's restore reads on from there.
absl::Status LockAndRestore(wksp::Wksp& wksp, int fd, bool mappable,
                            const RestoreOptions& options) {
  if (wksp.read_only()) [[unlikely]] {
    return absl::FailedPreconditionError(
        "restore needs a read-write join of the workspace");
  }
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
  return internal::RestoreLocked(wksp, fd, mappable, options);
}

}  // namespace

namespace internal {

absl::Status RestoreLocked(wksp::Wksp& wksp, int fd, bool mappable,
                           const RestoreOptions& options) {
  WK_ASSIGN_OR_RETURN(internal::Sniffed sniffed, internal::SniffFd(fd));
  if (sniffed.style == Style::kV1) {
    return internal::RestoreV1(wksp, fd, io::IsRegularFile(fd), options);
  }
  if (mappable) return internal::RestoreV2File(wksp, fd, sniffed, options);
  return internal::RestoreV2Stream(wksp, fd, sniffed.header,
                                   sniffed.header_bytes, options);
}

}  // namespace internal

void SetSigbusGuard(bool enabled) { io::ShrinkGuard::SetEnabled(enabled); }

bool StyleIsSupported(Style style) {
  return std::find(std::begin(kStyles), std::end(kStyles), style) !=
         std::end(kStyles);
}

std::optional<Style> StyleFromNumber(uint64_t number) {
  for (Style s : kStyles) {
    if (static_cast<uint64_t>(StyleNumber(s)) == number) return s;
  }
  return std::nullopt;
}

int StyleNumber(Style style) { return static_cast<int>(style); }

int StoredStyle(Style style) {
  return style == Style::kV1 ? format::kFileStyleV1 : format::kFileStyleV2;
}

int StoredFrameStyle(Style style) {
  if (style == Style::kV1) return 0;  // no frames
  return static_cast<int>(internal::FrameStyleOf(style));
}

absl::Status Checkpt(wksp::Wksp& wksp, const std::string& path,
                     const CheckptOptions& options) {
  WK_RETURN_IF_ERROR(CheckOptions(options));
  if (!options.base.empty()) return internal::WriteDelta(wksp, path, options);
  absl::StatusOr<io::PendingFile> file =
      io::PendingFile::Create(path, options.mode, kCheckptTempTag);
  if (!file.ok()) [[unlikely]]
    return Annotate(file.status(), "checkpt");
  // Sealed v2/v3 files get their chunk index beside them (§9.2).
  std::optional<internal::ChunkIndex> index;
  if (options.index && options.sealed && options.style != Style::kV1) {
    index.emplace();
  }
  absl::Status st = LockAndCheckpt(wksp, file->fd(), true, path, options,
                                   index ? &*index : nullptr);
  // After the lock is released: syncing need not hold up the workspace.
  // The index sidecar goes first, so a checkpoint at the path has one. Best
  // effort: a base without a usable sidecar is read once instead.
  const bool sidecar =
      st.ok() && index &&
      internal::WriteSidecar(path, file->fd(), *index, options.durable).ok();
  if (st.ok()) {
    st = file->Publish(options.durable ? io::Durability::kSync
                                       : io::Durability::kNone);
  }
  if (!st.ok()) [[unlikely]] {
    if (sidecar) unlink(internal::SidecarPath(path).c_str());
    // The temporary goes with `file`: nothing was created at path.
    return WithMessage(st, absl::StrFormat("checkpt %s: %s; no file was "
                                           "created at %s",
                                           path, st.message(), path));
  }
  return absl::OkStatus();
}

absl::Status CheckptFd(wksp::Wksp& wksp, int fd,
                       const CheckptOptions& options) {
  WK_RETURN_IF_ERROR(CheckOptions(options));
  if (!options.base.empty()) [[unlikely]] {
    return absl::InvalidArgumentError(
        "a delta checkpoint (--base) is written to a path, not a descriptor");
  }
  absl::Status st = LockAndCheckpt(wksp, fd, io::IsRegularFile(fd),
                                   absl::StrFormat("fd:%d", fd), options);
  return Annotate(st, "checkpt to " + io::FdName(fd));
}

absl::Status Restore(wksp::Wksp& wksp, const std::string& path,
                     const RestoreOptions& options) {
  absl::StatusOr<io::Fd> fd = io::OpenRead(path);
  if (!fd.ok()) [[unlikely]]
    return Annotate(fd.status(), "restore");
  return Annotate(
      LockAndRestore(wksp, fd->get(), io::IsRegularFile(fd->get()), options),
      absl::StrFormat("restore %s", path));
}

absl::Status RestoreFd(wksp::Wksp& wksp, int fd,
                       const RestoreOptions& options) {
  // A regular file read from its start can be mapped (parallel restore).
  absl::StatusOr<uint64_t> pos = io::Seek(fd, 0, io::Whence::kCur);
  bool mappable = io::IsRegularFile(fd) && pos.ok() && *pos == 0;
  return Annotate(LockAndRestore(wksp, fd, mappable, options),
                  "restore from " + io::FdName(fd));
}

}  // namespace wk::wksp_checkpt
