#include "util/hash.h"

#include <cstdint>
#include <unordered_set>

#include "gtest/gtest.h"

namespace wk {
namespace {

// Values computed independently from the published fmix64 definition.
TEST(Hash, KnownValues) {
  EXPECT_EQ(HashU64(0), 0u);
  EXPECT_EQ(HashU64(1), 0xB456BCFC34C2CB2CULL);
  EXPECT_EQ(HashU64(0xFFFFFFFFFFFFFFFFULL), 0x64B5720B4B825F21ULL);
}

TEST(Hash, NoCollisionsOnSmallRange) {
  std::unordered_set<uint64_t> seen;
  for (uint64_t i = 0; i < 100000; ++i) {
    EXPECT_TRUE(seen.insert(HashU64(i)).second) << i;
  }
}

}  // namespace
}  // namespace wk
