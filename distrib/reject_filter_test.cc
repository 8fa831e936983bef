#include "distrib/reject_filter.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace wk::distrib::internal {
namespace {

void Put32(std::string& s, uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>(v >> sh);
}

uint32_t Get32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}

// A message: length prefix, id, payload.
std::string Msg(uint8_t id, const std::string& payload) {
  std::string m;
  Put32(m, static_cast<uint32_t>(1 + payload.size()));
  m += static_cast<char>(id);
  return m + payload;
}

// BEP 52 hash request (21) or reject (23) fields.
std::string Hash(uint8_t id, uint32_t base, uint32_t index, uint32_t count,
                 uint32_t proof) {
  std::string p(32, '\x5a');  // pieces root
  Put32(p, base);
  Put32(p, index);
  Put32(p, count);
  Put32(p, proof);
  return Msg(id, p);
}

// Where the proof-layers field of a hash message starting at `at` is.
constexpr size_t kProof = 4 + 1 + 32 + 12;

// Feeds `s` in pieces of `step` bytes; returns the rejects neutered.
int FeedSplit(RejectRewriter& rw, std::string& s, size_t step) {
  int n = 0;
  for (size_t at = 0; at < s.size(); at += step) {
    const size_t k = std::min(step, s.size() - at);
    n += rw.Feed(std::span<char>(s.data() + at, k));
  }
  return n;
}

TEST(RejectRewriter, NeutersBlockLayerRejectsOnlyAtAnySplit) {
  // A stream of what a fetcher sends: keep-alive, bitfield, a piece
  // message whose block holds a fake reject, a block-layer reject, a
  // piece-layer reject, a block-layer hash request (not a reject), a
  // reject of another length, and a last block-layer reject.
  std::string piece(4 + 4 + 16384, '\0');
  const std::string fake = Hash(23, 0, 512, 16, 7);
  piece.replace(8, fake.size(), fake);
  const std::vector<std::string> msgs = {
      std::string(4, '\0'),         Msg(5, std::string(9, '\xff')),
      Msg(7, piece),                Hash(23, 0, 512, 16, 7),
      Hash(23, 4, 0, 512, 3),       Hash(21, 0, 512, 16, 7),
      Msg(23, std::string(40, 1)),  Hash(23, 0, 1088, 16, 0),
  };
  std::string want;
  std::vector<size_t> at;
  for (const auto& m : msgs) {
    at.push_back(want.size());
    want += m;
  }
  for (size_t step : {1, 2, 3, 5, 7, 13, 49, 53, 4096, 100000}) {
    RejectRewriter rw;
    std::string s = want;
    EXPECT_EQ(FeedSplit(rw, s, step), 2) << "step " << step;
    std::string expect = want;
    expect[at[3] + kProof] = static_cast<char>(expect[at[3] + kProof] | 0x80);
    expect[at[7] + kProof] = static_cast<char>(expect[at[7] + kProof] | 0x80);
    EXPECT_EQ(s, expect) << "step " << step;
    // The neutered rejects name a negative proof-layer count: no request
    // the receiver has outstanding matches them.
    EXPECT_EQ(Get32(s, at[3] + kProof), 0x80000007u);
    EXPECT_EQ(Get32(s, at[7] + kProof), 0x80000000u);
  }
}

}  // namespace
}  // namespace wk::distrib::internal
