// The chunk index's encodings and walks agree with their plain forms:
// Id() (hashed in parts) with XXH3 of Encode(), EncodeTable() + DigestBytes()
// with Encode(), ChunkWalk and ChunksAt with Chunks(), ChangedChunks with a
// comparison of the two chunk lists, and DecodeIndex(Encode()) with the index.
#include "wksp/checkpt/chunk_index.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace wk::wksp_checkpt::internal {
namespace {

// `n` allocations of random sizes (some under a chunk, some many chunks)
// with random gaps, and a random digest per chunk.
ChunkIndex RandomIndex(size_t n, std::mt19937_64& rng) {
  ChunkIndex idx;
  uint64_t at = 4096;
  for (size_t i = 0; i < n; ++i) {
    at += rng() % 3 == 0 ? 0 : rng() % 100000;
    const uint64_t sz = 1 + rng() % (5 * kChunkSz);
    idx.allocs.push_back({at, at + sz, 1 + rng() % 7});
    at += sz;
  }
  idx.digests.resize(ChunkCount(idx.allocs));
  for (ChunkDigest& d : idx.digests) d = {rng(), rng()};
  return idx;
}

TEST(ChunkIndexTest, PartsEqualTheWhole) {
  std::mt19937_64 rng(11);
  // Around the Id() batch of 128 records.
  for (size_t n : {0, 1, 2, 127, 128, 129, 300}) {
    const ChunkIndex idx = RandomIndex(n, rng);
    const std::vector<uint8_t> whole = idx.Encode();
    ASSERT_EQ(whole.size(), kAllocRecSz * n + kDigestSz * idx.digests.size());
    EXPECT_EQ(idx.Id(), Digest(whole)) << n;
    std::vector<uint8_t> parts = idx.EncodeTable();
    const std::span<const uint8_t> d = idx.DigestBytes();
    parts.insert(parts.end(), d.begin(), d.end());
    EXPECT_EQ(parts, whole) << n;
    IndexBytes in(whole.size());
    std::copy(whole.begin(), whole.end(), in.bytes().begin());
    const wksp::Limits any{~uint64_t{0}, 1, ~uint64_t{0}};
    auto back = DecodeIndex(std::move(in), n, idx.digests.size(), any, "test");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->allocs, idx.allocs);
    EXPECT_EQ(back->digests, idx.digests);
  }
}

TEST(ChunkIndexTest, WalksEqualTheChunkList) {
  std::mt19937_64 rng(12);
  for (size_t n : {0, 1, 50}) {
    const ChunkIndex idx = RandomIndex(n, rng);
    const std::vector<ChunkRef> all = Chunks(idx.allocs);
    std::vector<ChunkRef> walked;
    for (ChunkWalk w(idx.allocs); !w.done(); w.Next()) walked.push_back(*w);
    ASSERT_EQ(walked.size(), all.size());
    std::vector<uint64_t> pick;
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(walked[i].gaddr, all[i].gaddr);
      EXPECT_EQ(walked[i].sz, all[i].sz);
      if (rng() % 3 == 0) pick.push_back(i);
    }
    const std::vector<ChunkRef> at = ChunksAt(idx.allocs, pick);
    ASSERT_EQ(at.size(), pick.size());
    for (size_t k = 0; k < pick.size(); ++k) {
      EXPECT_EQ(at[k].gaddr, all[pick[k]].gaddr);
      EXPECT_EQ(at[k].sz, all[pick[k]].sz);
    }
  }
}

TEST(ChunkIndexTest, ChangedChunksAreThoseNotHeldAlike) {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 20; ++round) {
    const ChunkIndex prev = RandomIndex(1 + rng() % 40, rng);
    // next: prev with some allocations dropped, some resized, some digests
    // changed.
    ChunkIndex next;
    for (const format::Alloc& a : prev.allocs) {
      const uint64_t r = rng() % 6;
      if (r == 0) continue;
      format::Alloc b = a;
      if (r == 1) b.hi = b.lo + 1 + (b.hi - b.lo - 1) / 2;
      next.allocs.push_back(b);
    }
    const std::vector<ChunkRef> pc = Chunks(prev.allocs);
    const std::vector<ChunkRef> nc = Chunks(next.allocs);
    next.digests.resize(nc.size());
    std::vector<uint64_t> want;
    for (size_t i = 0; i < nc.size(); ++i) {
      // Same digest as prev's chunk at that gaddr where there is one.
      bool found = false;
      for (size_t j = 0; j < pc.size(); ++j) {
        if (pc[j].gaddr == nc[i].gaddr) {
          next.digests[i] = prev.digests[j];
          found = pc[j].sz == nc[i].sz;
        }
      }
      if (rng() % 4 == 0) {
        next.digests[i].lo ^= 1;
        found = false;
      }
      if (!found) want.push_back(i);
    }
    EXPECT_EQ(ChangedChunks(prev, next), want) << round;
  }
}

}  // namespace
}  // namespace wk::wksp_checkpt::internal
