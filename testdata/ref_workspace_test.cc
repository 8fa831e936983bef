#include "testdata/ref_workspace.h"

#include <fstream>
#include <iterator>
#include <vector>

#include "gtest/gtest.h"

namespace wk::testdata {
namespace {

TEST(RefWorkspace, TsvMatchesReadme) {
  for (int style = 1; style <= 3; ++style) {
    RefWorkspace ref = LoadRef(style);
    EXPECT_EQ(ref.name, "ref");
    EXPECT_EQ(ref.seed, 1234u);
    EXPECT_EQ(ref.part_max, 1024u);
    EXPECT_EQ(ref.data_max, 64u << 20);
    ASSERT_EQ(ref.allocs.size(), 67u);
    uint64_t bytes = 0;
    for (const auto& a : ref.allocs) bytes += a.hi - a.lo;
    EXPECT_EQ(bytes, 8673291u);
  }
}

// The v1 file stores the first allocation's bytes raw; find them by content
// to check the fill formula against real Firedancer output.
TEST(RefWorkspace, FillFormulaMatchesV1File) {
  RefWorkspace ref = LoadRef(1);
  std::ifstream in(RefPath("ref_v1.checkpt"), std::ios::binary);
  std::vector<char> file((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(file.size(), 8000000u);
  const RefAlloc& a = ref.allocs[0];
  std::vector<uint8_t> want(a.hi - a.lo);
  RefFill(a.lo, a.hi, a.tag, want.data());
  std::string needle(want.begin(), want.end());
  EXPECT_NE(std::string(file.begin(), file.end()).find(needle),
            std::string::npos);
}

}  // namespace
}  // namespace wk::testdata
