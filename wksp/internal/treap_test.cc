// Treap unit tests on a plain slot array: random inserts and removes checked
// against std containers, with full structural checks after every step.
#include "wksp/internal/treap.h"

#include <functional>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "wksp/internal/layout.h"

namespace wk::wksp::internal {
namespace {

// Checks BST order by `key`, heap order, parent links; returns the in-order
// node list.
template <class Key>
std::vector<Idx> CheckTreap(const std::vector<PartInfo>& p, Idx root, Key key) {
  std::vector<Idx> order;
  // Trees here are small, so plain recursion is fine.
  std::function<void(Idx, Idx)> walk = [&](Idx i, Idx parent) {
    if (i == kNull) return;
    EXPECT_EQ(p[i].parent, parent) << "slot " << i;
    EXPECT_EQ(p[i].in_same, 0u);
    if (parent != kNull) {
      EXPECT_GE(p[parent].prio, p[i].prio);
    }
    walk(p[i].left, i);
    order.push_back(i);
    walk(p[i].right, i);
  };
  walk(root, kNull);
  for (size_t k = 1; k < order.size(); ++k) {
    EXPECT_LT(key(p[order[k - 1]]), key(p[order[k]]));
  }
  // TreapFirst/TreapNext give the same order.
  std::vector<Idx> iter;
  for (Idx i = TreapFirst(p.data(), root); i != kNull;
       i = TreapNext(p.data(), i)) {
    iter.push_back(i);
  }
  EXPECT_EQ(iter, order);
  return order;
}

std::vector<PartInfo> Slots(size_t n, uint32_t seed) {
  std::vector<PartInfo> p(n);
  for (size_t i = 0; i < n; ++i) {
    p[i] = PartInfo{};
    p[i].prev = p[i].next = p[i].left = p[i].right = p[i].parent = p[i].same =
        kNull;
    p[i].prio = SlotPrio(seed, i);
  }
  return p;
}

TEST(SlotPrioTest, DependsOnSeedAndSlot) {
  EXPECT_EQ(SlotPrio(7, 3), SlotPrio(7, 3));
  EXPECT_NE(SlotPrio(7, 3), SlotPrio(8, 3));
  EXPECT_NE(SlotPrio(7, 3), SlotPrio(7, 4));
  // Not merely a permutation of slots across seeds.
  EXPECT_NE(SlotPrio(0, 1), SlotPrio(1, 0));
}

TEST(UsedTreapTest, RandomInsertRemoveFind) {
  constexpr size_t kN = 300;
  std::vector<PartInfo> p = Slots(kN, 42);
  // Slot i covers [100 + 10 i, 100 + 10 i + 5): disjoint, gaps between.
  for (size_t i = 0; i < kN; ++i) {
    p[i].lo = 100 + 10 * i;
    p[i].hi = p[i].lo + 5;
  }
  Idx root = kNull;
  TreapRef t{p.data(), &root};
  std::set<Idx> in;
  std::mt19937_64 rng(1);
  for (int step = 0; step < 3000; ++step) {
    Idx i = static_cast<Idx>(rng() % kN);
    if (in.count(i)) {
      UsedRemove(t, i);
      in.erase(i);
      EXPECT_EQ(p[i].left, kNull);
      EXPECT_EQ(p[i].parent, kNull);
    } else {
      UsedInsert(t, i);
      in.insert(i);
    }
    if (step % 50 == 0 || step > 2950) {
      std::vector<Idx> order =
          CheckTreap(p, root, [](const PartInfo& q) { return q.lo; });
      EXPECT_EQ(order, std::vector<Idx>(in.begin(), in.end()));
    }
    uint64_t g = rng() % (100 + 10 * kN + 20);
    Idx f = UsedFind(t, g);
    Idx want = kNull;
    if (g >= 100 && (g - 100) % 10 < 5 && in.count((g - 100) / 10)) {
      want = static_cast<Idx>((g - 100) / 10);
    }
    ASSERT_EQ(f, want) << "g=" << g;
  }
}

TEST(UsedTreapTest, EmptyFindsNothing) {
  std::vector<PartInfo> p = Slots(1, 0);
  Idx root = kNull;
  EXPECT_EQ(UsedFind({p.data(), &root}, 123), kNull);
}

// Free treap: sizes with many duplicates, so same-size lists are exercised,
// including removal of list heads (promotion) and members.
TEST(FreeTreapTest, RandomWithDuplicateSizes) {
  constexpr size_t kN = 400;
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::vector<PartInfo> p = Slots(kN, seed);
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < kN; ++i) {
      p[i].lo = 1000 * i;
      p[i].hi = p[i].lo + 1 + rng() % 12;  // sizes 1..12: lots of repeats
    }
    Idx root = kNull;
    TreapRef t{p.data(), &root};
    std::set<Idx> in;
    std::multimap<uint64_t, Idx> by_size;
    for (int step = 0; step < 4000; ++step) {
      Idx i = static_cast<Idx>(rng() % kN);
      uint64_t sz = p[i].hi - p[i].lo;
      if (in.count(i)) {
        FreeRemove(t, i);
        in.erase(i);
        for (auto it = by_size.lower_bound(sz); it != by_size.end(); ++it) {
          if (it->second == i) {
            by_size.erase(it);
            break;
          }
        }
      } else {
        FreeInsert(t, i);
        in.insert(i);
        by_size.emplace(sz, i);
      }
      // Structure: treap nodes strictly ordered by size, lists consistent,
      // every inserted slot reachable exactly once.
      std::vector<Idx> nodes =
          CheckTreap(p, root, [](const PartInfo& q) { return q.hi - q.lo; });
      std::set<Idx> seen;
      for (Idx n : nodes) {
        ASSERT_TRUE(seen.insert(n).second);
        for (Idx prev = n, m = p[n].same; m != kNull; prev = m, m = p[m].same) {
          ASSERT_EQ(p[m].in_same, 1u);
          ASSERT_EQ(p[m].parent, prev);
          ASSERT_EQ(p[m].hi - p[m].lo, p[n].hi - p[n].lo);
          ASSERT_TRUE(seen.insert(m).second);
        }
      }
      ASSERT_EQ(seen, in) << "step " << step;
      // Best fit agrees with the model on the size it finds.
      uint64_t want_sz = rng() % 14;
      Idx f = FreeBestFit(t, want_sz);
      auto it = by_size.lower_bound(want_sz);
      if (it == by_size.end()) {
        ASSERT_EQ(f, kNull);
      } else {
        ASSERT_NE(f, kNull);
        ASSERT_EQ(p[f].hi - p[f].lo, it->first);
        ASSERT_TRUE(in.count(f));
      }
    }
  }
}

TEST(FreeTreapTest, AlignedFitFindsLuckyAlignmentBestFitMisses) {
  std::vector<PartInfo> p = Slots(3, 9);
  // Size 64 at an aligned address, size 64 unaligned, size 100 unaligned.
  p[0].lo = 1000;
  p[0].hi = 1064;  // 1000 is not 64-aligned
  p[1].lo = 2048;
  p[1].hi = 2112;  // 2048 is 64-aligned
  p[2].lo = 3001;
  p[2].hi = 3101;
  Idx root = kNull;
  TreapRef t{p.data(), &root};
  for (Idx i = 0; i < 3; ++i) FreeInsert(t, i);
  // 64 bytes aligned to 64: the guaranteed size 127 is not available.
  EXPECT_EQ(FreeBestFit(t, 64 + 63), kNull);
  EXPECT_EQ(FreeAlignedFit(t, 64, 64, 64 + 63), 1u);
  // Nothing of size >= 40 aligned to 4096 below 4096+39.
  EXPECT_EQ(FreeAlignedFit(t, 40, 4096, 40 + 4095), kNull);
  // 50 bytes aligned to 1024: only slot 1 has room after aligning up.
  EXPECT_EQ(FreeAlignedFit(t, 50, 1024, 50 + 1023), 1u);
  // Partitions of size >= sz_max are left to the caller's best-fit path.
  EXPECT_EQ(FreeAlignedFit(t, 64, 64, 64), kNull);
}

}  // namespace
}  // namespace wk::wksp::internal
