#include "io/populate.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <string>

#include "absl/strings/str_format.h"
#include "util/cancel.h"
#include "util/status.h"

namespace wk::io {
namespace {

// Older libc headers lack the names; the values are the kernel's ABI.
#ifndef MADV_POPULATE_READ
constexpr int MADV_POPULATE_READ = 22;
#endif
#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;
#endif

uintptr_t PageSize() {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Whether this kernel has MADV_POPULATE_* (5.14+), asked once on a private
// page of our own: on an older kernel every call gives EINVAL, but EINVAL
// from a kernel that has them means the range cannot be populated that way
// (e.g. for writing through a read-only mapping) and touching would crash.
bool KernelHasPopulate() {
  static const bool has = [] {
    const size_t page = PageSize();
    void* p = ::mmap(nullptr, page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return true;  // cannot tell: report real errors
    const bool ok = ::madvise(p, page, MADV_POPULATE_WRITE) == 0;
    ::munmap(p, page);
    return ok;
  }();
  return has;
}

// This process's /proc/self/pagemap, or -1. A forked child must not read
// the one it inherited (it describes the parent): it opens its own.
int PagemapFd() {
  static std::mutex mu;
  static int fd = -1;
  static pid_t owner = 0;
  std::lock_guard<std::mutex> lock(mu);
  const pid_t me = ::getpid();
  if (owner != me) {
    if (fd >= 0) ::close(fd);
    fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    owner = me;
  }
  return fd;
}

}  // namespace

bool PagePresent(const void* addr) {
  const int fd = PagemapFd();
  if (fd < 0) return false;
  const uint64_t index = reinterpret_cast<uintptr_t>(addr) / PageSize();
  uint64_t entry = 0;
  if (::pread(fd, &entry, sizeof(entry),
              static_cast<off_t>(index * sizeof(entry))) !=
      static_cast<ssize_t>(sizeof(entry))) {
    return false;
  }
  return (entry >> 63) & 1;
}

namespace internal {
void PopulateByTouching(std::span<const uint8_t> range, PopulateFor what) {
  if (range.empty()) return;
  const uintptr_t page = PageSize();
  uintptr_t p = reinterpret_cast<uintptr_t>(range.data()) & ~(page - 1);
  const uintptr_t end =
      reinterpret_cast<uintptr_t>(range.data()) + range.size();
  for (; p < end; p += page) {
    auto* byte = reinterpret_cast<uint8_t*>(p);
    if (what == PopulateFor::kWrite) {
      std::atomic_ref<uint8_t>(*byte).fetch_add(0, std::memory_order_relaxed);
    } else {
      (void)*reinterpret_cast<volatile const uint8_t*>(byte);
    }
  }
}
}  // namespace internal

absl::Status Populate(std::span<const uint8_t> range, PopulateFor what) {
  if (range.empty()) return absl::OkStatus();
  if (!KernelHasPopulate()) [[unlikely]] {
    internal::PopulateByTouching(range, what);
    return absl::OkStatus();
  }
  const uintptr_t page = PageSize();
  const uintptr_t lo = reinterpret_cast<uintptr_t>(range.data()) & ~(page - 1);
  const uintptr_t hi = reinterpret_cast<uintptr_t>(range.data()) + range.size();
  const int advice =
      what == PopulateFor::kWrite ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
  const std::string what_range =
      absl::StrFormat("of %u bytes at %p", static_cast<uint64_t>(hi - lo),
                      reinterpret_cast<void*>(lo));
  const char* op = what == PopulateFor::kWrite ? "madvise(MADV_POPULATE_WRITE)"
                                               : "madvise(MADV_POPULATE_READ)";
  for (;;) {
    if (::madvise(reinterpret_cast<void*>(lo), hi - lo, advice) == 0) {
      return absl::OkStatus();
    }
    if (errno == EINTR || errno == EAGAIN) {
      // A signal arrived: stop if it asked us to (util/cancel.h).
      WK_RETURN_IF_ERROR(CheckCancel());
      continue;
    }
    break;
  }
  const int err = errno;
  absl::Status st = ErrnoError(err, op, what_range);
  if (err == EFAULT || err == ENOMEM) {
    // EFAULT is the fault a store would have met as SIGBUS: no page could be
    // had for the range. Out of memory, not a bad address of ours.
    return absl::Status(
        absl::StatusCode::kResourceExhausted,
        absl::StrFormat("no memory for the pages %s: the file system holding "
                        "them is full, the huge-page pool is empty, or the "
                        "file was truncated (%s)",
                        what_range, st.message()));
  }
  return st;
}

}  // namespace wk::io
