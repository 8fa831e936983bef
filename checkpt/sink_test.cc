// Sink mode: the same bytes as streaming mode, in order, whatever the sink
// does with them; a failing sink fails the writer.
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
  ASSERT_TRUE(w->Open(kRaw).ok());
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

}  // namespace
}  // namespace wk::checkpt
