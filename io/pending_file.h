// A new file that appears at its path only complete (atomic publication).
//
// PendingFile::Create opens a file in the directory of `path` that has no
// name there: an O_TMPFILE inode, where the file system and /proc allow it,
// else a named temporary ".<base>.<tag>.<pid>.<n>" (TempName) created
// O_EXCL beside it. The caller writes through fd(); Publish() then gives the
// file its name in one step that never replaces an existing file (linkat of
// the unnamed inode, or renameat2(RENAME_NOREPLACE) / link+unlink of the
// temporary): a process killed at any instant leaves nothing at `path` or
// the complete file. A killed process leaves nothing else either with
// O_TMPFILE; with a named temporary it leaves that temporary, recognisable by
// its name. The destructor of an unpublished PendingFile removes the
// temporary (a cancelled or failed write).
//
// Durability: Publish(Durability::kSync) fsyncs the file before naming it and
// its directory after, so a published file survives a crash of the machine;
// kNone leaves that to the kernel's writeback.
#ifndef WKSPKIT_IO_PENDING_FILE_H_
#define WKSPKIT_IO_PENDING_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/fd.h"

namespace wk::io {

enum class Durability { kNone, kSync };

// How the file waits for publication; kAuto picks kUnnamed when available.
enum class PendingKind { kAuto, kUnnamed, kNamed };

class PendingFile {
 public:
  // Fails with AlreadyExists when `path` exists (nothing is created then);
  // the file gets permission bits exactly `mode` whatever the umask. `tag`
  // names a temporary (letters, digits, '-'), e.g. "wkspckpt-tmp".
  static absl::StatusOr<PendingFile> Create(
      const std::string& path, mode_t mode, std::string_view tag,
      PendingKind kind = PendingKind::kAuto);

  PendingFile(PendingFile&& other) noexcept;
  PendingFile& operator=(PendingFile&&) = delete;
  PendingFile(const PendingFile&) = delete;
  ~PendingFile();

  int fd() const { return fd_.get(); }
  // kUnnamed or kNamed.
  PendingKind kind() const { return kind_; }
  // The temporary's path (kNamed), else empty.
  const std::string& temp_path() const { return temp_; }

  // Names the file `path` and closes it. AlreadyExists when something took
  // the name meanwhile (that file is left alone, ours is removed); a pending
  // cancellation (util/cancel.h) fails it before anything is named. After a
  // failure the object holds nothing. Call at most once.
  absl::Status Publish(Durability durability);

 private:
  PendingFile(std::string path, Fd fd, PendingKind kind, std::string temp)
      : path_(std::move(path)),
        fd_(std::move(fd)),
        kind_(kind),
        temp_(std::move(temp)) {}
  void Discard();

  std::string path_;
  Fd fd_;
  PendingKind kind_;
  std::string temp_;
};

// The name a named temporary of `path` gets: ".<base>.<tag>.<pid>.<n>" in
// path's directory.
std::string TempName(const std::string& path, std::string_view tag, pid_t pid,
                     uint64_t n);

}  // namespace wk::io

#endif  // WKSPKIT_IO_PENDING_FILE_H_
