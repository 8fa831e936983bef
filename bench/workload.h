// Benchmark workloads: data with a known, realistic compressibility.
#ifndef WKSPKIT_BENCH_WORKLOAD_H_
#define WKSPKIT_BENCH_WORKLOAD_H_

#include <cstdint>
#include <span>

namespace wk::bench {

// Fills `out` as if it started at global address `gaddr`: every 4 KiB page of
// the address space holds 2 KiB of pseudo-random bytes (seeded by the page
// address and `seed`) then 2 KiB of repeated English text. LZ4 compresses it
// to about half, like Firedancer's reference workload.
void FillHalfCompressible(std::span<uint8_t> out, uint64_t gaddr,
                          uint64_t seed);

}  // namespace wk::bench

#endif  // WKSPKIT_BENCH_WORKLOAD_H_
