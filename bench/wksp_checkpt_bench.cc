// Workspace checkpoint and restore throughput on the reference workload
// (docs/PERFORMANCE.md): a 4 GiB data region with part_max 65536, filled
// with allocations of log-uniform size between 4 KiB and 4 MiB until about
// 3 GiB are allocated, every 4 KiB page half pseudo-random and half text (v3
// files come out at about half of v2). Checkpoints go to /dev/shm (or
// $WKSP_BENCH_DIR) and are
// restored from there into the same workspace, styles 1/2/3 with 1 and 2
// threads (more when the machine has them). Figures are GB/s of allocated
// bytes; "x_memcpy" is the ratio to memcpy of the same amount with the same
// thread count, measured in the same process, and on every restore from a
// file "x_pread" the ratio to pread from /dev/shm into pre-faulted memory in
// 1 MiB reads (bench/ceiling.h), same thread count, same process.
//
// BM_WkspRestoreNamed restores the same files into NAMED workspaces of the
// same geometry: 4 KiB pages in /dev/shm (page_kb:4) and 2 MiB pages in
// the first hugetlbfs mount with that page size (page_kb:2048; skipped,
// saying why, without one or without enough free reserved pages: see
// tools/hugepages.sh). fresh:0 restores into a mapping already faulted in by
// an untimed first restore, as the anonymous rows do; fresh:1 joins the
// workspace anew before each restore, so its page faults are timed, as in
// every `wksp_ctl restore`.
//
// Checkpoints are sealed (the default); the *Unsealed benchmarks write and
// restore Firedancer's exact layout in the same run, so the seals' cost is
// their ratio. BM_WkspVerify times checkpt-verify of the sealed files
// against XXH3-128 over the same number of bytes in memory ("x_xxh3").
//
// The pipe rows (BM_WkspCheckptPipe, BM_WkspRestorePipe) also report
// "x_pipe": checkpoint bytes per second over a plain pipe copy of as many.
//
// BENCH_QUICK=1 shrinks the workload to 256 MiB allocated, for CI-sized
// runs; WKSP_BENCH_BYTES=<size> (e.g. 1G) sets it explicitly.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_env.h"
#include "bench/ceiling.h"
#include "bench/reference_workload.h"
#include "benchmark/benchmark.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/populate.h"
#include "util/clock.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::bench {
namespace {

struct Workload {
  std::unique_ptr<wksp::Wksp> w;
  uint64_t alloc_bytes = 0;
  uint64_t alloc_cnt = 0;
};

Workload& Get() {
  static Workload* wl = [] {
    auto* wl = new Workload;
    // Allocated bytes (bench/reference_workload.h).
    const uint64_t target =
        SizeFromEnv("WKSP_BENCH_BYTES", 3ull << 30, 256ull << 20);
    auto w =
        wksp::Wksp::CreateAnonymous("bench", kRefPartMax, RefDataMax(target));
    if (!w.ok()) {
      std::fprintf(stderr, "wksp_checkpt_bench: %s\n",
                   std::string(w.status().message()).c_str());
      std::exit(1);
    }
    wl->w = std::make_unique<wksp::Wksp>(std::move(*w));
    const RefWorkload ref = FillRefWorkload(*wl->w, target);
    wl->alloc_bytes = ref.alloc_bytes;
    wl->alloc_cnt = ref.alloc_cnt;
    return wl;
  }();
  return *wl;
}

// Where the checkpoint files go: $WKSP_BENCH_DIR, default /dev/shm (e.g. a
// tmpfs mounted with huge=always, to see what 2 MiB page-cache folios
// change).
std::string FileDir() {
  const char* d = std::getenv("WKSP_BENCH_DIR");
  return d && *d ? d : "/dev/shm";
}

std::string PathFor(wksp_checkpt::Style style, bool sealed = true) {
  return absl::StrFormat("%s/wksp_checkpt_bench.%d.v%d%s", FileDir(), getpid(),
                         wksp_checkpt::StyleNumber(style), sealed ? "" : "u");
}

// `seconds`: the timed part of every iteration, summed. `from_file`: a
// restore from a file, also judged against the pread ceiling.
void Report(benchmark::State& state, uint64_t bytes, size_t threads,
            double seconds, bool from_file = false) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["alloc_cnt"] = static_cast<double>(Get().alloc_cnt);
  uint64_t ceiling_bytes = std::min<uint64_t>(bytes, 1ull << 30);
  double memcpy_bps = MemcpyBytesPerSecond(ceiling_bytes, threads);
  state.counters["memcpy_GBps"] = memcpy_bps * 1e-9;
  double pread_bps = 0;
  if (from_file) {
    pread_bps = PreadBytesPerSecond(ceiling_bytes, threads);
    state.counters["pread_GBps"] = pread_bps * 1e-9;
  }
  if (seconds > 0) {
    double bps = static_cast<double>(bytes) *
                 static_cast<double>(state.iterations()) / seconds;
    state.counters["GBps"] = bps * 1e-9;
    state.counters["x_memcpy"] = bps / memcpy_bps;
    if (pread_bps > 0) state.counters["x_pread"] = bps / pread_bps;
  }
}

// For a benchmark that moved `file_bytes` bytes of checkpoint (the file at
// `path`) through a pipe: "x_pipe", its rate of those bytes over a plain
// pipe copy of as many from memory, and "x_cat", over `cat path | cat
// >/dev/null` (bench/ceiling.h), both measured in the same process.
void ReportPipe(benchmark::State& state, const std::string& path,
                uint64_t file_bytes, double seconds) {
  const double pipe_bps =
      PipeCopyBytesPerSecond(std::min<uint64_t>(file_bytes, 1ull << 30));
  const double cat_bps = CatPipeBytesPerSecond(path);
  state.counters["pipe_GBps"] = pipe_bps * 1e-9;
  state.counters["cat_GBps"] = cat_bps * 1e-9;
  if (seconds > 0) {
    const double bps = static_cast<double>(file_bytes) *
                       static_cast<double>(state.iterations()) / seconds;
    if (pipe_bps > 0) state.counters["x_pipe"] = bps / pipe_bps;
    if (cat_bps > 0) state.counters["x_cat"] = bps / cat_bps;
  }
}

// For a v1/v2 checkpoint (file bytes = allocated bytes, RAW): "x_write",
// its ratio to writing as many bytes from memory into a new tmpfs file
// (bench/ceiling.h; the serial write is every thread count's ceiling, as
// writes into one file serialize), and, sealed, "x_floor", its ratio to the
// best a sealed checkpoint can do: with one thread the write plus XXH3-128
// over the bytes from memory, one after the other (1 / (1/write +
// 1/xxh3)); with more, the write alone (a thread hashes while another
// writes).
void ReportWriteFloor(benchmark::State& state, uint64_t bytes, size_t threads,
                      double seconds, bool sealed) {
  const uint64_t ceiling_bytes = std::min<uint64_t>(bytes, 1ull << 30);
  const double write_bps = FileWriteBytesPerSecond(ceiling_bytes);
  if (write_bps <= 0) return;
  const double bps = static_cast<double>(bytes) *
                     static_cast<double>(state.iterations()) / seconds;
  state.counters["write_GBps"] = write_bps * 1e-9;
  state.counters["x_write"] = bps / write_bps;
  if (!sealed) return;
  const double xxh3_bps = Xxh3BytesPerSecond(ceiling_bytes, 1);
  const double floor_bps =
      threads == 1 ? 1.0 / (1.0 / write_bps + 1.0 / xxh3_bps) : write_bps;
  state.counters["xxh3_GBps"] = xxh3_bps * 1e-9;
  state.counters["floor_GBps"] = floor_bps * 1e-9;
  state.counters["x_floor"] = bps / floor_bps;
}

void BM_Checkpt(benchmark::State& state, bool sealed) {
  // The argument is the style's number (the name says "style:N").
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  const size_t threads = static_cast<size_t>(state.range(1));
  Workload& wl = Get();
  const std::string path = PathFor(style, sealed);
  uint64_t file_sz = 0;
  double seconds = 0;
  static std::set<std::pair<wksp_checkpt::Style, size_t>> warm;
  if (warm.insert({style, threads}).second) {
    // Untimed warm-up, once: in a VM the first touch of guest memory by the
    // page cache costs several times a steady-state write.
    ::unlink(path.c_str());
    wksp_checkpt::CheckptOptions o;
    o.style = style;
    o.threads = threads;
    o.sealed = sealed;
    (void)wksp_checkpt::Checkpt(*wl.w, path, o);
  }
  for (auto _ : state) {
    state.PauseTiming();
    ::unlink(path.c_str());
    state.ResumeTiming();
    wksp_checkpt::CheckptOptions o;
    o.style = style;
    o.threads = threads;
    o.sealed = sealed;
    int64_t t0 = MonotonicNs();
    absl::Status st = wksp_checkpt::Checkpt(*wl.w, path, o);
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      break;
    }
    state.PauseTiming();
    struct stat sb;
    if (stat(path.c_str(), &sb) == 0)
      file_sz = static_cast<uint64_t>(sb.st_size);
    state.ResumeTiming();
  }
  state.counters["file_ratio"] =
      static_cast<double>(file_sz) / static_cast<double>(wl.alloc_bytes);
  Report(state, wl.alloc_bytes, threads, seconds);
  if (style != wksp_checkpt::Style::kV3 && seconds > 0) {
    ReportWriteFloor(state, wl.alloc_bytes, threads, seconds,
                     sealed && style != wksp_checkpt::Style::kV1);
  }
}

// What publishing durably costs (wksp_checkpt.h CheckptOptions::durable:
// fsync of the file and its directory before it gets its name): v2 with 2
// threads to /dev/shm (arg 0) or to a disk directory (arg 1,
// $WKSP_BENCH_DISK_DIR, default /var/tmp), without (0) and with (1) the
// fsyncs. The time includes the fsync, so "GBps" is what a caller waits for.
std::string DiskDir() {
  const char* d = std::getenv("WKSP_BENCH_DISK_DIR");
  return d && *d ? d : "/var/tmp";
}

void BM_CheckptDurable(benchmark::State& state) {
  const bool disk = state.range(0) != 0;
  const bool durable = state.range(1) != 0;
  constexpr size_t kThreads = 2;
  Workload& wl = Get();
  const std::string path =
      absl::StrFormat("%s/wksp_checkpt_bench.%d.durable",
                      disk ? DiskDir() : std::string("/dev/shm"), getpid());
  double seconds = 0;
  wksp_checkpt::CheckptOptions o;
  o.style = wksp_checkpt::Style::kV2;
  o.threads = kThreads;
  o.durable = durable;
  for (auto _ : state) {
    state.PauseTiming();
    ::unlink(path.c_str());
    // Start each run with no dirty pages of an earlier one in the way.
    ::sync();
    state.ResumeTiming();
    int64_t t0 = MonotonicNs();
    absl::Status st = wksp_checkpt::Checkpt(*wl.w, path, o);
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      break;
    }
  }
  ::unlink(path.c_str());
  Report(state, wl.alloc_bytes, kThreads, seconds);
}

// The style's checkpoint file, written now unless a checkpoint benchmark
// left it behind.
absl::Status EnsureCheckpt(wksp_checkpt::Style style, bool sealed = true) {
  const std::string path = PathFor(style, sealed);
  if (access(path.c_str(), F_OK) == 0) return absl::OkStatus();
  wksp_checkpt::CheckptOptions o;
  o.style = style;
  o.threads = 2;
  o.sealed = sealed;
  return wksp_checkpt::Checkpt(*Get().w, path, o);
}

void BM_Restore(benchmark::State& state, bool sealed) {
  // The argument is the style's number (the name says "style:N").
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  const size_t threads = static_cast<size_t>(state.range(1));
  Workload& wl = Get();
  const std::string path = PathFor(style, sealed);
  if (absl::Status st = EnsureCheckpt(style, sealed); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  double seconds = 0;
  for (auto _ : state) {
    wksp_checkpt::RestoreOptions o;
    o.threads = threads;
    int64_t t0 = MonotonicNs();
    absl::Status st = wksp_checkpt::Restore(*wl.w, path, o);
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      break;
    }
  }
  Report(state, wl.alloc_bytes, threads, seconds, true);
}

// A named workspace of the reference workload's geometry on `page_size`
// pages, made on first use and deleted at exit; the message says why not
// when this machine cannot provide it.
struct Named {
  std::string name;
  std::unique_ptr<wksp::Wksp> w;
  std::string why_not;
  bool warm = false;  // faulted in by an untimed restore
};

// Free reserved huge pages of this size (what a new mapping can get).
uint64_t FreeHugePages(wksp::PageSize ps) {
  std::ifstream in(
      absl::StrFormat("/sys/kernel/mm/hugepages/hugepages-%ukB/free_hugepages",
                      static_cast<unsigned>(static_cast<uint64_t>(ps) >> 10)));
  uint64_t n = 0;
  in >> n;
  return n;
}

std::map<wksp::PageSize, Named>& NamedWorkspaces() {
  static auto* m = new std::map<wksp::PageSize, Named>;
  return *m;
}

Named& GetNamed(wksp::PageSize ps) {
  Named& n = NamedWorkspaces()[ps];
  if (n.w || !n.why_not.empty()) return n;
  const wksp::Wksp& anon = *Get().w;
  n.name = absl::StrFormat("wksp_checkpt_bench.%d.%s", getpid(),
                           wksp::PageSizeName(ps));
  if (ps != wksp::PageSize::kNormal) {
    absl::StatusOr<std::string> dir = wksp::ShmemDir(ps);
    if (!dir.ok()) {
      n.why_not = absl::StrFormat(
          "%s pages: %s (tools/hugepages.sh shows how to reserve and mount "
          "them)",
          wksp::PageSizeName(ps), dir.status().message());
      return n;
    }
    const uint64_t page = static_cast<uint64_t>(ps);
    const uint64_t need =
        (*wksp::Wksp::Footprint(anon.part_max(), anon.data_max()) + page - 1) /
        page;
    if (const uint64_t free = FreeHugePages(ps); free < need) {
      n.why_not = absl::StrFormat(
          "%s pages: %u free reserved pages, %u needed (reserve them as in "
          "tools/hugepages.sh, e.g. WKSP_CI_HUGE_PAGES=%u)",
          wksp::PageSizeName(ps), free, need, need);
      return n;
    }
  }
  (void)wksp::Wksp::Delete(n.name);  // left by a crashed run with our pid
  auto w = wksp::Wksp::Create(n.name, anon.part_max(), anon.data_max(),
                              {.page_size = ps});
  if (!w.ok()) {
    n.why_not = absl::StrFormat("%s pages: %s", wksp::PageSizeName(ps),
                                w.status().message());
    return n;
  }
  n.w = std::make_unique<wksp::Wksp>(std::move(*w));
  return n;
}

void DeleteNamedWorkspaces() {
  for (auto& [ps, n] : NamedWorkspaces()) {
    if (!n.w) continue;
    n.w.reset();
    (void)wksp::Wksp::Delete(n.name);
  }
}

void BM_RestoreNamed(benchmark::State& state) {
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  const size_t threads = static_cast<size_t>(state.range(1));
  const auto ps = static_cast<wksp::PageSize>(state.range(2) << 10);
  const bool fresh = state.range(3) != 0;
  Workload& wl = Get();
  const std::string path = PathFor(style);
  if (absl::Status st = EnsureCheckpt(style); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  Named& n = GetNamed(ps);
  if (!n.w) {
    state.SkipWithError(n.why_not.c_str());
    return;
  }
  wksp_checkpt::RestoreOptions o;
  o.threads = threads;
  if (!n.warm) {
    // Untimed: the first touch of tmpfs or hugetlbfs pages allocates them.
    if (absl::Status st = wksp_checkpt::Restore(*n.w, path, o); !st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
    n.warm = true;
  }
  double seconds = 0;
  for (auto _ : state) {
    if (fresh) {
      // A new mapping, as a new process would have: no page mapped yet.
      state.PauseTiming();
      n.w.reset();
      auto w = wksp::Wksp::Join(n.name);
      if (!w.ok()) {
        state.SkipWithError(std::string(w.status().message()).c_str());
        break;
      }
      n.w = std::make_unique<wksp::Wksp>(std::move(*w));
      state.ResumeTiming();
    }
    int64_t t0 = MonotonicNs();
    absl::Status st = wksp_checkpt::Restore(*n.w, path, o);
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      break;
    }
  }
  Report(state, wl.alloc_bytes, threads, seconds, true);
}

// Restore from a pipe (single pass), fed by a thread that writes the file
// into it as fast as it can: what `cat file | wksp_ctl restore` sees.
void BM_RestorePipe(benchmark::State& state) {
  // The argument is the style's number (the name says "style:N").
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  Workload& wl = Get();
  const std::string path = PathFor(style);
  if (absl::Status st = EnsureCheckpt(style); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  auto file = io::MapFileReadOnly(path);
  if (!file.ok()) {
    state.SkipWithError(std::string(file.status().message()).c_str());
    return;
  }
  double seconds = 0;
  for (auto _ : state) {
    int p[2];
    if (pipe(p) != 0) {
      state.SkipWithError("pipe");
      break;
    }
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    int64_t t0 = MonotonicNs();
    std::thread feeder([&] {
      (void)io::WriteExact(p[1], file->data(), file->size());
      close(p[1]);
    });
    absl::Status st = wksp_checkpt::RestoreFd(*wl.w, p[0], {});
    close(p[0]);
    feeder.join();
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      break;
    }
  }
  Report(state, wl.alloc_bytes, 1, seconds);
  ReportPipe(state, path, file->size(), seconds);
}

// Checkpoint into a pipe (sequential output), drained by a thread reading
// 1 MiB at a time: what `wksp_ctl checkpt w - | cat >/dev/null` sees.
void BM_CheckptPipe(benchmark::State& state) {
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  const size_t threads = static_cast<size_t>(state.range(1));
  Workload& wl = Get();
  double seconds = 0;
  uint64_t file_sz = 0;
  for (auto _ : state) {
    int p[2];
    if (pipe(p) != 0) {
      state.SkipWithError("pipe");
      break;
    }
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    int64_t t0 = MonotonicNs();
    uint64_t drained = 0;
    std::thread drain([&] {
      auto buf = std::make_unique_for_overwrite<uint8_t[]>(1 << 20);
      for (;;) {
        auto n = io::ReadAtLeast(p[0], buf.get(), 0, 1 << 20);
        if (!n.ok() || *n == 0) break;
        drained += *n;
      }
    });
    wksp_checkpt::CheckptOptions o;
    o.style = style;
    o.threads = threads;
    absl::Status st = wksp_checkpt::CheckptFd(*wl.w, p[1], o);
    close(p[1]);
    drain.join();
    close(p[0]);
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      break;
    }
    file_sz = drained;
  }
  Report(state, wl.alloc_bytes, threads, seconds);
  // The cat ceiling reads the style's checkpoint file (untimed if made here).
  if (absl::Status st = EnsureCheckpt(style); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  ReportPipe(state, PathFor(style), file_sz, seconds);
}

// checkpt-verify of the sealed file (hashing every frame as stored, no
// decoding), judged against XXH3-128 over as many bytes in memory with the
// same thread count.
void BM_Verify(benchmark::State& state) {
  const wksp_checkpt::Style style =
      wksp_checkpt::StyleFromNumber(state.range(0)).value();
  const size_t threads = static_cast<size_t>(state.range(1));
  const std::string path = PathFor(style);
  if (absl::Status st = EnsureCheckpt(style); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  double seconds = 0;
  uint64_t file_bytes = 0;
  for (auto _ : state) {
    int64_t t0 = MonotonicNs();
    auto rep = wksp_checkpt::VerifyCheckpt(path, {.threads = threads});
    seconds += static_cast<double>(MonotonicNs() - t0) * 1e-9;
    if (!rep.ok()) {
      state.SkipWithError(std::string(rep.status().message()).c_str());
      break;
    }
    file_bytes = rep->file_bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(file_bytes) *
                          state.iterations());
  const double xxh3 =
      Xxh3BytesPerSecond(std::min<uint64_t>(file_bytes, 1ull << 30), threads);
  state.counters["xxh3_GBps"] = xxh3 * 1e-9;
  if (seconds > 0) {
    const double bps = static_cast<double>(file_bytes) *
                       static_cast<double>(state.iterations()) / seconds;
    state.counters["GBps"] = bps * 1e-9;
    state.counters["x_xxh3"] = bps / xxh3;
  }
}

// The first-touch ceiling: one write of every byte of memory whose pages
// are populated already, through a mapping made fresh before each
// iteration, as in every new process that joins a workspace. named:1 maps a
// file whose pages exist (page_kb:4 in /dev/shm, page_kb:2048 in the
// hugetlbfs mount: skipped, saying why, without one); named:0 maps private
// anonymous memory (page_kb:2048: transparent huge pages by MADV_HUGEPAGE,
// skipped where the kernel gives none). Either way the mapping is populated
// with MADV_POPULATE_WRITE (untimed; Prefault does the same), then one
// memset is timed ("GBps"), then a second one ("second_GBps"); "x_second"
// is their ratio: 1 where a first touch costs nothing more. On the
// development VM each first user write to a 4 KiB page traps to the
// hypervisor (docs/PERFORMANCE.md, "First touch"), 2 MiB pages once per
// 512 of them.
bool ThpEnabled() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  return line.find("[always]") != std::string::npos ||
         line.find("[madvise]") != std::string::npos;
}

void BM_FirstTouch(benchmark::State& state) {
  const bool named = state.range(0) != 0;
  const uint64_t page = static_cast<uint64_t>(state.range(1)) << 10;
  constexpr uint64_t kHuge = uint64_t{2} << 20;
  const uint64_t bytes =
      (std::min<uint64_t>(Get().alloc_bytes, 1ull << 30) + kHuge - 1) / kHuge *
      kHuge;
  std::string path;
  if (named) {
    std::string dir = "/dev/shm";
    if (page != 4096) {
      absl::StatusOr<std::string> d = wksp::ShmemDir(wksp::PageSize::kHuge);
      if (!d.ok()) {
        state.SkipWithError(absl::StrFormat("2 MiB pages: %s (see "
                                            "tools/hugepages.sh)",
                                            d.status().message())
                                .c_str());
        return;
      }
      if (FreeHugePages(wksp::PageSize::kHuge) < bytes / kHuge) {
        state.SkipWithError("2 MiB pages: too few free reserved pages");
        return;
      }
      dir = *d;
    }
    path = absl::StrFormat("%s/wksp_checkpt_bench.%d.touch", dir, getpid());
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      if (fd >= 0) ::close(fd);
      ::unlink(path.c_str());
      state.SkipWithError(absl::StrFormat("cannot make %s", path).c_str());
      return;
    }
    ::close(fd);
  } else if (page != 4096 && !ThpEnabled()) {
    state.SkipWithError(
        "2 MiB pages: transparent huge pages are off "
        "(/sys/kernel/mm/transparent_hugepage/enabled)");
    return;
  }
  double first = 0, second = 0;
  bool populated_file = false;
  for (auto _ : state) {
    state.PauseTiming();
    absl::StatusOr<io::Mapping> m =
        named ? io::MapFileReadWrite(path) : io::MapAnonymousPrivate(bytes);
    if (!m.ok()) {
      state.SkipWithError(std::string(m.status().message()).c_str());
      break;
    }
    if (!named && page != 4096) (void)m->Advise(io::Advice::kHugePage);
    std::span<uint8_t> span = m->mutable_span();
    if (named && !populated_file) {
      std::memset(span.data(), 1, span.size());  // the pages exist from now
      *m = io::Mapping();                        // and a fresh mapping next
      m = io::MapFileReadWrite(path);
      if (!m.ok()) {
        state.SkipWithError(std::string(m.status().message()).c_str());
        break;
      }
      span = m->mutable_span();
      populated_file = true;
    }
    (void)io::Populate(span, io::PopulateFor::kWrite);
    state.ResumeTiming();
    int64_t t0 = MonotonicNs();
    std::memset(span.data(), 2, span.size());
    int64_t t1 = MonotonicNs();
    std::memset(span.data(), 3, span.size());
    int64_t t2 = MonotonicNs();
    benchmark::DoNotOptimize(span.data());
    first += static_cast<double>(t1 - t0) * 1e-9;
    second += static_cast<double>(t2 - t1) * 1e-9;
  }
  if (!path.empty()) ::unlink(path.c_str());
  const double n = static_cast<double>(bytes * state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(n));
  if (first > 0 && second > 0) {
    state.counters["GBps"] = n / first * 1e-9;
    state.counters["second_GBps"] = n / second * 1e-9;
    state.counters["x_second"] = second / first;
    state.counters["first_touch_us_per_4k"] =
        (first - second) * 1e6 / (n / 4096);
  }
}

// Removes the style's files once its benchmarks are done (files of a full
// run are several GiB each).
void BM_Cleanup(benchmark::State& state) {
  for (auto _ : state) {
    const auto style = wksp_checkpt::StyleFromNumber(state.range(0)).value();
    ::unlink(PathFor(style, true).c_str());
    ::unlink(PathFor(style, false).c_str());
  }
}

void Register() {
  size_t cores = ThreadPool::HardwareConcurrency();
  std::vector<int64_t> threads = {1, 2};
  for (int64_t t = 4; t <= static_cast<int64_t>(cores); t *= 2)
    threads.push_back(t);
  using wksp_checkpt::Style;
  for (Style s : {Style::kV1, Style::kV2, Style::kV3}) {
    const int64_t style = wksp_checkpt::StyleNumber(s);
    // Sealed (the default: the names of earlier runs) and, for v2/v3,
    // unsealed, one after the other so their ratio is the seals' cost.
    for (bool sealed : {true, false}) {
      if (!sealed && s == Style::kV1) continue;  // v1 has no seals
      const char* suffix = sealed ? "" : "Unsealed";
      for (int64_t t : threads) {
        if (s == Style::kV1 && t > 1) continue;  // v1 is serial
        benchmark::RegisterBenchmark(
            absl::StrCat("BM_WkspCheckpt", suffix).c_str(),
            [sealed](benchmark::State& st) { BM_Checkpt(st, sealed); })
            ->Args({style, t})
            ->ArgNames({"style", "threads"})
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(1);
      }
      for (int64_t t : threads) {
        if (s == Style::kV1 && t > 1) continue;
        benchmark::RegisterBenchmark(
            absl::StrCat("BM_WkspRestore", suffix).c_str(),
            [sealed](benchmark::State& st) { BM_Restore(st, sealed); })
            ->Args({style, t})
            ->ArgNames({"style", "threads"})
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(1);
      }
    }
    if (s != Style::kV1) {
      for (int64_t page_kb : {4, 2048}) {
        for (int64_t fresh : {0, 1}) {
          for (int64_t t : threads) {
            benchmark::RegisterBenchmark("BM_WkspRestoreNamed", BM_RestoreNamed)
                ->Args({style, t, page_kb, fresh})
                ->ArgNames({"style", "threads", "page_kb", "fresh"})
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime()
                ->Iterations(1);
          }
        }
      }
      for (int64_t t : threads) {
        benchmark::RegisterBenchmark("BM_WkspVerify", BM_Verify)
            ->Args({style, t})
            ->ArgNames({"style", "threads"})
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(1);
      }
    }
    for (int64_t t : threads) {
      if (s == Style::kV1 && t > 1) continue;
      benchmark::RegisterBenchmark("BM_WkspCheckptPipe", BM_CheckptPipe)
          ->Args({style, t})
          ->ArgNames({"style", "threads"})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    }
    benchmark::RegisterBenchmark("BM_WkspRestorePipe", BM_RestorePipe)
        ->Arg(style)
        ->ArgNames({"style"})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1);
    benchmark::RegisterBenchmark("BM_WkspCleanup", BM_Cleanup)
        ->Arg(style)
        ->Iterations(1);
  }
  for (int64_t named : {1, 0}) {
    for (int64_t page_kb : {4, 2048}) {
      benchmark::RegisterBenchmark("BM_FirstTouch", BM_FirstTouch)
          ->Args({named, page_kb})
          ->ArgNames({"named", "page_kb"})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    }
  }
  for (int64_t disk : {0, 1}) {
    for (int64_t durable : {0, 1}) {
      benchmark::RegisterBenchmark("BM_WkspCheckptDurable", BM_CheckptDurable)
          ->Args({disk, durable})
          ->ArgNames({"disk", "durable"})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    }
  }
}

}  // namespace
}  // namespace wk::bench

int main(int argc, char** argv) {
  wk::bench::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  wk::bench::DeleteNamedWorkspaces();
  using wk::wksp_checkpt::Style;
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    ::unlink(wk::bench::PathFor(style, true).c_str());
    ::unlink(wk::bench::PathFor(style, false).c_str());
  }
  return 0;
}
