// The C API (through libwkspkit.so, as a consumer links it) against the C++
// API (//wksp, //wksp/checkpt linked statically) in one run: alloc/free
// round trips, and checkpoint and restore of the same 128 MiB of
// allocations (64 x 2 MiB, half pseudo-random and half text per 4 KiB page)
// to and from a file in /dev/shm (or $WKSP_BENCH_DIR), styles v2 and v3 with
// 1 and 2 threads. The figures to compare are each _C row over its _Cpp
// row (target >= 0.95 in time per operation or bytes/s).
//   bazel run -c opt //lib:capi_bench --
//     --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wkspkit/wkspkit.h"

namespace {

namespace ws = wk::wksp;
namespace wc = wk::wksp_checkpt;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr int kAllocs = 64;
constexpr uint64_t kAllocSz = 2 * kMiB;
constexpr uint64_t kDataMax = kAllocs * kAllocSz + 16 * kMiB;

std::string Dir() {
  const char* d = std::getenv("WKSP_BENCH_DIR");
  return d != nullptr ? d : "/dev/shm";
}

std::string FilePath(const char* what) {
  return Dir() + "/capi_bench." + std::to_string(getpid()) + "." + what;
}

// Pseudo-random and text halves per page, as the reference workload.
void FillPattern(uint8_t* p, uint64_t sz, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  static const char kText[] = "the quick brown fox jumps over the lazy dog ";
  for (uint64_t off = 0; off < sz; off += 4096) {
    const uint64_t half = std::min<uint64_t>(2048, sz - off);
    for (uint64_t i = 0; i + 8 <= half; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(p + off + i, &x, 8);
    }
    for (uint64_t i = half; i < std::min<uint64_t>(4096, sz - off); ++i)
      p[off + i] = static_cast<uint8_t>(kText[i % (sizeof kText - 1)]);
  }
}

void Die(const char* what) {
  std::fprintf(stderr, "capi_bench: %s: %s\n", what, wkspkit_last_error());
  std::abort();
}

// ---- alloc/free --------------------------------------------------------

ws::Wksp& CppWksp() {
  static ws::Wksp* w = [] {
    auto r = ws::Wksp::CreateAnonymous("bench-cpp", 4096, 256 * kMiB);
    if (!r.ok()) std::abort();
    return new ws::Wksp(std::move(*r));
  }();
  return *w;
}

wkspkit_wksp_t* CWksp() {
  static wkspkit_wksp_t* w = [] {
    wkspkit_wksp_t* h = nullptr;
    if (wkspkit_create_anonymous("bench-c", 4096, 256 * kMiB, nullptr, &h) !=
        WKSPKIT_OK)
      Die("create");
    return h;
  }();
  return w;
}

void BM_AllocFree_Cpp(benchmark::State& state) {
  ws::Wksp& w = CppWksp();
  const uint64_t sz = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    auto g = w.Alloc(0, sz, 1);
    if (!g.ok()) {
      state.SkipWithError("alloc failed");
      break;
    }
    benchmark::DoNotOptimize(*g);
    if (!w.Free(*g).ok()) std::abort();
  }
}

void BM_AllocFree_C(benchmark::State& state) {
  wkspkit_wksp_t* w = CWksp();
  const uint64_t sz = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    uint64_t g = 0;
    if (wkspkit_alloc(w, 0, sz, 1, &g) != WKSPKIT_OK) {
      state.SkipWithError("alloc failed");
      break;
    }
    benchmark::DoNotOptimize(g);
    if (wkspkit_free(w, g) != WKSPKIT_OK) std::abort();
  }
}

BENCHMARK(BM_AllocFree_Cpp)->Arg(64)->Arg(64 << 10);
BENCHMARK(BM_AllocFree_C)->Arg(64)->Arg(64 << 10);

// ---- checkpoint and restore ---------------------------------------------

// Source and target workspaces of each API, filled once.
struct CppPair {
  ws::Wksp src, dst;
};
CppPair& Cpp() {
  static CppPair* p = [] {
    auto s = ws::Wksp::CreateAnonymous("bench-cpp-src", 1024, kDataMax);
    auto d = ws::Wksp::CreateAnonymous("bench-cpp-dst", 1024, kDataMax);
    if (!s.ok() || !d.ok()) std::abort();
    for (int i = 0; i < kAllocs; ++i) {
      auto g = s->Alloc(0, kAllocSz, 1 + i);
      if (!g.ok()) std::abort();
      FillPattern(s->laddr(*g), kAllocSz, i);
    }
    return new CppPair{std::move(*s), std::move(*d)};
  }();
  return *p;
}

struct CPair {
  wkspkit_wksp_t *src = nullptr, *dst = nullptr;
};
CPair& C() {
  static CPair* p = [] {
    auto* c = new CPair;
    if (wkspkit_create_anonymous("bench-c-src", 1024, kDataMax, nullptr,
                                 &c->src) != WKSPKIT_OK ||
        wkspkit_create_anonymous("bench-c-dst", 1024, kDataMax, nullptr,
                                 &c->dst) != WKSPKIT_OK)
      Die("create");
    for (int i = 0; i < kAllocs; ++i) {
      uint64_t g = 0;
      if (wkspkit_alloc(c->src, 0, kAllocSz, 1 + i, &g) != WKSPKIT_OK)
        Die("alloc");
      FillPattern(static_cast<uint8_t*>(wkspkit_laddr(c->src, g)), kAllocSz,
                  i);
    }
    return c;
  }();
  return *p;
}

wc::CheckptOptions CppCheckptOpts(const benchmark::State& state) {
  wc::CheckptOptions o;
  o.style = static_cast<wc::Style>(state.range(0));
  o.threads = static_cast<size_t>(state.range(1));
  o.durable = false;
  return o;
}

wkspkit_checkpt_opts_t CCheckptOpts(const benchmark::State& state) {
  wkspkit_checkpt_opts_t o;
  wkspkit_checkpt_opts_init(&o);
  o.style = static_cast<int>(state.range(0));
  o.threads = static_cast<uint32_t>(state.range(1));
  o.durable = 0;
  return o;
}

void Bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kAllocs * kAllocSz));
}

void BM_Checkpt_Cpp(benchmark::State& state) {
  CppPair& p = Cpp();
  const std::string path = FilePath("cpp");
  const wc::CheckptOptions o = CppCheckptOpts(state);
  for (auto _ : state) {
    if (!wc::Checkpt(p.src, path, o).ok()) std::abort();
    state.PauseTiming();
    unlink(path.c_str());
    state.ResumeTiming();
  }
  Bytes(state);
}

void BM_Checkpt_C(benchmark::State& state) {
  CPair& p = C();
  const std::string path = FilePath("c");
  const wkspkit_checkpt_opts_t o = CCheckptOpts(state);
  for (auto _ : state) {
    if (wkspkit_checkpt(p.src, path.c_str(), &o) != WKSPKIT_OK)
      Die("checkpt");
    state.PauseTiming();
    unlink(path.c_str());
    state.ResumeTiming();
  }
  Bytes(state);
}

void BM_Restore_Cpp(benchmark::State& state) {
  CppPair& p = Cpp();
  const std::string path = FilePath("cpp-restore");
  unlink(path.c_str());
  if (!wc::Checkpt(p.src, path, CppCheckptOpts(state)).ok()) std::abort();
  wc::RestoreOptions o;
  o.threads = static_cast<size_t>(state.range(1));
  for (auto _ : state) {
    if (!wc::Restore(p.dst, path, o).ok()) std::abort();
  }
  unlink(path.c_str());
  Bytes(state);
}

void BM_Restore_C(benchmark::State& state) {
  CPair& p = C();
  const std::string path = FilePath("c-restore");
  unlink(path.c_str());
  const wkspkit_checkpt_opts_t co = CCheckptOpts(state);
  if (wkspkit_checkpt(p.src, path.c_str(), &co) != WKSPKIT_OK) Die("checkpt");
  wkspkit_restore_opts_t o;
  wkspkit_restore_opts_init(&o);
  o.threads = static_cast<uint32_t>(state.range(1));
  for (auto _ : state) {
    if (wkspkit_restore(p.dst, path.c_str(), &o) != WKSPKIT_OK)
      Die("restore");
  }
  unlink(path.c_str());
  Bytes(state);
}

// Args: style, threads. Each C row right after its C++ row, so both see the
// same machine state.
void Styles(benchmark::internal::Benchmark* b) {
  b->ArgNames({"style", "threads"});
  for (int style : {2, 3})
    for (int threads : {1, 2}) b->Args({style, threads});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_Checkpt_Cpp)->Apply(Styles);
BENCHMARK(BM_Checkpt_C)->Apply(Styles);
BENCHMARK(BM_Restore_Cpp)->Apply(Styles);
BENCHMARK(BM_Restore_C)->Apply(Styles);

}  // namespace
