// The ceilings themselves as benchmarks, so the table always shows them:
// memcpy and the raw LZ4 block loop on half-compressible data, 1 and 2
// threads.
#include <cstring>
#include <vector>

#include "bench/ceiling.h"
#include "benchmark/benchmark.h"

namespace wk::bench {
namespace {

constexpr uint64_t kBytes = 256ull << 20;

void BM_Memcpy(benchmark::State& state) {
  size_t threads = static_cast<size_t>(state.range(0));
  double bps = 0;
  for (auto _ : state) {
    bps = MemcpyBytesPerSecond(kBytes, threads);
    state.SetIterationTime(static_cast<double>(kBytes) / bps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(kBytes) * state.iterations());
}
BENCHMARK(BM_Memcpy)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

void BM_Lz4Compress(benchmark::State& state) {
  size_t threads = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    double bps = Lz4CompressBytesPerSecond(kBytes / 4, threads);
    state.SetIterationTime(static_cast<double>(kBytes / 4) / bps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(kBytes / 4) *
                          state.iterations());
}
BENCHMARK(BM_Lz4Compress)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

void BM_Lz4Decompress(benchmark::State& state) {
  size_t threads = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    double bps = Lz4DecompressBytesPerSecond(kBytes / 4, threads);
    state.SetIterationTime(static_cast<double>(kBytes / 4) / bps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(kBytes / 4) *
                          state.iterations());
}
BENCHMARK(BM_Lz4Decompress)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

}  // namespace
}  // namespace wk::bench
