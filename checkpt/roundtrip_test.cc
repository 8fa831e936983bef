// Randomized round trips over many seeds: every writer mode restored by every
// reader mode, with data buffers restored scattered (separate allocations) or
// packed back to back in one arena (which lets LZ4 decode small buffers in
// place, continuing the history in memory).
#include <cstring>
#include <random>
#include <vector>

#include "checkpt/checkpt.h"
#include "checkpt/test_util.h"
#include "gtest/gtest.h"
#include "io/fd.h"

namespace wk::checkpt {
namespace {

using testing::CheckPlan;
using testing::Plan;
using testing::PlanBound;
using testing::RandomPlan;
using testing::ReadAll;
using testing::TempFile;
using testing::WritePlan;

// Restores all frames, packing each frame's data buffers back to back.
absl::Status CheckPacked(Reader& r, const Plan& plan,
                         const std::vector<uint64_t>& offsets) {
  std::vector<uint8_t> meta(kMetaMax);
  for (size_t i = 0; i < plan.size(); ++i) {
    uint64_t total = 0;
    for (const auto& b : plan[i].bufs) total += b.bytes.size();
    std::vector<uint8_t> arena(total);
    absl::StatusOr<uint64_t> off = r.Open(plan[i].style);
    if (!off.ok()) return off.status();
    if (*off != offsets[i]) return absl::InternalError("open offset");
    uint64_t at = 0;
    for (const auto& b : plan[i].bufs) {
      if (b.meta) {
        absl::Status s = r.Meta(meta.data(), b.bytes.size());
        if (!s.ok()) return s;
        if (!b.bytes.empty() &&
            std::memcmp(meta.data(), b.bytes.data(), b.bytes.size())) {
          return absl::InternalError("meta differs");
        }
      } else {
        absl::Status s = r.Data(arena.data() + at, b.bytes.size());
        if (!s.ok()) return s;
        at += b.bytes.size();
      }
    }
    absl::StatusOr<uint64_t> end = r.Close();
    if (!end.ok()) return end.status();
    if (*end != offsets[i + 1]) return absl::InternalError("close offset");
    at = 0;
    for (const auto& b : plan[i].bufs) {
      if (b.meta) continue;
      if (!b.bytes.empty() &&
          std::memcmp(arena.data() + at, b.bytes.data(), b.bytes.size())) {
        return absl::InternalError("packed data differs");
      }
      at += b.bytes.size();
    }
  }
  return absl::OkStatus();
}

TEST(RoundtripTest, ManySeedsAllModes) {
  std::mt19937_64 rng(2024);
  for (uint64_t seed = 100; seed < 116; ++seed) {
    Plan plan = RandomPlan(seed, 16, 768 << 10);
    // Mmio writer.
    std::vector<uint8_t> region(PlanBound(plan));
    auto wm = Writer::Mmio(region);
    std::vector<uint64_t> offsets;
    ASSERT_TRUE(WritePlan(*wm, plan, &offsets).ok());
    region.resize(*wm->Finish());
    // Streaming writer, random buffer size: same bytes.
    TempFile f;
    std::vector<uint8_t> wbuf(kWbufMin + rng() % (1 << 20));
    auto ws = Writer::Stream(f.fd(), wbuf);
    std::vector<uint64_t> offsets2;
    ASSERT_TRUE(WritePlan(*ws, plan, &offsets2).ok());
    ASSERT_EQ(*ws->Finish(), region.size());
    ASSERT_EQ(ReadAll(f.fd()), region) << "seed " << seed;
    ASSERT_EQ(offsets2, offsets);

    for (bool packed : {false, true}) {
      auto rm = Reader::Mmio(region);
      absl::Status s = packed ? CheckPacked(*rm, plan, offsets)
                              : CheckPlan(*rm, plan, offsets, 0, plan.size());
      ASSERT_TRUE(s.ok()) << "mmio seed " << seed << " packed " << packed
                          << ": " << s;
      std::vector<uint8_t> rbuf(kRbufMin + rng() % (1 << 20));
      // The writer left the position at the end; readers start where it is.
      ASSERT_TRUE(io::Seek(f.fd(), 0, io::Whence::kSet).ok());
      auto rs = Reader::Stream(f.fd(), rbuf);
      s = packed ? CheckPacked(*rs, plan, offsets)
                 : CheckPlan(*rs, plan, offsets, 0, plan.size());
      ASSERT_TRUE(s.ok()) << "stream seed " << seed << " packed " << packed
                          << ": " << s;
    }
  }
}

}  // namespace
}  // namespace wk::checkpt
