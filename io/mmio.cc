#include "io/mmio.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/bits.h"
#include "util/cancel.h"
#include "util/status.h"

namespace wk::io {
namespace {

// Size argument meaning "from offset 0 to the end of the file".
constexpr uint64_t kWholeFile = UINT64_MAX;

uint64_t PageSize() {
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

std::string MappingName(size_t size) {
  return absl::StrFormat("mapping of %u bytes", size);
}

}  // namespace

namespace internal {

absl::StatusOr<Mapping> MapNamed(int fd, uint64_t offset, uint64_t size,
                                 bool writable, const std::string& name) {
  struct stat st;
  if (::fstat(fd, &st) != 0) [[unlikely]]
    return ErrnoError(errno, "fstat", name);
  if (!S_ISREG(st.st_mode)) [[unlikely]] {
    return absl::FailedPreconditionError(
        absl::StrFormat("map %s: not a regular file, cannot map", name));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (size == kWholeFile) size = file_size;
  if (size == 0) [[unlikely]] {
    if (file_size == 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "map %s: empty file (a mapping needs at least one byte)", name));
    }
    return absl::FailedPreconditionError(
        absl::StrFormat("map %s: empty range at offset %u", name, offset));
  }
  uint64_t end;
  if (!AddChecked(offset, size, &end) || end > file_size) [[unlikely]] {
    return absl::OutOfRangeError(absl::StrFormat(
        "map %s: range of %u bytes at offset %u is past the end of the file "
        "(%u bytes)",
        name, size, offset, file_size));
  }
  // mmap wants a page-aligned file offset: map from the page below and point
  // data() at the requested byte. end <= file_size < 2^63, so no overflow.
  const uint64_t base_offset = AlignDown(offset, PageSize());
  const uint64_t delta = offset - base_offset;
  const size_t length = static_cast<size_t>(size + delta);
  const int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* base = ::mmap(nullptr, length, prot, MAP_SHARED, fd,
                      static_cast<off_t>(base_offset));
  if (base == MAP_FAILED) [[unlikely]]
    return ErrnoError(errno, "mmap", name);
  Mapping m;
  m.base_ = base;
  m.length_ = length;
  m.data_ = static_cast<uint8_t*>(base) + delta;
  m.size_ = static_cast<size_t>(size);
  m.writable_ = writable;
  return m;
}

}  // namespace internal

Mapping::Mapping(Mapping&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      writable_(std::exchange(other.writable_, false)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    Reset();
    base_ = std::exchange(other.base_, nullptr);
    length_ = std::exchange(other.length_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    writable_ = std::exchange(other.writable_, false);
  }
  return *this;
}

void Mapping::Reset() {
  if (base_) ::munmap(base_, length_);  // fails only on bad arguments
  base_ = nullptr;
  length_ = 0;
  data_ = nullptr;
  size_ = 0;
  writable_ = false;
}

absl::Status Mapping::Unmap() {
  if (!base_) return absl::OkStatus();
  void* base = base_;
  size_t length = length_;
  size_t size = size_;
  base_ = nullptr;  // empty whatever munmap says
  Reset();
  if (::munmap(base, length) != 0) [[unlikely]] {
    return ErrnoError(errno, "munmap", MappingName(size));
  }
  return absl::OkStatus();
}

absl::Status Mapping::Sync() const {
  if (!base_) return absl::OkStatus();
  if (::msync(base_, length_, MS_SYNC) != 0) [[unlikely]] {
    return ErrnoError(errno, "msync", MappingName(size_));
  }
  return absl::OkStatus();
}

absl::Status Mapping::Advise(Advice advice) const {
  if (!base_) return absl::OkStatus();
  int how = MADV_NORMAL;
  switch (advice) {
    case Advice::kNormal:
      how = MADV_NORMAL;
      break;
    case Advice::kSequential:
      how = MADV_SEQUENTIAL;
      break;
    case Advice::kRandom:
      how = MADV_RANDOM;
      break;
    case Advice::kWillNeed:
      how = MADV_WILLNEED;
      break;
    case Advice::kDontNeed:
      how = MADV_DONTNEED;
      break;
    case Advice::kHugePage:
      how = MADV_HUGEPAGE;
      break;
  }
  if (::madvise(base_, length_, how) != 0) [[unlikely]] {
    return ErrnoError(errno, "madvise", MappingName(size_));
  }
  return absl::OkStatus();
}

absl::StatusOr<Mapping> MapRange(int fd, uint64_t offset, uint64_t size,
                                 bool writable) {
  if (size == kWholeFile) [[unlikely]] {
    // Reserved internally; no file holds 2^64 - 1 bytes anyway.
    return absl::OutOfRangeError(
        absl::StrFormat("map %s: size %u too large", FdName(fd), size));
  }
  return internal::MapNamed(fd, offset, size, writable, FdName(fd));
}

absl::StatusOr<Mapping> MapFileReadOnly(int fd) {
  return internal::MapNamed(fd, 0, kWholeFile, false, FdName(fd));
}

absl::StatusOr<Mapping> MapFileReadOnly(const std::string& path) {
  WK_ASSIGN_OR_RETURN(Fd fd, OpenRead(path));
  return internal::MapNamed(fd.get(), 0, kWholeFile, false, path);
}

absl::StatusOr<Mapping> MapFileReadWrite(const std::string& path) {
  WK_ASSIGN_OR_RETURN(Fd fd, OpenReadWrite(path));
  return internal::MapNamed(fd.get(), 0, kWholeFile, true, path);
}

absl::StatusOr<Mapping> MapAnonymousPrivate(uint64_t size) {
  const std::string name = absl::StrFormat("private anonymous %u bytes", size);
  if (size == 0 || size > static_cast<uint64_t>(INT64_MAX)) [[unlikely]]
    return absl::InvalidArgumentError(
        absl::StrFormat("map %s: bad size", name));
  void* base =
      ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) [[unlikely]]
    return ErrnoError(errno, "mmap", name);
  Mapping m;
  m.base_ = base;
  m.length_ = static_cast<size_t>(size);
  m.data_ = static_cast<uint8_t*>(base);
  m.size_ = static_cast<size_t>(size);
  m.writable_ = true;
  return m;
}

absl::Status Mapping::Discard(uint64_t off, uint64_t len) const {
  if (off > size_ || len > size_ - off) [[unlikely]]
    return absl::OutOfRangeError("discard: range outside the mapping");
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t lo =
      (reinterpret_cast<uintptr_t>(data_) + off + page - 1) & ~(page - 1);
  const uintptr_t hi =
      (reinterpret_cast<uintptr_t>(data_) + off + len) & ~(page - 1);
  if (hi <= lo) return absl::OkStatus();
  if (::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED) != 0)
      [[unlikely]] {
    return ErrnoError(errno, "madvise(MADV_DONTNEED)", "mapping");
  }
  return absl::OkStatus();
}

absl::StatusOr<Mapping> MapAnonymousShared(uint64_t size,
                                           uint64_t huge_page_size) {
  const std::string name =
      huge_page_size == 0
          ? absl::StrFormat("anonymous %u bytes", size)
          : absl::StrFormat("anonymous %u bytes of %u-byte pages", size,
                            huge_page_size);
  if (size == 0 || size > static_cast<uint64_t>(INT64_MAX) ||
      (huge_page_size != 0 &&
       (!IsPow2(huge_page_size) || !IsAligned(size, huge_page_size))))
      [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("map %s: bad size or page size", name));
  }
  int flags = MAP_SHARED | MAP_ANONYMOUS;
  if (huge_page_size != 0) {
    flags |= MAP_HUGETLB | (Log2Floor(huge_page_size) << MAP_HUGE_SHIFT);
  }
  void* base = ::mmap(nullptr, static_cast<size_t>(size),
                      PROT_READ | PROT_WRITE, flags, -1, 0);
  if (base == MAP_FAILED) [[unlikely]]
    return ErrnoError(errno, "mmap", name);
  Mapping m;
  m.base_ = base;
  m.length_ = static_cast<size_t>(size);
  m.data_ = static_cast<uint8_t*>(base);
  m.size_ = static_cast<size_t>(size);
  m.writable_ = true;
  return m;
}

namespace {

// The directory part of `path` ("." for a bare name).
std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Reads one unsigned number from a sysfs file; nullopt if unreadable.
std::optional<uint64_t> ReadSysfsU64(const std::string& path) {
  absl::StatusOr<Fd> fd = OpenRead(path);
  if (!fd.ok()) return std::nullopt;
  char buf[32];
  const ssize_t n = ::read(fd->get(), buf, sizeof(buf) - 1);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  char* end = nullptr;
  const unsigned long long v = std::strtoull(buf, &end, 10);
  if (end == buf) return std::nullopt;
  return static_cast<uint64_t>(v);
}

// Bytes a new file in `dir` can still get, or nullopt when that cannot be
// told. A hugetlbfs mount without a size= limit reports no blocks at all:
// then its page size's pool decides (free pages not yet promised to a
// mapping).
std::optional<uint64_t> FreeBytesIn(const std::string& dir) {
  struct statfs fs;
  if (::statfs(dir.c_str(), &fs) != 0) return std::nullopt;
  const uint64_t bsize = static_cast<uint64_t>(fs.f_bsize);
  constexpr decltype(fs.f_type) kHugetlbfsMagic = 0x958458f6;
  if (fs.f_type == kHugetlbfsMagic && fs.f_blocks == 0) {
    const std::string pool = absl::StrFormat(
        "/sys/kernel/mm/hugepages/hugepages-%ukB/", bsize >> 10);
    std::optional<uint64_t> free = ReadSysfsU64(pool + "free_hugepages");
    std::optional<uint64_t> resv = ReadSysfsU64(pool + "resv_hugepages");
    if (!free || !resv) return std::nullopt;
    return (*free > *resv ? *free - *resv : 0) * bsize;
  }
  return static_cast<uint64_t>(fs.f_bavail) * bsize;
}

// ResourceExhausted for a file of `size` bytes that does not fit in the
// directory of `path`: how much it needs and how much is free there.
absl::Status NoRoom(int err, const std::string& path, uint64_t size,
                    std::optional<uint64_t> free) {
  const std::string have =
      free ? absl::StrFormat("%u bytes free", *free) : "less free";
  char buf[128];
  return absl::Status(
      absl::StatusCode::kResourceExhausted,
      absl::StrFormat("create %s: needs %u bytes, %s in %s (%s)", path, size,
                      have, DirOf(path), strerror_r(err, buf, sizeof(buf))));
}

// Fails fast, before zeroing gigabytes only to give them back, when the
// directory of `path` is known to have less than `size` bytes free: the
// allocation itself still decides when others race us for the space.
absl::Status CheckRoom(const std::string& path, uint64_t size) {
  const std::optional<uint64_t> free = FreeBytesIn(DirOf(path));
  if (free && *free < size) return NoRoom(ENOSPC, path, size, free);
  return absl::OkStatus();
}

absl::Status Truncate(int fd, const std::string& path, uint64_t size) {
  int r;
  do {
    r = ::ftruncate(fd, static_cast<off_t>(size));
  } while (r != 0 && errno == EINTR);
  if (r != 0) return ErrnoError(errno, "ftruncate", path);
  return absl::OkStatus();
}

// Allocates every block of [0, size) of the new file behind `fd` now, so
// stores through a mapping never meet a full file system (SIGBUS).
absl::Status AllocateBlocks(int fd, const std::string& path, uint64_t size) {
  for (;;) {
    if (::fallocate(fd, 0, 0, static_cast<off_t>(size)) == 0) {
      return absl::OkStatus();
    }
    const int err = errno;
    if (err == EINTR) {
      WK_RETURN_IF_ERROR(CheckCancel());
      continue;
    }
    if (err == EOPNOTSUPP) {
      // A file system without fallocate (some network and FUSE ones): the
      // file stays sparse; its blocks come as pages are first written.
      if (::ftruncate(fd, static_cast<off_t>(size)) == 0) {
        return absl::OkStatus();
      }
      return ErrnoError(errno, "ftruncate", path);
    }
    if (err == ENOSPC || err == ENOMEM) {
      return NoRoom(err, path, size, FreeBytesIn(DirOf(path)));
    }
    return ErrnoError(err, "fallocate", path);
  }
}

#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14+; older libc headers
#endif

// AllocateBlocks through the mapping `m` of the whole new file behind `fd`:
// its pages are allocated as a write fault would, so they follow the
// mapping's advice. Where the kernel lacks MADV_POPULATE_WRITE (EINVAL on a
// writable shared mapping), fallocate does it instead.
absl::Status PopulateBlocks(const Mapping& m, int fd, const std::string& path,
                            uint64_t size) {
  for (;;) {
    if (::madvise(const_cast<uint8_t*>(m.data()), m.size(),
                  MADV_POPULATE_WRITE) == 0) {
      return absl::OkStatus();
    }
    const int err = errno;
    if (err == EINTR || err == EAGAIN) {
      WK_RETURN_IF_ERROR(CheckCancel());
      continue;
    }
    if (err == EINVAL) return AllocateBlocks(fd, path, size);
    // EFAULT is what a store would have met as SIGBUS: no page to be had.
    if (err == EFAULT || err == ENOMEM || err == ENOSPC) {
      return NoRoom(ENOSPC, path, size, FreeBytesIn(DirOf(path)));
    }
    return ErrnoError(err, "madvise(MADV_POPULATE_WRITE)", path);
  }
}

}  // namespace

absl::StatusOr<Mapping> CreateAndMap(const std::string& path, uint64_t size,
                                     mode_t mode, Reserve reserve,
                                     Advice advice) {
  if (size == 0 || size > static_cast<uint64_t>(INT64_MAX)) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create %s: size %u cannot be mapped (must be 1 .. 2^63-1)", path,
        size));
  }
  WK_ASSIGN_OR_RETURN(Fd fd, CreateExclusive(path, mode));
  const bool allocate = reserve == Reserve::kAllocate;
  // Advise, then populate: allocated before the advice, pages keep the size
  // they were allocated with.
  const bool populate = allocate && advice != Advice::kNormal;
  absl::Status status = allocate ? CheckRoom(path, size) : absl::OkStatus();
  if (status.ok()) {
    status = allocate && !populate ? AllocateBlocks(fd.get(), path, size)
                                   : Truncate(fd.get(), path, size);
  }
  if (status.ok()) {
    auto mapping = internal::MapNamed(fd.get(), 0, size, true, path);
    if (mapping.ok() && advice != Advice::kNormal) {
      (void)mapping->Advise(advice);  // a hint
    }
    if (mapping.ok() && populate) {
      status = PopulateBlocks(*mapping, fd.get(), path, size);
      if (status.ok()) return mapping;
    } else if (mapping.ok()) {
      return mapping;
    } else {
      status = mapping.status();
    }
  }
  // Leave nothing behind: the caller asked for a new file and did not get it.
  fd.reset();
  ::unlink(path.c_str());
  return status;
}

}  // namespace wk::io
