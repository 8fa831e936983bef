#include "wksp/geometry.h"

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

}  // namespace
}  // namespace wk::wksp
