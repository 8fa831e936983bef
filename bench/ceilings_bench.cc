// The ceilings themselves as benchmarks, so the table always shows them:
// memcpy, pread from /dev/shm into memory (1 MiB reads) and the raw LZ4
// block loop on half-compressible data, 1 and 2 threads. Each run measures
// afresh (best of a few rounds, see ceiling.cc), so repetitions are independent
// samples. Sizes: 256 MiB memcpy and pread, 64 MiB LZ4; BENCH_QUICK=1 quarters
// them, CEILING_BENCH_BYTES sets the memcpy and pread size.
#include <cstdint>

#include "bench/bench_env.h"
#include "bench/ceiling.h"
#include "benchmark/benchmark.h"

namespace wk::bench {
namespace {

uint64_t Bytes() {
  return SizeFromEnv("CEILING_BENCH_BYTES", uint64_t{256} << 20,
                     uint64_t{64} << 20);
}

// Reports one fresh measurement of `bps_of(bytes, threads)` per iteration.
template <typename F>
void Ceiling(benchmark::State& state, uint64_t bytes, F bps_of) {
  const size_t threads = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    ForgetCeilings();
    double bps = bps_of(bytes, threads);
    state.SetIterationTime(static_cast<double>(bytes) / bps);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

void BM_Memcpy(benchmark::State& state) {
  Ceiling(state, Bytes(), MemcpyBytesPerSecond);
}
BENCHMARK(BM_Memcpy)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

void BM_Pread(benchmark::State& state) {
  Ceiling(state, Bytes(), PreadBytesPerSecond);
}
BENCHMARK(BM_Pread)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

void BM_Lz4Compress(benchmark::State& state) {
  Ceiling(state, Bytes() / 4, Lz4CompressBytesPerSecond);
}
BENCHMARK(BM_Lz4Compress)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

void BM_Lz4Decompress(benchmark::State& state) {
  Ceiling(state, Bytes() / 4, Lz4DecompressBytesPerSecond);
}
BENCHMARK(BM_Lz4Decompress)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

void BM_Xxh3(benchmark::State& state) {
  Ceiling(state, Bytes(), Xxh3BytesPerSecond);
}
BENCHMARK(BM_Xxh3)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1);

}  // namespace
}  // namespace wk::bench
