// Delta checkpoints, applied in place and restored as chains
// (CHECKPOINT_FORMAT.md §9.4). Everything that can be checked is checked
// before the first write: the delta's metadata digests, the new table's
// fit, and the workspace against the base: for an apply from a file onto a
// workspace whose allocation table is already the delta's, every chunk the
// delta keeps (its records name those it replaces); otherwise, and for a
// chain or a download, the workspace's state id against the delta's base id
// and the stored chunks exactly those the base lacks. Then, under the restore
// mark (RestoreTarget), the new table is set (where it already is the
// workspace's, only the mark: no clearing, no rebuild) and the groups are
// written by `threads` threads pulling them from a shared counter; each
// chunk's digest (and an LZ4 group's digest) is checked as it is written. A RAW
// group is read from the file straight into the workspace and its chunks hashed
// there once: one copy and one pass over the bytes, as a plain read.
#include "wksp/checkpt/delta_apply.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/delta_format.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {

absl::Status NotBase(const delta::DeltaFile& d, const StateId& have,
                     std::string_view what) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s is in state %s, but delta %s applies only to state %s (its base); "
      "apply the deltas in the order they were made, onto the checkpoint "
      "they were made against",
      what, delta::IdHex(have), d.path, delta::IdHex(d.header.base_id)));
}

absl::StatusOr<DeltaApplier> DeltaApplier::Plan(wksp::Wksp& wksp,
                                                const delta::DeltaFile& d,
                                                const ChunkIndex& cur,
                                                bool cur_mapped) {
  const delta::Header& h = d.header;
  const ChunkIndex& next = d.index;
  WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, next.allocs));
  DeltaApplier a(d);
  a.changed_ = ChangedChunks(cur, next);
  if (a.changed_.size() != h.changed_cnt) [[unlikely]] {
    return absl::DataLossError(absl::StrFormat(
        "corrupt delta checkpoint %s: it stores %u chunks, its base lacks %u "
        "of its state",
        d.path, h.changed_cnt, a.changed_.size()));
  }
  a.changed_refs_ = ChunksAt(next.allocs, a.changed_);
  for (const ChunkRef& c : a.changed_refs_) a.total_ += c.sz;
  // Changed chunks (ascending) that lie inside an allocation of cur
  // (ascending, disjoint): a walk of both.
  a.mapped_.assign(a.changed_.size(), false);
  if (cur_mapped) {
    size_t j = 0;
    for (uint64_t k = 0; k < a.changed_.size(); ++k) {
      const ChunkRef& c = a.Changed(k);
      while (j < cur.allocs.size() && cur.allocs[j].hi <= c.gaddr) ++j;
      a.mapped_[k] = j < cur.allocs.size() && cur.allocs[j].lo <= c.gaddr &&
                     c.gaddr + c.sz <= cur.allocs[j].hi;
    }
  }
  return a;
}

absl::StatusOr<DeltaApplier> DeltaApplier::PlanInPlace(
    wksp::Wksp& wksp, const delta::DeltaFile& d, size_t threads) {
  const ChunkIndex& next = d.index;
  // First: the chunks hashed below must lie in the data region.
  WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, next.allocs));
  DeltaApplier a(d);
  WK_RETURN_IF_ERROR(a.ReadRecords());
  std::vector<bool> replaced(next.digests.size(), false);
  for (uint64_t c : a.changed_) replaced[c] = true;
  for (const ChunkRef& c : a.changed_refs_) a.total_ += c.sz;
  WK_ASSIGN_OR_RETURN(const uint64_t i,
                      FirstDifferentChunkLocked(wksp, next.allocs, replaced,
                                                next.digests, threads));
  if (i < next.digests.size()) [[unlikely]] {
    const uint64_t at[] = {i};
    const ChunkRef c = ChunksAt(next.allocs, at)[0];
    return absl::FailedPreconditionError(absl::StrFormat(
        "the workspace is not in the base state of delta %s: its %u bytes "
        "at gaddr %u, which the delta keeps, differ from the base's; the "
        "delta applies only to state %s (its base); apply the deltas in "
        "the order they were made, onto the checkpoint they were made "
        "against (or, if the delta may be damaged, checkpt-verify it)",
        d.path, c.sz, c.gaddr, delta::IdHex(d.header.base_id)));
  }
  // The hash pre-faulted every chunk of the new table, replaced ones too.
  a.mapped_.assign(a.changed_.size(), true);
  a.table_kept_ = true;
  return a;
}

template <typename F>
absl::Status DeltaApplier::ForEachRecord(F&& fn) const {
  const delta::DeltaFile& d = *d_;
  const delta::Header& h = d.header;
  std::vector<uint8_t> recs;
  for (uint64_t g = 0; g < h.group_cnt; ++g) {
    const uint64_t n = delta::GroupChunks(h.changed_cnt, g);
    recs.resize(n * delta::kChunkRecSz);
    WK_RETURN_IF_ERROR(
        io::PReadExact(d.fd.get(), recs.data(), recs.size(), d.groups[g].off));
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* r = recs.data() + i * delta::kChunkRecSz;
      WK_RETURN_IF_ERROR(fn(g, i, format::LoadU64(r), format::LoadU32(r + 8)));
    }
  }
  return absl::OkStatus();
}

absl::Status DeltaApplier::ReadRecords() {
  changed_.clear();
  changed_refs_.clear();
  changed_.reserve(d_->header.changed_cnt);
  changed_refs_.reserve(d_->header.changed_cnt);
  // The next chunk of the new state a record may name, and its index.
  ChunkWalk w(d_->index.allocs);
  uint64_t c = 0;
  return ForEachRecord([&](uint64_t g, uint64_t i, uint64_t gaddr,
                           uint64_t usz) -> absl::Status {
    for (; !w.done() && (*w).gaddr < gaddr; w.Next()) ++c;
    if (w.done() || (*w).gaddr != gaddr || (*w).sz != usz) [[unlikely]] {
      return absl::DataLossError(absl::StrFormat(
          "corrupt delta checkpoint %s: group %u stores chunk %u at gaddr "
          "%u, size %u: not a chunk of its state after the one before it",
          d_->path, g, i, gaddr, usz));
    }
    changed_.push_back(c++);
    changed_refs_.push_back(*w);
    w.Next();
    return absl::OkStatus();
  });
}

absl::Status DeltaApplier::CheckRecord(uint64_t g, uint64_t i, uint64_t gaddr,
                                       uint64_t usz) const {
  const ChunkRef& want = Changed(g * delta::kChunksPerGroup + i);
  if (gaddr != want.gaddr || usz != want.sz) [[unlikely]] {
    return absl::DataLossError(absl::StrFormat(
        "corrupt delta checkpoint %s: group %u stores chunk %u at gaddr %u, "
        "size %u; the changed chunk there is at %u, size %u",
        d_->path, g, i, gaddr, usz, want.gaddr, want.sz));
  }
  return absl::OkStatus();
}

absl::Status DeltaApplier::CheckRecords() const {
  return ForEachRecord(
      [&](uint64_t g, uint64_t i, uint64_t gaddr, uint64_t usz) {
        return CheckRecord(g, i, gaddr, usz);
      });
}

absl::Status DeltaApplier::PlaceTable(RestoreTarget& target) const {
  const ChunkIndex& next = d_->index;
  // Only bytes change: no clearing of the table, no rebuild after.
  if (table_kept_ && target.keeps_seed()) {
    target.BeginKeepingTable();
    return absl::OkStatus();
  }
  target.Begin();
  for (uint64_t i = 0; i < next.allocs.size(); ++i) {
    WK_RETURN_IF_ERROR(target.Place(i, next.allocs[i]));
  }
  return absl::OkStatus();
}

absl::Status DeltaApplier::Prepare(const RestoreTarget& target,
                                   uint64_t k) const {
  if (mapped_[k]) return absl::OkStatus();
  const ChunkRef& ch = Changed(k);
  const format::Alloc range{ch.gaddr, ch.gaddr + ch.sz, 1};
  return target.Prepare({&range, 1});
}

absl::Status DeltaApplier::CheckChunk(const RestoreTarget& target,
                                      uint64_t k) const {
  const ChunkRef& ch = Changed(k);
  if (!(Digest({target.Dest(ch.gaddr), ch.sz}) ==
        d_->index.digests[changed_[k]])) [[unlikely]] {
    return absl::DataLossError(absl::StrFormat(
        "corrupt delta checkpoint %s: chunk at gaddr %u does not match its "
        "digest",
        d_->path, ch.gaddr));
  }
  return absl::OkStatus();
}

absl::Status DeltaApplier::WriteGroup(RestoreTarget& target, uint64_t g,
                                      std::span<const uint8_t> bytes,
                                      uint64_t* written) const {
  const delta::DeltaFile& d = *d_;
  const uint64_t n = delta::GroupChunks(d.header.changed_cnt, g);
  std::vector<delta::StoredChunk> stored;
  const absl::Status parsed = delta::ParseGroup(bytes, n, &stored);
  const bool raw = parsed.ok() && bytes.size() == d.groups[g].sz &&
                   std::all_of(stored.begin(), stored.end(), [](const auto& c) {
                     return c.stored.size() == c.usz;
                   });
  // Raw chunks: every byte is checked below (records against the plan,
  // chunks against their digests), so the group's digest adds nothing.
  if (!raw) WK_RETURN_IF_ERROR(delta::CheckGroup(d, g, bytes));
  WK_RETURN_IF_ERROR(parsed);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t k = g * delta::kChunksPerGroup + i;
    const ChunkRef& ch = Changed(k);
    // Checked before the first write where the delta is a file
    // (CheckRecords), but the file may have changed since, and a download's
    // groups arrive after the writes began: never write other than the
    // planned chunk's bytes.
    WK_RETURN_IF_ERROR(CheckRecord(g, i, stored[i].gaddr, stored[i].usz));
    WK_RETURN_IF_ERROR(Prepare(target, k));
    WK_RETURN_IF_ERROR(delta::DecodeChunk(stored[i], target.Dest(ch.gaddr)));
    WK_RETURN_IF_ERROR(CheckChunk(target, k));
    *written += ch.sz;
  }
  return absl::OkStatus();
}

absl::Status DeltaApplier::ReadGroupInPlace(RestoreTarget& target, uint64_t g,
                                            bool* done,
                                            uint64_t* written) const {
  // Chunks read per system call: small enough that their bytes are still
  // in the core's cache when they are hashed right after.
  constexpr uint64_t kBatchBytes = uint64_t{512} << 10;
  const delta::DeltaFile& d = *d_;
  const delta::GroupEntry& ge = d.groups[g];
  const uint64_t n = delta::GroupChunks(d.header.changed_cnt, g);
  const uint64_t first = g * delta::kChunksPerGroup;
  *done = false;
  uint8_t recs[delta::kChunksPerGroup * delta::kChunkRecSz];
  WK_RETURN_IF_ERROR(
      io::PReadExact(d.fd.get(), recs, n * delta::kChunkRecSz, ge.off));
  uint64_t sz = n * delta::kChunkRecSz;
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t* r = recs + i * delta::kChunkRecSz;
    const uint32_t usz = format::LoadU32(r + 8);
    WK_RETURN_IF_ERROR(CheckRecord(g, i, format::LoadU64(r), usz));
    if (format::LoadU32(r + 12) != usz) return absl::OkStatus();  // LZ4
    sz += usz;
  }
  if (sz != ge.sz) [[unlikely]] {
    return absl::DataLossError(absl::StrFormat(
        "corrupt delta checkpoint %s: group %u is %u bytes, its records add "
        "up to %u",
        d.path, g, ge.sz, sz));
  }
  *done = true;
  iovec iov[delta::kChunksPerGroup];
  uint64_t off = ge.off + n * delta::kChunkRecSz;
  for (uint64_t i = 0; i < n;) {
    uint64_t e = i, bytes = 0;
    for (; e < n && (e == i || bytes + Changed(first + e).sz <= kBatchBytes);
         ++e) {
      const ChunkRef& ch = Changed(first + e);
      WK_RETURN_IF_ERROR(Prepare(target, first + e));
      iov[e - i] = {target.Dest(ch.gaddr), ch.sz};
      bytes += ch.sz;
    }
    absl::Status st = io::PReadvExact(d.fd.get(), std::span(iov, e - i), off);
    if (!st.ok()) [[unlikely]]
      return io::IsEndOfFile(st) ? delta::GroupPastEnd(g) : st;
    for (uint64_t k = i; k < e; ++k) {
      WK_RETURN_IF_ERROR(CheckChunk(target, first + k));
    }
    *written += bytes;
    off += bytes;
    i = e;
  }
  return absl::OkStatus();
}

namespace {

// Writes d's groups as `plan` says (made by Plan and checked against d's
// records, or by PlanInPlace). The lock is held.
absl::Status ApplyPlanned(wksp::Wksp& wksp, const delta::DeltaFile& d,
                          const DeltaApplier& plan,
                          const RestoreOptions& options) {
  const delta::Header& h = d.header;
  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  if (absl::Status st = plan.PlaceTable(target); !st.ok()) [[unlikely]]
    return target.Fail(st);
  ProgressMeter meter(options.progress, plan.total_bytes());
  ThreadPool pool(std::max<uint64_t>(
      1, std::min<uint64_t>(ResolveThreads(options.threads), h.group_cnt)));
  std::vector<absl::Status> errs(pool.size());
  std::atomic<uint64_t> next_group{0};
  uint64_t buf_sz = 0;
  for (const delta::GroupEntry& ge : d.groups) buf_sz = std::max(buf_sz, ge.sz);
  pool.ExecAll([&](size_t t) {
    std::vector<uint8_t> buf;
    for (uint64_t g; (g = next_group.fetch_add(1)) < h.group_cnt;) {
      // RAW: straight from the file into the workspace where every chunk
      // of the group is raw; else through `buf`.
      bool done = false;
      uint64_t bytes = 0;
      absl::Status st;
      if (h.fs == checkpt::FrameStyle::kRaw) {
        st = plan.ReadGroupInPlace(target, g, &done, &bytes);
      }
      if (st.ok() && !done) {
        if (buf.empty()) buf.resize(buf_sz);  // once: never cleared again
        absl::StatusOr<std::span<const uint8_t>> b =
            delta::ReadGroupBytes(d, g, buf);
        st = b.ok() ? plan.WriteGroup(target, g, *b, &bytes) : b.status();
      }
      if (!st.ok()) [[unlikely]] {
        errs[t] = st;
        return;
      }
      meter.Add(bytes);
    }
  });
  for (const auto& e : errs) {
    if (!e.ok()) [[unlikely]]
      return target.Fail(e);
  }
  meter.Finish();
  return target.Finish();
}

// Applies d onto a workspace whose state has index `cur` (checked by the
// caller; `cur_mapped` as for DeltaApplier::Plan). The lock is held.
absl::Status ApplyLocked(wksp::Wksp& wksp, const delta::DeltaFile& d,
                         const ChunkIndex& cur, bool cur_mapped,
                         const RestoreOptions& options) {
  WK_ASSIGN_OR_RETURN(DeltaApplier plan,
                      DeltaApplier::Plan(wksp, d, cur, cur_mapped));
  // Every group's records, before the first write: the chunks stored must
  // be exactly the changed ones (their digests are checked as written).
  WK_RETURN_IF_ERROR(plan.CheckRecords());
  return ApplyPlanned(wksp, d, plan, options);
}

absl::StatusOr<ChunkIndex> HashLocked(wksp::Wksp& wksp, size_t threads) {
  WK_ASSIGN_OR_RETURN(std::vector<format::Alloc> allocs,
                      wksp::UsedPartitionsLocked(wksp));
  return HashWorkspaceLocked(wksp, std::move(allocs), threads);
}

absl::Status NeedsWrite(const wksp::Wksp& wksp, std::string_view what) {
  if (wksp.read_only()) [[unlikely]] {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s needs a read-write join of the workspace", what));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ChunkIndex> CheckBase(wksp::Wksp& wksp,
                                     const delta::DeltaFile& d, size_t threads,
                                     std::string_view what) {
  WK_ASSIGN_OR_RETURN(ChunkIndex cur, HashLocked(wksp, threads));
  if (const StateId have = cur.Id(); !(have == d.header.base_id)) {
    return NotBase(d, have, what);
  }
  return cur;
}

}  // namespace wk::wksp_checkpt::internal

namespace wk::wksp_checkpt {

using internal::ChunkIndex;
namespace delta = internal::delta;

absl::Status ApplyDelta(wksp::Wksp& wksp, const std::string& delta_path,
                        const RestoreOptions& options) {
  auto run = [&]() -> absl::Status {
    WK_RETURN_IF_ERROR(internal::NeedsWrite(wksp, "apply"));
    WK_ASSIGN_OR_RETURN(delta::DeltaFile d, delta::OpenDelta(delta_path));
    WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
    // An apply changes nothing but the chunks the delta replaces, or
    // refuses. Where the workspace's allocation table already is the
    // delta's, that takes every chunk the delta keeps holding its bytes
    // (the replaced ones are overwritten, so they are not read); anywhere
    // else the workspace must be exactly the delta's base (its state id,
    // every chunk hashed), so no allocation is dropped or moved unseen.
    WK_ASSIGN_OR_RETURN(std::vector<format::Alloc> table,
                        wksp::UsedPartitionsLocked(wksp));
    if (table != d.index.allocs) {
      WK_ASSIGN_OR_RETURN(
          ChunkIndex cur,
          internal::CheckBase(wksp, d, options.threads, "the workspace"));
      return internal::ApplyLocked(wksp, d, cur, /*cur_mapped=*/true, options);
    }
    WK_ASSIGN_OR_RETURN(
        internal::DeltaApplier plan,
        internal::DeltaApplier::PlanInPlace(wksp, d, options.threads));
    return internal::ApplyPlanned(wksp, d, plan, options);
  };
  return Annotate(run(), absl::StrFormat("apply %s", delta_path));
}

absl::Status RestoreChain(wksp::Wksp& wksp,
                          const std::vector<std::string>& chain,
                          const RestoreOptions& options) {
  if (chain.empty()) [[unlikely]]
    return absl::InvalidArgumentError("restore: no checkpoint given");
  if (chain.size() == 1 && !IsDeltaCheckpt(chain[0])) {
    return Restore(wksp, chain[0], options);
  }
  auto run = [&]() -> absl::Status {
    WK_RETURN_IF_ERROR(internal::NeedsWrite(wksp, "restore"));
    if (IsDeltaCheckpt(chain[0])) [[unlikely]] {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s is a delta: a chain starts with a full checkpoint (the base "
          "of its first delta)",
          chain[0]));
    }
    // Every delta's metadata and every link, before anything is written.
    std::vector<delta::DeltaFile> ds;
    for (size_t i = 1; i < chain.size(); ++i) {
      WK_ASSIGN_OR_RETURN(delta::DeltaFile d, delta::OpenDelta(chain[i]));
      if (!ds.empty() && !(ds.back().header.state_id == d.header.base_id)) {
        return internal::NotBase(d, ds.back().header.state_id, chain[i - 1]);
      }
      ds.push_back(std::move(d));
    }
    WK_ASSIGN_OR_RETURN(io::Fd fd, io::OpenRead(chain[0]));
    WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
    WK_RETURN_IF_ERROR(
        Annotate(internal::RestoreLocked(wksp, fd.get(),
                                         io::IsRegularFile(fd.get()), options),
                 absl::StrFormat("restore %s", chain[0])));
    // The full checkpoint is in: from here any failure resets.
    const uint32_t seed = options.seed.value_or(wksp.seed());
    auto reset = [&](const absl::Status& st) {
      if (IsWorkspaceReset(st)) return st;
      wksp::ResetLocked(wksp, seed);
      return internal::WorkspaceReset(st);
    };
    absl::StatusOr<ChunkIndex> cur =
        internal::HashLocked(wksp, options.threads);
    if (!cur.ok()) [[unlikely]]
      return reset(cur.status());
    if (const internal::StateId have = cur->Id();
        !(have == ds[0].header.base_id)) [[unlikely]] {
      return reset(internal::NotBase(ds[0], have, chain[0]));
    }
    const ChunkIndex* prev = &*cur;
    for (const delta::DeltaFile& d : ds) {
      // Only the first delta's base was hashed here.
      absl::Status st =
          internal::ApplyLocked(wksp, d, *prev, prev == &*cur, options);
      if (!st.ok()) [[unlikely]]
        return reset(Annotate(st, absl::StrFormat("apply %s", d.path)));
      prev = &d.index;
    }
    return absl::OkStatus();
  };
  return run();
}

}  // namespace wk::wksp_checkpt
