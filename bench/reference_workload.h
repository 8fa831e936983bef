// The reference workload of docs/PERFORMANCE.md in a workspace: allocations
// of log-uniform size between 4 KiB and 4 MiB (a fixed random sequence)
// until about `target` bytes are allocated, each filled with
// FillHalfCompressible data (bench/workload.h). For 3 GiB that is about
// 5,300 allocations in a data region of 4 GiB (RefDataMax).
#ifndef WKSPKIT_BENCH_REFERENCE_WORKLOAD_H_
#define WKSPKIT_BENCH_REFERENCE_WORKLOAD_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "wksp/wksp.h"

namespace wk::bench {

// The part_max and data_max of a workspace to hold `target` bytes of it.
inline constexpr uint64_t kRefPartMax = 65536;
inline uint64_t RefDataMax(uint64_t target) {
  return target / 3 * 4 + (uint64_t{16} << 20);
}

struct RefWorkload {
  uint64_t alloc_bytes = 0;  // asked for (each allocation may be larger)
  uint64_t alloc_cnt = 0;
  std::vector<wksp::PartitionInfo> parts;  // as allocated
};

// Allocates and fills the workload in `w` (empty, at least RefDataMax of
// target), filling on every CPU. Stops early, without error, when the
// workspace is full.
RefWorkload FillRefWorkload(wksp::Wksp& w, uint64_t target);

}  // namespace wk::bench

#endif  // WKSPKIT_BENCH_REFERENCE_WORKLOAD_H_
