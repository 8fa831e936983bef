// Delta checkpoints, the writer (CHECKPOINT_FORMAT.md §9.3): the base's
// index (a delta's own, a full checkpoint's sidecar, or the file read once),
// the workspace hashed under its lock with `threads` threads, then the
// header and index, the groups of changed chunks (each made by whichever
// thread takes it: LZ4 blocks compressed independently, so the bytes do
// not depend on the thread count) and the trailer, in file order through
// an OrderedOutput. Written unnamed and published complete, as Checkpt's
// files are.
#include <lz4.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/pending_file.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "util/xxh3.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/delta_format.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/ordered_output.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

// The index of the state at `base`: a delta's own, else a full checkpoint's.
absl::StatusOr<ChunkIndex> BaseIndex(const std::string& base, size_t threads) {
  if (IsDeltaCheckpt(base)) {
    WK_ASSIGN_OR_RETURN(delta::DeltaFile d, delta::OpenDelta(base));
    return std::move(d.index);
  }
  return IndexOfFull(base, threads);
}

class GroupWriter {
 public:
  // changed: the changed chunks, in index order.
  GroupWriter(const wksp::Wksp& wksp, const std::vector<ChunkRef>& changed,
              checkpt::FrameStyle fs, OrderedOutput& out, ProgressMeter& meter)
      : wksp_(wksp),
        changed_(changed),
        lz4_(fs == checkpt::FrameStyle::kLz4),
        out_(out),
        meter_(meter) {}

  // Writes group g as segment k; fills *entry's size and digest. Everything
  // but the write itself (compression, the group's digest) is done before
  // waiting for k's turn, so threads make their groups while another
  // writes. The hash pass just read every chunk under the same lock: its
  // pages are mapped, no check needed here.
  absl::Status Write(uint64_t g, size_t k, delta::GroupEntry* entry) {
    const uint64_t n = delta::GroupChunks(changed_.size(), g);
    const uint64_t first = g * delta::kChunksPerGroup;
    recs_.assign(n * delta::kChunkRecSz, 0);
    parts_.clear();
    parts_.push_back({recs_.data(), recs_.size()});
    if (lz4_ && comp_cap_ < n * kCompBound) {
      // Not cleared: LZ4 writes what is read back.
      comp_ = std::make_unique_for_overwrite<uint8_t[]>(n * kCompBound);
      comp_cap_ = n * kCompBound;
    }
    size_t comp_at = 0;
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const ChunkRef& c = changed_[first + i];
      const uint8_t* src = wksp_.laddr(c.gaddr);
      std::span<const uint8_t> stored(src, c.sz);
      if (lz4_) {
        char* dst = reinterpret_cast<char*>(comp_.get() + comp_at);
        const int csz = LZ4_compress_default(
            reinterpret_cast<const char*>(src), dst, static_cast<int>(c.sz),
            LZ4_compressBound(static_cast<int>(c.sz)));
        if (csz > 0 && static_cast<uint64_t>(csz) < c.sz) {
          stored = {comp_.get() + comp_at, static_cast<size_t>(csz)};
          comp_at += static_cast<size_t>(csz);
        }
      }
      uint8_t* r = recs_.data() + i * delta::kChunkRecSz;
      format::StoreU64(r, c.gaddr);
      format::StoreU32(r + 8, static_cast<uint32_t>(c.sz));
      format::StoreU32(r + 12, static_cast<uint32_t>(stored.size()));
      parts_.push_back({const_cast<uint8_t*>(stored.data()), stored.size()});
      bytes += c.sz;
    }
    XXH3_128bits_reset(st_);
    uint64_t sz = 0;
    for (const iovec& p : parts_) {
      XXH3_128bits_update(st_, p.iov_base, p.iov_len);
      sz += p.iov_len;
    }
    const XXH128_hash_t h = XXH3_128bits_digest(st_);
    entry->sz = sz;
    entry->digest = {h.low64, h.high64};
    WK_RETURN_IF_ERROR(out_.WriteParts(k, parts_));
    meter_.Add(bytes);
    return absl::OkStatus();
  }

  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;
  ~GroupWriter() { XXH3_freeState(st_); }

 private:
  const wksp::Wksp& wksp_;
  const std::vector<ChunkRef>& changed_;
  const bool lz4_;
  OrderedOutput& out_;
  ProgressMeter& meter_;
  static constexpr size_t kCompBound =
      static_cast<size_t>(LZ4_COMPRESSBOUND(kChunkSz));
  std::vector<uint8_t> recs_;
  std::unique_ptr<uint8_t[]> comp_;  // LZ4 blocks of the group
  size_t comp_cap_ = 0;
  std::vector<iovec> parts_;  // the records, then each chunk as stored
  XXH3_state_t* st_ = XXH3_createState();
};

absl::Status WriteLocked(wksp::Wksp& wksp, const ChunkIndex& base, int fd,
                         const CheckptOptions& options) {
  WK_ASSIGN_OR_RETURN(std::vector<format::Alloc> allocs,
                      wksp::UsedPartitionsLocked(wksp));
  WK_ASSIGN_OR_RETURN(
      ChunkIndex index,
      HashWorkspaceLocked(wksp, std::move(allocs), options.threads));
  // Only what the delta needs beyond the index itself: the changed chunks,
  // and the table's records (the digests are written from where they are).
  const std::vector<ChunkRef> changed =
      ChunksAt(index.allocs, ChangedChunks(base, index));
  const std::vector<uint8_t> table_bytes = index.EncodeTable();

  delta::Header h;
  h.fs = FrameStyleOf(options.style);
  h.name = wksp.name();
  h.seed = wksp.seed();
  h.part_max = wksp.part_max();
  h.data_max = wksp.data_max();
  h.alloc_cnt = index.allocs.size();
  h.chunk_cnt = index.digests.size();
  h.changed_cnt = changed.size();
  h.group_cnt =
      (changed.size() + delta::kChunksPerGroup - 1) / delta::kChunksPerGroup;
  h.base_id = base.Id();
  h.state_id = index.Id();
  uint8_t hb[delta::kHeaderSz];
  delta::EncodeHeader(h, hb);

  uint64_t total = 0;
  for (const ChunkRef& c : changed) total += c.sz;
  ProgressMeter meter(options.progress, total);
  // Segments: 0 header and index, 1..G the groups, G+1 the trailer.
  const uint64_t g_cnt = h.group_cnt;
  const size_t segments = g_cnt + 2;
  OrderedOutput out(fd, segments);
  std::vector<delta::GroupEntry> entries(g_cnt);
  const size_t threads =
      std::min<size_t>(ResolveThreads(options.threads), segments);
  std::atomic<size_t> next{0};
  ThreadPool pool(threads);
  pool.ExecAll([&](size_t) {
    GroupWriter gw(wksp, changed, h.fs, out, meter);
    for (size_t k; (k = next.fetch_add(1)) < segments;) {
      absl::Status st;
      if (k == 0) {
        const std::span<const uint8_t> digests = index.DigestBytes();
        const iovec parts[] = {
            {hb, sizeof(hb)},
            {const_cast<uint8_t*>(table_bytes.data()), table_bytes.size()},
            {const_cast<uint8_t*>(digests.data()), digests.size()}};
        st = out.WriteParts(0, parts);
      } else if (k <= g_cnt) {
        st = gw.Write(k - 1, k, &entries[k - 1]);
      } else {
        // The trailer names every group: it waits for all of them.
        st = out.WaitTurn(k);
        if (st.ok()) {
          for (uint64_t g = 0; g < g_cnt; ++g) {
            entries[g].off = out.SegmentOffset(g + 1);
          }
          const std::vector<uint8_t> tb =
              delta::EncodeTrailer(entries, out.SegmentOffset(k));
          st = out.Write(k, tb);
        }
      }
      if (!st.ok()) [[unlikely]]
        out.Fail(st);
      out.Done(k);
    }
  });
  WK_RETURN_IF_ERROR(out.status());
  meter.Finish();
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteDelta(wksp::Wksp& wksp, const std::string& path,
                        const CheckptOptions& options) {
  auto fail = [&](const absl::Status& st) {
    return WithMessage(st, absl::StrFormat("checkpt %s (delta against %s): "
                                           "%s; no file was created at %s",
                                           path, options.base, st.message(),
                                           path));
  };
  if (options.style == Style::kV1) [[unlikely]] {
    return absl::InvalidArgumentError(
        "a delta checkpoint (--base) is style 2 or 3, not v1");
  }
  if (wksp.read_only()) [[unlikely]] {
    return absl::FailedPreconditionError(
        "checkpoint needs a read-write join of the workspace");
  }
  absl::StatusOr<ChunkIndex> base = BaseIndex(options.base, options.threads);
  if (!base.ok()) [[unlikely]]
    return fail(Annotate(base.status(), absl::StrFormat("base %s", options.base)));
  absl::StatusOr<io::PendingFile> file =
      io::PendingFile::Create(path, options.mode, kCheckptTempTag);
  if (!file.ok()) [[unlikely]]
    return Annotate(file.status(), "checkpt");
  absl::Status st;
  {
    absl::StatusOr<wksp::LockGuard> lock = wksp.Lock();
    st = lock.ok() ? WriteLocked(wksp, *base, file->fd(), options)
                   : lock.status();
  }
  if (st.ok()) {
    st = file->Publish(options.durable ? io::Durability::kSync
                                       : io::Durability::kNone);
  }
  if (!st.ok()) [[unlikely]]
    return fail(st);
  return absl::OkStatus();
}

}  // namespace wk::wksp_checkpt::internal
