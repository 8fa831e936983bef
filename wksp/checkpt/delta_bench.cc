// Incremental checkpoints on the reference workload (docs/PERFORMANCE.md,
// "Incremental checkpoints"); build with -c opt:
//   bazel run -c opt //wksp/checkpt:delta_bench -- [GiB] [threads] [dir] [pct]
// Fills a workspace with the reference workload (default 1 GiB), writes a
// full v2 checkpoint, then for 1% and 10% of the 64 KiB chunks changed
// (chosen uniformly over all chunks, so spread over the allocations) times
// a delta checkpoint (v2 and v3) and its apply in place, against ceilings
// measured in the same run: XXH3-128 of the allocations from memory (libxxhash
// over one buffer, bench/ceiling.h), writing the changed bytes to a file in
// `dir` (default /dev/shm), and pread of them back (apply). `pct` (e.g. 10)
// times only that percentage instead of both. Also the full
// checkpoint and full restore it replaces, and the index hash with 1 and 2
// threads. Prints one table, then each of issue 20's targets with its ratio
// from this run; each figure is the best of 3. The whole run takes about
// 1-2 minutes at 1 GiB on 2 idle cores (it prints its own wall time).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/ceiling.h"
#include "bench/reference_workload.h"
#include "util/clock.h"
#include "util/thread_pool.h"
#include "util/xxh3.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace {

double Now() { return static_cast<double>(MonotonicNs()) / 1e9; }

template <typename F>
double Best(int reps, F f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = Now();
    f();
    best = std::min(best, Now() - t0);
  }
  return best;
}

// Best of 3 of bare XXH3-128 over the n byte ranges range(i), `threads`
// threads taking them from a shared counter: the hashing ceilings.
template <typename F>
double BareXxh3(size_t threads, size_t n, F range) {
  return Best(3, [&] {
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> sink{0};
    ThreadPool pool(threads);
    pool.ExecAll([&](size_t) {
      uint64_t x = 0;
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        const std::span<const uint8_t> r = range(i);
        x ^= XXH3_128bits(r.data(), r.size()).low64;
      }
      sink.fetch_xor(x);
    });
  });
}

void Die(const absl::Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

uint64_t FileSize(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void Rm(const std::string& p) {
  unlink(p.c_str());
  unlink((p + ".wkspidx").c_str());
}

// Writing `bytes` bytes from memory to a new file in dir, 1 MiB writes.
double WriteCeilingSeconds(const std::string& dir, uint64_t bytes) {
  std::vector<uint8_t> buf(uint64_t{1} << 20, 0x5a);
  const std::string p = dir + "/delta_bench.wceil";
  return Best(3, [&] {
    unlink(p.c_str());
    int fd = open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    for (uint64_t done = 0; done < bytes;) {
      const uint64_t n = std::min<uint64_t>(buf.size(), bytes - done);
      if (write(fd, buf.data(), n) != static_cast<ssize_t>(n)) std::abort();
      done += n;
    }
    close(fd);
    unlink(p.c_str());
  });
}

}  // namespace

// One of the targets: the measured ratio, the bound, met or not.
struct Target {
  std::string what;
  double ratio;
  double bound;
  bool at_most;  // ratio <= bound (else ratio >= bound)
};

void PrintTargets(const std::vector<Target>& targets) {
  std::printf("\ntargets (issue 20), ratios from this run:\n");
  for (const Target& t : targets) {
    const bool met = t.at_most ? t.ratio <= t.bound : t.ratio >= t.bound;
    std::printf("  %-58s %6.2f  (target %s %.2f)  %s\n", t.what.c_str(),
                t.ratio, t.at_most ? "<=" : ">=", t.bound,
                met ? "met" : "NOT met");
  }
}

int Main(int argc, char** argv) {
  const double run_t0 = Now();
  const double gib = argc > 1 ? std::atof(argv[1]) : 1.0;
  const size_t threads = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2;
  const std::string dir = argc > 3 ? argv[3] : "/dev/shm";
  std::vector<double> fracs = {0.01, 0.10};
  if (argc > 4) fracs = {std::atof(argv[4]) / 100};
  const uint64_t target = static_cast<uint64_t>(gib * double(uint64_t{1} << 30));
  auto w = wksp::Wksp::CreateAnonymous("bench", bench::kRefPartMax,
                                       bench::RefDataMax(target));
  Die(w.status(), "create");
  auto t = wksp::Wksp::CreateAnonymous("bench", bench::kRefPartMax,
                                       bench::RefDataMax(target));
  Die(t.status(), "create target");
  bench::FillRefWorkload(*w, target);
  std::vector<format::Alloc> allocs;
  {
    auto lock = w->Lock();
    allocs = *wksp::UsedPartitionsLocked(*w);
  }
  uint64_t bytes = 0;
  for (const auto& a : allocs) bytes += a.hi - a.lo;
  const std::vector<internal::ChunkRef> chunks = internal::Chunks(allocs);
  std::printf("workspace: %u allocations, %.3f GiB, %u chunks; %u threads; "
              "files in %s\n",
              uint32_t(allocs.size()), double(bytes) / double(1 << 30),
              uint32_t(chunks.size()), uint32_t(threads), dir.c_str());

  // Hash scaling (the index pass of a delta and of an apply).
  double hash_s[3] = {0, 0, 0};
  for (size_t th : {1, 2}) {
    auto lock = w->Lock();
    hash_s[th] = Best(3, [&] {
      Die(internal::HashWorkspaceLocked(*w, allocs, th).status(), "hash");
    });
  }
  // The ceiling: bare XXH3-128 of every allocation from the workspace's
  // memory, one call per allocation, `threads` threads taking allocations
  // from a shared counter (no chunking, no index, no prefault). With 1
  // thread too: how far this machine lets hashing scale at all.
  auto bare_xxh3 = [&](size_t th) {
    return BareXxh3(th, allocs.size(), [&](size_t i) {
      return std::span<const uint8_t>(w->laddr(allocs[i].lo),
                                      allocs[i].hi - allocs[i].lo);
    });
  };
  const double xxh3_s = bare_xxh3(threads);
  const double xxh3_1_s = threads == 1 ? xxh3_s : bare_xxh3(1);
  std::printf("index hash: 1 thread %.3f s (%.2f GB/s), 2 threads %.3f s "
              "(%.2f GB/s), x%.2f; XXH3 ceiling (%u threads) %.3f s (%.2f "
              "GB/s)\n",
              hash_s[1], bytes / hash_s[1] / 1e9, hash_s[2],
              bytes / hash_s[2] / 1e9, hash_s[1] / hash_s[2], uint32_t(threads),
              xxh3_s, bytes / xxh3_s / 1e9);
  std::printf("bare XXH3, 1 thread: %.3f s (%.2f GB/s): x%.2f with %u threads\n",
              xxh3_1_s, bytes / xxh3_1_s / 1e9, xxh3_1_s / xxh3_s,
              uint32_t(threads));
  std::vector<Target> targets;
  targets.push_back({"index hash, 2 threads / 1 thread (speed-up)",
                     hash_s[1] / hash_s[2], 1.7, false});

  // The full checkpoint and restore a delta replaces.
  const std::string full = dir + "/delta_bench.full";
  CheckptOptions fo;
  fo.style = Style::kV2;
  fo.threads = threads;
  fo.durable = false;
  fo.index = false;
  const double full_s = Best(3, [&] {
    Rm(full);
    Die(Checkpt(*w, full, fo), "full checkpt");
  });
  fo.index = true;
  const double full_idx_s = Best(3, [&] {
    Rm(full);
    Die(Checkpt(*w, full, fo), "full checkpt + index");
  });
  RestoreOptions ro;
  ro.threads = threads;
  const double restore_s =
      Best(3, [&] { Die(Restore(*t, full, ro), "full restore"); });
  std::printf("full v2 checkpt %.3f s (%.2f GB/s), with its index sidecar "
              "(digests from the writer's pass) %.3f s (%+.0f%%); full "
              "restore %.3f s (%.2f GB/s)\n",
              full_s, bytes / full_s / 1e9, full_idx_s,
              100 * (full_idx_s / full_s - 1), restore_s,
              bytes / restore_s / 1e9);

  std::printf("\n| changed | style | delta s | ceiling s (xxh3 + write) | "
              "ratio | vs full v2 | apply s | ceiling s (hash + pread) | "
              "ratio | vs full restore | size MiB | bound MiB |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::mt19937_64 rng(42);
  for (double frac : fracs) {
    // Back to the base state in w, then change frac of the chunks.
    Die(Restore(*w, full, ro), "reset source");
    std::vector<uint64_t> pick(chunks.size());
    for (uint64_t i = 0; i < pick.size(); ++i) pick[i] = i;
    std::shuffle(pick.begin(), pick.end(), rng);
    pick.resize(static_cast<size_t>(frac * double(chunks.size())));
    uint64_t changed = 0;
    for (uint64_t c : pick) {
      w->laddr(chunks[c].gaddr)[rng() % chunks[c].sz] ^= 0xff;
      changed += chunks[c].sz;
    }
    const double write_s = WriteCeilingSeconds(dir, changed);
    const double pread_s = double(changed) / bench::PreadBytesPerSecond(changed, threads);
    // What an apply must do beyond that ceiling: check the bytes it wrote
    // against the delta's chunk digests (what catches a corrupt delta, the
    // bit-flip test). Bare XXH3-128 of the changed chunks from memory,
    // `threads` threads: the apply's floor is XXH3 + pread + this.
    const double check_s = BareXxh3(threads, pick.size(), [&](size_t i) {
      const internal::ChunkRef& c = chunks[pick[i]];
      return std::span<const uint8_t>(w->laddr(c.gaddr), c.sz);
    });
    std::printf("%.0f%% changed: write %.3f s, pread %.3f s, XXH3 of the "
                "changed chunks %.3f s\n",
                frac * 100, write_s, pread_s, check_s);
    for (Style style : {Style::kV2, Style::kV3}) {
      const std::string d = dir + "/delta_bench.delta";
      CheckptOptions o;
      o.style = style;
      o.threads = threads;
      o.durable = false;
      o.base = full;
      const double delta_s = Best(3, [&] {
        Rm(d);
        Die(Checkpt(*w, d, o), "delta");
      });
      const uint64_t size = FileSize(d);
      double best_apply = 1e30;
      for (int i = 0; i < 3; ++i) {
        Die(Restore(*t, full, ro), "restore base");
        const double t0 = Now();
        Die(ApplyDelta(*t, d, ro), "apply");
        best_apply = std::min(best_apply, Now() - t0);
      }
      const double ceil_d = xxh3_s + write_s;
      const double ceil_a = xxh3_s + pread_s;
      const uint64_t index_meta = 24 * allocs.size() + 16 * chunks.size() +
                                  176 + 56 + 16 * pick.size() +
                                  32 * ((pick.size() + 63) / 64);
      const std::string row =
          absl::StrFormat("%.0f%% v%d", frac * 100, StyleNumber(style));
      targets.push_back({row + ": delta / (XXH3 + write)", delta_s / ceil_d,
                         1.25, true});
      if (frac < 0.05) {
        targets.push_back({row + ": full v2 checkpt / delta (speed-up)",
                           full_s / delta_s, 5.0, false});
      }
      targets.push_back({row + ": apply / (XXH3 + pread)", best_apply / ceil_a,
                         1.25, true});
      targets.push_back({row + ": apply / floor (XXH3 + pread + check)",
                         best_apply / (ceil_a + check_s), 1.25, true});
      targets.push_back({row + ": size / (1.05 x changed + index + meta)",
                         double(size) / (1.05 * double(changed) +
                                         double(index_meta)),
                         1.0, true});
      std::printf("| %.0f%% | v%d | %.3f | %.3f | %.2f | %.1fx | %.3f | %.3f "
                  "| %.2f | %.1fx | %.1f | %.1f |\n",
                  frac * 100, StyleNumber(style), delta_s, ceil_d,
                  delta_s / ceil_d, full_s / delta_s, best_apply, ceil_a,
                  best_apply / ceil_a, restore_s / best_apply,
                  double(size) / (1 << 20),
                  (1.05 * double(changed) + double(index_meta)) / (1 << 20));
      Rm(d);
    }
  }
  Rm(full);
  PrintTargets(targets);
  std::printf("(apply's speed-up over a full restore: the table's \"vs full "
              "restore\"; no target)\nwall time of this run: %.0f s\n",
              Now() - run_t0);
  return 0;
}

}  // namespace wk::wksp_checkpt

int main(int argc, char** argv) { return wk::wksp_checkpt::Main(argc, argv); }
