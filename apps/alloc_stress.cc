// alloc_stress: allocation stress tester for workspaces, in the pipeline
// shape where the free matching an allocation happens on another thread or
// in another process (allocate on the source, free on the sink).
//
// Pairs of producer and consumer share a lock-free queue (ring.h) that lives
// in the workspace itself. Producers allocate random sizes, alignments and
// tags and fill each allocation with a pattern derived from its gaddr, size
// and tag; consumers check the pattern and free. With --procs P the pairs
// run in P forked processes that each Join the named workspace: the producer
// of queue (p, t) is thread t of process p and its consumer thread t of
// process (p+1) % P. --kill SIGKILLs one worker process mid-run (with
// --kill=lock, while it holds the workspace lock) and checks that the pairs
// not involving it keep making progress. A worker process killed from
// outside is noticed by its pid (each process's pid is in the control
// block): its peers stop waiting for it, and the run ends with a failure
// naming it, after reclaiming what it held.
//
// At the end the workspace must verify and its usage must be what it was
// before the run (after a kill, the victim's in-flight allocations are
// reclaimed by tag first and reported). Prints operations per second and
// latency percentiles of alloc and free. Exit status 0 clean, 1 a check
// failed, 2 usage error. Options: alloc_stress --help.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "apps/parse.h"
#include "apps/ring.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/status.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::apps {
namespace {

constexpr char kUsage[] = R"USAGE(usage: alloc_stress [options]
  --duration S      seconds to run (default 2; fractions allowed)
  --ops N           allocations per producer instead of a duration
  --min-size B      smallest allocation (default 1)
  --max-size B      largest allocation (default 4K; sizes take K/M/G suffixes)
  --max-align B     largest alignment, a power of two (default 256)
  --threads T       producer/consumer pairs per process (default 2)
  --procs P         worker processes (default 0: the pairs are threads of
                    this process); with P >= 1 each process runs T producers
                    and T consumers, consumers freeing the previous
                    process's allocations
  --seed N          random seed (default 1)
  --kill[=MODE]     SIGKILL one worker process mid-run (needs --procs >= 3);
                    MODE lock: while it holds the workspace lock, any: at a
                    random moment, random (default): either, by the seed
  --wksp-size B     workspace data size (default 64M)
)USAGE";

constexpr uint64_t kCtlTag = 1;      // the control block and the queues
constexpr uint64_t kTagBase = 1000;  // allocations: kTagBase + [0, kTags)
constexpr uint64_t kTags = 8;
constexpr uint64_t kRingCap = 256;
constexpr int kMaxProcs = 64;
constexpr int kMaxRings = 256;
constexpr int kBuckets = 256;  // log2 with 4 sub-buckets per power of two

struct Options {
  double duration = 2;
  uint64_t ops = 0;
  uint64_t min_sz = 1, max_sz = 4096, max_align = 256;
  int threads = 2, procs = 0;
  uint64_t seed = 1;
  enum Kill { kNone, kAny, kLock, kRandom } kill = kNone;
  uint64_t data_max = 64 << 20;
};

// Per queue, in the workspace. Counters are written by one worker and read
// by the parent, through atomic_ref.
struct RingStats {
  uint64_t ring_gaddr;
  uint64_t producer_done;
  uint64_t allocs, frees, alloc_full;
  uint64_t alloc_hist[kBuckets], free_hist[kBuckets];
};

struct Control {
  uint64_t stop;
  uint64_t errors;
  uint64_t dead[kMaxProcs];  // marked by the parent after its own --kill
  uint64_t pid[kMaxProcs];   // each worker process's pid (0: not started)
  uint64_t hold_lock[kMaxProcs];  // parent asks, the victim answers 2
  RingStats ring[kMaxRings];
};

uint64_t Load(const uint64_t& x) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(x))
      .load(std::memory_order_acquire);
}
void Store(uint64_t& x, uint64_t v) {
  std::atomic_ref<uint64_t>(x).store(v, std::memory_order_release);
}
void Bump(uint64_t& x) {  // single writer
  std::atomic_ref<uint64_t>(x).store(x + 1, std::memory_order_relaxed);
}

int Bucket(uint64_t ns) {
  if (ns < 4) return static_cast<int>(ns);
  int msb = 63 - std::countl_zero(ns);
  int sub = static_cast<int>((ns >> (msb - 2)) & 3);
  return std::min(kBuckets - 1, msb * 4 + sub);
}
uint64_t BucketLow(int b) {
  if (b < 4) return static_cast<uint64_t>(b);
  int msb = b / 4, sub = b % 4;
  return (uint64_t{4} | static_cast<uint64_t>(sub)) << (msb - 2);
}

// Pattern byte j of an allocation: depends on gaddr, size and tag, so a
// block handed out twice or moved is caught.
uint64_t PatternKey(uint64_t gaddr, uint64_t sz, uint64_t tag) {
  return HashU64(gaddr ^ (sz << 20) ^ (tag << 52));
}
uint8_t PatternByte(uint64_t key, uint64_t j) {
  return static_cast<uint8_t>((key >> (8 * (j & 7))) ^ (j >> 3));
}

struct Layout {  // which worker is where
  int procs;     // processes (1 when the pairs are threads of this one)
  int threads;
  int rings() const { return procs * threads; }
  int producer_proc(int r) const { return r / threads; }
  int consumer_proc(int r) const { return (r / threads + 1) % procs; }
};

struct Worker {
  wksp::Wksp* w;
  Control* ctl;
  const Options* opt;
  Layout lay;
};

// Whether process `pid` is gone: no such process, or a zombie (killed, not
// yet reaped by the parent, so kill(pid, 0) still finds it).
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  char path[48];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return errno == ENOENT;
  char buf[512] = {};
  const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close = std::strrchr(buf, ')');
  return close != nullptr && close[1] == ' ' &&
         (close[2] == 'Z' || close[2] == 'X');
}

// Whether worker process `peer` is dead: marked by the parent's --kill, or
// found dead by its pid (a SIGKILL from outside marks nothing). A waiting
// worker asks often; the pid is looked at every 10 ms at most.
class PeerWatch {
 public:
  PeerWatch(const Control* ctl, int peer) : ctl_(ctl), peer_(peer) {}
  bool Dead() {
    if (dead_) return true;
    if (Load(ctl_->dead[peer_]) != 0) return dead_ = true;
    const int64_t now = MonotonicNs();
    if (now < next_look_) return false;
    next_look_ = now + 10'000'000;
    const uint64_t pid = Load(ctl_->pid[peer_]);
    return dead_ = pid != 0 && ProcessGone(static_cast<pid_t>(pid));
  }

 private:
  const Control* ctl_;
  int peer_;
  bool dead_ = false;
  int64_t next_look_ = 0;
};

void Error(Control* ctl, const std::string& what) {
  absl::FPrintF(stderr, "alloc_stress: %s\n", what);
  std::atomic_ref<uint64_t>(ctl->errors).fetch_add(1);
}

void Produce(const Worker& k, int r) {
  RingStats& st = k.ctl->ring[r];
  Ring ring = Ring::Attach(k.w->laddr(st.ring_gaddr));
  std::mt19937_64 rng(k.opt->seed * 0x9E3779B97F4A7C15ULL +
                      static_cast<uint64_t>(r));
  std::uniform_int_distribution<uint64_t> size(k.opt->min_sz, k.opt->max_sz);
  int align_bits = std::countr_zero(k.opt->max_align);
  PeerWatch peer(k.ctl, k.lay.consumer_proc(r));
  for (uint64_t n = 0; k.opt->ops == 0 || n < k.opt->ops; ++n) {
    if (Load(k.ctl->stop) || peer.Dead()) break;
    uint64_t sz = size(rng);
    uint64_t align = uint64_t{1}
                     << (rng() % static_cast<uint64_t>(align_bits + 1));
    uint64_t tag = kTagBase + rng() % kTags;
    int64_t t0 = MonotonicNs();
    absl::StatusOr<uint64_t> g = k.w->Alloc(align, sz, tag);
    int64_t t1 = MonotonicNs();
    if (!g.ok()) {
      if (absl::IsResourceExhausted(g.status())) {  // consumers are behind
        Bump(st.alloc_full);
        std::this_thread::yield();
        --n;
        continue;
      }
      Error(k.ctl, absl::StrFormat("alloc(%u, %u): %s", align, sz,
                                   g.status().message()));
      break;
    }
    Bump(st.alloc_hist[Bucket(static_cast<uint64_t>(t1 - t0))]);
    if (*g % align)
      Error(k.ctl, absl::StrFormat("gaddr %u not aligned to %u", *g, align));
    uint8_t* p = k.w->laddr(*g);
    uint64_t key = PatternKey(*g, sz, tag);
    for (uint64_t j = 0; j < sz; ++j) p[j] = PatternByte(key, j);
    Bump(st.allocs);
    bool pushed = false;
    while (!(pushed = ring.Push({*g, (sz << 16) | (tag - kTagBase)}))) {
      if (peer.Dead()) break;
      std::this_thread::yield();
    }
    if (!pushed) {  // nobody will free it: do it here
      (void)k.w->Free(*g);
      break;
    }
  }
  Store(st.producer_done, 1);
}

void Consume(const Worker& k, int r) {
  RingStats& st = k.ctl->ring[r];
  Ring ring = Ring::Attach(k.w->laddr(st.ring_gaddr));
  PeerWatch peer(k.ctl, k.lay.producer_proc(r));
  for (;;) {
    Ring::Item it;
    if (!ring.Pop(&it)) {
      if (Load(st.producer_done) || peer.Dead()) {
        if (!ring.Pop(&it)) break;  // drained
      } else {
        std::this_thread::yield();
        continue;
      }
    }
    uint64_t gaddr = it.a, sz = it.b >> 16, tag = kTagBase + (it.b & 0xFFFF);
    const uint8_t* p = k.w->laddr(gaddr);
    if (!p || !k.w->laddr(gaddr + sz)) {
      Error(k.ctl, absl::StrFormat("queue %d: bad gaddr %u", r, gaddr));
      continue;
    }
    uint64_t key = PatternKey(gaddr, sz, tag);
    for (uint64_t j = 0; j < sz; ++j) {
      if (p[j] != PatternByte(key, j)) {
        Error(k.ctl, absl::StrFormat(
                         "queue %d: allocation %u (sz %u tag %u) byte %u is "
                         "%u, want %u",
                         r, gaddr, sz, tag, j, p[j], PatternByte(key, j)));
        break;
      }
    }
    int64_t t0 = MonotonicNs();
    absl::Status fs = k.w->Free(gaddr);
    int64_t t1 = MonotonicNs();
    if (!fs.ok()) {
      Error(k.ctl, absl::StrFormat("free %u: %s", gaddr, fs.message()));
      continue;
    }
    Bump(st.free_hist[Bucket(static_cast<uint64_t>(t1 - t0))]);
    Bump(st.frees);
  }
}

// The workers of process `proc` (all of them when lay.procs == 1 and this is
// the only process).
void RunWorkers(const Worker& k, int proc) {
  std::vector<std::thread> ts;
  for (int r = 0; r < k.lay.rings(); ++r) {
    if (k.lay.producer_proc(r) == proc) ts.emplace_back(Produce, k, r);
    if (k.lay.consumer_proc(r) == proc) ts.emplace_back(Consume, k, r);
  }
  for (auto& t : ts) t.join();
}

[[noreturn]] void ChildMain(const std::string& name, uint64_t ctl_gaddr,
                            const Options& opt, Layout lay, int proc) {
  absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join(name);
  if (!w.ok()) {
    absl::FPrintF(stderr, "alloc_stress: process %d: join: %s\n", proc,
                  w.status().message());
    _exit(1);
  }
  auto* ctl = reinterpret_cast<Control*>(w->laddr(ctl_gaddr));
  Store(ctl->pid[proc], static_cast<uint64_t>(getpid()));
  Worker k{&*w, ctl, &opt, lay};
  std::thread workers(RunWorkers, k, proc);
  // Serve the parent's "hold the lock" request: take it and wait for death.
  std::thread holder([&] {
    while (!Load(ctl->stop)) {
      if (Load(ctl->hold_lock[proc]) == 1) {
        absl::StatusOr<wksp::LockGuard> g = w->Lock();
        if (g.ok()) {
          Store(ctl->hold_lock[proc], 2);
          for (;;) pause();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  workers.join();
  holder.join();
  _exit(0);
}

void SleepUntil(int64_t deadline_ns) {
  int64_t now = MonotonicNs();
  if (deadline_ns > now) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(deadline_ns - now));
  }
}

uint64_t Percentile(const std::vector<uint64_t>& hist, double q) {
  uint64_t total = 0;
  for (uint64_t c : hist) total += c;
  if (!total) return 0;
  auto want = static_cast<uint64_t>(q * static_cast<double>(total));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += hist[static_cast<size_t>(b)];
    if (seen > want) return BucketLow(b);
  }
  return BucketLow(kBuckets - 1);
}

bool SameUsage(const wksp::Usage& a, const wksp::Usage& b) {
  return a.total_cnt == b.total_cnt && a.used_cnt == b.used_cnt &&
         a.used_sz == b.used_sz && a.free_cnt == b.free_cnt &&
         a.free_sz == b.free_sz && a.largest_free == b.largest_free;
}
std::string UsageStr(const wksp::Usage& u) {
  return absl::StrFormat(
      "%u partitions (%u used, %u bytes; %u free, %u bytes, largest %u)",
      u.total_cnt, u.used_cnt, u.used_sz, u.free_cnt, u.free_sz,
      u.largest_free);
}

// Records failed checks; the run's exit status is 1 after any.
struct Verdict {
  int rc = 0;
  void Fail(const std::string& what) {
    absl::FPrintF(stderr, "alloc_stress: FAIL: %s\n", what);
    rc = 1;
  }
};

// The run's workspace, with its control block and queues; deleted when the
// run ends.
struct Arena {
  std::string name;
  std::optional<wksp::Wksp> w;
  uint64_t ctl_gaddr = 0;
  Control* ctl = nullptr;
  wksp::Usage initial;  // before any worker ran
  ~Arena() {
    if (w) (void)wksp::Wksp::Delete(name);
  }
};

absl::Status MakeArena(const Options& opt, const Layout& lay, Arena& a) {
  a.name = absl::StrFormat("alloc_stress.%d", getpid());
  // Slots: every queued and in-flight allocation needs up to two (its own
  // and a free gap), plus the control block and queues.
  uint64_t part_max =
      4 * static_cast<uint64_t>(lay.rings()) * (kRingCap + 4) + 64;
  absl::StatusOr<wksp::Wksp> created =
      wksp::Wksp::Create(a.name, part_max, opt.data_max);
  if (!created.ok()) {
    return Annotate(created.status(), absl::StrFormat("create %s", a.name));
  }
  a.w = std::move(*created);
  WK_ASSIGN_OR_RETURN(a.ctl_gaddr, a.w->Alloc(64, sizeof(Control), kCtlTag));
  a.ctl = reinterpret_cast<Control*>(a.w->laddr(a.ctl_gaddr));
  std::memset(a.ctl, 0, sizeof(Control));
  for (int r = 0; r < lay.rings(); ++r) {
    WK_ASSIGN_OR_RETURN(uint64_t g,
                        a.w->Alloc(64, Ring::Footprint(kRingCap), kCtlTag));
    Ring::Format(a.w->laddr(g), kRingCap);
    a.ctl->ring[r].ring_gaddr = g;
  }
  WK_ASSIGN_OR_RETURN(a.initial, a.w->GetUsage());
  return absl::OkStatus();
}

// Allocations made so far by the pairs that do not involve `victim`.
uint64_t SurvivorAllocs(const Control& ctl, const Layout& lay, int victim) {
  uint64_t n = 0;
  for (int r = 0; r < lay.rings(); ++r) {
    if (lay.producer_proc(r) != victim && lay.consumer_proc(r) != victim) {
      n += Load(ctl.ring[r].allocs);
    }
  }
  return n;
}

// SIGKILLs one worker process between 20% and 40% into the run, if asked
// for, inside the workspace lock with --kill=lock. Returns its index (-1:
// none).
int KillOne(const Options& opt, Arena& a, const std::vector<pid_t>& pids,
            int64_t start, int64_t dur_ns, std::mt19937_64& rng, Verdict& v) {
  SleepUntil(start +
             static_cast<int64_t>(
                 static_cast<double>(dur_ns) *
                 std::uniform_real_distribution<double>(0.2, 0.4)(rng)));
  int victim = static_cast<int>(rng() % static_cast<uint64_t>(opt.procs));
  bool in_lock =
      opt.kill == Options::kLock || (opt.kill == Options::kRandom && rng() % 2);
  bool held = false;
  if (in_lock) {
    Store(a.ctl->hold_lock[victim], 1);
    int64_t give_up = MonotonicNs() + 2'000'000'000;
    while (Load(a.ctl->hold_lock[victim]) != 2 && MonotonicNs() < give_up) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    held = Load(a.ctl->hold_lock[victim]) == 2;
    if (!held) v.Fail("the victim did not take the lock within 2 s");
  }
  pid_t pid = pids[static_cast<size_t>(victim)];
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  Store(a.ctl->dead[victim], 1);
  absl::FPrintF(stderr, "alloc_stress: killed worker process %d (pid %d)%s\n",
                victim, pid, held ? " while it held the workspace lock" : "");
  return victim;
}

// The end state: recover from a dead lock owner, reclaim what a killed
// process held (only after a kill), then the workspace must verify and its
// usage must be as before.
void CheckEndState(Arena& a, bool after_kill, Verdict& v) {
  wksp::Wksp& w = *a.w;
  if (absl::Status s = w.Check(); !s.ok())
    v.Fail(absl::StrFormat("check: %s", s.message()));
  std::vector<uint64_t> tags;
  for (uint64_t t = 0; t < kTags; ++t) tags.push_back(kTagBase + t);
  if (after_kill) {
    absl::StatusOr<uint64_t> n = w.TagFree(tags);
    if (!n.ok()) {
      v.Fail(absl::StrFormat("tag-free: %s", n.status().message()));
    } else {
      absl::FPrintF(stderr,
                    "alloc_stress: reclaimed %u allocations the killed "
                    "process left behind\n",
                    *n);
    }
  }
  absl::StatusOr<wksp::Usage> final_usage = w.GetUsage(tags);
  if (!final_usage.ok()) {
    v.Fail(std::string(final_usage.status().message()));
  } else if (!SameUsage(*final_usage, a.initial)) {
    v.Fail(absl::StrFormat("usage after the run: %s; before: %s",
                           UsageStr(*final_usage), UsageStr(a.initial)));
  }
  if (absl::Status s = w.Verify(); !s.ok())
    v.Fail(absl::StrFormat("verify: %s", s.message()));
}

void PrintReport(const Options& opt, const Layout& lay, const Control& ctl,
                 double secs, int rc) {
  uint64_t allocs = 0, frees = 0, full = 0;
  std::vector<uint64_t> ah(kBuckets), fh(kBuckets);
  for (int r = 0; r < lay.rings(); ++r) {
    const RingStats& st = ctl.ring[r];
    allocs += Load(st.allocs);
    frees += Load(st.frees);
    full += Load(st.alloc_full);
    for (int b = 0; b < kBuckets; ++b) {
      ah[static_cast<size_t>(b)] += Load(st.alloc_hist[b]);
      fh[static_cast<size_t>(b)] += Load(st.free_hist[b]);
    }
  }
  absl::PrintF(
      "alloc_stress: %s, %d pair(s), %.2f s: %u allocs, %u frees, %.0f ops/s "
      "(%u allocs retried on a full workspace)\n",
      opt.procs ? absl::StrFormat("%d processes", opt.procs)
                : std::string("threads"),
      lay.rings(), secs, allocs, frees,
      static_cast<double>(allocs + frees) / secs, full);
  absl::PrintF("  alloc ns: p50 %u p99 %u p999 %u\n", Percentile(ah, 0.5),
               Percentile(ah, 0.99), Percentile(ah, 0.999));
  absl::PrintF("  free  ns: p50 %u p99 %u p999 %u\n", Percentile(fh, 0.5),
               Percentile(fh, 0.99), Percentile(fh, 0.999));
  absl::PrintF("%s\n", rc == 0 ? "PASS" : "FAIL");
}

int Run(const Options& opt) {
  Layout lay{std::max(opt.procs, 1), opt.threads};
  Arena a;
  if (absl::Status st = MakeArena(opt, lay, a); !st.ok()) {
    absl::FPrintF(stderr, "alloc_stress: %s\n", st.message());
    return 1;
  }
  Verdict v;
  std::mt19937_64 rng(opt.seed);
  const int64_t start = MonotonicNs();
  const int64_t dur_ns = static_cast<int64_t>(opt.duration * 1e9);
  Worker k{&*a.w, a.ctl, &opt, lay};
  std::vector<pid_t> pids;
  std::thread local;  // threads mode
  if (opt.procs == 0) {
    local = std::thread(RunWorkers, k, 0);
  } else {
    for (int p = 0; p < opt.procs; ++p) {
      std::fflush(nullptr);
      pid_t pid = fork();
      if (pid < 0) {
        v.Fail(absl::StrFormat("fork: %s", std::strerror(errno)));
        Store(a.ctl->stop, 1);
        break;
      }
      if (pid == 0) ChildMain(a.name, a.ctl_gaddr, opt, lay, p);
      // The child stores it too; the first store wins the race with a kill.
      Store(a.ctl->pid[p], static_cast<uint64_t>(pid));
      pids.push_back(pid);
    }
  }
  int victim = -1;
  uint64_t survivors_at_kill = 0;
  if (opt.kill != Options::kNone && v.rc == 0) {
    victim = KillOne(opt, a, pids, start, dur_ns, rng, v);
    survivors_at_kill = SurvivorAllocs(*a.ctl, lay, victim);
  }
  if (opt.ops == 0) {
    int64_t end = start + dur_ns;
    if (victim >= 0) end = std::max(end, MonotonicNs() + 300'000'000);
    SleepUntil(end);
    Store(a.ctl->stop, 1);
  }
  if (local.joinable()) local.join();
  bool outside_kill = false;
  for (size_t p = 0; p < pids.size(); ++p) {
    if (static_cast<int>(p) == victim) continue;
    int status = 0;
    waitpid(pids[p], &status, 0);
    if (WIFSIGNALED(status)) {
      // Killed by someone else: its peers noticed by its pid and stopped
      // waiting for it; what it held is reclaimed below. Still a failure:
      // the run did not go as asked.
      outside_kill = true;
      v.Fail(absl::StrFormat(
          "worker process %u (pid %d) was killed by signal %d from outside",
          p, pids[p], WTERMSIG(status)));
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      v.Fail(absl::StrFormat(
          "worker process %u (pid %d) ended badly (status 0x%x)", p, pids[p],
          status));
    }
  }
  const double secs = static_cast<double>(MonotonicNs() - start) * 1e-9;
  if (victim >= 0) {
    uint64_t after = SurvivorAllocs(*a.ctl, lay, victim);
    if (after <= survivors_at_kill) {
      v.Fail(absl::StrFormat(
          "no progress after the kill (%u allocations before, %u after)",
          survivors_at_kill, after));
    } else {
      absl::FPrintF(stderr,
                    "alloc_stress: the other pairs carried on: %u allocations "
                    "after the kill\n",
                    after - survivors_at_kill);
    }
  }
  if (uint64_t e = Load(a.ctl->errors))
    v.Fail(absl::StrFormat("%u pattern/free errors", e));
  CheckEndState(a, victim >= 0 || outside_kill, v);
  PrintReport(opt, lay, *a.ctl, secs, v.rc);
  return v.rc;
}

int Main(int argc, char** argv) {
  // Like wksp_ctl, the tool (not the library) honours WKSP_SHMEM_ROOT.
  if (const char* root = std::getenv("WKSP_SHMEM_ROOT"); root && *root) {
    wksp::SetShmemRoot(root);
  }
  Options opt;
  auto usage = [](const std::string& msg) {
    absl::FPrintF(stderr, "alloc_stress: %s\n%s", msg, kUsage);
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--kill" || a == "--kill=random") {
      opt.kill = Options::kRandom;
      continue;
    }
    if (a == "--kill=lock") {
      opt.kill = Options::kLock;
      continue;
    }
    if (a == "--kill=any") {
      opt.kill = Options::kAny;
      continue;
    }
    if (i + 1 >= argc)
      return usage(absl::StrFormat("unknown option or missing value: %s", a));
    std::string v = argv[++i];
    absl::StatusOr<uint64_t> n;
    if (a == "--duration") {
      char* end = nullptr;
      opt.duration = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(opt.duration > 0 && opt.duration < 86400)) {
        return usage(absl::StrFormat("bad --duration \"%s\"", v));
      }
      continue;
    }
    if (a == "--ops")
      n = ParseRange(v, "--ops", 1, UINT64_MAX);
    else if (a == "--min-size")
      n = ParseSize(v, "--min-size");
    else if (a == "--max-size")
      n = ParseSize(v, "--max-size");
    else if (a == "--max-align")
      n = ParseSize(v, "--max-align");
    else if (a == "--threads")
      n = ParseRange(v, "--threads", 1, 64);
    else if (a == "--procs")
      n = ParseRange(v, "--procs", 0, kMaxProcs);
    else if (a == "--seed")
      n = ParseU64(v, "--seed");
    else if (a == "--wksp-size")
      n = ParseSize(v, "--wksp-size");
    else
      return usage(absl::StrFormat("unknown option %s", a));
    if (!n.ok()) return usage(std::string(n.status().message()));
    if (a == "--ops")
      opt.ops = *n;
    else if (a == "--min-size")
      opt.min_sz = *n;
    else if (a == "--max-size")
      opt.max_sz = *n;
    else if (a == "--max-align")
      opt.max_align = *n;
    else if (a == "--threads")
      opt.threads = static_cast<int>(*n);
    else if (a == "--procs")
      opt.procs = static_cast<int>(*n);
    else if (a == "--seed")
      opt.seed = *n;
    else
      opt.data_max = *n;
  }
  if (opt.min_sz == 0 || opt.min_sz > opt.max_sz ||
      opt.max_sz >= (uint64_t{1} << 40)) {
    return usage("need 1 <= --min-size <= --max-size < 1T");
  }
  if (opt.max_align == 0 || (opt.max_align & (opt.max_align - 1))) {
    return usage("--max-align must be a power of two");
  }
  if (opt.procs * opt.threads > kMaxRings ||
      opt.threads * std::max(opt.procs, 1) > kMaxRings) {
    return usage(absl::StrFormat("at most %d pairs in all", kMaxRings));
  }
  if (opt.kill != Options::kNone && opt.procs < 3) {
    return usage(
        "--kill needs --procs 3 or more (so some pairs do not involve the "
        "victim)");
  }
  if (opt.kill != Options::kNone && opt.ops) {
    return usage("--kill needs a --duration, not --ops");
  }
  return Run(opt);
}

}  // namespace
}  // namespace wk::apps

int main(int argc, char** argv) { return wk::apps::Main(argc, argv); }
