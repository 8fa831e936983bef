#include "wksp/geometry.h"

#include <vector>

#include "gtest/gtest.h"

namespace wk::wksp {
namespace {

TEST(Geometry, DataRegionAndFootprint) {
  EXPECT_EQ(GaddrLo(1024), 65664u);  // the reference workspace's
  EXPECT_EQ(*Footprint(16, 65536), 66816u);
  EXPECT_EQ(*Footprint(1, 1), 256u);  // 128 + 64 + 1 + guard -> 256
}

TEST(Geometry, Limits) {
  constexpr uint64_t kMax = ~uint64_t{0};
  EXPECT_TRUE(Footprint(16, 65536).ok());
  EXPECT_TRUE(Footprint(kPartMaxLimit, 1).ok());
  EXPECT_FALSE(Footprint(0, 65536).ok());
  EXPECT_FALSE(Footprint(kPartMaxLimit + 1, 65536).ok());
  EXPECT_FALSE(Footprint(16, 0).ok());
  // The largest data_max whose footprint still fits in 64 bits, and one more.
  EXPECT_EQ(*Footprint(16, kMax - 128 - GaddrLo(16)), kMax - 127);
  absl::Status st = Footprint(16, kMax - 127 - GaddrLo(16)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bad data_max"), std::string::npos) << st;
  st = Footprint(0, 1).status();
  EXPECT_NE(st.message().find("bad part_max 0"), std::string::npos) << st;
}

TEST(Geometry, CheckFit) {
  const Limits l = LimitsOf(4, 1000);
  const uint64_t lo = l.gaddr_lo, hi = l.gaddr_hi;
  ASSERT_EQ(lo, 384u);
  EXPECT_TRUE(CheckFit({}, l).ok());
  // The whole region, one allocation: no gap.
  std::vector<PartitionInfo> a = {{lo, hi, 1}};
  EXPECT_TRUE(CheckFit(a, {1, lo, hi}).ok());
  // Two allocations with gaps around: 2 + 3 slots.
  a = {{lo + 10, lo + 20, 1}, {lo + 30, lo + 40, 2}};
  absl::Status st = CheckFit(a, l);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("2 allocations and 3 free gaps need 5"),
            std::string::npos)
      << st;
  EXPECT_NE(st.message().find("part_max is 4"), std::string::npos) << st;
  EXPECT_TRUE(CheckFit(a, {5, lo, hi}).ok());
  // Adjacent allocations leave no gap between them.
  a = {{lo, lo + 20, 1}, {lo + 20, lo + 40, 2}};
  EXPECT_TRUE(CheckFit(a, {3, lo, hi}).ok());
  // Overlap, named with the slots when given.
  a = {{lo, lo + 21, 1}, {lo + 20, lo + 40, 2}};
  const uint32_t slots[] = {7, 3};
  st = CheckFit(a, l, slots);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("(slot 7) and [404, 424) tag 2 (slot 3)"),
            std::string::npos)
      << st;
  // Outside the region, empty or inverted.
  for (PartitionInfo bad :
       {PartitionInfo{lo - 1, lo + 5, 1}, PartitionInfo{lo + 5, hi + 1, 1},
        PartitionInfo{lo + 5, lo + 5, 1}, PartitionInfo{lo + 6, lo + 5, 1}}) {
    a = {bad};
    st = CheckFit(a, l);
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
    EXPECT_NE(st.message().find("outside the data region [384, 1384)"),
              std::string::npos)
        << st;
  }
}

}  // namespace
}  // namespace wk::wksp
