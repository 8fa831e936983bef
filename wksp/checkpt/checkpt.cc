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
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace internal {

size_t ResolveThreads(size_t threads) {
  return threads ? threads : ThreadPool::HardwareConcurrency();
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
                            const CheckptOptions& options) {
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
  return internal::WriteV2(wksp, allocs, info, fd, seekable, options);
}

absl::Status NotCheckpt(std::string_view why) {
  return absl::DataLossError(
      absl::StrFormat("not a workspace checkpoint (%s)", why));
}

// The first byte tells the styles apart: v1 files start with the SVW of the
// magic, v2 files with its first little-endian byte.
absl::Status LockAndRestore(wksp::Wksp& wksp, int fd, bool mappable,
                            const RestoreOptions& options) {
  if (wksp.read_only()) [[unlikely]] {
    return absl::FailedPreconditionError(
        "restore needs a read-write join of the workspace");
  }
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
  const auto v1_magic = internal::V1Magic();
  constexpr uint8_t kV2First = static_cast<uint8_t>(format::kMagic);
  uint8_t head[std::max(format::kHeaderSz, svw::kMaxWidth)];
  absl::Status st = io::ReadExact(fd, head, 1);
  if (st.ok() && head[0] == v1_magic[0]) {
    st = io::ReadExact(fd, head + 1, v1_magic.size() - 1);
    if (st.ok() && std::memcmp(head, v1_magic.data(), v1_magic.size()) != 0) {
      return NotCheckpt("bad v1 magic");
    }
    if (st.ok()) {
      return internal::RestoreV1(wksp, fd, io::IsRegularFile(fd), options);
    }
  } else if (st.ok() && head[0] == kV2First) {
    st = io::ReadExact(fd, head + 1, format::kHeaderSz - 1);
    if (st.ok()) {
      const std::span<const uint8_t> header(head, format::kHeaderSz);
      format::Header h;
      WK_RETURN_IF_ERROR(format::DecodeHeader(header, &h));
      if (mappable) return internal::RestoreV2File(wksp, fd, options);
      return internal::RestoreV2Stream(wksp, fd, h, header, options);
    }
  } else if (st.ok()) {
    return NotCheckpt("unknown first byte");
  }
  if (io::IsEndOfFile(st)) return NotCheckpt("too short for a header");
  return st;
}

}  // namespace

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
  absl::StatusOr<io::PendingFile> file =
      io::PendingFile::Create(path, options.mode, kCheckptTempTag);
  if (!file.ok()) [[unlikely]]
    return Annotate(file.status(), "checkpt");
  absl::Status st = LockAndCheckpt(wksp, file->fd(), true, path, options);
  // After the lock is released: syncing need not hold up the workspace.
  if (st.ok()) {
    st = file->Publish(options.durable ? io::Durability::kSync
                                       : io::Durability::kNone);
  }
  if (!st.ok()) [[unlikely]] {
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
