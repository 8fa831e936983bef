#include "bench/reference_workload.h"

#include <cmath>
#include <random>
#include <vector>

#include "bench/workload.h"
#include "util/thread_pool.h"

namespace wk::bench {

RefWorkload FillRefWorkload(wksp::Wksp& w, uint64_t target) {
  RefWorkload wl;
  std::mt19937_64 rng(1234);
  const double lo = std::log(4096.0), hi = std::log(4194304.0);
  std::vector<wksp::PartitionInfo>& parts = wl.parts;
  while (wl.alloc_bytes < target) {
    double u = static_cast<double>(rng() >> 11) / 9007199254740992.0;
    uint64_t sz = static_cast<uint64_t>(std::exp(lo + u * (hi - lo)));
    auto p = w.AllocAtLeast(0, sz, 1 + wl.alloc_cnt % 7);
    if (!p.ok()) break;
    parts.push_back(*p);
    wl.alloc_bytes += sz;
    ++wl.alloc_cnt;
  }
  // In parallel: the generator is slow, and this is setup.
  ThreadPool pool(ThreadPool::HardwareConcurrency());
  pool.ExecAll([&](size_t t) {
    for (size_t i = t; i < parts.size(); i += pool.size()) {
      const auto& p = parts[i];
      FillHalfCompressible({w.laddr(p.lo), p.hi - p.lo}, p.lo, 7);
    }
  });
  return wl;
}

}  // namespace wk::bench
