// Replays the fuzz target (checkpt_fuzz.h) over real checkpoints of every
// style and over truncated and mutated copies of them, checking what each
// reader made of them, so the target is exercised in every build, not only
// under --config=fuzz.
#include "wksp/checkpt/checkpt_fuzz.h"

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::fuzz {
namespace {

struct Seed {
  std::vector<uint8_t> bytes;
  uint64_t allocations = 0;
};

// A checkpoint of a workspace the target can hold.
Seed MakeSeed(Style style) {
  auto w =
      wksp::Wksp::CreateAnonymous("seed", kTargetPartMax, kTargetDataMax / 4);
  EXPECT_TRUE(w.ok());
  std::mt19937_64 rng(StyleNumber(style));
  Seed seed;
  for (int i = 0; i < 12; ++i) {
    auto g = w->Alloc(uint64_t{1} << (rng() % 8), 1 + rng() % 3000, 1 + i % 3);
    if (!g.ok()) break;
    ++seed.allocations;
    for (uint64_t j = 0; j < 100; ++j) w->laddr(*g)[j % 100] = uint8_t(rng());
  }
  std::string path =
      absl::StrFormat("%s/seed_%d", std::getenv("TEST_TMPDIR"), style);
  CheckptOptions o;
  o.style = style;
  EXPECT_TRUE(Checkpt(*w, path, o).ok());
  std::ifstream in(path, std::ios::binary);
  seed.bytes.assign(std::istreambuf_iterator<char>(in), {});
  std::remove(path.c_str());
  return seed;
}

TEST(CheckptFuzz, SeedsTruncationsAndMutations) {
  std::mt19937_64 rng(42);
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    SCOPED_TRACE(absl::StrFormat("style %d", style));
    const Seed seed = MakeSeed(style);
    const std::span<const uint8_t> bytes = seed.bytes;
    ASSERT_GT(bytes.size(), 200u);
    ASSERT_GT(seed.allocations, 5u);
    // The whole checkpoint: every reader takes it.
    Outcome o = ReadEveryWay(bytes);
    EXPECT_TRUE(o.verified.ok()) << o.verified;
    EXPECT_TRUE(o.previewed);
    EXPECT_EQ(o.printed, 5);
    EXPECT_TRUE(o.mapped.ok()) << o.mapped;
    EXPECT_TRUE(o.stream.ok()) << o.stream;
    EXPECT_EQ(o.allocations, seed.allocations);
    // Cut short anywhere: no restore succeeds, the workspace still verifies.
    for (size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 64) {
      SCOPED_TRACE(absl::StrFormat("cut at %u", cut));
      o = ReadEveryWay(bytes.first(cut));
      EXPECT_TRUE(o.verified.ok()) << o.verified;
      EXPECT_FALSE(o.mapped.ok());
      EXPECT_FALSE(o.stream.ok());
      EXPECT_LT(o.printed, 5);  // at least the full read fails
    }
    // A few bytes changed: anything may be refused, nothing may break.
    for (int i = 0; i < 300; ++i) {
      std::vector<uint8_t> m = seed.bytes;
      for (int k = 0, n = 1 + int(rng() % 4); k < n; ++k) {
        m[rng() % m.size()] = uint8_t(rng());
      }
      o = ReadEveryWay(m);
      EXPECT_TRUE(o.verified.ok()) << o.verified << " mutation " << i;
    }
  }
  Outcome o = ReadEveryWay({});
  EXPECT_TRUE(o.verified.ok()) << o.verified;
  EXPECT_FALSE(o.previewed);
  EXPECT_EQ(o.printed, 0);
  EXPECT_FALSE(o.mapped.ok());
  EXPECT_FALSE(o.stream.ok());
}

}  // namespace
}  // namespace wk::wksp_checkpt::fuzz
