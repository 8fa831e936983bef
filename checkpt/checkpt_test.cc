// Round trips through every writer mode and every reader mode, offsets, sizes,
// pipes, threads restoring different frames, and the LZ4 chunk format itself.
#include "checkpt/checkpt.h"

#include <fcntl.h>
#include <lz4.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "checkpt/test_util.h"
#include "gtest/gtest.h"
#include "io/fd.h"

namespace wk::checkpt {
namespace {

using testing::CheckPlan;
using testing::HalfCompressible;
using testing::Plan;
using testing::PlanBound;
using testing::RandomPlan;
using testing::ReadAll;
using testing::TempFile;
using testing::WritePlan;

std::vector<uint8_t> WriteMmio(const Plan& plan,
                               std::vector<uint64_t>* offsets) {
  std::vector<uint8_t> region(PlanBound(plan));
  auto w = Writer::Mmio(region);
  EXPECT_TRUE(w.ok()) << w.status();
  absl::Status s = WritePlan(*w, plan, offsets);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<uint64_t> end = w->Finish();
  EXPECT_TRUE(end.ok()) << end.status();
  region.resize(*end);
  return region;
}

std::vector<uint8_t> WriteStream(const Plan& plan, size_t wbuf_sz,
                                 std::vector<uint64_t>* offsets) {
  TempFile f;
  std::vector<uint8_t> wbuf(wbuf_sz);
  auto w = Writer::Stream(f.fd(), wbuf);
  EXPECT_TRUE(w.ok()) << w.status();
  absl::Status s = WritePlan(*w, plan, offsets);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<uint64_t> end = w->Finish();
  EXPECT_TRUE(end.ok()) << end.status();
  std::vector<uint8_t> bytes = ReadAll(f.fd());
  EXPECT_EQ(bytes.size(), *end);
  return bytes;
}

void WriteFileBytes(int fd, const std::vector<uint8_t>& bytes) {
  ASSERT_TRUE(io::PWriteExact(fd, bytes.data(), bytes.size(), 0).ok());
}

TEST(CheckptTest, StreamAndMmioWritersGiveIdenticalBytes) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    Plan plan = RandomPlan(seed, 12, 1 << 20);
    std::vector<uint64_t> off_m, off_s;
    std::vector<uint8_t> mmio = WriteMmio(plan, &off_m);
    for (size_t wbuf_sz : {size_t{kWbufMin}, size_t{100001}, size_t{1} << 20}) {
      std::vector<uint8_t> stream = WriteStream(plan, wbuf_sz, &off_s);
      EXPECT_EQ(off_s, off_m) << "seed " << seed << " wbuf " << wbuf_sz;
      ASSERT_EQ(stream, mmio) << "seed " << seed << " wbuf " << wbuf_sz;
    }
  }
}

TEST(CheckptTest, EveryReaderModeRestoresEveryFrame) {
  for (uint64_t seed = 10; seed <= 14; ++seed) {
    Plan plan = RandomPlan(seed, 10, 1 << 20);
    std::vector<uint64_t> offsets;
    std::vector<uint8_t> bytes = WriteMmio(plan, &offsets);

    auto rm = Reader::Mmio(bytes);
    ASSERT_TRUE(rm.ok());
    EXPECT_EQ(rm->size(), bytes.size());
    EXPECT_TRUE(rm->is_mmio());
    absl::Status s = CheckPlan(*rm, plan, offsets, 0, plan.size());
    ASSERT_TRUE(s.ok()) << "mmio seed " << seed << ": " << s;
    EXPECT_EQ(*rm->Finish(), bytes.size());

    TempFile f;
    WriteFileBytes(f.fd(), bytes);
    for (size_t rbuf_sz : {size_t{kRbufMin}, size_t{70001}, size_t{1} << 20}) {
      std::vector<uint8_t> rbuf(rbuf_sz);
      auto rs = Reader::Stream(f.fd(), rbuf);
      ASSERT_TRUE(rs.ok());
      EXPECT_FALSE(rs->is_mmio());
      EXPECT_TRUE(rs->seekable());
      EXPECT_EQ(rs->size(), bytes.size());
      s = CheckPlan(*rs, plan, offsets, 0, plan.size());
      ASSERT_TRUE(s.ok()) << "stream seed " << seed << " rbuf " << rbuf_sz
                          << ": " << s;
      EXPECT_EQ(*rs->Finish(), bytes.size());
    }
  }
}

// Writer streaming into a pipe, reader streaming out of it, concurrently.
TEST(CheckptTest, PipeToPipe) {
  Plan plan = RandomPlan(77, 10, 1 << 20);
  std::vector<uint64_t> expect_offsets;
  std::vector<uint8_t> expect = WriteMmio(plan, &expect_offsets);

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  io::Fd rd(p[0]), wr(p[1]);
  std::vector<uint64_t> offsets;
  absl::Status wstatus;
  std::thread writer([&] {
    std::vector<uint8_t> wbuf(kWbufMin);
    auto w = Writer::Stream(wr.get(), wbuf);
    wstatus = w.ok() ? WritePlan(*w, plan, &offsets) : w.status();
    if (wstatus.ok()) wstatus = w->Finish().status();
    wr.reset();  // EOF for the reader
  });
  std::vector<uint8_t> rbuf(kRbufMin);
  auto r = Reader::Stream(rd.get(), rbuf);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->seekable());
  EXPECT_EQ(r->size(), kSizeUnknown);
  absl::Status s = CheckPlan(*r, plan, expect_offsets, 0, plan.size());
  EXPECT_TRUE(s.ok()) << s;
  // Not seekable: Seek fails and fails the reader.
  absl::Status seek = r->Seek(0);
  EXPECT_EQ(ClassOf(seek), ErrorClass::kInval);
  EXPECT_TRUE(r->failed());
  // Drain so the writer can finish even if the check failed early.
  std::vector<uint8_t> sink(1 << 16);
  while (::read(rd.get(), sink.data(), sink.size()) > 0) {
  }
  writer.join();
  EXPECT_TRUE(wstatus.ok()) << wstatus;
  EXPECT_EQ(offsets, expect_offsets);
}

// A checkpoint fed through a pipe from a file written in mmio mode.
TEST(CheckptTest, PipeReaderOfMmioCheckpoint) {
  Plan plan = RandomPlan(78, 8, 1 << 20);
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> bytes = WriteMmio(plan, &offsets);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  io::Fd rd(p[0]), wr(p[1]);
  std::thread feeder([&] {
    // Odd-sized writes so reads see arbitrary splits.
    for (size_t at = 0; at < bytes.size();) {
      size_t n = std::min<size_t>(bytes.size() - at, 7919);
      if (!io::WriteExact(wr.get(), bytes.data() + at, n).ok()) break;
      at += n;
    }
    wr.reset();
  });
  std::vector<uint8_t> rbuf(kRbufMin + 13);
  auto r = Reader::Stream(rd.get(), rbuf);
  ASSERT_TRUE(r.ok());
  absl::Status s = CheckPlan(*r, plan, offsets, 0, plan.size());
  EXPECT_TRUE(s.ok()) << s;
  std::vector<uint8_t> sink(1 << 16);
  while (::read(rd.get(), sink.data(), sink.size()) > 0) {
  }
  feeder.join();
}

// Several threads, each with its own reader, restore different frames of one
// checkpoint by seeking: mmio readers over one region and streaming readers
// over one shared descriptor.
TEST(CheckptTest, ThreadsRestoreDifferentFrames) {
  Plan plan = RandomPlan(99, 24, 512 << 10);
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> bytes = WriteMmio(plan, &offsets);
  TempFile f;
  WriteFileBytes(f.fd(), bytes);
  for (bool mmio : {true, false}) {
    std::atomic<size_t> next{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        std::vector<uint8_t> rbuf(kRbufMin);
        auto r = mmio ? Reader::Mmio(bytes) : Reader::Stream(f.fd(), rbuf);
        if (!r.ok()) {
          ++bad;
          return;
        }
        for (size_t i; (i = next.fetch_add(1)) < plan.size();) {
          // Walk the frames in a scrambled order.
          size_t k = (i * 7) % plan.size();
          if (!r->Seek(offsets[k]).ok() ||
              !CheckPlan(*r, plan, offsets, k, k + 1).ok()) {
            ++bad;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0) << (mmio ? "mmio" : "stream");
  }
}

TEST(CheckptTest, StreamReaderOffsetsAreFileOffsets) {
  Plan plan = RandomPlan(5, 4, 300 << 10);
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> bytes = WriteMmio(plan, &offsets);
  // Put the checkpoint after a 1000-byte prefix and start the reader there.
  std::vector<uint8_t> file(1000, 0x11);
  file.insert(file.end(), bytes.begin(), bytes.end());
  TempFile f;
  WriteFileBytes(f.fd(), file);
  ASSERT_TRUE(io::Seek(f.fd(), 1000, io::Whence::kSet).ok());
  std::vector<uint64_t> shifted = offsets;
  for (auto& o : shifted) o += 1000;
  std::vector<uint8_t> rbuf(kRbufMin);
  auto r = Reader::Stream(f.fd(), rbuf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->offset(), 1000u);
  EXPECT_EQ(r->size(), file.size());
  absl::Status s = CheckPlan(*r, plan, shifted, 0, plan.size());
  EXPECT_TRUE(s.ok()) << s;
  // Positional reads: the descriptor's own position did not move.
  EXPECT_EQ(*io::Seek(f.fd(), 0, io::Whence::kCur), 1000u);
  // Seeking back to a frame re-reads it.
  ASSERT_TRUE(r->Seek(shifted[1]).ok());
  s = CheckPlan(*r, plan, shifted, 1, 2);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(r->Seek(file.size()).ok());
}

// A read-ahead end keeps later bytes out of the read buffer: they are read
// when needed, so a change made to them after the earlier frame was read is
// seen (without one, the buffer still holds the old bytes).
TEST(CheckptTest, ReadAheadEndKeepsTheNextFrameOutOfTheBuffer) {
  std::vector<uint8_t> region(4096);
  auto w = Writer::Mmio(region);
  ASSERT_TRUE(w.ok());
  const std::vector<uint8_t> a(100, 0xAA), b(100, 0xBB);
  ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
  ASSERT_TRUE(w->Meta(a.data(), a.size()).ok());
  const uint64_t b_off = *w->Close();
  ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
  ASSERT_TRUE(w->Meta(b.data(), b.size()).ok());
  region.resize(*w->Close());
  const std::vector<uint8_t> changed(100, 0xCC);
  for (bool limit : {false, true}) {
    SCOPED_TRACE(limit ? "read-ahead end" : "no read-ahead end");
    TempFile f;
    WriteFileBytes(f.fd(), region);
    std::vector<uint8_t> rbuf(kRbufMin);
    auto r = Reader::Stream(f.fd(), rbuf);
    ASSERT_TRUE(r.ok());
    if (limit) r->SetReadAheadEnd(b_off);
    std::vector<uint8_t> got(100);
    ASSERT_TRUE(r->Open(FrameStyle::kRaw).ok());
    ASSERT_TRUE(r->Meta(got.data(), got.size()).ok());
    EXPECT_EQ(got, a);
    EXPECT_EQ(*r->Close(), b_off);
    ASSERT_TRUE(
        io::PWriteExact(f.fd(), changed.data(), changed.size(), b_off).ok());
    ASSERT_TRUE(r->Open(FrameStyle::kRaw).ok());
    ASSERT_TRUE(r->Meta(got.data(), got.size()).ok());
    EXPECT_EQ(got, limit ? changed : b);
    EXPECT_EQ(*r->Close(), region.size());
    EXPECT_EQ(*r->Finish(), region.size());
  }
}

// However short the read-ahead, every read still gets what it needs: RAW
// and LZ4 frames restore as without one, with any read buffer.
TEST(CheckptTest, ReadAheadEndNeverStarvesARead) {
  Plan plan = RandomPlan(21, 10, 1 << 20);
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> bytes = WriteMmio(plan, &offsets);
  TempFile f;
  WriteFileBytes(f.fd(), bytes);
  for (size_t rbuf_sz : {size_t{kRbufMin}, size_t{1} << 20}) {
    for (uint64_t end : {uint64_t{0}, offsets[plan.size() / 2] + 7,
                         uint64_t{bytes.size()}, uint64_t{kSizeUnknown}}) {
      std::vector<uint8_t> rbuf(rbuf_sz);
      auto r = Reader::Stream(f.fd(), rbuf);
      ASSERT_TRUE(r.ok());
      r->SetReadAheadEnd(end);
      absl::Status s = CheckPlan(*r, plan, offsets, 0, plan.size());
      ASSERT_TRUE(s.ok()) << "rbuf " << rbuf_sz << " end " << end << ": " << s;
      EXPECT_EQ(*r->Finish(), bytes.size());
    }
  }
}

TEST(CheckptTest, ZeroSizeBuffersAndEmptyFrames) {
  for (FrameStyle style :
       {FrameStyle::kDefault, FrameStyle::kRaw, FrameStyle::kLz4}) {
    std::vector<uint8_t> region(1024);
    auto w = Writer::Mmio(region);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(*w->Open(style), 0u);
    EXPECT_TRUE(w->Meta(nullptr, 0).ok());
    EXPECT_TRUE(w->Data(nullptr, 0).ok());
    EXPECT_EQ(*w->Close(), 0u);  // a frame of nothing has size 0
    EXPECT_EQ(*w->Open(style), 0u);
    uint8_t x = 42;
    EXPECT_TRUE(w->Data(nullptr, 0).ok());
    EXPECT_TRUE(w->Meta(&x, 1).ok());
    EXPECT_TRUE(w->Meta(&x, 0).ok());
    uint64_t end = *w->Close();
    EXPECT_GT(end, 0u);
    EXPECT_EQ(*w->Finish(), end);

    // Readers may add or drop zero-size buffers.
    auto r = Reader::Mmio(std::span<const uint8_t>(region.data(), end));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r->Open(style), 0u);
    EXPECT_EQ(*r->Close(), 0u);
    EXPECT_EQ(*r->Open(style), 0u);
    uint8_t y = 0;
    EXPECT_TRUE(r->Data(nullptr, 0).ok());
    EXPECT_TRUE(r->Data(&y, 1).ok());
    EXPECT_TRUE(r->Meta(nullptr, 0).ok());
    EXPECT_EQ(y, 42);
    EXPECT_EQ(*r->Close(), end);
  }
}

TEST(CheckptTest, RawFrameIsTheConcatenation) {
  std::vector<uint8_t> a = HalfCompressible(1000, 1),
                       b = HalfCompressible(70000, 2);
  std::vector<uint8_t> region(80000);
  auto w = Writer::Mmio(region);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Open(FrameStyle::kRaw).ok());
  ASSERT_TRUE(w->Meta(a.data(), a.size()).ok());
  ASSERT_TRUE(w->Data(b.data(), b.size()).ok());
  EXPECT_EQ(*w->Close(), 71000u);
  EXPECT_EQ(0, std::memcmp(region.data(), a.data(), a.size()));
  EXPECT_EQ(0, std::memcmp(region.data() + 1000, b.data(), b.size()));
  // RAW readers may split reads anyhow.
  auto r = Reader::Mmio(std::span<const uint8_t>(region.data(), 71000));
  std::vector<uint8_t> got(71000);
  ASSERT_TRUE(r->Open(FrameStyle::kRaw).ok());
  ASSERT_TRUE(r->Data(got.data(), 5).ok());
  ASSERT_TRUE(r->Data(got.data() + 5, 70995).ok());
  EXPECT_EQ(*r->Close(), 71000u);
  EXPECT_EQ(0, std::memcmp(got.data(), a.data(), 1000));
}

// Decodes an LZ4 frame independently: 3-byte headers, 64 KiB chunks, history
// across buffers.
TEST(CheckptTest, Lz4FrameLayout) {
  std::vector<uint8_t> a = HalfCompressible(10, 3),
                       b = HalfCompressible(150000, 4);
  std::vector<uint8_t> region(200000);
  auto w = Writer::Mmio(region);
  ASSERT_TRUE(w->Open(FrameStyle::kLz4).ok());
  ASSERT_TRUE(w->Meta(a.data(), a.size()).ok());
  ASSERT_TRUE(w->Data(b.data(), b.size()).ok());
  uint64_t end = *w->Close();
  EXPECT_LT(end, 150010u * 3 / 4);  // half-compressible data shrinks

  std::vector<uint8_t> logical(a);
  logical.insert(logical.end(), b.begin(), b.end());
  std::vector<uint8_t> out(logical.size());
  uint64_t at = 0, done = 0;
  for (uint64_t u : {uint64_t{10}, uint64_t{65536}, uint64_t{65536},
                     uint64_t{150000 - 131072}}) {
    ASSERT_LE(at + 3, end);
    uint64_t c = region[at] | region[at + 1] << 8 | region[at + 2] << 16;
    ASSERT_GE(c, 1u);
    ASSERT_LE(c + 3, ChunkCszMax(u));
    int r = LZ4_decompress_safe_usingDict(
        reinterpret_cast<const char*>(region.data() + at + 3),
        reinterpret_cast<char*>(out.data() + done), static_cast<int>(c),
        static_cast<int>(u), reinterpret_cast<const char*>(out.data()),
        static_cast<int>(done));
    ASSERT_EQ(r, static_cast<int>(u));
    at += 3 + c;
    done += u;
  }
  EXPECT_EQ(at, end);
  EXPECT_EQ(out, logical);
}

}  // namespace
}  // namespace wk::checkpt
