// Randomized alloc/free/tag sequences checked against a plain std::map model
// after every step, with a full Verify each time, plus determinism of the
// metadata under a given seed.
#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "wksp/test_util.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp {
namespace {

struct ModelAlloc {
  uint64_t hi, tag;
};
using Model = std::map<uint64_t, ModelAlloc>;  // keyed by lo

uint8_t Fill(uint64_t lo, uint64_t tag) {
  return static_cast<uint8_t>(lo * 31 + tag);
}

void ExpectMatchesModel(Wksp& w, const Model& model) {
  auto guard = w.Lock();
  ASSERT_TRUE(guard.ok()) << guard.status();
  ASSERT_TRUE(VerifyLocked(w).ok()) << VerifyLocked(w);
  auto used = UsedPartitionsLocked(w);
  ASSERT_TRUE(used.ok()) << used.status();
  ASSERT_EQ(used->size(), model.size());
  size_t k = 0;
  uint64_t used_sz = 0;
  for (const auto& [lo, a] : model) {
    ASSERT_EQ((*used)[k], (PartitionInfo{lo, a.hi, a.tag}));
    used_sz += a.hi - lo;
    ++k;
  }
  auto u = UsageLocked(w);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->used_cnt, model.size());
  EXPECT_EQ(u->used_sz, used_sz);
  EXPECT_EQ(u->free_sz, w.data_max() - used_sz);
  EXPECT_LE(u->total_cnt, w.part_max());
}

struct Stats {
  int allocs = 0, exhausted = 0, frees = 0, max_live = 0;
};

// Runs `steps` random operations; returns the final model.
Model RunRandom(Wksp& w, uint64_t rng_seed, int steps, bool check,
                Stats* stats = nullptr) {
  Stats local;
  Stats& st = stats != nullptr ? *stats : local;
  std::mt19937_64 rng(rng_seed);
  Model model;
  const uint64_t aligns[] = {0, 1, 8, 64, 4096};
  for (int step = 0; step < steps; ++step) {
    int op = static_cast<int>(rng() % 100);
    if (op < 45) {  // alloc
      uint64_t align = aligns[rng() % 5];
      uint64_t sz = 1 + rng() % (rng() % 4 == 0 ? 20000 : 500);
      uint64_t tag = 1 + rng() % 5;
      auto p = w.AllocAtLeast(align, sz, tag);
      if (!p.ok()) {
        ++st.exhausted;
        EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted)
            << p.status();
        continue;
      }
      uint64_t a = align == 0 ? kDefaultAlign : align;
      EXPECT_EQ(p->lo % a, 0u);
      EXPECT_EQ(p->hi, p->lo + sz);
      EXPECT_GE(p->lo, w.gaddr_lo());
      EXPECT_LE(p->hi, w.gaddr_hi());
      auto next = model.lower_bound(p->lo);
      if (next != model.end()) {
        EXPECT_LE(p->hi, next->first);
      }
      if (next != model.begin()) {
        EXPECT_LE(std::prev(next)->second.hi, p->lo);
      }
      memset(w.laddr(p->lo), Fill(p->lo, tag), sz);
      model[p->lo] = {p->hi, tag};
      ++st.allocs;
      st.max_live = std::max(st.max_live, static_cast<int>(model.size()));
    } else if (op < 80) {  // free by an arbitrary interior byte
      if (model.empty()) continue;
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      uint64_t lo = it->first;
      // The contents survived everything since (no overlapping allocation).
      const uint8_t* m = w.laddr(lo);
      uint8_t want = Fill(lo, it->second.tag);
      for (uint64_t i = 0; i < it->second.hi - lo; ++i) {
        if (m[i] != want) {
          ADD_FAILURE() << "allocation at " << lo << " clobbered at +" << i;
          break;
        }
      }
      uint64_t g = lo + rng() % (it->second.hi - lo);
      EXPECT_TRUE(w.Free(g).ok());
      model.erase(it);
      ++st.frees;
      EXPECT_EQ(w.Free(g).code(), absl::StatusCode::kNotFound);
    } else if (op < 90) {  // tag of a random address
      uint64_t g = w.gaddr_lo() + rng() % w.data_max();
      auto it = model.upper_bound(g);
      uint64_t want = 0;
      if (it != model.begin() && g < std::prev(it)->second.hi) {
        want = std::prev(it)->second.tag;
      }
      EXPECT_EQ(*w.Tag(g), want);
    } else if (op < 95) {  // tag free
      uint64_t tag = 1 + rng() % 5;
      uint64_t want = 0;
      for (auto it = model.begin(); it != model.end();) {
        if (it->second.tag == tag) {
          it = model.erase(it);
          ++want;
        } else {
          ++it;
        }
      }
      EXPECT_EQ(*w.TagFree(std::vector<uint64_t>{tag}), want);
    } else if (op < 99) {  // tag query
      uint64_t tag = 1 + rng() % 5;
      std::vector<PartitionInfo> want;
      for (const auto& [lo, a] : model) {
        if (a.tag == tag) want.push_back({lo, a.hi, a.tag});
      }
      EXPECT_EQ(*w.TagQuery(std::vector<uint64_t>{tag}), want);
    } else {  // rebuild from the records keeps every allocation
      EXPECT_TRUE(w.Rebuild(static_cast<uint32_t>(rng())).ok());
    }
    if (check) {
      ExpectMatchesModel(w, model);
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "at step " << step;
        return model;
      }
    }
  }
  return model;
}

class ModelTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ModelTest, RandomSequenceMatchesModel) {
  // Small part_max so slot exhaustion happens too.
  auto w = Wksp::CreateAnonymous("model", 48, 1 << 18, {.seed = 3});
  ASSERT_TRUE(w.ok());
  Stats st;
  RunRandom(*w, GetParam(), 2500, /*check=*/true, &st);
  // The sequence really exercised the interesting regimes.
  EXPECT_GT(st.allocs, 500);
  EXPECT_GT(st.frees, 500);
  EXPECT_GT(st.exhausted, 0);
  EXPECT_GT(st.max_live, 15);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Values(1, 2, 3, 4));

TEST(DeterminismTest, SameSeedSameOperationsSameMetadata) {
  auto a = Wksp::CreateAnonymous("det", 64, 1 << 18, {.seed = 99});
  auto b = Wksp::CreateAnonymous("det", 64, 1 << 18, {.seed = 99});
  ASSERT_TRUE(a.ok() && b.ok());
  RunRandom(*a, 7, 1500, false);
  RunRandom(*b, 7, 1500, false);
  // Header and slot records byte for byte (the data region holds the same
  // fills too, but that says nothing about the allocator).
  EXPECT_TRUE(testing::SameMetadata(*a, *b));

  // Rebuild is a function of the records and the seed alone.
  ASSERT_TRUE(a->Rebuild(5).ok());
  ASSERT_TRUE(b->Rebuild(5).ok());
  EXPECT_TRUE(testing::SameMetadata(*a, *b));
}

}  // namespace
}  // namespace wk::wksp
