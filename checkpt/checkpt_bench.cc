// Checkpt / restore throughput on half-compressible data (each 4 KiB page:
// 2 KiB pseudo-random + 2 KiB repeated text), 256 MiB in data buffers of
// 64 KiB..1 MiB grouped into ~16 MiB frames. Every figure is GB/s of
// uncompressed bytes; ratios compare with baselines measured in the same run:
// memcpy of the same buffers (RAW) and a plain loop of
// LZ4_compress_fast_continue / LZ4_decompress_safe_continue over the same
// 64 KiB chunks (LZ4). Streaming mode goes through a memfd (page cache).
//
//   bazel run -c opt //checkpt:checkpt_bench
#include <lz4.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "checkpt/checkpt.h"
#include "checkpt/test_util.h"

namespace wk::checkpt {
namespace {

constexpr FrameStyle kRaw = FrameStyle::kRaw;
constexpr FrameStyle kLz4 = FrameStyle::kLz4;

constexpr uint64_t kTotal = 256ull << 20;
constexpr uint64_t kFrameTarget = 16ull << 20;
constexpr uint64_t kGap = 4096;  // restore destinations are not back to back

struct Buf {
  uint64_t src, dst, sz;  // offsets into the source / restore arena
};

struct Setup {
  std::vector<uint8_t> src;
  std::vector<std::vector<Buf>> frames;
  std::vector<uint8_t> dst;       // restore arena (buffers with gaps)
  std::vector<uint8_t> region;    // checkpoint, mmio
  std::vector<uint8_t> raw_ckpt;  // RAW checkpoint
  std::vector<uint8_t> lz4_ckpt;  // LZ4 checkpoint
  std::vector<uint8_t> io_buf = std::vector<uint8_t>(1 << 20);
  int memfd = -1;

  Setup() {
    src = testing::HalfCompressible(kTotal, 1);
    std::mt19937_64 rng(7);
    uint64_t at = 0, dat = 0, in_frame = kFrameTarget;
    while (at < kTotal) {
      uint64_t sz = (64 << 10) + rng() % ((1 << 20) - (64 << 10) + 1);
      sz = std::min(sz, kTotal - at);
      if (in_frame >= kFrameTarget) {
        frames.emplace_back();
        in_frame = 0;
      }
      frames.back().push_back({at, dat, sz});
      at += sz;
      dat += sz + kGap;
      in_frame += sz;
    }
    dst.assign(dat, 0);
    region.assign(kTotal + kTotal / 128 + (1 << 20), 0);
    raw_ckpt = Write(kRaw);
    lz4_ckpt = Write(kLz4);
    memfd = memfd_create("checkpt_bench", 0);
  }

  std::vector<uint8_t> Write(FrameStyle style) {
    auto w = Writer::Mmio(region);
    for (const auto& f : frames) {
      (void)w->Open(style);
      for (const Buf& b : f) (void)w->Data(src.data() + b.src, b.sz);
      (void)w->Close();
    }
    uint64_t n = *w->Finish();
    return std::vector<uint8_t>(region.begin(), region.begin() + n);
  }
};

Setup& S() {
  static Setup* s = new Setup;
  return *s;
}

double CeilingRate(const std::string& name);  // below

// Runs `work` per iteration, reports GB/s and the ratio to `baseline`.
template <typename F>
void Measure(benchmark::State& state, const char* name, const char* baseline,
             F work) {
  double secs = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    work();
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                .count();
  }
  const double gbs = static_cast<double>(kTotal) *
                     static_cast<double>(state.iterations()) / secs / 1e9;
  (void)name;
  state.counters["GB/s"] = gbs;
  if (baseline) {
    // x_<ceiling>: tools/bench_compare.py judges this ratio, which cancels
    // out how busy the machine was. The ceiling is measured once per
    // process (best of 3), so the ratio does not depend on which repetition
    // of the ceiling's own benchmark ran last.
    state.counters[std::string("x_") + baseline] = gbs / CeilingRate(baseline);
  } else {
    state.SetLabel("ceiling");  // measures the machine, not our code
  }
  state.SetBytesProcessed(static_cast<int64_t>(kTotal) * state.iterations());
}

// The yardsticks, as plain functions so CeilingRate can time them too.
void WorkMemcpy(Setup& s) {
  uint8_t* out = s.region.data();
  for (const auto& f : s.frames) {
    for (const Buf& b : f) {
      std::memcpy(out, s.src.data() + b.src, b.sz);
      out += b.sz;
    }
  }
  benchmark::DoNotOptimize(out);
}

void WorkLz4Compress(Setup& s, LZ4_stream_t* lz4) {
  char* out = reinterpret_cast<char*>(s.region.data());
  for (const auto& f : s.frames) {
    LZ4_resetStream_fast(lz4);
    for (const Buf& b : f) {
      for (uint64_t o = 0; o < b.sz; o += kChunkUszMax) {
        int u = static_cast<int>(std::min(kChunkUszMax, b.sz - o));
        int c = LZ4_compress_fast_continue(
            lz4, reinterpret_cast<const char*>(s.src.data() + b.src + o),
            out + 3, u, LZ4_compressBound(u), 1);
        out += 3 + c;
      }
    }
  }
  benchmark::DoNotOptimize(out);
}

void WorkLz4Decompress(Setup& s, LZ4_streamDecode_t* lz4) {
  const uint8_t* in = s.lz4_ckpt.data();
  for (const auto& f : s.frames) {
    LZ4_setStreamDecode(lz4, nullptr, 0);
    for (const Buf& b : f) {
      for (uint64_t o = 0; o < b.sz; o += kChunkUszMax) {
        int u = static_cast<int>(std::min(kChunkUszMax, b.sz - o));
        int c = in[0] | in[1] << 8 | in[2] << 16;
        LZ4_decompress_safe_continue(
            lz4, reinterpret_cast<const char*>(in + 3),
            reinterpret_cast<char*>(s.dst.data() + b.dst + o), c, u);
        in += 3 + c;
      }
    }
  }
  benchmark::DoNotOptimize(in);
}

// write(2) / pread(2) of the same buffers through the memfd: the floor for
// streaming mode. False on an I/O error.
bool WorkFdWrite(Setup& s) {
  if (ftruncate(s.memfd, 0) != 0) return false;
  uint64_t at = 0;
  for (const auto& f : s.frames) {
    for (const Buf& b : f) {
      if (pwrite(s.memfd, s.src.data() + b.src, b.sz, at) !=
          static_cast<ssize_t>(b.sz)) {
        return false;
      }
      at += b.sz;
    }
  }
  return true;
}

bool PrepareFdRead(Setup& s) {
  return ftruncate(s.memfd, 0) == 0 &&
         pwrite(s.memfd, s.raw_ckpt.data(), s.raw_ckpt.size(), 0) ==
             static_cast<ssize_t>(s.raw_ckpt.size());
}

bool WorkFdRead(Setup& s) {
  uint64_t at = 0;
  for (const auto& f : s.frames) {
    for (const Buf& b : f) {
      if (pread(s.memfd, s.dst.data() + b.dst, b.sz, at) !=
          static_cast<ssize_t>(b.sz)) {
        return false;
      }
      at += b.sz;
    }
  }
  return true;
}

// GB/s of a yardstick, measured once per process (best of 3) and cached.
double CeilingRate(const std::string& name) {
  static auto* cache = new std::map<std::string, double>;
  auto it = cache->find(name);
  if (it != cache->end()) return it->second;
  Setup& s = S();
  LZ4_stream_t* c = LZ4_createStream();
  LZ4_streamDecode_t* d = LZ4_createStreamDecode();
  if (name == "fd_read") (void)PrepareFdRead(s);
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (name == "memcpy") WorkMemcpy(s);
    if (name == "lz4_compress") WorkLz4Compress(s, c);
    if (name == "lz4_decompress") WorkLz4Decompress(s, d);
    if (name == "fd_write") (void)WorkFdWrite(s);
    if (name == "fd_read") (void)WorkFdRead(s);
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    best = std::max(best, static_cast<double>(kTotal) / secs / 1e9);
  }
  LZ4_freeStream(c);
  LZ4_freeStreamDecode(d);
  (*cache)[name] = best;
  return best;
}

void BM_Memcpy(benchmark::State& state) {
  Setup& s = S();
  Measure(state, "memcpy", nullptr, [&] { WorkMemcpy(s); });
}

void BM_Lz4PlainCompress(benchmark::State& state) {
  Setup& s = S();
  LZ4_stream_t* lz4 = LZ4_createStream();
  Measure(state, "lz4_compress", nullptr, [&] { WorkLz4Compress(s, lz4); });
  LZ4_freeStream(lz4);
}

void BM_Lz4PlainDecompress(benchmark::State& state) {
  Setup& s = S();
  LZ4_streamDecode_t* lz4 = LZ4_createStreamDecode();
  Measure(state, "lz4_decompress", nullptr, [&] { WorkLz4Decompress(s, lz4); });
  LZ4_freeStreamDecode(lz4);
}

// The plain loop again, but compressing from a copy in a 192 KiB ring as the
// format requires (spec 1.4): what the ring costs by itself.
void BM_Lz4RingCompress(benchmark::State& state) {
  Setup& s = S();
  LZ4_stream_t* lz4 = LZ4_createStream();
  std::vector<char> ring(kGbufSz);
  Measure(state, "lz4_ring_compress", "lz4_compress", [&] {
    char* out = reinterpret_cast<char*>(s.region.data());
    for (const auto& f : s.frames) {
      LZ4_resetStream_fast(lz4);
      uint64_t cursor = 0;
      for (const Buf& b : f) {
        for (uint64_t o = 0; o < b.sz; o += kChunkUszMax) {
          uint64_t u = std::min(kChunkUszMax, b.sz - o);
          if (kGbufSz - cursor < u) cursor = 0;
          std::memcpy(ring.data() + cursor, s.src.data() + b.src + o, u);
          int c = LZ4_compress_fast_continue(
              lz4, ring.data() + cursor, out + 3, static_cast<int>(u),
              LZ4_compressBound(static_cast<int>(u)), 1);
          cursor += u;
          out += 3 + c;
        }
      }
    }
    benchmark::DoNotOptimize(out);
  });
  LZ4_freeStream(lz4);
}

void BM_FdWrite(benchmark::State& state) {
  Setup& s = S();
  Measure(state, "fd_write", "memcpy", [&] {
    if (!WorkFdWrite(s)) state.SkipWithError("pwrite failed");
  });
}

void BM_FdRead(benchmark::State& state) {
  Setup& s = S();
  if (!PrepareFdRead(s)) {
    state.SkipWithError("memfd write failed");
    return;
  }
  Measure(state, "fd_read", "memcpy", [&] {
    if (!WorkFdRead(s)) state.SkipWithError("pread failed");
  });
}

void Checkpt(benchmark::State& state, FrameStyle style, bool mmio) {
  Setup& s = S();
  const char* base =
      style == kRaw ? (mmio ? "memcpy" : "fd_write") : "lz4_compress";
  std::string name = std::string("checkpt_") + (style == kRaw ? "raw" : "lz4") +
                     (mmio ? "_mmio" : "_stream");
  Measure(state, name.c_str(), base, [&] {
    if (!mmio &&
        (ftruncate(s.memfd, 0) != 0 || lseek(s.memfd, 0, SEEK_SET) != 0)) {
      state.SkipWithError("memfd reset failed");
    }
    absl::StatusOr<Writer> w =
        mmio ? Writer::Mmio(s.region) : Writer::Stream(s.memfd, s.io_buf);
    for (const auto& f : s.frames) {
      (void)w->Open(style);
      for (const Buf& b : f) (void)w->Data(s.src.data() + b.src, b.sz);
      (void)w->Close();
    }
    if (!w->Finish().ok()) state.SkipWithError("checkpt failed");
  });
}

void Restore(benchmark::State& state, FrameStyle style, bool mmio) {
  Setup& s = S();
  const std::vector<uint8_t>& ckpt = style == kRaw ? s.raw_ckpt : s.lz4_ckpt;
  if (!mmio) {
    if (ftruncate(s.memfd, 0) != 0 ||
        pwrite(s.memfd, ckpt.data(), ckpt.size(), 0) !=
            static_cast<ssize_t>(ckpt.size())) {
      state.SkipWithError("memfd write failed");
      return;
    }
  }
  const char* base =
      style == kRaw ? (mmio ? "memcpy" : "fd_read") : "lz4_decompress";
  std::string name = std::string("restore_") + (style == kRaw ? "raw" : "lz4") +
                     (mmio ? "_mmio" : "_stream");
  Measure(state, name.c_str(), base, [&] {
    if (!mmio && lseek(s.memfd, 0, SEEK_SET) != 0) {
      state.SkipWithError("memfd seek failed");
    }
    absl::StatusOr<Reader> r =
        mmio ? Reader::Mmio(ckpt) : Reader::Stream(s.memfd, s.io_buf);
    for (const auto& f : s.frames) {
      (void)r->Open(style);
      for (const Buf& b : f) (void)r->Data(s.dst.data() + b.dst, b.sz);
      (void)r->Close();
    }
    if (!r->Finish().ok()) state.SkipWithError("restore failed");
  });
  // Spot check the last buffer.
  const Buf& b = s.frames.back().back();
  if (std::memcmp(s.dst.data() + b.dst, s.src.data() + b.src, b.sz) != 0) {
    state.SkipWithError("restored bytes differ");
  }
}

void BM_CheckptRawMmio(benchmark::State& st) { Checkpt(st, kRaw, true); }
void BM_CheckptRawStream(benchmark::State& st) { Checkpt(st, kRaw, false); }
void BM_CheckptLz4Mmio(benchmark::State& st) { Checkpt(st, kLz4, true); }
void BM_CheckptLz4Stream(benchmark::State& st) { Checkpt(st, kLz4, false); }
void BM_RestoreRawMmio(benchmark::State& st) { Restore(st, kRaw, true); }
void BM_RestoreRawStream(benchmark::State& st) { Restore(st, kRaw, false); }
void BM_RestoreLz4Mmio(benchmark::State& st) { Restore(st, kLz4, true); }
void BM_RestoreLz4Stream(benchmark::State& st) { Restore(st, kLz4, false); }

// Baselines first: the others report their ratio to them.
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Lz4PlainCompress)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Lz4PlainDecompress)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Lz4RingCompress)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FdWrite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FdRead)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckptRawMmio)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckptRawStream)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RestoreRawMmio)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RestoreRawStream)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckptLz4Mmio)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckptLz4Stream)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RestoreLz4Mmio)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RestoreLz4Stream)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace wk::checkpt
