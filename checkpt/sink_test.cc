// Sink mode: the same bytes as streaming mode, in order, whatever the sink
// does with them; a failing sink fails the writer.
#include <algorithm>
#include <cstring>
#include <vector>

#include "checkpt/checkpt.h"
#include "checkpt/test_util.h"
#include "gtest/gtest.h"

namespace wk::checkpt {
namespace {

TEST(Sink, SameBytesAsStreamMode) {
  for (uint64_t seed : {1, 2, 3}) {
    testing::Plan plan = testing::RandomPlan(seed, 12, 1 << 20);
    testing::TempFile file;
    std::vector<uint8_t> wbuf(kWbufMin + 4096 * seed);
    auto sw = Writer::Stream(file.fd(), wbuf);
    ASSERT_TRUE(sw.ok());
    std::vector<uint64_t> offs_stream, offs_sink;
    ASSERT_TRUE(testing::WritePlan(*sw, plan, &offs_stream).ok());
    ASSERT_TRUE(sw->Finish().ok());
    std::vector<uint8_t> want = testing::ReadAll(file.fd());

    std::vector<uint8_t> got;
    size_t calls = 0;
    auto kw = Writer::Sink(
        [&](std::span<const uint8_t> b) {
          got.insert(got.end(), b.begin(), b.end());
          ++calls;
          return absl::OkStatus();
        },
        wbuf);
    ASSERT_TRUE(kw.ok());
    EXPECT_EQ(kw->fd(), -1);
    EXPECT_FALSE(kw->is_mmio());
    ASSERT_TRUE(testing::WritePlan(*kw, plan, &offs_sink).ok());
    auto sz = kw->Finish();
    ASSERT_TRUE(sz.ok());
    EXPECT_EQ(*sz, want.size());
    EXPECT_EQ(offs_sink, offs_stream);
    EXPECT_TRUE(got == want) << "seed " << seed;
    EXPECT_GT(calls, 0u);
  }
}

TEST(Sink, FailureFailsTheWriter) {
  std::vector<uint8_t> wbuf(kWbufMin);
  auto w = Writer::Sink(
      [](std::span<const uint8_t>) {
        return absl::ResourceExhaustedError("sink full");
      },
      wbuf);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
  std::vector<uint8_t> big(kWbufMin * 2, 7);
  absl::Status st = w->Data(big.data(), big.size());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sink full"), std::string_view::npos) << st;
  EXPECT_TRUE(w->failed());
  EXPECT_FALSE(w->Finish().ok());
  EXPECT_FALSE(Writer::Sink(nullptr, wbuf).ok());
  std::vector<uint8_t> small(100);
  EXPECT_FALSE(
      Writer::Sink([](std::span<const uint8_t>) { return absl::OkStatus(); },
                   small)
          .ok());
}

// Source mode reads what any writer wrote, whatever sizes the source hands
// back, and reports a source that ends early as a truncated checkpoint.
TEST(Source, ReadsBackAPlan) {
  testing::Plan plan = testing::RandomPlan(5, 10, 1 << 20);
  std::vector<uint8_t> region(testing::PlanBound(plan));
  auto w = Writer::Mmio(region);
  ASSERT_TRUE(w.ok());
  std::vector<uint64_t> offs;
  ASSERT_TRUE(testing::WritePlan(*w, plan, &offs).ok());
  auto end = w->Finish();
  ASSERT_TRUE(end.ok());
  for (uint64_t limit : {*end, *end / 2}) {
    size_t pos = 0, call = 0;
    std::vector<uint8_t> rbuf(kRbufMin);
    auto r = Reader::Source(
        [&](uint8_t* dst, size_t min, size_t max) -> absl::StatusOr<size_t> {
          size_t want =
              std::max(min, std::min(max, 1 + (call++ * 7919) % 9000));
          size_t n = std::min<size_t>(want, limit - pos);
          std::memcpy(dst, region.data() + pos, n);
          pos += n;
          if (n < min) return absl::OutOfRangeError("short source");
          return n;
        },
        rbuf);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->seekable());
    EXPECT_EQ(r->size(), kSizeUnknown);
    absl::Status st = testing::CheckPlan(*r, plan, offs, 0, plan.size());
    EXPECT_EQ(st.ok(), limit == *end) << st;
  }
  std::vector<uint8_t> rbuf(kRbufMin);
  EXPECT_FALSE(Reader::Source(nullptr, rbuf).ok());
}

}  // namespace
}  // namespace wk::checkpt
