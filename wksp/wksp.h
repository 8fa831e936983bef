// Workspaces: large shared-memory regions that many processes join at
// different local addresses, with an allocator whose results are global
// addresses (gaddr = byte offset from the workspace's first byte), so an
// allocation means the same thing in every process and in a checkpoint.
//
// Layout (CHECKPOINT_FORMAT.md §2, wksp/geometry.h): a header, a record per
// partition slot, then the data region [gaddr_lo, gaddr_hi) of data_max
// bytes and a guard byte.
//
// Allocation: every allocation is a fully trimmed partition [gaddr, gaddr+sz)
// with a nonzero tag; the leftovers on either side become free partitions.
// That needs up to two spare partition slots; when none are left the
// allocation fails (ResourceExhausted) instead of handing out a larger
// partition. Errors never change the workspace.
//
// Concurrency: a Wksp object is a join handle. Its methods may be called from
// any number of threads, and any number of processes may join the same
// workspace; all metadata changes happen under one lock in the shared header
// (see wksp_admin.h for holding it explicitly). If a lock owner dies, the next
// caller takes the lock over, verifies the metadata and rebuilds it from the
// partition records if an operation was cut short. If that rebuild fails the
// workspace is flagged corrupt: allocator calls then fail with DataLoss until
// Reset() (or a restore) clears it. The lock and how death is told apart from
// a live owner in another pid namespace: internal/lock.h. In short: a killed
// owner is recovered even before it is reaped; an owner in another pid
// namespace is never taken over. A waiter calls the lock wait hook (below)
// after about a second, saying whom it waits for; a wait ends early on a
// cancellation request or at the wait limit (SetLockWaitLimit).
//
// Restore mark: a restore (wksp/checkpt) marks the workspace "being restored
// by pid P" before its first write and clears the mark when it succeeds; a
// failed restore resets the workspace, which clears it too. A restore killed
// in between leaves the mark, and then, until Reset() or a successful
// restore: the lock taker that recovers the dead restorer's lock resets the
// workspace to empty (half-written slot records are never rebuilt into
// allocations); every allocator call (Alloc ... GetUsage), Check() and
// Verify() fail with DataLoss naming the restorer's pid and what to do; a
// checkpoint of it is refused. Join() succeeds (so the workspace can be reset
// or restored); CurrentRestoreMark() tells a joiner.
//
// A Wksp leaves (unmaps) on destruction; the shared memory itself lives until
// Delete() and the last join are gone. Anonymous workspaces live until their
// last mapping (in this process and forked children) goes.
#ifndef WKSPKIT_WKSP_WKSP_H_
#define WKSPKIT_WKSP_WKSP_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/mmio.h"
#include "wksp/geometry.h"
#include "wksp/shmem.h"
#include "wksp/wksp_types.h"

namespace wk::wksp {

class LockGuard;  // wksp_admin.h
namespace internal {
struct Region;  // internal/layout.h: the metadata view the allocator works on
}  // namespace internal

struct CreateOptions {
  PageSize page_size = PageSize::kNormal;
  uint32_t seed = 0;
  mode_t mode = 0600;
  int cpu_idx = -1;  // >= 0: place memory near this CPU's NUMA node
};

// Default allocation alignment (align = 0).
inline constexpr uint64_t kDefaultAlign = 4096;

// A thread waiting for a workspace lock, as the lock wait hook sees it.
struct LockWait {
  std::string_view wksp_name;
  const LockHolder& holder;
  int64_t waited_ns;
};
// Called by a thread that has waited about a second for a workspace lock,
// then every ten seconds while it still waits; returns OK to keep waiting,
// or an error to give up: the call then fails with that error, prefixed with
// the workspace's name (e.g. a tool that finds the holder waits on it and
// cannot finish first). Hooks run on the waiting thread and may be called
// concurrently.
using LockWaitHook = absl::Status (*)(const LockWait& wait);
// Sets the process-wide hook (nullptr, the default: wait silently).
void SetLockWaitHook(LockWaitHook hook);

// Bounds every later lock wait of this process to `limit_ns` nanoseconds
// (0: only take a free lock; negative, the default: no bound). A call that
// waited that long fails with DeadlineExceeded naming the holder and
// changes nothing. Whatever the limit, a wait also ends with Cancelled once
// cancellation is requested (util/cancel.h: a signal handler's
// RequestCancel); a waiter sleeps between looks (at most ~10 ms), so it uses
// well under 1% of a core.
void SetLockWaitLimit(int64_t limit_ns);

// "pid P (cmd) since TIME", or for a holder in another pid namespace "tid T
// of pid namespace pid:[N] (not ours: ...)" - for messages.
std::string DescribeLockHolder(const LockHolder& holder);
// "pid P since TIME" plus whether it is still working or was interrupted.
std::string DescribeRestoreMark(const RestoreMark& mark);

class Wksp {
 public:
  // Footprint of a workspace with these limits, or InvalidArgument when
  // part_max is not in [1, 2^32-1], data_max is 0, or the sum overflows.
  static absl::StatusOr<uint64_t> Footprint(uint64_t part_max,
                                            uint64_t data_max);
  // Largest part_max such that part_max allocations of sz_typical bytes (plus
  // their slots) fit in `footprint`; 0 if none fits or an argument is 0.
  static uint64_t PartMaxEst(uint64_t footprint, uint64_t sz_typical);
  // Largest data_max that fits `footprint` with part_max slots; 0 if none.
  static uint64_t DataMaxEst(uint64_t footprint, uint64_t part_max);

  // Creates named workspace `name` (see shmem.h for names and where it
  // lives) with one free partition covering the data region, and joins it
  // read-write. AlreadyExists if the name is taken; nothing is left behind
  // on failure.
  static absl::StatusOr<Wksp> Create(std::string_view name, uint64_t part_max,
                                     uint64_t data_max,
                                     const CreateOptions& options = {});
  // Same, in anonymous shared memory (inherited by forked children). `name`
  // must still be valid: it is recorded in the header and in checkpoints.
  static absl::StatusOr<Wksp> CreateAnonymous(
      std::string_view name, uint64_t part_max, uint64_t data_max,
      const CreateOptions& options = {});
  // Joins an existing named workspace. A read-only join can read memory and
  // the immutable accessors; every call that takes the lock fails with
  // FailedPrecondition on it. DataLoss if the region is not a workspace.
  static absl::StatusOr<Wksp> Join(std::string_view name,
                                   bool read_only = false);
  // Removes the name; existing joins keep working.
  static absl::Status Delete(std::string_view name);

  Wksp(Wksp&&) noexcept = default;
  Wksp& operator=(Wksp&&) noexcept = default;
  ~Wksp() = default;  // leaves: unmaps

  std::string_view name() const;
  uint32_t seed() const;  // changes on Reset / Rebuild
  uint64_t part_max() const { return part_max_; }
  uint64_t data_max() const { return gaddr_hi_ - gaddr_lo_; }
  uint64_t gaddr_lo() const { return gaddr_lo_; }
  uint64_t gaddr_hi() const { return gaddr_hi_; }
  uint64_t footprint() const;
  Limits limits() const { return {part_max_, gaddr_lo_, gaddr_hi_}; }
  bool read_only() const { return read_only_; }
  PageSize page_size() const { return page_size_; }

  // Local address of `gaddr` in this join, or nullptr for gaddr 0 or
  // outside [gaddr_lo, gaddr_hi] (hi included so [lo, hi) ranges map).
  uint8_t* laddr(uint64_t gaddr) const;
  // Inverse of laddr: 0 for nullptr or an address outside the data region.
  uint64_t gaddr(const void* laddr) const;

  // Allocates sz bytes aligned to `align` (0 = kDefaultAlign; else a power of
  // two) with `tag` != 0; returns the gaddr. ResourceExhausted when no free
  // partition fits or no slot is left for trimming.
  absl::StatusOr<uint64_t> Alloc(uint64_t align, uint64_t sz, uint64_t tag);
  // Same, also returning the partition [lo, hi) (always [gaddr, gaddr+sz),
  // since partitions are fully trimmed).
  absl::StatusOr<PartitionInfo> AllocAtLeast(uint64_t align, uint64_t sz,
                                             uint64_t tag);
  // Frees the allocation containing `gaddr` (any byte of it). NotFound if no
  // allocation contains it (e.g. a double free).
  absl::Status Free(uint64_t gaddr);
  // The tag of the allocation containing `gaddr`, or 0 when none does.
  absl::StatusOr<uint64_t> Tag(uint64_t gaddr);
  // Allocations whose tag is in `tags`, ascending by address.
  absl::StatusOr<std::vector<PartitionInfo>> TagQuery(
      std::span<const uint64_t> tags);
  // Frees every allocation whose tag is in `tags`; returns how many.
  absl::StatusOr<uint64_t> TagFree(std::span<const uint64_t> tags);
  // Fills the whole allocation containing `gaddr` with byte c.
  absl::Status Memset(uint64_t gaddr, int c);
  // Partition counts and sizes; tagged_* count used partitions with a tag in
  // `tags`.
  absl::StatusOr<Usage> GetUsage(std::span<const uint64_t> tags = {});

  // Frees everything; the data region becomes one free partition, priorities
  // come from `seed`, and a corrupt flag is cleared.
  absl::Status Reset(uint32_t seed);
  // Full metadata check; DataLoss saying what is wrong.
  absl::Status Verify();
  // Reconstructs all metadata from the tagged slot records (lo, hi, tag) and
  // sets the seed. The records must fit (CheckFit, wksp/geometry.h):
  // FailedPrecondition for an allocation outside the data region, DataLoss
  // for overlapping ones, ResourceExhausted if the free gaps need more slots
  // than are left; the metadata is then unchanged.
  absl::Status Rebuild(uint32_t seed);
  // OK at once unless the lock owner died; then takes the lock over, which
  // verifies and rebuilds. DataLoss if the workspace is flagged corrupt.
  absl::Status Check();

  // Takes the workspace lock for a sequence of *Locked calls (wksp_admin.h).
  absl::StatusOr<LockGuard> Lock();

  // Who holds the lock now, without taking it; nullopt when it is free.
  // Works on a read-only join.
  std::optional<LockHolder> CurrentLockHolder() const;
  // The restore mark (see above), without taking the lock; nullopt when no
  // restore has been left unfinished or is running. Works on a read-only
  // join.
  std::optional<RestoreMark> CurrentRestoreMark() const;

 private:
  friend struct AdminAccess;
  friend class LockGuard;
  // How the lock is taken: kAllocator refuses a workspace flagged corrupt;
  // kAdmin (Lock(), Reset, Verify, Rebuild) takes it all the same.
  enum class LockMode { kAllocator, kAdmin };

  Wksp() = default;
  // Adopts a mapping holding a workspace header at its start.
  Wksp(io::Mapping mapping, bool read_only, PageSize page_size);
  static absl::StatusOr<Wksp> Init(io::Mapping mapping, std::string_view name,
                                   uint64_t part_max, uint64_t data_max,
                                   uint32_t seed, PageSize page_size);
  static absl::StatusOr<Wksp> Attach(io::Mapping mapping, bool read_only,
                                     PageSize page_size);
  internal::Region region() const;
  absl::Status CheckBadGaddr(uint64_t gaddr) const;
  // Takes the lock, taking it over from a dead owner (then verifying and, if
  // needed, rebuilding the metadata); the guard releases it.
  absl::StatusOr<LockGuard> Acquire(LockMode mode);
  void ReleaseLock();  // LockGuard's
  // DataLoss describing the restore mark if one is set, else OK.
  absl::Status RestoreMarkStatus() const;

  io::Mapping mapping_;
  // The workspace's first byte in this join, and copies of its immutable
  // limits (checked when it was joined).
  uint8_t* base_ = nullptr;
  uint64_t part_max_ = 0, gaddr_lo_ = 0, gaddr_hi_ = 0;
  bool read_only_ = false;
  PageSize page_size_ = PageSize::kNormal;
};

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_WKSP_H_
