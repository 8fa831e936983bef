// The C API (through libwkspkit.so, as a consumer links it) against the C++
// API (//wksp, //wksp/checkpt linked statically), interleaved in the same
// benchmark so that both see the same machine state: alloc/free round trips,
// and checkpoint and restore of the same 128 MiB of allocations (64 x 2 MiB,
// half pseudo-random and half text per 4 KiB page) to and from a file in
// /dev/shm (or $WKSP_BENCH_DIR), styles v2 and v3 with 1 and 2 threads.
// Counters: *_cpp and *_c are ns of thread CPU time per alloc/free, or GB/s
// of allocation data (wall clock); x_* is the C API's speed over the C++
// API's in that row (target >= 0.95; docs/LIBRARY.md "What the C API costs"
// has the table):
//   ./bazelw run -c opt //lib:capi_bench --
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <time.h>
#include <unistd.h>

#include <chrono>
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

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// This thread's CPU time in seconds. The alloc/free rounds are timed with it
// rather than the wall clock: a round is ~0.2 ms of one thread's work, and a
// preemption by another process landing on one side's rounds would otherwise
// decide the ratio on a busy machine.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

// Each iteration: kRounds alloc/free through each API, in alternating order.
void BM_AllocFree(benchmark::State& state) {
  constexpr int kRounds = 1024;
  ws::Wksp& cpp = CppWksp();
  wkspkit_wksp_t* c = CWksp();
  const uint64_t sz = static_cast<uint64_t>(state.range(0));
  double t_cpp = 0, t_c = 0;
  bool c_first = false;
  auto run_cpp = [&] {
    const double t0 = ThreadCpuSeconds();
    for (int i = 0; i < kRounds; ++i) {
      auto g = cpp.Alloc(0, sz, 1);
      if (!g.ok()) std::abort();
      benchmark::DoNotOptimize(*g);
      if (!cpp.Free(*g).ok()) std::abort();
    }
    t_cpp += ThreadCpuSeconds() - t0;
  };
  auto run_c = [&] {
    const double t0 = ThreadCpuSeconds();
    for (int i = 0; i < kRounds; ++i) {
      uint64_t g = 0;
      if (wkspkit_alloc(c, 0, sz, 1, &g) != WKSPKIT_OK) Die("alloc");
      benchmark::DoNotOptimize(g);
      if (wkspkit_free(c, g) != WKSPKIT_OK) Die("free");
    }
    t_c += ThreadCpuSeconds() - t0;
  };
  for (auto _ : state) {
    if (c_first) {
      run_c();
      run_cpp();
    } else {
      run_cpp();
      run_c();
    }
    c_first = !c_first;
  }
  const double ops = static_cast<double>(state.iterations()) * kRounds;
  state.counters["ns_cpp"] = t_cpp / ops * 1e9;
  state.counters["ns_c"] = t_c / ops * 1e9;
  state.counters["x_alloc_free"] = t_cpp / t_c;
}
BENCHMARK(BM_AllocFree)->Arg(64)->Arg(64 << 10);

// ---- checkpoint and restore ---------------------------------------------

// A checkpoint and the index sidecar that a sealed v2/v3 checkpoint to a
// path writes beside it (PATH.wkspidx, wkspkit.h).
void RemoveCheckpt(const std::string& path) {
  unlink(path.c_str());
  unlink((path + ".wkspidx").c_str());
}

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
      FillPattern(static_cast<uint8_t*>(wkspkit_laddr(c->src, g)), kAllocSz, i);
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

// Each iteration: a checkpoint through each API, then a restore through
// each, the order alternating between iterations.
void BM_CheckptRestore(benchmark::State& state) {
  CppPair& cpp = Cpp();
  CPair& c = C();
  const std::string cpp_path = FilePath("cpp"), c_path = FilePath("c");
  const wc::CheckptOptions cpp_co = CppCheckptOpts(state);
  const wkspkit_checkpt_opts_t c_co = CCheckptOpts(state);
  wc::RestoreOptions cpp_ro;
  cpp_ro.threads = static_cast<size_t>(state.range(1));
  wkspkit_restore_opts_t c_ro;
  wkspkit_restore_opts_init(&c_ro);
  c_ro.threads = static_cast<uint32_t>(state.range(1));
  RemoveCheckpt(cpp_path);
  RemoveCheckpt(c_path);

  double ckpt_cpp = 0, ckpt_c = 0, rest_cpp = 0, rest_c = 0;
  auto cpp_ckpt = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    if (!wc::Checkpt(cpp.src, cpp_path, cpp_co).ok()) std::abort();
    ckpt_cpp += Seconds(t0, std::chrono::steady_clock::now());
  };
  auto c_ckpt = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    if (wkspkit_checkpt(c.src, c_path.c_str(), &c_co) != WKSPKIT_OK)
      Die("checkpt");
    ckpt_c += Seconds(t0, std::chrono::steady_clock::now());
  };
  auto cpp_rest = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    if (!wc::Restore(cpp.dst, cpp_path, cpp_ro).ok()) std::abort();
    rest_cpp += Seconds(t0, std::chrono::steady_clock::now());
  };
  auto c_rest = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    if (wkspkit_restore(c.dst, c_path.c_str(), &c_ro) != WKSPKIT_OK)
      Die("restore");
    rest_c += Seconds(t0, std::chrono::steady_clock::now());
  };
  bool c_first = false;
  for (auto _ : state) {
    if (c_first) {
      c_ckpt();
      cpp_ckpt();
      c_rest();
      cpp_rest();
    } else {
      cpp_ckpt();
      c_ckpt();
      cpp_rest();
      c_rest();
    }
    c_first = !c_first;
    state.PauseTiming();
    RemoveCheckpt(cpp_path);
    RemoveCheckpt(c_path);
    state.ResumeTiming();
  }
  const double gb =
      static_cast<double>(state.iterations()) * kAllocs * kAllocSz / 1e9;
  state.counters["ckpt_GBps_cpp"] = gb / ckpt_cpp;
  state.counters["ckpt_GBps_c"] = gb / ckpt_c;
  state.counters["x_ckpt"] = ckpt_cpp / ckpt_c;
  state.counters["restore_GBps_cpp"] = gb / rest_cpp;
  state.counters["restore_GBps_c"] = gb / rest_c;
  state.counters["x_restore"] = rest_cpp / rest_c;
}

// Args: style, threads.
void Styles(benchmark::internal::Benchmark* b) {
  b->ArgNames({"style", "threads"});
  for (int style : {2, 3})
    for (int threads : {1, 2}) b->Args({style, threads});
  // An iteration is four 128 MiB operations (~0.3 s): the default 0.5 s
  // per repetition gave each ratio two samples of new-file writes, whose
  // cost swings by 10% on this VM.
  b->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);
}
BENCHMARK(BM_CheckptRestore)->Apply(Styles);

}  // namespace
