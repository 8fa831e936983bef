// Wksp: lifecycle (create, join, validate), address helpers, the lock with
// dead-owner recovery, and the public allocator calls, each of which
// validates its input, takes the lock and defers to internal/core.h.
#include "wksp/wksp.h"

#include <time.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "io/populate.h"
#include "util/bits.h"
#include "util/clock.h"
#include "util/status.h"
#include "wksp/internal/core.h"
#include "wksp/internal/lock.h"
#include "wksp/name.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp {
namespace {

using internal::Header;
using internal::Idx;
using internal::kNull;

absl::Status CheckAlignSzTag(uint64_t* align, uint64_t sz, uint64_t tag) {
  if (*align == 0) *align = kDefaultAlign;
  if (!IsPow2(*align)) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad align %u: must be 0 or a power of two", *align));
  }
  if (sz == 0) [[unlikely]] {
    return absl::InvalidArgumentError("bad size 0: allocations need sz > 0");
  }
  uint64_t worst;
  if (!AddChecked(sz, *align - 1, &worst)) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "size %u with align %u overflows the address space", sz, *align));
  }
  if (tag == 0) [[unlikely]] {
    return absl::InvalidArgumentError(
        "bad tag 0: allocation tags must be nonzero (0 marks free space)");
  }
  return absl::OkStatus();
}

std::atomic<LockWaitHook> g_lock_wait_hook{nullptr};
std::atomic<int64_t> g_lock_wait_limit_ns{-1};

// Coarse is enough for "since" in reports and costs no more than a load.
int64_t CoarseWallclockNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

LockHolder HolderOf(const Header* h, uint64_t owner) {
  LockHolder holder;
  holder.tid = internal::IdentityId(owner);
  holder.pid_ns = internal::IdentityNs(owner);
  holder.same_pid_ns = holder.pid_ns == internal::SelfPidNs();
  holder.pid = __atomic_load_n(&h->lock_pid, __ATOMIC_RELAXED);
  holder.since_unix_ns = __atomic_load_n(&h->lock_since, __ATOMIC_RELAXED);
  holder.liveness = internal::OwnerLiveness(owner);
  if (holder.same_pid_ns) holder.cmd = internal::ProcessCommand(holder.pid);
  return holder;
}

std::string FormatUnixNs(int64_t ns) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixNanos(ns),
                          absl::UTCTimeZone());
}

absl::Status CheckTags(std::span<const uint64_t> tags) {
  for (uint64_t t : tags) {
    if (t == 0) [[unlikely]] {
      return absl::InvalidArgumentError(
          "bad tag 0 in query: allocation tags are nonzero");
    }
  }
  return absl::OkStatus();
}

}  // namespace

void SetLockWaitHook(LockWaitHook hook) {
  g_lock_wait_hook.store(hook, std::memory_order_release);
}

void SetLockWaitLimit(int64_t limit_ns) {
  g_lock_wait_limit_ns.store(limit_ns, std::memory_order_relaxed);
}

std::string DescribeLockHolder(const LockHolder& holder) {
  std::string since = holder.since_unix_ns != 0
                          ? " since " + FormatUnixNs(holder.since_unix_ns)
                          : "";
  if (!holder.same_pid_ns) {
    return absl::StrFormat(
        "pid %u (tid %u) of another pid namespace, pid:[%u]%s (its liveness "
        "cannot be checked from here, so the lock is never taken over)",
        holder.pid, holder.tid, holder.pid_ns, since);
  }
  std::string cmd = holder.cmd.empty() ? "" : " (" + holder.cmd + ")";
  const char* state = holder.liveness == Liveness::kDead ? ", dead" : "";
  return absl::StrFormat("pid %u%s%s%s", holder.pid, cmd, since, state);
}

std::string DescribeRestoreMark(const RestoreMark& mark) {
  std::string who = mark.same_pid_ns
                        ? absl::StrFormat("pid %u", mark.pid)
                        : absl::StrFormat("pid %u of pid namespace pid:[%u]",
                                          mark.pid, mark.pid_ns);
  std::string since = FormatUnixNs(mark.since_unix_s * int64_t{1000000000});
  return mark.in_progress
             ? absl::StrFormat("being restored by %s since %s", who, since)
             : absl::StrFormat(
                   "a restore by %s started %s did not finish (killed?)", who,
                   since);
}

// ---- sizing -----------------------------------------------------------------

absl::StatusOr<uint64_t> Wksp::Footprint(uint64_t part_max, uint64_t data_max) {
  return wksp::Footprint(part_max, data_max);
}

uint64_t Wksp::PartMaxEst(uint64_t footprint, uint64_t sz_typical) {
  uint64_t fp = AlignDown(footprint, kFootprintAlign);
  uint64_t per;
  if (sz_typical == 0 || fp < kHeaderSize + 1 ||
      !AddChecked(sz_typical, kPartInfoSize, &per)) {
    return 0;
  }
  // Largest n with 128 + n * (64 + sz_typical) + 1 <= fp.
  uint64_t n = (fp - kHeaderSize - 1) / per;
  return n < kPartMaxLimit ? n : kPartMaxLimit;
}

uint64_t Wksp::DataMaxEst(uint64_t footprint, uint64_t part_max) {
  if (part_max == 0 || part_max > kPartMaxLimit) return 0;
  uint64_t fp = AlignDown(footprint, kFootprintAlign);
  uint64_t lo = GaddrLo(part_max);
  if (fp < lo + 2) return 0;
  return fp - 1 - lo;  // leaves the guard byte
}

// ---- lifecycle --------------------------------------------------------------

Wksp::Wksp(io::Mapping mapping, bool read_only, PageSize page_size)
    : mapping_(std::move(mapping)),
      // A read-only join hands out addresses too; stores through them fault.
      base_(const_cast<uint8_t*>(mapping_.data())),
      read_only_(read_only),
      page_size_(page_size) {
  const auto* h = reinterpret_cast<const Header*>(base_);
  part_max_ = h->part_max;
  gaddr_lo_ = GaddrLo(part_max_);
  gaddr_hi_ = gaddr_lo_ + h->data_max;
}

internal::Region Wksp::region() const {
  return {base_,
          reinterpret_cast<Header*>(base_),
          reinterpret_cast<internal::PartInfo*>(base_ + kHeaderSize),
          part_max_,
          gaddr_lo_,
          gaddr_hi_};
}

absl::StatusOr<Wksp> Wksp::Init(io::Mapping mapping, std::string_view name,
                                uint64_t part_max, uint64_t data_max,
                                uint32_t seed, PageSize page_size) {
  auto* h = reinterpret_cast<Header*>(mapping.mutable_span().data());
  // The mapping is freshly zeroed; nobody can join before magic is set.
  h->part_max = part_max;
  h->data_max = data_max;
  StoreNameField(h->name, name);
  Wksp w(std::move(mapping), /*read_only=*/false, page_size);
  internal::ResetLocked(w.region(), seed);
  __atomic_store_n(&h->lock, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&h->magic, internal::kMagic, __ATOMIC_RELEASE);
  return w;
}

absl::StatusOr<Wksp> Wksp::Attach(io::Mapping mapping, bool read_only,
                                  PageSize page_size) {
  auto not_wksp = [&](const std::string& why) {
    return absl::DataLossError(
        absl::StrFormat("shared memory region is not a workspace: %s", why));
  };
  if (mapping.size() < kHeaderSize) return not_wksp("too small");
  const auto* h = reinterpret_cast<const Header*>(mapping.data());
  if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != internal::kMagic) {
    return not_wksp(
        "bad magic (not created by this library, or creation "
        "still in progress)");
  }
  uint64_t part_max = h->part_max, data_max = h->data_max;
  absl::StatusOr<uint64_t> fp = Footprint(part_max, data_max);
  if (!fp.ok()) return not_wksp(std::string(fp.status().message()));
  if (*fp > mapping.size()) {
    return not_wksp(absl::StrFormat("footprint %u exceeds the region size %u",
                                    *fp, mapping.size()));
  }
  if (!NameInField(h->name)) return not_wksp("bad name in header");
  return Wksp(std::move(mapping), read_only, page_size);
}

absl::StatusOr<Wksp> Wksp::Create(std::string_view name, uint64_t part_max,
                                  uint64_t data_max,
                                  const CreateOptions& options) {
  WK_RETURN_IF_ERROR(ValidateName(name));
  WK_ASSIGN_OR_RETURN(uint64_t fp, Footprint(part_max, data_max));
  WK_ASSIGN_OR_RETURN(
      io::Mapping m,
      ShmemCreate(name, fp,
                  {options.page_size, options.mode, options.cpu_idx}));
  return Init(std::move(m), name, part_max, data_max, options.seed,
              options.page_size);
}

absl::StatusOr<Wksp> Wksp::CreateAnonymous(std::string_view name,
                                           uint64_t part_max, uint64_t data_max,
                                           const CreateOptions& options) {
  WK_RETURN_IF_ERROR(ValidateName(name));
  WK_ASSIGN_OR_RETURN(uint64_t fp, Footprint(part_max, data_max));
  WK_ASSIGN_OR_RETURN(io::Mapping m,
                      MapAnonymous(fp, options.page_size, options.cpu_idx));
  return Init(std::move(m), name, part_max, data_max, options.seed,
              options.page_size);
}

absl::StatusOr<Wksp> Wksp::Join(std::string_view name, bool read_only) {
  PageSize ps;
  WK_ASSIGN_OR_RETURN(io::Mapping m, ShmemJoin(name, read_only, &ps));
  absl::StatusOr<Wksp> w = Attach(std::move(m), read_only, ps);
  if (!w.ok()) return Annotate(w.status(), absl::StrFormat("join %s", name));
  return w;
}

absl::Status Wksp::Delete(std::string_view name) { return ShmemUnlink(name); }

std::string_view Wksp::name() const {
  return reinterpret_cast<const Header*>(base_)->name;
}

uint32_t Wksp::seed() const {
  return __atomic_load_n(&reinterpret_cast<const Header*>(base_)->seed,
                         __ATOMIC_RELAXED);
}

uint64_t Wksp::footprint() const {
  return AlignUp(gaddr_hi_ + 1, kFootprintAlign);
}

uint8_t* Wksp::laddr(uint64_t gaddr) const {
  if (gaddr < gaddr_lo_ || gaddr > gaddr_hi_) return nullptr;
  return base_ + gaddr;
}

uint64_t Wksp::gaddr(const void* laddr) const {
  uintptr_t a = reinterpret_cast<uintptr_t>(laddr);
  uintptr_t b = reinterpret_cast<uintptr_t>(base_);
  if (a < b + gaddr_lo_ || a > b + gaddr_hi_) return 0;
  return a - b;
}

// ---- locking ----------------------------------------------------------------

absl::StatusOr<LockGuard> Wksp::Acquire(LockMode mode) {
  if (read_only_) [[unlikely]] {
    return absl::FailedPreconditionError(absl::StrFormat(
        "workspace %s is joined read-only; this call needs the lock", name()));
  }
  const internal::Region r = region();
  Header* h = r.hdr;
  internal::LockResult res;
  auto on_wait = [&](uint64_t owner, int64_t waited_ns) -> absl::Status {
    LockWaitHook hook = g_lock_wait_hook.load(std::memory_order_acquire);
    if (hook == nullptr) return absl::OkStatus();
    LockHolder holder = HolderOf(h, owner);
    return hook(LockWait{name(), holder, waited_ns});
  };
  const int64_t limit_ns = g_lock_wait_limit_ns.load(std::memory_order_relaxed);
  const int64_t deadline_ns =
      limit_ns < 0 ? internal::kNoDeadline : MonotonicNs() + limit_ns;
  absl::Status locked =
      internal::LockWord(&h->lock, &res, deadline_ns, on_wait);
  if (!locked.ok()) [[unlikely]] {
    // Nothing was changed: say so, and whom we waited for.
    std::optional<LockHolder> holder = CurrentLockHolder();
    const std::string who =
        holder ? DescribeLockHolder(*holder) : "nobody any more";
    if (absl::IsDeadlineExceeded(locked) &&
        deadline_ns != internal::kNoDeadline && MonotonicNs() >= deadline_ns) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "workspace %s: gave up waiting for the lock held by %s after the "
          "wait limit of %.3g s; nothing was changed",
          name(), who, static_cast<double>(limit_ns) * 1e-9));
    }
    return Annotate(locked,
                    absl::StrFormat("workspace %s: waiting for the lock held "
                                    "by %s; nothing was changed",
                                    name(), who));
  }
  LockGuard guard(this);  // held from here: every return below releases
  __atomic_store_n(&h->lock_pid, internal::SelfPid(), __ATOMIC_RELAXED);
  __atomic_store_n(&h->lock_since, CoarseWallclockNs(), __ATOMIC_RELAXED);
  guard.recovered_ = res == internal::LockResult::kRecovered;
  if (guard.recovered_) [[unlikely]] {
    if (h->restore != 0) {
      // The dead owner was restoring: its slot records are a mix of old and
      // new allocations. Never rebuild from them; empty the workspace and
      // keep the mark, so every later user learns what happened.
      internal::ResetLocked(r, h->seed);
    } else if (h->op != internal::kOpNone || !internal::VerifyLocked(r).ok()) {
      // Its operation may be half done: rebuild from the committed slot
      // records unless it provably was not in the middle of one.
      if (!internal::RebuildLocked(r, h->seed).ok()) h->corrupt = 1;
    }
  }
  if (mode == LockMode::kAllocator) {
    if (h->corrupt != 0) [[unlikely]] {
      return absl::DataLossError(absl::StrFormat(
          "workspace %s is corrupt: a lock owner died mid-operation and the "
          "metadata could not be rebuilt; Reset() it or restore a checkpoint",
          name()));
    }
    WK_RETURN_IF_ERROR(RestoreMarkStatus());
  }
  return guard;
}

void Wksp::ReleaseLock() {
  internal::UnlockWord(&reinterpret_cast<Header*>(base_)->lock);
}

absl::StatusOr<LockGuard> Wksp::Lock() { return Acquire(LockMode::kAdmin); }

LockGuard& LockGuard::operator=(LockGuard&& o) noexcept {
  if (this != &o) {
    Release();
    w_ = std::exchange(o.w_, nullptr);
    recovered_ = o.recovered_;
  }
  return *this;
}

void LockGuard::Release() {
  if (w_ != nullptr) std::exchange(w_, nullptr)->ReleaseLock();
}

absl::Status Wksp::Check() {
  const Header* h = reinterpret_cast<const Header*>(base_);
  uint64_t owner = internal::LockOwner(&h->lock);
  if (owner != 0 && internal::OwnerLiveness(owner) == Liveness::kDead) {
    // Taking the lock over recovers; the guard gives it back at once.
    return Acquire(LockMode::kAllocator).status();
  }
  if (__atomic_load_n(&h->corrupt, __ATOMIC_RELAXED) != 0) {
    return absl::DataLossError(
        absl::StrFormat("workspace %s is flagged corrupt", name()));
  }
  std::optional<RestoreMark> mark = CurrentRestoreMark();
  if (mark && mark->in_progress) {
    return absl::UnavailableError(absl::StrFormat(
        "workspace %s is %s; its contents are not valid until it finishes",
        name(), DescribeRestoreMark(*mark)));
  }
  return RestoreMarkStatus();
}

std::optional<LockHolder> Wksp::CurrentLockHolder() const {
  const Header* h = reinterpret_cast<const Header*>(base_);
  uint64_t owner = internal::LockOwner(&h->lock);
  if (owner == 0) return std::nullopt;
  return HolderOf(h, owner);
}

std::optional<RestoreMark> Wksp::CurrentRestoreMark() const {
  const Header* h = reinterpret_cast<const Header*>(base_);
  uint64_t v = __atomic_load_n(&h->restore, __ATOMIC_ACQUIRE);
  if (v == 0) return std::nullopt;
  RestoreMark m;
  m.pid = internal::IdentityId(v);
  m.pid_ns = internal::IdentityNs(v);
  m.same_pid_ns = m.pid_ns == internal::SelfPidNs();
  m.since_unix_s = __atomic_load_n(&h->restore_since, __ATOMIC_RELAXED);
  // In progress while the restorer still holds the lock: the owner recorded
  // the restorer's pid and namespace and is not dead.
  uint64_t owner = internal::LockOwner(&h->lock);
  m.in_progress = owner != 0 && internal::IdentityNs(owner) == m.pid_ns &&
                  __atomic_load_n(&h->lock_pid, __ATOMIC_RELAXED) == m.pid &&
                  internal::OwnerLiveness(owner) != Liveness::kDead;
  return m;
}

absl::Status Wksp::RestoreMarkStatus() const {
  std::optional<RestoreMark> mark = CurrentRestoreMark();
  if (!mark) [[likely]]
    return absl::OkStatus();
  RestoreMark m = *mark;
  m.in_progress = false;  // called by a lock holder, so the restorer is gone
  return absl::DataLossError(absl::StrFormat(
      "workspace %s: %s; the half-restored contents were discarded and the "
      "workspace is empty: restore the checkpoint again, or reset the "
      "workspace (wksp_ctl reset) to use it empty",
      name(), DescribeRestoreMark(m)));
}

// ---- allocator --------------------------------------------------------------

absl::Status Wksp::CheckBadGaddr(uint64_t gaddr) const {
  if (gaddr < gaddr_lo_ || gaddr >= gaddr_hi_) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "gaddr %u is outside the data region [%u, %u) of workspace %s", gaddr,
        gaddr_lo_, gaddr_hi_, name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Wksp::Alloc(uint64_t align, uint64_t sz,
                                     uint64_t tag) {
  WK_ASSIGN_OR_RETURN(PartitionInfo part, AllocAtLeast(align, sz, tag));
  return part.lo;
}

absl::StatusOr<PartitionInfo> Wksp::AllocAtLeast(uint64_t align, uint64_t sz,
                                                 uint64_t tag) {
  WK_RETURN_IF_ERROR(CheckAlignSzTag(&align, sz, tag));
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
  return internal::AllocLocked(region(), align, sz, tag);
}

absl::Status Wksp::Free(uint64_t gaddr) {
  WK_RETURN_IF_ERROR(CheckBadGaddr(gaddr));
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
  const internal::Region r = region();
  Idx i = internal::FindUsedLocked(r, gaddr);
  if (i != kNull) [[likely]]
    internal::FreeLocked(r, i);
  lock.Release();
  if (i == kNull) [[unlikely]] {
    return absl::NotFoundError(absl::StrFormat(
        "free: gaddr %u is not inside an allocation of workspace %s (already "
        "freed?)",
        gaddr, name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Wksp::Tag(uint64_t gaddr) {
  WK_RETURN_IF_ERROR(CheckBadGaddr(gaddr));
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
  const internal::Region r = region();
  Idx i = internal::FindUsedLocked(r, gaddr);
  return i == kNull ? 0 : r.pinfo[i].tag;
}

absl::StatusOr<std::vector<PartitionInfo>> Wksp::TagQuery(
    std::span<const uint64_t> tags) {
  WK_RETURN_IF_ERROR(CheckTags(tags));
  absl::StatusOr<std::vector<PartitionInfo>> used;
  {
    WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
    used = internal::UsedPartitionsLocked(region());
  }
  if (!used.ok()) return used.status();
  std::vector<PartitionInfo> out;
  for (const PartitionInfo& part : *used) {
    for (uint64_t t : tags) {
      if (part.tag == t) {
        out.push_back(part);
        break;
      }
    }
  }
  return out;
}

absl::StatusOr<uint64_t> Wksp::TagFree(std::span<const uint64_t> tags) {
  WK_RETURN_IF_ERROR(CheckTags(tags));
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
  const internal::Region r = region();
  WK_ASSIGN_OR_RETURN(std::vector<PartitionInfo> used,
                      internal::UsedPartitionsLocked(r));
  uint64_t freed = 0;
  for (const PartitionInfo& part : used) {
    bool match = false;
    for (uint64_t t : tags) match |= part.tag == t;
    if (!match) continue;
    // Used partitions never move when others are freed, so lo still finds
    // the same slot.
    internal::FreeLocked(r, internal::FindUsedLocked(r, part.lo));
    ++freed;
  }
  return freed;
}

absl::Status Wksp::Memset(uint64_t gaddr, int c) {
  WK_RETURN_IF_ERROR(CheckBadGaddr(gaddr));
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
  const internal::Region r = region();
  Idx i = internal::FindUsedLocked(r, gaddr);
  if (i != kNull) {
    // A workspace made sparse (before creation reserved its memory) may
    // have pages no longer to be had: fail here, not with SIGBUS mid-store.
    std::span<const uint8_t> range(r.base + r.pinfo[i].lo,
                                   r.pinfo[i].hi - r.pinfo[i].lo);
    absl::Status st = io::Populate(range, io::PopulateFor::kWrite);
    if (!st.ok()) [[unlikely]] {
      return Annotate(
          st, absl::StrFormat("memset: allocation [%u, %u) of workspace %s",
                              r.pinfo[i].lo, r.pinfo[i].hi, name()));
    }
    memset(r.base + r.pinfo[i].lo, c, r.pinfo[i].hi - r.pinfo[i].lo);
  }
  lock.Release();
  if (i == kNull) [[unlikely]] {
    return absl::NotFoundError(absl::StrFormat(
        "memset: gaddr %u is not inside an allocation of workspace %s", gaddr,
        name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Usage> Wksp::GetUsage(std::span<const uint64_t> tags) {
  WK_RETURN_IF_ERROR(CheckTags(tags));
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAllocator));
  return internal::UsageLocked(region(), tags);
}

absl::Status Wksp::Reset(uint32_t seed) {
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAdmin));
  ResetLocked(*this, seed);  // clears a restore mark too
  return absl::OkStatus();
}

absl::Status Wksp::Verify() {
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAdmin));
  WK_RETURN_IF_ERROR(internal::VerifyLocked(region()));
  return RestoreMarkStatus();
}

absl::Status Wksp::Rebuild(uint32_t seed) {
  WK_ASSIGN_OR_RETURN(LockGuard lock, Acquire(LockMode::kAdmin));
  return internal::RebuildLocked(region(), seed);
}

}  // namespace wk::wksp
