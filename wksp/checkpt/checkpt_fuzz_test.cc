// Replays the fuzz target (checkpt_fuzz.cc) over real checkpoints of every
// style and over truncated and mutated copies of them, so the target is
// exercised in every build, not only under --config=fuzz.
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace wk::wksp_checkpt {
namespace {

std::vector<uint8_t> Seed(Style style) {
  auto w = wksp::Wksp::CreateAnonymous("seed", 32, 256 << 10);
  EXPECT_TRUE(w.ok());
  std::mt19937_64 rng(StyleNumber(style));
  for (int i = 0; i < 12; ++i) {
    auto g = w->Alloc(uint64_t{1} << (rng() % 8), 1 + rng() % 3000, 1 + i % 3);
    if (!g.ok()) break;
    for (uint64_t j = 0; j < 100; ++j) w->laddr(*g)[j % 100] = uint8_t(rng());
  }
  std::string path =
      absl::StrFormat("%s/seed_%d", std::getenv("TEST_TMPDIR"), style);
  CheckptOptions o;
  o.style = style;
  EXPECT_TRUE(Checkpt(*w, path, o).ok());
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::remove(path.c_str());
  return bytes;
}

TEST(CheckptFuzz, SeedsTruncationsAndMutations) {
  std::mt19937_64 rng(42);
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    const std::vector<uint8_t> seed = Seed(style);
    ASSERT_GT(seed.size(), 200u);
    LLVMFuzzerTestOneInput(seed.data(), seed.size());
    for (size_t cut = 0; cut < seed.size(); cut += 1 + seed.size() / 64) {
      LLVMFuzzerTestOneInput(seed.data(), cut);
    }
    for (int i = 0; i < 300; ++i) {
      std::vector<uint8_t> m = seed;
      for (int k = 0, n = 1 + int(rng() % 4); k < n; ++k) {
        m[rng() % m.size()] = uint8_t(rng());
      }
      LLVMFuzzerTestOneInput(m.data(), m.size());
    }
  }
  LLVMFuzzerTestOneInput(nullptr, 0);
}

}  // namespace
}  // namespace wk::wksp_checkpt
