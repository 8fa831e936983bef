// Pre-faulting ranges of a mapping. A process that maps a named 4 KiB-page
// workspace pays one page fault per 4 KiB the first time it touches it;
// populating the range it is about to read or write first maps all of it in
// one system call per range (and lets several threads split the work), which
// costs about half the faults. On huge pages there is little to gain.
//
// Populate uses madvise(MADV_POPULATE_READ / MADV_POPULATE_WRITE) (Linux
// 5.14+) and falls back to touching one byte per page where the kernel lacks
// them (asked once per process). Neither changes any byte of the range, so it
// is safe while other processes write to it.
#ifndef WKSPKIT_IO_POPULATE_H_
#define WKSPKIT_IO_POPULATE_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace wk::io {

enum class PopulateFor {
  kRead,   // the range will be read: map its pages readable
  kWrite,  // the range will be written: map them writable (allocates tmpfs
           // or hugetlbfs pages that were never written)
};

// Makes every page overlapping `range` (inside one mapping of this process)
// present in the page tables. An empty range is a no-op. Failure gives an
// error naming the range; its bytes are unchanged either way:
// ResourceExhausted when no page could be had (tmpfs full, huge-page pool
// empty, file truncated: what a later store would have met as SIGBUS),
// Cancelled when a signal requested cancellation (util/cancel.h) meanwhile,
// else the system call's error (e.g. kWrite through a read-only mapping).
absl::Status Populate(std::span<const uint8_t> range, PopulateFor what);

// Whether the page holding `addr` is present in this process's page tables
// (bit 63 of its /proc/self/pagemap entry, readable without privilege):
// whether touching it would fault. False when that cannot be read. One
// pread(2); the descriptor is opened once per process (again after fork).
bool PagePresent(const void* addr);

namespace internal {
// The fallback, exposed for tests: touches one byte per page. For kWrite it
// adds 0 atomically (a write fault that changes nothing, even under
// concurrent writers). Pages the kernel cannot provide raise SIGBUS here,
// which is why Populate prefers madvise.
void PopulateByTouching(std::span<const uint8_t> range, PopulateFor what);
}  // namespace internal

}  // namespace wk::io

#endif  // WKSPKIT_IO_POPULATE_H_
