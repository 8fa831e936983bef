// LZ4 stream state across frames: the model predicts the live stream, and
// writers primed with the modelled state write the frames of a checkpoint
// independently yet bit-identically to one sequential writer, also where the
// stream index crosses LZ4's 2^30 table-clear threshold and its 2^31 rebase.
#include <cstring>
#include <vector>

#include "checkpt/checkpt.h"
#include "checkpt/test_util.h"
#include "gtest/gtest.h"

namespace wk::checkpt {
namespace {

using testing::HalfCompressible;
using testing::Plan;
using testing::PlanBound;
using testing::PlanFrame;
using testing::RandomPlan;
using testing::WritePlan;

// Writes frame `f` with a fresh writer primed to `start`; returns its bytes.
std::vector<uint8_t> WriteAlone(const PlanFrame& f, Lz4StreamState start) {
  Plan one = {f};
  std::vector<uint8_t> out(PlanBound(one));
  auto w = Writer::Mmio(out, start);
  EXPECT_TRUE(w.ok());
  std::vector<uint64_t> offs;
  EXPECT_TRUE(WritePlan(*w, one, &offs).ok());
  out.resize(*w->Finish());
  return out;
}

void ModelAdd(Lz4StateModel& m, const PlanFrame& f) {
  if (f.style != FrameStyle::kLz4) return;
  m.OpenLz4Frame();
  for (const auto& b : f.bufs) m.AddBuffer(b.bytes.size());
}

// Sequential writer from `start` vs one primed writer per frame.
void CheckSplitWriting(const Plan& plan, Lz4StreamState start) {
  std::vector<uint8_t> seq(PlanBound(plan));
  auto w = Writer::Mmio(seq, start);
  ASSERT_TRUE(w.ok());
  Lz4StateModel model(start);
  std::vector<uint64_t> offs;
  std::vector<Lz4StreamState> before;
  for (const PlanFrame& f : plan) {
    before.push_back(model.state());
    ASSERT_TRUE(WritePlan(*w, {f}, &offs).ok());
    ModelAdd(model, f);
    ASSERT_EQ(w->lz4_state(), model.state());
  }
  seq.resize(*w->Finish());
  uint64_t at = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    std::vector<uint8_t> alone = WriteAlone(plan[i], before[i]);
    ASSERT_LE(at + alone.size(), seq.size());
    if (alone.empty()) continue;  // an empty frame has no bytes
    ASSERT_EQ(0, std::memcmp(seq.data() + at, alone.data(), alone.size()))
        << "frame " << i << " (state " << before[i].current_offset << ")";
    at += alone.size();
  }
  EXPECT_EQ(at, seq.size());
}

TEST(Lz4StateTest, ModelTracksLiveStreamAndPrimedWritersMatch) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Plan plan = RandomPlan(seed, 12, 600 << 10);
    // Empty LZ4 frames also move the state (64 KiB skip once non-zero).
    plan.insert(plan.begin() + 3, PlanFrame{FrameStyle::kLz4, {}});
    plan.insert(plan.begin(), PlanFrame{FrameStyle::kLz4, {}});
    CheckSplitWriting(plan, {});
  }
}

TEST(Lz4StateTest, StateIgnoresContentsAndRawFrames) {
  Lz4StateModel m;
  m.OpenLz4Frame();
  EXPECT_EQ(m.state().current_offset, 0u);  // pristine stays 0
  m.AddBuffer(100);
  m.AddBuffer(0);
  EXPECT_EQ(m.state().current_offset, 100u);
  m.OpenLz4Frame();
  EXPECT_EQ(m.state().current_offset, 100u + 65536);
  Lz4StateModel big(Lz4StreamState{(1u << 30) + 1});
  big.OpenLz4Frame();
  EXPECT_EQ(big.state().current_offset, 0u);  // table cleared
  Lz4StateModel at(Lz4StreamState{1u << 30});
  at.OpenLz4Frame();
  EXPECT_EQ(at.state().current_offset, (1u << 30) + 65536);
}

// Frames of ~200-700 KiB starting just below 2^30: the table clear happens in
// the middle of the sequence; after it a frame compresses like a fresh one.
TEST(Lz4StateTest, CrossingTableClearThreshold) {
  Plan plan = RandomPlan(42, 10, 700 << 10);
  for (auto& f : plan) f.style = FrameStyle::kLz4;
  const Lz4StreamState start{(1u << 30) - (1u << 20)};
  CheckSplitWriting(plan, start);

  Lz4StateModel m(start);
  size_t cleared = plan.size();
  for (size_t i = 0; i < plan.size(); ++i) {
    Lz4StateModel probe = m;
    probe.OpenLz4Frame();
    if (probe.state().current_offset == 0 && i > 0 && cleared == plan.size()) {
      cleared = i;
    }
    ModelAdd(m, plan[i]);
  }
  ASSERT_LT(cleared, plan.size()) << "threshold never crossed";
  EXPECT_EQ(WriteAlone(plan[cleared], {}),
            WriteAlone(plan[cleared], Lz4StreamState{(1u << 30) + 5}));
}

// The real thing: > 1 GiB of compressible data written sequentially; the
// frames around the clear are rewritten by primed writers. Then a single frame
// long enough to pass 2^31 inside it (LZ4's rebase), and the one after it.
TEST(Lz4StateTest, GigabytesThroughOneStream) {
  std::vector<uint8_t> chunk(1 << 20, 0);
  // Mostly runs with a little texture so LZ4 still finds literals.
  std::vector<uint8_t> noise = HalfCompressible(1 << 20, 7);
  for (size_t i = 0; i < chunk.size(); i += 4096) chunk[i] = noise[i];
  const int kFrames = 18;
  const int kMiBPerFrame = 64;  // 18 * 64 MiB > 1 GiB
  std::vector<uint8_t> tail = HalfCompressible(300000, 8);

  std::vector<uint8_t> seq(64 << 20);
  auto w = Writer::Mmio(seq);
  ASSERT_TRUE(w.ok());
  Lz4StateModel model;
  std::vector<Lz4StreamState> before;
  std::vector<uint64_t> starts;
  for (int i = 0; i < kFrames; ++i) {
    before.push_back(model.state());
    starts.push_back(*w->Open(FrameStyle::kLz4));
    model.OpenLz4Frame();
    for (int k = 0; k < kMiBPerFrame; ++k) {
      ASSERT_TRUE(w->Data(chunk.data(), chunk.size()).ok());
      model.AddBuffer(chunk.size());
    }
    ASSERT_TRUE(w->Data(tail.data(), tail.size()).ok());
    model.AddBuffer(tail.size());
    ASSERT_TRUE(w->Close().ok());
    ASSERT_EQ(w->lz4_state(), model.state()) << "frame " << i;
  }
  starts.push_back(w->offset());
  // Find the frame opened after the clear; rewrite it and its neighbours.
  int cleared = -1;
  for (int i = 1; i < kFrames; ++i) {
    if (before[i].current_offset > (1u << 30)) cleared = i;
  }
  ASSERT_GT(cleared, 0);
  for (int i : {cleared - 1, cleared, cleared + 1}) {
    if (i >= kFrames) continue;
    std::vector<uint8_t> out(8 << 20);
    auto p = Writer::Mmio(out, before[i]);
    ASSERT_TRUE(p->Open(FrameStyle::kLz4).ok());
    for (int k = 0; k < kMiBPerFrame; ++k) {
      ASSERT_TRUE(p->Data(chunk.data(), chunk.size()).ok());
    }
    ASSERT_TRUE(p->Data(tail.data(), tail.size()).ok());
    uint64_t n = *p->Close();
    ASSERT_EQ(n, starts[i + 1] - starts[i]) << "frame " << i;
    EXPECT_EQ(0, std::memcmp(out.data(), seq.data() + starts[i], n))
        << "frame " << i;
  }

  // One frame from exactly 2^30 (no clear) through 2^31: LZ4 rebases inside.
  std::vector<uint8_t> big(64 << 20);
  const Lz4StreamState edge{1u << 30};
  auto b = Writer::Mmio(big, edge);
  Lz4StateModel bm(edge);
  ASSERT_TRUE(b->Open(FrameStyle::kLz4).ok());
  bm.OpenLz4Frame();
  for (int k = 0; k < 1040; ++k) {
    ASSERT_TRUE(b->Data(chunk.data(), chunk.size()).ok());
    bm.AddBuffer(chunk.size());
  }
  uint64_t first_end = *b->Close();
  ASSERT_EQ(b->lz4_state(), bm.state());
  EXPECT_LT(bm.state().current_offset, 1u << 30);  // rebased to small
  ASSERT_TRUE(b->Open(FrameStyle::kLz4).ok());
  ASSERT_TRUE(b->Data(tail.data(), tail.size()).ok());
  uint64_t second_end = *b->Close();
  std::vector<uint8_t> again =
      WriteAlone(PlanFrame{FrameStyle::kLz4, {{false, tail}}}, bm.state());
  ASSERT_EQ(again.size(), second_end - first_end);
  EXPECT_EQ(0, std::memcmp(again.data(), big.data() + first_end, again.size()));
}

}  // namespace
}  // namespace wk::checkpt
