// Restore into a named workspace with 4 KiB pages, the way `wksp_ctl
// restore` meets it: a new process maps the region anew and would take a
// page fault per 4 KiB page it writes. The reference workload
// (bench/reference_workload.h, 3 GiB) lives in a named 4 KiB-page workspace
// in /dev/shm; each style's checkpoint goes to /dev/shm and is restored with
// every CPU's thread (wksp_ctl's default):
//   mode:0  into this process's own mapping, every page mapped already: the
//           in-process pre-faulted figure;
//   mode:1  into a mapping joined just before the restore (and left after),
//           as a new wksp_ctl process has: the restore populates what it
//           writes (wksp/checkpt/internal.h Prefault);
//   mode:2  `$WKSP_CTL -q restore NAME FILE -` run as a child, timed from
//           spawn to exit (skipped when WKSP_CTL is not set).
// Figures are GB/s of allocated bytes; "x_prefaulted" is the ratio to the
// same style's mode:0 row of the same run. "cpu_s" is the CPU time (user +
// system, every thread; the child's for mode:2) the restore took, and
// "x_prefaulted_cpu" the same ratio by CPU time: on a machine shared with
// other work, wall-clock ratios mostly measure the neighbours. mode:0 also reports
// "populate_ms": what populating every allocation of the pre-faulted mapping
// costs by itself (the work Prefault adds there).
//
// BENCH_QUICK=1 shrinks the workload to 256 MiB; WKSP_CTL_BENCH_BYTES=<size>
// sets it.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/bench_env.h"
#include "bench/reference_workload.h"
#include "benchmark/benchmark.h"
#include "io/populate.h"
#include "util/clock.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

extern char** environ;

namespace wk::bench {
namespace {

std::string Name() { return absl::StrFormat("wksp_ctl_bench_%d", getpid()); }

std::string PathFor(wksp_checkpt::Style style) {
  return absl::StrFormat("/dev/shm/wksp_ctl_bench.%d.v%d", getpid(),
                         wksp_checkpt::StyleNumber(style));
}

struct Setup {
  std::unique_ptr<wksp::Wksp> w;
  RefWorkload wl;
};

Setup& Get() {
  static Setup* s = [] {
    auto* s = new Setup;
    const uint64_t target =
        SizeFromEnv("WKSP_CTL_BENCH_BYTES", 3ull << 30, 256ull << 20);
    (void)wksp::Wksp::Delete(Name());
    auto w = wksp::Wksp::Create(Name(), kRefPartMax, RefDataMax(target));
    if (!w.ok()) {
      std::fprintf(stderr, "wksp_ctl_bench: %s\n",
                   std::string(w.status().message()).c_str());
      std::exit(1);
    }
    s->w = std::make_unique<wksp::Wksp>(std::move(*w));
    s->wl = FillRefWorkload(*s->w, target);
    return s;
  }();
  return *s;
}

size_t Threads() { return ThreadPool::HardwareConcurrency(); }

// The style's checkpoint, written now (untimed) unless it exists.
absl::Status EnsureCheckpt(wksp_checkpt::Style style) {
  const std::string path = PathFor(style);
  if (access(path.c_str(), F_OK) == 0) return absl::OkStatus();
  wksp_checkpt::CheckptOptions o;
  o.style = style;
  o.threads = Threads();
  return wksp_checkpt::Checkpt(*Get().w, path, o);
}

// Seconds of `$WKSP_CTL -q restore NAME PATH -`, or a negative number when
// it could not run or failed.
double RunWkspCtl(const char* ctl, const std::string& path) {
  const std::string name = Name();
  std::vector<std::string> args = {ctl, "-q", "restore", name, path, "-"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int64_t t0 = MonotonicNs();
  pid_t pid;
  if (posix_spawn(&pid, ctl, nullptr, nullptr, argv.data(), environ) != 0)
    return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  const double s = static_cast<double>(MonotonicNs() - t0) * 1e-9;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? s : -1;
}

// CPU seconds (user + system) used so far by this process's threads, or by
// its waited-for children.
double CpuSeconds(int who) {
  struct rusage ru;
  if (getrusage(who, &ru) != 0) return 0;
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// By style, from mode:0: bytes per second of wall time and of CPU time.
std::map<int64_t, double> prefaulted_bps, prefaulted_cpu_bps;

void BM_CtlRestore(benchmark::State& state) {
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  const int64_t mode = state.range(1);
  Setup& s = Get();
  const char* ctl = std::getenv("WKSP_CTL");
  if (mode == 2 && (ctl == nullptr || *ctl == '\0')) {
    state.SkipWithError("set WKSP_CTL to a wksp_ctl binary (-c opt)");
    return;
  }
  if (absl::Status st = EnsureCheckpt(style); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  const std::string path = PathFor(style);
  double seconds = 0, cpu = 0;
  const int who = mode == 2 ? RUSAGE_CHILDREN : RUSAGE_SELF;
  for (auto _ : state) {
    const double cpu0 = CpuSeconds(who);
    if (mode == 2) {
      const double t = RunWkspCtl(ctl, path);
      if (t < 0) {
        state.SkipWithError("wksp_ctl restore failed");
        return;
      }
      seconds += t;
      cpu += CpuSeconds(who) - cpu0;
      continue;
    }
    std::unique_ptr<wksp::Wksp> joined;
    if (mode == 1) {
      state.PauseTiming();
      auto j = wksp::Wksp::Join(Name());
      if (!j.ok()) {
        state.SkipWithError(std::string(j.status().message()).c_str());
        return;
      }
      joined = std::make_unique<wksp::Wksp>(std::move(*j));
      state.ResumeTiming();
    }
    wksp_checkpt::RestoreOptions o;
    o.threads = Threads();
    const int64_t t0 = MonotonicNs();
    absl::Status st =
        wksp_checkpt::Restore(joined ? *joined : *s.w, path, o);
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    cpu += CpuSeconds(who) - cpu0;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
  }
  const uint64_t bytes = s.wl.alloc_bytes;
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["threads"] = static_cast<double>(Threads());
  if (seconds <= 0) return;
  const double bps = static_cast<double>(bytes) *
                     static_cast<double>(state.iterations()) / seconds;
  const double cpu_bps = cpu > 0 ? static_cast<double>(bytes) *
                                       static_cast<double>(state.iterations()) /
                                       cpu
                                 : 0;
  state.counters["GBps"] = bps * 1e-9;
  state.counters["cpu_s"] = cpu;
  if (mode == 0) {
    prefaulted_bps[state.range(0)] = bps;
    prefaulted_cpu_bps[state.range(0)] = cpu_bps;
    // Populating what is mapped already, alone: a page-table walk.
    const int64_t t0 = MonotonicNs();
    for (const auto& p : s.wl.parts) {
      (void)io::Populate({s.w->laddr(p.lo), p.hi - p.lo},
                         io::PopulateFor::kWrite);
    }
    state.counters["populate_ms"] =
        static_cast<double>(MonotonicNs() - t0) * 1e-6;
  } else if (auto it = prefaulted_bps.find(state.range(0));
             it != prefaulted_bps.end()) {
    state.counters["x_prefaulted"] = bps / it->second;
    if (cpu_bps > 0) {
      state.counters["x_prefaulted_cpu"] =
          cpu_bps / prefaulted_cpu_bps[state.range(0)];
    }
  }
}

void BM_Cleanup(benchmark::State& state) {
  for (auto _ : state) {
    const auto style = wksp_checkpt::StyleFromNumber(state.range(0)).value();
    ::unlink(PathFor(style).c_str());
    // The index sidecar a sealed v2/v3 checkpoint writes beside its path.
    ::unlink((PathFor(style) + ".wkspidx").c_str());
  }
}

void Register() {
  using wksp_checkpt::Style;
  for (Style st : {Style::kV1, Style::kV2, Style::kV3}) {
    const int64_t style = wksp_checkpt::StyleNumber(st);
    for (int64_t mode : {0, 1, 2}) {
      benchmark::RegisterBenchmark("BM_CtlRestore", BM_CtlRestore)
          ->Args({style, mode})
          ->ArgNames({"style", "mode"})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    }
    benchmark::RegisterBenchmark("BM_CtlCleanup", BM_Cleanup)
        ->Arg(style)
        ->Iterations(1);
  }
}

}  // namespace
}  // namespace wk::bench

int main(int argc, char** argv) {
  // Like wksp_ctl, this benchmark honours WKSP_SHMEM_ROOT (the library does
  // not), so its named workspace and the tool's are the same one, e.g. on a
  // tmpfs mounted with huge=advise (docs/PERFORMANCE.md, "First touch").
  if (const char* root = std::getenv("WKSP_SHMEM_ROOT"); root && *root) {
    wk::wksp::SetShmemRoot(root);
  }
  wk::bench::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  using wk::wksp_checkpt::Style;
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    ::unlink(wk::bench::PathFor(style).c_str());
    ::unlink((wk::bench::PathFor(style) + ".wkspidx").c_str());
  }
  (void)wk::wksp::Wksp::Delete(wk::bench::Name());
  return 0;
}
