// SetCount: a writer or reader reports the data bytes it moves while it
// moves them, inside one large buffer too, without changing a byte.
#include <unistd.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "checkpt/checkpt.h"
#include "checkpt/test_util.h"
#include "gtest/gtest.h"
#include "io/fd.h"

namespace wk::checkpt {
namespace {

using testing::HalfCompressible;
using testing::ReadAll;
using testing::TempFile;

// One big data buffer (5 MiB and a bit), a small one and a meta buffer.
constexpr uint64_t kBig = 5 * kCountStep + 12345;
constexpr uint64_t kSmall = 100;
constexpr uint64_t kData = kBig + kSmall;

struct Counted {
  std::vector<uint64_t> calls;
  CountFn Fn() {
    return [this](uint64_t n) { calls.push_back(n); };
  }
  uint64_t sum() const {
    return std::accumulate(calls.begin(), calls.end(), uint64_t{0});
  }
};

absl::Status WriteFrames(Writer& w, FrameStyle style,
                         const std::vector<uint8_t>& big,
                         const std::vector<uint8_t>& small) {
  uint8_t meta[40];
  std::memset(meta, 7, sizeof(meta));
  if (auto o = w.Open(style); !o.ok()) return o.status();
  if (absl::Status s = w.Meta(meta, sizeof(meta)); !s.ok()) return s;
  if (absl::Status s = w.Data(big.data(), big.size()); !s.ok()) return s;
  if (absl::Status s = w.Data(small.data(), small.size()); !s.ok()) return s;
  return w.Close().status();
}

enum class WMode { kMmio, kStream, kSink };

// The checkpoint's bytes, written in `mode`, counted into *c if not null.
std::vector<uint8_t> Write(WMode mode, FrameStyle style, Counted* c) {
  const std::vector<uint8_t> big = HalfCompressible(kBig, 1);
  const std::vector<uint8_t> small = HalfCompressible(kSmall, 2);
  std::vector<uint8_t> wbuf(kWbufMin);
  std::vector<uint8_t> out;
  TempFile f;
  absl::StatusOr<Writer> w = Writer::Mmio({});
  if (mode == WMode::kMmio) {
    out.resize(2 * kData);
    w = Writer::Mmio(out);
  } else if (mode == WMode::kStream) {
    w = Writer::Stream(f.fd(), wbuf);
  } else {
    w = Writer::Sink(
        [&out](std::span<const uint8_t> b) {
          out.insert(out.end(), b.begin(), b.end());
          return absl::OkStatus();
        },
        wbuf);
  }
  EXPECT_TRUE(w.ok()) << w.status();
  if (c) w->SetCount(c->Fn());
  absl::Status s = WriteFrames(*w, style, big, small);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<uint64_t> end = w->Finish();
  EXPECT_TRUE(end.ok()) << end.status();
  if (mode == WMode::kStream) out = ReadAll(f.fd());
  out.resize(*end);
  return out;
}

TEST(CountTest, WriterCountsInsideOneBufferAndWritesTheSameBytes) {
  for (FrameStyle style : {FrameStyle::kRaw, FrameStyle::kLz4}) {
    for (WMode mode : {WMode::kMmio, WMode::kStream, WMode::kSink}) {
      SCOPED_TRACE(::testing::Message() << "style " << static_cast<int>(style)
                                      << " mode " << static_cast<int>(mode));
      const std::vector<uint8_t> plain = Write(mode, style, nullptr);
      Counted c;
      EXPECT_EQ(Write(mode, style, &c), plain);
      EXPECT_EQ(c.sum(), kData);  // the meta buffer is not counted
      // One 5 MiB buffer: reported at least five times, each time once
      // kCountStep was reached (the last, at Close, the rest).
      ASSERT_GE(c.calls.size(), 5u);
      for (size_t i = 0; i + 1 < c.calls.size(); ++i) {
        EXPECT_GE(c.calls[i], kCountStep);
        EXPECT_LE(c.calls[i], kCountStep + kChunkUszMax);
      }
    }
  }
}

enum class RMode { kMmio, kFile, kPipe, kTapped };

TEST(CountTest, ReaderCountsInsideOneBuffer) {
  for (FrameStyle style : {FrameStyle::kRaw, FrameStyle::kLz4}) {
    const std::vector<uint8_t> bytes = Write(WMode::kMmio, style, nullptr);
    for (RMode mode : {RMode::kMmio, RMode::kFile, RMode::kPipe,
                       RMode::kTapped}) {
      SCOPED_TRACE(::testing::Message() << "style " << static_cast<int>(style)
                                      << " mode " << static_cast<int>(mode));
      TempFile f;
      ASSERT_TRUE(io::PWriteExact(f.fd(), bytes.data(), bytes.size(), 0).ok());
      std::vector<uint8_t> rbuf(kRbufMin);
      size_t fed = 0;  // pipe mode: bytes handed out by the source
      absl::StatusOr<Reader> r = Reader::Mmio({});
      if (mode == RMode::kMmio || mode == RMode::kTapped) {
        r = Reader::Mmio(bytes);
      } else if (mode == RMode::kFile) {
        r = Reader::Stream(f.fd(), rbuf);
      } else {
        r = Reader::Source(
            [&](uint8_t* dst, size_t min, size_t max) -> absl::StatusOr<size_t> {
              // Dribbles: at most 200 kB a call, at least what is asked.
              size_t n = std::min(bytes.size() - fed,
                                  std::max<size_t>(min, std::min<size_t>(
                                                            max, 200000)));
              if (n < min) return absl::OutOfRangeError("end of input");
              std::memcpy(dst, bytes.data() + fed, n);
              fed += n;
              return n;
            },
            rbuf);
      }
      ASSERT_TRUE(r.ok()) << r.status();
      uint64_t tapped = 0;
      if (mode == RMode::kTapped) {
        r->SetTap([&](std::span<const uint8_t> b) { tapped += b.size(); });
      }
      Counted c;
      r->SetCount(c.Fn());
      std::vector<uint8_t> big(kBig), small(kSmall);
      uint8_t meta[40];
      ASSERT_TRUE(r->Open(style).ok());
      ASSERT_TRUE(r->Meta(meta, sizeof(meta)).ok());
      ASSERT_TRUE(r->Data(big.data(), big.size()).ok());
      ASSERT_TRUE(r->Data(small.data(), small.size()).ok());
      ASSERT_TRUE(r->Close().ok());
      EXPECT_EQ(big, HalfCompressible(kBig, 1));
      EXPECT_EQ(small, HalfCompressible(kSmall, 2));
      if (mode == RMode::kTapped) {
        EXPECT_EQ(tapped, bytes.size());
      }
      EXPECT_EQ(c.sum(), kData);
      ASSERT_GE(c.calls.size(), 5u);
      for (size_t i = 0; i + 1 < c.calls.size(); ++i) {
        EXPECT_GE(c.calls[i], kCountStep);
        EXPECT_LE(c.calls[i], kCountStep + kRbufMin + kChunkUszMax);
      }
    }
  }
}

// Removing the function stops the counting; what was pending is reported
// first, so nothing counted is lost.
TEST(CountTest, SetCountReportsWhatWasPendingBeforeReplacing) {
  std::vector<uint8_t> region(4096);
  absl::StatusOr<Writer> w = Writer::Mmio(region);
  ASSERT_TRUE(w.ok());
  Counted c;
  w->SetCount(c.Fn());
  uint8_t b[100] = {};
  ASSERT_TRUE(w->Open().ok());
  ASSERT_TRUE(w->Data(b, sizeof(b)).ok());
  w->SetCount({});
  EXPECT_EQ(c.calls, std::vector<uint64_t>{100});
  ASSERT_TRUE(w->Data(b, sizeof(b)).ok());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(c.calls, std::vector<uint64_t>{100});
}

}  // namespace
}  // namespace wk::checkpt
