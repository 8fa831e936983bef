// Private to wksp/checkpt: the chunk-digest index of a workspace state
// (CHECKPOINT_FORMAT.md §9.1): its allocation table and an XXH3-128 digest
// per 64 KiB chunk of every allocation, its state id, the comparison that
// tells which chunks changed, and the sidecar that carries a full
// checkpoint's index (§9.2).
#ifndef WKSPKIT_WKSP_CHECKPT_CHUNK_INDEX_H_
#define WKSPKIT_WKSP_CHECKPT_CHUNK_INDEX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/checkpt/format.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

inline constexpr uint64_t kChunkSz = uint64_t{64} << 10;
inline constexpr size_t kAllocRecSz = 24;  // lo, hi, tag
inline constexpr size_t kDigestSz = 16;    // XXH3-128, low then high

struct ChunkDigest {
  uint64_t lo = 0, hi = 0;
  friend bool operator==(const ChunkDigest&, const ChunkDigest&) = default;
};

// A state id: XXH3-128 of the index's bytes.
using StateId = ChunkDigest;

// XXH3-128 of `bytes`.
ChunkDigest Digest(std::span<const uint8_t> bytes);

// Chunks of an allocation of `sz` bytes.
inline uint64_t ChunkCount(uint64_t sz) { return (sz + kChunkSz - 1) / kChunkSz; }
// Chunks of every allocation of `allocs`.
uint64_t ChunkCount(std::span<const format::Alloc> allocs);

// One chunk: where it lies and its size.
struct ChunkRef {
  uint64_t gaddr = 0;
  uint64_t sz = 0;
};
// Every chunk of `allocs` (ascending lo), in index order.
std::vector<ChunkRef> Chunks(std::span<const format::Alloc> allocs);

// Walks the chunks of `allocs` (ascending lo, each lo < hi) in index order,
// making each ChunkRef as it goes: no array of them (16 bytes a chunk, and
// on a VM a first touch of fresh memory is costly). `allocs` must outlive
// the walk.
class ChunkWalk {
 public:
  explicit ChunkWalk(std::span<const format::Alloc> allocs) : allocs_(allocs) {
    if (!allocs_.empty()) g_ = allocs_[0].lo;
  }
  // Starting at the chunk at gaddr g of allocation a (a < allocs.size(),
  // g a chunk start in it).
  ChunkWalk(std::span<const format::Alloc> allocs, size_t a, uint64_t g)
      : allocs_(allocs), a_(a), g_(g) {}
  bool done() const { return a_ == allocs_.size(); }
  // The current chunk; not when done().
  ChunkRef operator*() const {
    return {g_, std::min(kChunkSz, allocs_[a_].hi - g_)};
  }
  void Next() {
    g_ += kChunkSz;
    if (g_ >= allocs_[a_].hi && ++a_ < allocs_.size()) g_ = allocs_[a_].lo;
  }

 private:
  std::span<const format::Alloc> allocs_;
  size_t a_ = 0;    // the current chunk's allocation
  uint64_t g_ = 0;  // the current chunk's gaddr
};

// The chunks of `allocs` at `indices` (ascending, each < ChunkCount), in
// that order.
std::vector<ChunkRef> ChunksAt(std::span<const format::Alloc> allocs,
                               std::span<const uint64_t> indices);

// The index of one state.
struct ChunkIndex {
  std::vector<format::Alloc> allocs;  // ascending lo
  std::vector<ChunkDigest> digests;   // one per chunk, in index order
  // The index section's bytes (table then digests, §9.1).
  std::vector<uint8_t> Encode() const;
  // The same bytes in their two parts, without a copy of the digests: the
  // table's records, then the digests' own memory (their little-endian
  // bytes on this host), valid while `digests` is unchanged.
  std::vector<uint8_t> EncodeTable() const;
  std::span<const uint8_t> DigestBytes() const {
    return {reinterpret_cast<const uint8_t*>(digests.data()),
            digests.size() * sizeof(ChunkDigest)};
  }
  // XXH3-128 of Encode(), hashed from the two parts (no copy made).
  StateId Id() const;
};

// An index section's bytes, read into bytes(), held where DecodeIndex
// leaves the digests: the index is decoded without a second copy of it (a
// 100 GiB workspace's digests are 26 MB).
class IndexBytes {
 public:
  explicit IndexBytes(uint64_t sz)
      : words_((sz + kDigestSz - 1) / kDigestSz), sz_(sz) {}
  std::span<uint8_t> bytes() {
    return {reinterpret_cast<uint8_t*>(words_.data()), sz_};
  }
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(words_.data()), sz_};
  }

 private:
  friend absl::StatusOr<ChunkIndex> DecodeIndex(IndexBytes, uint64_t, uint64_t,
                                                const wksp::Limits&,
                                                std::string_view);
  std::vector<ChunkDigest> words_;
  uint64_t sz_;
};

// Decodes an index section of `alloc_cnt` allocations and `chunk_cnt`
// chunks, checking each allocation (CheckInSource against `src`, ascending,
// no overlap) and that chunk_cnt is the table's chunk count. DataLoss
// naming `what` otherwise.
absl::StatusOr<ChunkIndex> DecodeIndex(IndexBytes bytes, uint64_t alloc_cnt,
                                       uint64_t chunk_cnt,
                                       const wksp::Limits& src,
                                       std::string_view what);

// Digests the chunks of one allocation at a time from its bytes fed in
// order, in pieces of any size (a checkpoint writer's data tap, so a full
// checkpoint's index costs no second pass over the workspace). The digests
// equal Digest() of each chunk. Not thread safe: one per writing thread.
class ChunkDigester {
 public:
  ChunkDigester();
  ~ChunkDigester();
  ChunkDigester(const ChunkDigester&) = delete;
  ChunkDigester& operator=(const ChunkDigester&) = delete;
  // An allocation starts: its digests go to out[0, ChunkCount(its size)).
  void Begin(ChunkDigest* out);
  void Feed(std::span<const uint8_t> bytes);
  // The allocation ended: digests its last, partial chunk. Returns how many
  // digests it wrote since Begin.
  uint64_t End();

 private:
  struct State;
  std::unique_ptr<State> s_;
  ChunkDigest* first_ = nullptr;
  ChunkDigest* out_ = nullptr;
  uint64_t partial_ = 0;  // bytes of the current chunk fed so far
};

// Hashes every chunk of `allocs` (the workspace's, ascending lo) with
// `threads` threads. The caller holds the workspace lock.
absl::StatusOr<ChunkIndex> HashWorkspaceLocked(
    const wksp::Wksp& wksp, std::vector<format::Alloc> allocs, size_t threads);

// Digests chunk i of `allocs` (the table of a state in the workspace's data
// region, ascending lo) into out[i] with `threads` threads, for every i but
// those with skip[i] (an empty skip: every chunk); out holds
// ChunkCount(allocs) digests. Each run of contiguous chunks, skipped ones
// included, is pre-faulted for reading first unless mapped already
// (Prefault, internal.h). The caller holds the workspace lock.
absl::Status HashChunksLocked(const wksp::Wksp& wksp,
                              std::span<const format::Alloc> allocs,
                              const std::vector<bool>& skip,
                              std::span<ChunkDigest> out, size_t threads);

// Compares the digest of chunk i of `allocs` (as HashChunksLocked hashes
// it, skip alike) with want[i] and returns an i where they differ, or
// ChunkCount(allocs) when none does. Every thread stops at the first
// difference it finds, so which of several differing chunks it names
// depends on the threads' progress (the lowest of those found). No digest
// array is made: the cost is the hash alone. want holds ChunkCount(allocs)
// digests. The caller holds the workspace lock.
absl::StatusOr<uint64_t> FirstDifferentChunkLocked(
    const wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
    const std::vector<bool>& skip, std::span<const ChunkDigest> want,
    size_t threads);

// Indices (into new_index's chunk order) of the chunks of `next` that `prev`
// does not hold at the same gaddr with the same size and digest.
std::vector<uint64_t> ChangedChunks(const ChunkIndex& prev,
                                    const ChunkIndex& next);

// The sidecar of the checkpoint at `path` (§9.2).
std::string SidecarPath(const std::string& path);

// Writes the sidecar of the checkpoint about to be published at `path`,
// whose complete bytes `ckpt_fd` holds (a temporary renamed over any stale
// sidecar; named ".<base>.wkspidx.wkspckpt-tmp.<pid>", which a kill may
// leave). Written before the checkpoint appears, so a checkpoint at a path
// has its sidecar (unless this failed). `durable`: fsync it (the checkpoint's
// publication then syncs the directory).
absl::Status WriteSidecar(const std::string& path, int ckpt_fd,
                          const ChunkIndex& index, bool durable);

// The index of the full checkpoint at `path` from its sidecar; NotFound
// when there is none or it does not describe this very file (stale).
absl::StatusOr<ChunkIndex> ReadSidecar(const std::string& path);

// The index of the full checkpoint at `path`: its sidecar, or else the
// file read once (restored into a scratch anonymous workspace of its
// geometry and hashed; memory: its allocations).
absl::StatusOr<ChunkIndex> IndexOfFull(const std::string& path,
                                       size_t threads);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_CHUNK_INDEX_H_
