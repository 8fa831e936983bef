// Corrupted and truncated inputs: the reader reports COMP or IO and never
// reads or writes outside its buffers (run under --config=asan).
#include <lz4.h>
#include <unistd.h>

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
using testing::TempFile;
using testing::WritePlan;

// A mostly-LZ4 checkpoint small enough to mutate many times.
struct Sample {
  Plan plan;
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> bytes;
};

Sample MakeSample(uint64_t seed) {
  Sample s;
  s.plan = RandomPlan(seed, 4, 300 << 10);
  for (auto& f : s.plan) f.style = FrameStyle::kLz4;
  s.plan[1].style = FrameStyle::kRaw;
  s.bytes.resize(PlanBound(s.plan));
  auto w = Writer::Mmio(s.bytes);
  EXPECT_TRUE(WritePlan(*w, s.plan, &s.offsets).ok());
  s.bytes.resize(*w->Finish());
  return s;
}

// Restores `bytes` (exactly sized, so ASan sees any overread) and returns the
// reader's status: OK only if every buffer decoded to the plan's sizes.
absl::Status RestoreMmio(const Sample& s, const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> exact(bytes);  // a fresh, tight allocation
  auto r = Reader::Mmio(exact);
  if (!r.ok()) return r.status();
  return CheckPlan(*r, s.plan, s.offsets, 0, s.plan.size());
}

void ExpectCompOrIo(const absl::Status& st) {
  ErrorClass c = ClassOf(st);
  EXPECT_TRUE(c == ErrorClass::kComp || c == ErrorClass::kIo) << st;
}

TEST(CorruptTest, TruncationsFail) {
  Sample s = MakeSample(1);
  std::mt19937_64 rng(1);
  std::vector<uint64_t> cuts = {0, 1, 2, 3, 4, s.bytes.size() - 1};
  for (uint64_t o : s.offsets) {
    for (uint64_t d : {1, 2, 3, 4}) {
      if (o >= d) cuts.push_back(o - d);
      cuts.push_back(o + d);
    }
  }
  for (int i = 0; i < 40; ++i) cuts.push_back(rng() % s.bytes.size());
  TempFile f;
  for (uint64_t cut : cuts) {
    if (cut >= s.bytes.size()) continue;
    std::vector<uint8_t> t(s.bytes.begin(), s.bytes.begin() + cut);
    absl::Status st = RestoreMmio(s, t);
    // Only a cut after the last non-empty buffer could go unnoticed, and
    // then Close reports a different offset: never OK with a short file.
    EXPECT_FALSE(st.ok()) << "cut " << cut;
    if (ClassOf(st) != ErrorClass::kIo && ClassOf(st) != ErrorClass::kComp) {
      // A mismatch reported by CheckPlan itself (offsets) is fine too.
      EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
    }
    ASSERT_TRUE(::ftruncate(f.fd(), 0) == 0);
    ASSERT_TRUE(io::PWriteExact(f.fd(), t.data(), t.size(), 0).ok());
    std::vector<uint8_t> rbuf(kRbufMin);
    auto r = Reader::Stream(f.fd(), rbuf);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(CheckPlan(*r, s.plan, s.offsets, 0, s.plan.size()).ok());
  }
}

TEST(CorruptTest, ByteFlipsNeverCrash) {
  Sample s = MakeSample(2);
  std::mt19937_64 rng(2);
  int failed = 0;
  for (int i = 0; i < 400; ++i) {
    std::vector<uint8_t> m = s.bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) m[rng() % m.size()] ^= 1 + rng() % 255;
    absl::Status st = RestoreMmio(s, m);
    // LZ4 blocks have no checksum: a flipped literal may decode "fine" and
    // only differ in content; anything else must be a clean COMP/IO error.
    if (!st.ok()) {
      ++failed;
      if (st.code() != absl::StatusCode::kInternal) ExpectCompOrIo(st);
    }
  }
  EXPECT_GT(failed, 0);
}

// Rewrites the first chunk header of the first LZ4 frame.
TEST(CorruptTest, BadChunkHeaders) {
  Sample s = MakeSample(3);
  ASSERT_EQ(s.plan[0].style, FrameStyle::kLz4);
  // Find the first non-empty buffer of frame 0 to know its chunk size.
  uint64_t u = 0;
  for (const auto& b : s.plan[0].bufs) {
    if (!b.bytes.empty()) {
      u = std::min<uint64_t>(b.bytes.size(), kChunkUszMax);
      break;
    }
  }
  ASSERT_GT(u, 0u);
  const uint64_t cmax = ChunkCszMax(u) - 3;
  for (uint64_t c : {uint64_t{0}, cmax + 1, uint64_t{0xFFFFFF}}) {
    std::vector<uint8_t> m = s.bytes;
    m[0] = static_cast<uint8_t>(c);
    m[1] = static_cast<uint8_t>(c >> 8);
    m[2] = static_cast<uint8_t>(c >> 16);
    absl::Status st = RestoreMmio(s, m);
    EXPECT_EQ(ClassOf(st), ErrorClass::kComp) << "c " << c << ": " << st;
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  }
}

// A valid LZ4 block of the wrong uncompressed size is caught.
TEST(CorruptTest, BlockOfWrongSize) {
  std::vector<uint8_t> src(1001, 'x');
  src[10] = 'y';
  for (int delta : {-1, +1}) {
    std::vector<uint8_t> block(LZ4_compressBound(1001));
    int c = LZ4_compress_default(reinterpret_cast<const char*>(src.data()),
                                 reinterpret_cast<char*>(block.data()),
                                 1000 + delta, static_cast<int>(block.size()));
    ASSERT_GT(c, 0);
    std::vector<uint8_t> frame = {static_cast<uint8_t>(c),
                                  static_cast<uint8_t>(c >> 8), 0};
    frame.insert(frame.end(), block.begin(), block.begin() + c);
    auto r = Reader::Mmio(frame);
    ASSERT_TRUE(r->Open(FrameStyle::kLz4).ok());
    std::vector<uint8_t> out(1000);
    absl::Status st = r->Data(out.data(), out.size());
    EXPECT_EQ(ClassOf(st), ErrorClass::kComp) << delta << ": " << st;
    EXPECT_TRUE(r->failed());
  }
}

}  // namespace
}  // namespace wk::checkpt
