// Alloc+free round trips on one workspace: one thread, two threads of one
// process contending, and two processes contending (a forked child churning
// the same workspace), beside malloc/free as a reference point.
//   bazel run -c opt //wksp:wksp_bench -- --benchmark_min_time=0.2
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "benchmark/benchmark.h"
#include "wksp/wksp.h"

namespace wk::wksp {
namespace {

Wksp& Shared() {
  static Wksp* w = [] {
    auto r = Wksp::CreateAnonymous("bench", 4096, uint64_t{256} << 20);
    if (!r.ok()) abort();
    return new Wksp(std::move(*r));
  }();
  return *w;
}

void BM_WkspAllocFree(benchmark::State& state) {
  Wksp& w = Shared();
  const uint64_t sz = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    auto g = w.Alloc(0, sz, 1);
    if (!g.ok()) {
      state.SkipWithError("alloc failed");
      break;
    }
    benchmark::DoNotOptimize(*g);
    (void)w.Free(*g);
  }
}
BENCHMARK(BM_WkspAllocFree)->RangeMultiplier(4)->Range(4 << 10, 4 << 20);
BENCHMARK(BM_WkspAllocFree)
    ->RangeMultiplier(4)
    ->Range(4 << 10, 4 << 20)
    ->Threads(2)
    ->UseRealTime();

// A forked child churns the same workspace for the whole measurement.
void BM_WkspAllocFreeVsChildProcess(benchmark::State& state) {
  Wksp& w = Shared();
  const uint64_t sz = static_cast<uint64_t>(state.range(0));
  pid_t child = fork();
  if (child == 0) {
    alarm(120);  // never outlive the benchmark
    for (;;) {
      auto g = w.Alloc(0, sz, 2);
      if (g.ok()) (void)w.Free(*g);
    }
  }
  for (auto _ : state) {
    auto g = w.Alloc(0, sz, 1);
    if (!g.ok()) {
      state.SkipWithError("alloc failed");
      break;
    }
    benchmark::DoNotOptimize(*g);
    (void)w.Free(*g);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // The child died at a random point, possibly holding the lock: the next
  // caller recovers. Check that here so the next run starts clean.
  if (!w.Check().ok()) state.SkipWithError("workspace check failed");
}
BENCHMARK(BM_WkspAllocFreeVsChildProcess)
    ->RangeMultiplier(4)
    ->Range(4 << 10, 4 << 20)
    ->UseRealTime();

void BM_MallocFree(benchmark::State& state) {
  const size_t sz = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = malloc(sz);
    benchmark::DoNotOptimize(p);
    free(p);
  }
}
BENCHMARK(BM_MallocFree)->RangeMultiplier(4)->Range(4 << 10, 4 << 20);
BENCHMARK(BM_MallocFree)
    ->RangeMultiplier(4)
    ->Range(4 << 10, 4 << 20)
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace wk::wksp
