// What progress reporting costs a checkpoint and a restore of one large
// allocation (docs/PERFORMANCE.md, "Progress display"): each style, to and
// from a file in /dev/shm, without a ProgressFn and with one that does what
// wksp_ctl's does between redraws (a lock, two stores, a clock read). Runs
// alternate (in both orders) and the best of `reps` is kept, so load on the machine hits
// both sides alike. Prints GB/s, the ratio on/off and a memcpy ceiling of
// the same size measured in the same run.
//
//   bazel run -c opt //wksp/checkpt:progress_bench -- [MiB] [reps]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "util/clock.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

struct Sink {  // stands in for apps/progress.h's Update
  std::mutex mu;
  uint64_t done = 0, total = 0, calls = 0;
  int64_t last = 0;
  void Update(uint64_t d, uint64_t t) {
    std::lock_guard<std::mutex> lock(mu);
    done = d;
    total = t;
    last = MonotonicNs();
    ++calls;
  }
};

int Main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 512;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const uint64_t sz = mib << 20;
  auto src = wksp::Wksp::CreateAnonymous("pbsrc", 16, sz + (8 << 20));
  auto dst = wksp::Wksp::CreateAnonymous("pbdst", 16, sz + (8 << 20));
  if (!src.ok() || !dst.ok()) {
    std::fprintf(stderr, "workspace: %s\n", src.status().ToString().c_str());
    return 1;
  }
  auto g = src->Alloc(4096, sz, 1);
  if (!g.ok()) return 1;
  uint8_t* p = src->laddr(*g);
  // Half-compressible: alternate 4 KiB pages of noise and of a counter.
  uint64_t x = 88172645463325252u;
  for (uint64_t i = 0; i < sz; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const uint64_t v = (i >> 12) & 1 ? x : i >> 6;
    std::memcpy(p + i, &v, 8);
  }
  const std::string path =
      absl::StrFormat("/dev/shm/wkspkit_progress_bench_%d.ckpt", getpid());

  // Ceiling: one memcpy of the allocation into the target's data region.
  {
    auto dg = dst->Alloc(4096, sz, 1);
    if (!dg.ok()) return 1;
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      const int64_t t0 = MonotonicNs();
      std::memcpy(dst->laddr(*dg), p, sz);
      best = std::min(best, (MonotonicNs() - t0) * 1e-9);
    }
    std::printf("memcpy ceiling: %.2f GB/s (%llu MiB)\n", sz / best * 1e-9,
                static_cast<unsigned long long>(mib));
  }
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    double best[2][2] = {{1e30, 1e30}, {1e30, 1e30}};  // [ckpt/rest][off/on]
    uint64_t calls = 0;
    for (int r = 0; r < reps; ++r) {
      // Which goes first alternates too (the second of a pair runs on a
      // warmer page cache).
      for (int i = 0; i < 2; ++i) {
        const int on = (i + r) % 2;
        Sink sink;
        ProgressFn fn;
        if (on) fn = [&sink](uint64_t d, uint64_t t) { sink.Update(d, t); };
        ::unlink(path.c_str());
        CheckptOptions co;
        co.style = style;
        co.durable = false;
        co.progress = fn;
        int64_t t0 = MonotonicNs();
        absl::Status st = Checkpt(*src, path, co);
        best[0][on] = std::min(best[0][on], (MonotonicNs() - t0) * 1e-9);
        RestoreOptions ro;
        ro.progress = fn;
        t0 = MonotonicNs();
        if (st.ok()) st = Restore(*dst, path, ro);
        best[1][on] = std::min(best[1][on], (MonotonicNs() - t0) * 1e-9);
        if (!st.ok()) {
          std::fprintf(stderr, "%s\n", st.ToString().c_str());
          ::unlink(path.c_str());
          return 1;
        }
        if (on) calls = sink.calls;
      }
    }
    ::unlink(path.c_str());
    for (int k = 0; k < 2; ++k) {
      std::printf(
          "v%d %-7s off %.2f GB/s  on %.2f GB/s  on/off %.3f  (%llu reports "
          "per checkpt+restore)\n",
          StyleNumber(style), k ? "restore" : "checkpt", sz / best[k][0] * 1e-9,
          sz / best[k][1] * 1e-9, best[k][0] / best[k][1],
          static_cast<unsigned long long>(calls));
    }
  }
  return 0;
}

}  // namespace
}  // namespace wk::wksp_checkpt

int main(int argc, char** argv) { return wk::wksp_checkpt::Main(argc, argv); }
