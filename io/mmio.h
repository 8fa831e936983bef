// Memory-mapped files, and anonymous shared memory. A Mapping owns one shared
// mapping (MAP_SHARED: stores through a writable mapping reach the file and
// are seen by read(2)/pread, and by forked children) and unmaps it on
// destruction. It does not keep the descriptor it came from; the descriptor
// may be closed right after mapping.
//
// Only non-empty ranges of regular files are mapped: empty files, pipes,
// sockets and devices give a clear error instead of a mapping that faults.
// A range must lie inside the file when it is mapped. The caveat mapping
// cannot remove: if the file is shrunk later (by anyone), touching pages past
// the new end raises SIGBUS, and a write fault on a sparse page can raise
// SIGBUS when the file system is full (CreateAndMap with Reserve::kAllocate
// avoids the latter).
#ifndef WKSPKIT_IO_MMIO_H_
#define WKSPKIT_IO_MMIO_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wk::io {

// kHugePage: MADV_HUGEPAGE, transparent huge pages for this range where the
// kernel allows them (private anonymous memory when
// /sys/kernel/mm/transparent_hugepage/enabled is "madvise" or "always";
// shared and tmpfs memory per its shmem_enabled and the mount's huge=).
// A kernel without them refuses it: callers treat it as a hint.
enum class Advice {
  kNormal,
  kSequential,
  kRandom,
  kWillNeed,
  kDontNeed,
  kHugePage
};

class Mapping;
namespace internal {
// MapRange with `name` (a path or "fd N") used in error messages.
absl::StatusOr<Mapping> MapNamed(int fd, uint64_t offset, uint64_t size,
                                 bool writable, const std::string& name);
}  // namespace internal

class Mapping {
 public:
  Mapping() = default;  // empty: data() == nullptr, size() == 0
  ~Mapping() { Reset(); }
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  // The requested range: data() is exactly at the requested file offset.
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  bool writable() const { return writable_; }
  bool empty() const { return size_ == 0; }
  // Writable view; empty for a read-only mapping (storing into one would
  // crash the process, so no pointer is handed out).
  std::span<uint8_t> mutable_span() const {
    return writable_ ? std::span<uint8_t>(data_, size_) : std::span<uint8_t>();
  }

  // msync(MS_SYNC) of the whole mapping: stores are in the file (and on the
  // device as far as the file system's msync promises) on success.
  absl::Status Sync() const;
  // madvise over the mapping. kDontNeed on a shared mapping drops cached
  // pages; the data stays in the file.
  absl::Status Advise(Advice advice) const;
  // Unmaps now and reports munmap's result; the object is empty afterwards.
  absl::Status Unmap();
  // Gives back the memory of the whole pages inside [off, off + len)
  // (MADV_DONTNEED; the partial pages at either end stay): a private
  // anonymous mapping reads zeros there afterwards and its memory is freed;
  // a shared file mapping drops cached pages and keeps the data in the file.
  absl::Status Discard(uint64_t off, uint64_t len) const;

 private:
  friend absl::StatusOr<Mapping> internal::MapNamed(int, uint64_t, uint64_t,
                                                    bool, const std::string&);
  friend absl::StatusOr<Mapping> MapAnonymousShared(uint64_t, uint64_t);
  friend absl::StatusOr<Mapping> MapAnonymousPrivate(uint64_t);
  void Reset();

  void* base_ = nullptr;  // page-aligned start handed to munmap
  size_t length_ = 0;     // bytes mapped from base_
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
};

// Maps [offset, offset + size) of the regular file behind fd (shared). Any
// offset is fine: the mapping starts at the page below it and data() points
// at offset. size 0: FailedPrecondition "empty". A range past the file's end:
// OutOfRange. writable needs fd opened read-write (else PermissionDenied).
absl::StatusOr<Mapping> MapRange(int fd, uint64_t offset, uint64_t size,
                                 bool writable);

// The whole file, read-only. Empty file: FailedPrecondition "empty file".
absl::StatusOr<Mapping> MapFileReadOnly(int fd);
absl::StatusOr<Mapping> MapFileReadOnly(const std::string& path);
// The whole existing file, read-write.
absl::StatusOr<Mapping> MapFileReadWrite(const std::string& path);

// Maps `size` bytes (> 0) of zero-filled anonymous memory read-write, shared
// with children forked afterwards. huge_page_size 0 means normal pages;
// otherwise it is a huge page size the kernel supports (2 MiB, 1 GiB), size
// must be a multiple of it, and the pages must be reserved
// (/sys/kernel/mm/hugepages): without them, ENOMEM (ResourceExhausted).
absl::StatusOr<Mapping> MapAnonymousShared(uint64_t size,
                                           uint64_t huge_page_size = 0);

// Maps `size` bytes (> 0) of zero-filled private anonymous memory
// read-write without reserving swap (MAP_NORESERVE): memory is taken only
// as pages are first written, and Discard gives it back, so a region the
// size of a whole file can hold just the parts of it in use.
absl::StatusOr<Mapping> MapAnonymousPrivate(uint64_t size);

enum class Reserve {
  kSparse,    // ftruncate only: fast, blocks allocated as pages are written
  kAllocate,  // fallocate(2): every block allocated (zeroed) now, so a store
              // through the mapping never meets a full file system (SIGBUS).
              // tmpfs and hugetlbfs (huge pages taken from the pool) support
              // it; a file system that does not leaves the file sparse.
};

// Creates `path` (CreateExclusive: must not exist, permission bits exactly
// `mode`), sizes it to `size` bytes (> 0) and maps it read-write. On failure
// the file is removed again. With kAllocate, a file that does not fit fails
// with ResourceExhausted "create PATH: needs N bytes, M bytes free in DIR"
// (at once when the free space is known to be short, before zeroing
// anything); a cancellation request (util/cancel.h) that interrupts the
// allocation gives Cancelled.
//
// `advice` other than kNormal is given to the mapping before any block is
// allocated, so that the allocation can follow it: a tmpfs mounted with
// huge=advise hands out 2 MiB pages only to a range advised kHugePage, and
// pages allocated before (fallocate has no mapping to look at) stay 4 KiB.
// Then kAllocate allocates the blocks by populating the mapping for writing
// (MADV_POPULATE_WRITE; the pages are also mapped in this process), and by
// fallocate(2) where the kernel lacks that: the same guarantee and errors
// either way. The advice itself is a hint; a kernel that refuses it changes
// nothing else.
absl::StatusOr<Mapping> CreateAndMap(const std::string& path, uint64_t size,
                                     mode_t mode,
                                     Reserve reserve = Reserve::kSparse,
                                     Advice advice = Advice::kNormal);

}  // namespace wk::io

#endif  // WKSPKIT_IO_MMIO_H_
