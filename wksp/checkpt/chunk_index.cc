// The chunk-digest index (chunk_index.h; CHECKPOINT_FORMAT.md §9.1, §9.2).
#include "wksp/checkpt/chunk_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/populate.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "util/xxh3.h"
#include "wksp/checkpt/internal.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

// Chunks hashed per task: 16 MiB, enough to make the queue's cost noise and
// small enough to balance two threads over a few hundred MiB.
constexpr uint64_t kChunksPerTask = 256;

constexpr uint64_t kSidecarMagic = 0x3130584449534B57ULL;  // "WKSIDX01"
constexpr size_t kSidecarHeadSz = 88;
constexpr uint64_t kTieHeadSz = uint64_t{64} << 10;
constexpr uint64_t kTieTailSz = uint64_t{4} << 10;
constexpr char kSidecarSuffix[] = ".wkspidx";

absl::Status BadIndex(std::string_view what, std::string_view why) {
  return absl::DataLossError(absl::StrFormat("corrupt %s: %s", what, why));
}

void StoreDigest(uint8_t* p, const ChunkDigest& d) {
  format::StoreU64(p, d.lo);
  format::StoreU64(p + 8, d.hi);
}
ChunkDigest LoadDigest(const uint8_t* p) {
  return {format::LoadU64(p), format::LoadU64(p + 8)};
}

// What ties a sidecar to one checkpoint file: its size and the digest of
// its first and last bytes (the info frame and the footer).
absl::Status TieOf(int fd, uint64_t* size, ChunkDigest* tie) {
  WK_ASSIGN_OR_RETURN(*size, io::FileSize(fd));
  const uint64_t head = std::min(*size, kTieHeadSz);
  const uint64_t tail = std::min(*size, kTieTailSz);
  std::vector<uint8_t> b(head + tail);
  WK_RETURN_IF_ERROR(io::PReadExact(fd, b.data(), head, 0));
  WK_RETURN_IF_ERROR(io::PReadExact(fd, b.data() + head, tail, *size - tail));
  *tie = Digest(b);
  return absl::OkStatus();
}

}  // namespace

ChunkDigest Digest(std::span<const uint8_t> bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return {h.low64, h.high64};
}

// libxxhash keeps its streaming state's layout private: made by it.
struct ChunkDigester::State {
  State() : xxh(XXH3_createState()) {}
  ~State() { XXH3_freeState(xxh); }
  XXH3_state_t* xxh;
};

ChunkDigester::ChunkDigester() : s_(std::make_unique<State>()) {}
ChunkDigester::~ChunkDigester() = default;

void ChunkDigester::Begin(ChunkDigest* out) {
  first_ = out_ = out;
  partial_ = 0;
}

void ChunkDigester::Feed(std::span<const uint8_t> b) {
  while (!b.empty()) {
    // Whole chunks in one piece: one-shot (the common case: LZ4 feeds
    // 64 KiB chunks, RAW 1 MiB pieces, both aligned to the allocation).
    if (partial_ == 0 && b.size() >= kChunkSz) {
      *out_++ = Digest(b.first(kChunkSz));
      b = b.subspan(kChunkSz);
      continue;
    }
    if (partial_ == 0) XXH3_128bits_reset(s_->xxh);
    const uint64_t take = std::min<uint64_t>(b.size(), kChunkSz - partial_);
    XXH3_128bits_update(s_->xxh, b.data(), take);
    partial_ += take;
    b = b.subspan(take);
    if (partial_ == kChunkSz) {
      const XXH128_hash_t h = XXH3_128bits_digest(s_->xxh);
      *out_++ = {h.low64, h.high64};
      partial_ = 0;
    }
  }
}

uint64_t ChunkDigester::End() {
  if (partial_) {
    const XXH128_hash_t h = XXH3_128bits_digest(s_->xxh);
    *out_++ = {h.low64, h.high64};
    partial_ = 0;
  }
  return static_cast<uint64_t>(out_ - first_);
}

uint64_t ChunkCount(std::span<const format::Alloc> allocs) {
  uint64_t n = 0;
  for (const auto& a : allocs) n += ChunkCount(a.hi - a.lo);
  return n;
}

std::vector<ChunkRef> Chunks(std::span<const format::Alloc> allocs) {
  std::vector<ChunkRef> out;
  out.reserve(ChunkCount(allocs));
  for (const auto& a : allocs) {
    for (uint64_t g = a.lo; g < a.hi; g += kChunkSz) {
      out.push_back({g, std::min(kChunkSz, a.hi - g)});
    }
  }
  return out;
}

std::vector<ChunkRef> ChunksAt(std::span<const format::Alloc> allocs,
                               std::span<const uint64_t> indices) {
  std::vector<ChunkRef> out;
  out.reserve(indices.size());
  ChunkWalk w(allocs);
  uint64_t c = 0;
  for (const uint64_t want : indices) {
    for (; c < want; ++c) w.Next();
    out.push_back(*w);
  }
  return out;
}

// The digests' memory is their index bytes (DigestBytes, IndexBytes): the
// format is little-endian, and so is every host this builds for.
static_assert(std::endian::native == std::endian::little,
              "chunk digests are read and written as their own memory");
static_assert(sizeof(ChunkDigest) == kDigestSz);

namespace {

// The records of `allocs` into p (kAllocRecSz bytes each).
void StoreTable(std::span<const format::Alloc> allocs, uint8_t* p) {
  for (const auto& a : allocs) {
    format::StoreU64(p, a.lo);
    format::StoreU64(p + 8, a.hi);
    format::StoreU64(p + 16, a.tag);
    p += kAllocRecSz;
  }
}

}  // namespace

std::vector<uint8_t> ChunkIndex::EncodeTable() const {
  std::vector<uint8_t> b(kAllocRecSz * allocs.size());
  StoreTable(allocs, b.data());
  return b;
}

std::vector<uint8_t> ChunkIndex::Encode() const {
  const std::span<const uint8_t> d = DigestBytes();
  std::vector<uint8_t> b(kAllocRecSz * allocs.size() + d.size());
  StoreTable(allocs, b.data());
  if (!d.empty())
    std::memcpy(b.data() + kAllocRecSz * allocs.size(), d.data(), d.size());
  return b;
}

StateId ChunkIndex::Id() const {
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  // The table in batches from the stack, the digests from where they are:
  // the bytes of Encode(), and XXH3 fed in parts equals XXH3 of the whole.
  constexpr size_t kBatch = 128;
  uint8_t recs[kAllocRecSz * kBatch];
  const std::span<const format::Alloc> table(allocs);
  for (size_t i = 0; i < table.size(); i += kBatch) {
    const std::span<const format::Alloc> part =
        table.subspan(i, std::min(kBatch, table.size() - i));
    StoreTable(part, recs);
    XXH3_128bits_update(st, recs, part.size() * kAllocRecSz);
  }
  const std::span<const uint8_t> d = DigestBytes();
  XXH3_128bits_update(st, d.data(), d.size());
  const XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  return {h.low64, h.high64};
}

absl::StatusOr<ChunkIndex> DecodeIndex(IndexBytes in, uint64_t alloc_cnt,
                                       uint64_t chunk_cnt,
                                       const wksp::Limits& src,
                                       std::string_view what) {
  const std::span<const uint8_t> bytes = std::as_const(in).bytes();
  // Counts first, against the bytes there are: no allocation is sized by
  // an unchecked count.
  if (alloc_cnt > bytes.size() / kAllocRecSz ||
      chunk_cnt > bytes.size() / kDigestSz ||
      bytes.size() != kAllocRecSz * alloc_cnt + kDigestSz * chunk_cnt)
      [[unlikely]] {
    return BadIndex(what, absl::StrFormat(
                              "index of %u allocations and %u chunks cannot "
                              "be %u bytes",
                              alloc_cnt, chunk_cnt, bytes.size()));
  }
  ChunkIndex idx;
  idx.allocs.resize(alloc_cnt);
  const uint8_t* p = bytes.data();
  uint64_t prev_hi = 0, chunks = 0;
  for (uint64_t i = 0; i < alloc_cnt; ++i, p += kAllocRecSz) {
    format::Alloc& a = idx.allocs[i];
    a = {format::LoadU64(p), format::LoadU64(p + 8), format::LoadU64(p + 16)};
    absl::Status st = format::CheckInSource(a, src);
    if (!st.ok()) [[unlikely]]
      return BadIndex(what, std::string(st.message()));
    if (a.lo < prev_hi) [[unlikely]] {
      return BadIndex(what, absl::StrFormat("allocation [%u, %u) overlaps or "
                                            "precedes the one before it",
                                            a.lo, a.hi));
    }
    prev_hi = a.hi;
    chunks += ChunkCount(a.hi - a.lo);
  }
  if (chunks != chunk_cnt) [[unlikely]] {
    return BadIndex(what,
                    absl::StrFormat("%u chunk digests for allocations of %u "
                                    "chunks",
                                    chunk_cnt, chunks));
  }
  // The digests move to the front of the buffer that holds them (the
  // allocation records were before them), where their bytes are
  // ChunkDigests already.
  if (chunk_cnt != 0) std::memmove(in.words_.data(), p, kDigestSz * chunk_cnt);
  in.words_.resize(chunk_cnt);
  idx.digests = std::move(in.words_);
  return idx;
}

namespace {

// Runs on_chunk(c, bytes) for every chunk c of `allocs` but the skipped
// ones, with `threads` threads taking tasks of kChunksPerTask chunks from a
// shared counter; a task first pre-faults its runs of contiguous chunks
// unless mapped already. on_chunk returns false to stop every thread at its
// next task (it must be thread safe for distinct c).
template <typename OnChunk>
absl::Status ForEachChunkLocked(const wksp::Wksp& wksp,
                                std::span<const format::Alloc> allocs,
                                const std::vector<bool>& skip, size_t threads,
                                OnChunk&& on_chunk) {
  // Where each task starts (its first chunk's allocation and gaddr): one
  // walk of the table, a few hundred entries, instead of a list of every
  // chunk.
  struct Start {
    size_t a;
    uint64_t g;
  };
  std::vector<Start> starts;
  uint64_t total = 0;
  for (size_t a = 0; a < allocs.size(); ++a) {
    for (uint64_t g = allocs[a].lo; g < allocs[a].hi; g += kChunkSz, ++total) {
      if (total % kChunksPerTask == 0) starts.push_back({a, g});
    }
  }
  const uint64_t tasks = starts.size();
  ThreadPool pool(std::max<uint64_t>(
      1, std::min<uint64_t>(ResolveThreads(threads), tasks)));
  std::atomic<uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::vector<absl::Status> errs(pool.size());
  pool.ExecAll([&](size_t t) {
    ChunkRef chunks[kChunksPerTask];  // the task's, from its walk
    for (uint64_t k; !stop.load(std::memory_order_relaxed) &&
                     (k = next.fetch_add(1)) < tasks;) {
      const uint64_t c0 = k * kChunksPerTask;
      const uint64_t n = std::min<uint64_t>(kChunksPerTask, total - c0);
      ChunkWalk w(allocs, starts[k].a, starts[k].g);
      for (uint64_t i = 0; i < n; ++i, w.Next()) chunks[i] = *w;
      // Pre-fault each run of contiguous chunks in one go (4 KiB pages
      // mapped anew fault per page otherwise). Where the task's first and
      // last bytes are mapped already (this process wrote or hashed them
      // before), skip it: allocations are runs of their own, and two
      // pagemap reads per allocation cost a quarter of the hash's time.
      // Skipped chunks are pre-faulted too: callers write them next.
      const bool mapped = io::PagePresent(wksp.laddr(chunks[0].gaddr)) &&
                          io::PagePresent(wksp.laddr(chunks[n - 1].gaddr) +
                                          chunks[n - 1].sz - 1);
      for (uint64_t r = mapped ? n : 0; r < n;) {
        uint64_t e = r + 1;
        while (e < n &&
               chunks[e].gaddr == chunks[e - 1].gaddr + chunks[e - 1].sz)
          ++e;
        absl::Status st =
            Prefault(wksp, chunks[r].gaddr, chunks[e - 1].gaddr + chunks[e - 1].sz,
                     io::PopulateFor::kRead);
        if (!st.ok()) [[unlikely]] {
          errs[t] = st;
          stop.store(true, std::memory_order_relaxed);
          return;
        }
        r = e;
      }
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t c = c0 + i;
        if (!skip.empty() && skip[c]) continue;
        if (!on_chunk(c, std::span<const uint8_t>(wksp.laddr(chunks[i].gaddr),
                                                  chunks[i].sz))) [[unlikely]] {
          stop.store(true, std::memory_order_relaxed);
          return;
        }
      }
    }
  });
  for (const auto& e : errs) WK_RETURN_IF_ERROR(e);
  return absl::OkStatus();
}

}  // namespace

absl::Status HashChunksLocked(const wksp::Wksp& wksp,
                              std::span<const format::Alloc> allocs,
                              const std::vector<bool>& skip,
                              std::span<ChunkDigest> out, size_t threads) {
  return ForEachChunkLocked(wksp, allocs, skip, threads,
                            [&](uint64_t c, std::span<const uint8_t> bytes) {
                              out[c] = Digest(bytes);
                              return true;
                            });
}

absl::StatusOr<uint64_t> FirstDifferentChunkLocked(
    const wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
    const std::vector<bool>& skip, std::span<const ChunkDigest> want,
    size_t threads) {
  std::atomic<uint64_t> first{ChunkCount(allocs)};
  WK_RETURN_IF_ERROR(
      ForEachChunkLocked(wksp, allocs, skip, threads,
                         [&](uint64_t c, std::span<const uint8_t> bytes) {
                           if (Digest(bytes) == want[c]) [[likely]]
                             return true;
                           // The lowest of those the threads found before they
                           // stopped.
                           uint64_t f = first.load(std::memory_order_relaxed);
                           while (c < f && !first.compare_exchange_weak(f, c)) {
                           }
                           return false;
                         }));
  return first.load();
}

absl::StatusOr<ChunkIndex> HashWorkspaceLocked(
    const wksp::Wksp& wksp, std::vector<format::Alloc> allocs, size_t threads) {
  ChunkIndex idx;
  idx.allocs = std::move(allocs);
  idx.digests.resize(ChunkCount(idx.allocs));
  WK_RETURN_IF_ERROR(
      HashChunksLocked(wksp, idx.allocs, {}, idx.digests, threads));
  return idx;
}

std::vector<uint64_t> ChangedChunks(const ChunkIndex& prev,
                                    const ChunkIndex& next) {
  std::vector<uint64_t> out;
  ChunkWalk p(prev.allocs);
  uint64_t j = 0;  // p's chunk index
  uint64_t i = 0;
  for (ChunkWalk n(next.allocs); !n.done(); n.Next(), ++i) {
    const ChunkRef nc = *n;
    while (!p.done() && (*p).gaddr < nc.gaddr) {
      p.Next();
      ++j;
    }
    const bool same = !p.done() && (*p).gaddr == nc.gaddr && (*p).sz == nc.sz &&
                      prev.digests[j] == next.digests[i];
    if (!same) out.push_back(i);
  }
  return out;
}

std::string SidecarPath(const std::string& path) {
  return path + kSidecarSuffix;
}

absl::Status WriteSidecar(const std::string& path, int ckpt_fd,
                          const ChunkIndex& index, bool durable) {
  uint64_t size = 0;
  ChunkDigest tie;
  WK_RETURN_IF_ERROR(TieOf(ckpt_fd, &size, &tie));
  const std::vector<uint8_t> body = index.Encode();
  std::vector<uint8_t> b(kSidecarHeadSz);
  format::StoreU64(b.data(), kSidecarMagic);
  format::StoreU64(b.data() + 8, kChunkSz);
  format::StoreU64(b.data() + 16, index.allocs.size());
  format::StoreU64(b.data() + 24, index.digests.size());
  format::StoreU64(b.data() + 32, size);
  StoreDigest(b.data() + 40, tie);
  StoreDigest(b.data() + 56, Digest(body));
  StoreDigest(b.data() + 72, Digest({b.data(), 72}));
  // A temporary renamed over the sidecar: a stale one (of a file once at
  // this path) is replaced, and a kill leaves the old one or the new one.
  const std::string side = SidecarPath(path);
  // Named like a checkpoint's temporary (kCheckptTempTag): what a kill
  // leaves is recognisably safe to delete.
  const size_t slash = side.rfind('/');
  const std::string tmp = absl::StrFormat(
      "%s.%s.%s.%d",
      slash == std::string::npos ? "" : side.substr(0, slash + 1),
      side.substr(slash == std::string::npos ? 0 : slash + 1), kCheckptTempTag,
      static_cast<int>(getpid()));
  unlink(tmp.c_str());
  {
    WK_ASSIGN_OR_RETURN(io::Fd fd, io::CreateExclusive(tmp, 0644));
    absl::Status st = io::WriteExact(fd.get(), b.data(), b.size());
    if (st.ok()) st = io::WriteExact(fd.get(), body.data(), body.size());
    if (st.ok() && durable) st = io::Fsync(fd.get());
    if (!st.ok()) [[unlikely]] {
      unlink(tmp.c_str());
      return Annotate(st, absl::StrFormat("writing index %s", side));
    }
  }
  if (rename(tmp.c_str(), side.c_str()) != 0) [[unlikely]] {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, "rename", side);
  }
  return absl::OkStatus();
}

absl::StatusOr<ChunkIndex> ReadSidecar(const std::string& path) {
  const std::string side = SidecarPath(path);
  auto stale = [&](std::string_view why) {
    return absl::NotFoundError(
        absl::StrFormat("index %s of checkpoint %s not usable: %s", side, path,
                        why));
  };
  absl::StatusOr<io::Fd> sfd = io::OpenRead(side);
  if (!sfd.ok()) return stale(std::string(sfd.status().message()));
  WK_ASSIGN_OR_RETURN(uint64_t ssz, io::FileSize(sfd->get()));
  if (ssz < kSidecarHeadSz) return stale("too short");
  uint8_t h[kSidecarHeadSz];
  WK_RETURN_IF_ERROR(io::PReadExact(sfd->get(), h, sizeof(h), 0));
  if (format::LoadU64(h) != kSidecarMagic) return stale("bad magic");
  if (!(LoadDigest(h + 72) == Digest({h, 72}))) return stale("bad checksum");
  if (format::LoadU64(h + 8) != kChunkSz) return stale("other chunk size");
  uint64_t size = 0;
  ChunkDigest tie;
  {
    WK_ASSIGN_OR_RETURN(io::Fd fd, io::OpenRead(path));
    WK_RETURN_IF_ERROR(TieOf(fd.get(), &size, &tie));
  }
  if (format::LoadU64(h + 32) != size || !(LoadDigest(h + 40) == tie)) {
    return stale("it describes another file (stale)");
  }
  IndexBytes body(ssz - kSidecarHeadSz);
  WK_RETURN_IF_ERROR(io::PReadExact(sfd->get(), body.bytes().data(),
                                    body.bytes().size(), kSidecarHeadSz));
  if (!(Digest(body.bytes()) == LoadDigest(h + 56)))
    return stale("bad checksum");
  // Any range the allocator could make: the table was checked when written.
  const wksp::Limits any{~uint64_t{0}, 1, ~uint64_t{0}};
  absl::StatusOr<ChunkIndex> idx = DecodeIndex(
      std::move(body), format::LoadU64(h + 16), format::LoadU64(h + 24), any,
      absl::StrFormat("index %s", side));
  if (!idx.ok()) return stale(std::string(idx.status().message()));
  return idx;
}

absl::StatusOr<ChunkIndex> IndexOfFull(const std::string& path,
                                       size_t threads) {
  absl::StatusOr<ChunkIndex> side = ReadSidecar(path);
  if (side.ok() || !absl::IsNotFound(side.status())) return side;
  // Read once: restore into a scratch workspace and hash it.
  WK_ASSIGN_OR_RETURN(Preview p, PreviewCheckpt(path));
  WK_ASSIGN_OR_RETURN(
      wksp::Wksp scratch,
      wksp::Wksp::CreateAnonymous(p.name, p.part_max, p.data_max));
  RestoreOptions ro;
  ro.threads = threads;
  WK_RETURN_IF_ERROR(Restore(scratch, path, ro));
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, scratch.Lock());
  WK_ASSIGN_OR_RETURN(std::vector<format::Alloc> allocs,
                      wksp::UsedPartitionsLocked(scratch));
  return HashWorkspaceLocked(scratch, std::move(allocs), threads);
}

}  // namespace wk::wksp_checkpt::internal
