// Incremental checkpoints (CHECKPOINT_FORMAT.md §9) against a model: a
// random sequence of allocations, frees, retags and writes, with a full
// checkpoint and a chain of deltas taken at random points. Every prefix of
// the chain restores to the model's state byte for byte, applied in place
// too; merging it equals a deterministic full checkpoint of that state;
// applying a delta onto another state fails with the workspace untouched
// unless that state already has the delta's allocation table and holds
// every chunk the delta keeps (then the result is exactly the delta's
// state: what it replaces is not read).
// Plus: deltas are deterministic, bases without an index (v1, sidecar
// removed) work, every single-bit flip of a small delta is caught, and a
// delta checkpoint and an apply killed (SIGKILL, util/fault.h) at 20+
// points leave nothing at the path / the workspace untouched, complete, or
// marked and reset.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/test_util.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

extern char** environ;

namespace wk::wksp_checkpt {
namespace {

using testutil::Snap;
using testutil::Snapshot;

constexpr uint64_t kPartMax = 1024;
constexpr uint64_t kDataMax = uint64_t{24} << 20;

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}
std::string TmpPath(const std::string& name) { return TmpDir() + "/" + name; }

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}
void WriteFile(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), b.size());
}
bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}
void Remove(const std::string& path) {
  std::remove(path.c_str());
  std::remove((path + ".wkspidx").c_str());
}

wksp::Wksp Fresh(const std::string& name = "model") {
  auto w = wksp::Wksp::CreateAnonymous(name, kPartMax, kDataMax);
  EXPECT_TRUE(w.ok()) << w.status();
  return std::move(*w);
}

// Changes the tag of every allocation i with pick(i) through the admin API
// (the allocator has no retag call): bytes and ranges stay.
void Retag(wksp::Wksp& w, std::mt19937_64& rng) {
  auto lock = w.Lock();
  ASSERT_TRUE(lock.ok());
  auto parts = wksp::UsedPartitionsLocked(w);
  ASSERT_TRUE(parts.ok());
  const uint32_t seed = w.seed();
  wksp::BeginRestoreLocked(w);
  for (uint64_t i = 0; i < parts->size(); ++i) {
    auto p = (*parts)[i];
    if (rng() % 3 == 0) p.tag = 1 + rng() % 9;
    ASSERT_TRUE(wksp::SetPartitionLocked(w, i, p.lo, p.hi, p.tag).ok());
  }
  ASSERT_TRUE(wksp::FinishRestoreLocked(w, seed).ok());
}

// One random step of the model workload.
void Step(wksp::Wksp& w, std::mt19937_64& rng) {
  auto parts = Snap(w).parts;
  const int op = static_cast<int>(rng() % 10);
  if (op < 3 || parts.empty()) {  // alloc: small to a few chunks
    const uint64_t sz = rng() % 4 == 0 ? 1 + rng() % 300000 : 1 + rng() % 9000;
    auto g = w.Alloc(uint64_t{1} << (rng() % 13), sz, 1 + rng() % 9);
    if (!g.ok()) return;  // full: fine, the model is the workspace
    uint8_t* p = w.laddr(*g);
    const bool text = rng() % 2;
    for (uint64_t j = 0; j < sz; ++j)
      p[j] = static_cast<uint8_t>(text ? 'a' + j % 23 : rng());
  } else if (op < 5) {  // free
    ASSERT_TRUE(w.Free(parts[rng() % parts.size()].lo).ok());
  } else if (op < 6) {
    Retag(w, rng);
  } else {  // writes: a few bytes here and there
    for (int k = 0; k < 4; ++k) {
      const auto& p = parts[rng() % parts.size()];
      const uint64_t off = rng() % (p.hi - p.lo);
      const uint64_t n = std::min<uint64_t>(p.hi - p.lo - off, 1 + rng() % 3000);
      uint8_t* b = w.laddr(p.lo + off);
      for (uint64_t j = 0; j < n; ++j) b[j] = static_cast<uint8_t>(rng());
    }
  }
}

CheckptOptions Opts(Style style, size_t threads, const std::string& base = "") {
  CheckptOptions o;
  o.style = style;
  o.threads = threads;
  o.durable = false;
  o.base = base;
  return o;
}

// When apply takes the delta from `base` to `next` onto a workspace that
// is not `base` (CHECKPOINT_FORMAT.md §9.4), read from the model's
// snapshots: w's allocation table is next's, and every chunk (64 KiB, cut
// from each allocation's start) of `next` that `base` holds at the same
// gaddr with the same size and bytes (one the delta keeps) holds those
// bytes in w's memory.
bool TakesDelta(wksp::Wksp& w, const Snapshot& base, const Snapshot& next) {
  if (Snap(w).parts != next.parts) return false;
  constexpr uint64_t kChunk = uint64_t{64} << 10;
  struct Chunk {
    uint64_t sz;
    const uint8_t* bytes;
  };
  auto chunks = [&](const Snapshot& s) {
    std::map<uint64_t, Chunk> m;
    for (size_t i = 0; i < s.parts.size(); ++i) {
      const wksp::PartitionInfo& p = s.parts[i];
      for (uint64_t g = p.lo; g < p.hi; g += kChunk) {
        m[g] = {std::min(kChunk, p.hi - g), s.bytes[i].data() + (g - p.lo)};
      }
    }
    return m;
  };
  const std::map<uint64_t, Chunk> b = chunks(base);
  for (const auto& [g, c] : chunks(next)) {
    auto it = b.find(g);
    const bool kept = it != b.end() && it->second.sz == c.sz &&
                      std::memcmp(it->second.bytes, c.bytes, c.sz) == 0;
    if (kept && std::memcmp(w.laddr(g), c.bytes, c.sz) != 0) return false;
  }
  return true;
}

TEST(DeltaTest, RandomChainsAgainstModel) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(absl::StrFormat("seed %u", seed));
    std::mt19937_64 rng(seed);
    wksp::Wksp w = Fresh();
    for (int i = 0; i < 60; ++i) Step(w, rng);
    std::vector<std::string> chain;
    std::vector<Snapshot> states;
    std::vector<std::string> fulls;  // deterministic full of each state
    const Style full_style = seed % 2 ? Style::kV3 : Style::kV2;
    for (int k = 0; k < 5; ++k) {
      const std::string p = TmpPath(absl::StrFormat("chain-%u-%d", seed, k));
      Remove(p);
      const size_t threads = 1 + rng() % 3;
      if (k == 0) {
        ASSERT_TRUE(Checkpt(w, p, Opts(full_style, threads)).ok());
        ASSERT_TRUE(Exists(p + ".wkspidx"));
      } else {
        const Style ds = rng() % 2 ? Style::kV3 : Style::kV2;
        absl::Status st = Checkpt(w, p, Opts(ds, threads, chain.back()));
        ASSERT_TRUE(st.ok()) << st;
        ASSERT_TRUE(IsDeltaCheckpt(p));
        // Deterministic: another thread count writes the same bytes.
        const std::string q = p + ".again";
        Remove(q);
        ASSERT_TRUE(Checkpt(w, q, Opts(ds, 4 - threads, chain.back())).ok());
        EXPECT_EQ(ReadFile(p), ReadFile(q));
        Remove(q);
        auto v = VerifyDelta(p, {});
        ASSERT_TRUE(v.ok()) << v.status();
      }
      chain.push_back(p);
      states.push_back(Snap(w));
      const std::string f = p + ".full";
      Remove(f);
      CheckptOptions fo = Opts(full_style, 2);
      fo.deterministic = true;
      ASSERT_TRUE(Checkpt(w, f, fo).ok());
      fulls.push_back(f);
      const int steps = 1 + static_cast<int>(rng() % 25);
      for (int i = 0; i < steps; ++i) Step(w, rng);
    }
    std::vector<std::string> lines;
    ASSERT_TRUE(VerifyChain(chain, {}, &lines).ok());
    ASSERT_EQ(lines.size(), chain.size());

    // Every prefix restores to its state; merge equals the full checkpoint.
    for (size_t k = 0; k < chain.size(); ++k) {
      SCOPED_TRACE(absl::StrFormat("prefix %u", k));
      std::vector<std::string> prefix(chain.begin(), chain.begin() + k + 1);
      wksp::Wksp r = Fresh();
      ASSERT_TRUE(r.Alloc(0, 5000, 3).ok());  // whatever was there goes
      absl::Status st = RestoreChain(r, prefix, {});
      ASSERT_TRUE(st.ok()) << st;
      EXPECT_TRUE(Snap(r) == states[k]);
      EXPECT_TRUE(r.Verify().ok());
      if (k > 0) {
        const std::string m = TmpPath("merged");
        Remove(m);
        CheckptOptions mo = Opts(full_style, 2);
        mo.deterministic = true;
        st = MergeChain(prefix, m, mo);
        ASSERT_TRUE(st.ok()) << st;
        EXPECT_EQ(ReadFile(m), ReadFile(fulls[k]));
        Remove(m);
      }
    }
    // Apply in place, one delta at a time. Another delta is refused
    // untouched where a chunk it keeps differs here, and otherwise gives
    // exactly its state (then the workspace is put back).
    wksp::Wksp a = Fresh();
    ASSERT_TRUE(Restore(a, chain[0], {}).ok());
    int refused = 0;
    for (size_t k = 1; k < chain.size(); ++k) {
      for (size_t j = 1; j < chain.size(); ++j) {
        if (j == k || states[j - 1] == states[k - 1]) continue;
        SCOPED_TRACE(absl::StrFormat("delta %u onto state %u", j, k - 1));
        const Snapshot before = Snap(a);
        const bool holds = TakesDelta(a, states[j - 1], states[j]);
        absl::Status st = ApplyDelta(a, chain[j], {});
        if (holds) {
          ASSERT_TRUE(st.ok()) << st;
          EXPECT_TRUE(Snap(a) == states[j]);
          ASSERT_TRUE(Restore(a, fulls[k - 1], {}).ok());
          ASSERT_TRUE(Snap(a) == before);
          continue;
        }
        EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
        EXPECT_FALSE(IsWorkspaceReset(st));
        EXPECT_TRUE(Snap(a) == before);
        ++refused;
      }
      RestoreOptions ro;
      ro.threads = k % 3;
      absl::Status st = ApplyDelta(a, chain[k], ro);
      ASSERT_TRUE(st.ok()) << st;
      EXPECT_TRUE(Snap(a) == states[k]);
      EXPECT_TRUE(a.Verify().ok());
    }
    EXPECT_GT(refused, 0);  // the wrong-base path ran
    // A broken chain (a delta skipped) is refused before anything is written.
    if (chain.size() >= 3 && !(states[1] == states[0])) {
      wksp::Wksp r = Fresh();
      ASSERT_TRUE(r.Alloc(0, 5000, 3).ok());
      const Snapshot before = Snap(r);
      absl::Status st = RestoreChain(r, {chain[0], chain[2]}, {});
      EXPECT_FALSE(st.ok());
      EXPECT_TRUE(IsWorkspaceReset(st) || Snap(r) == before) << st;
    }
    for (const auto& p : chain) Remove(p);
    for (const auto& p : fulls) Remove(p);
  }
}

// Bases without an index: the sidecar removed (or stale), and v1.
TEST(DeltaTest, BaseWithoutIndexIsReadOnce) {
  std::mt19937_64 rng(11);
  wksp::Wksp w = Fresh();
  for (int i = 0; i < 40; ++i) Step(w, rng);
  for (Style base_style : {Style::kV1, Style::kV3}) {
    const std::string b = TmpPath("noidx-base"), d = TmpPath("noidx-delta");
    Remove(b);
    Remove(d);
    ASSERT_TRUE(Checkpt(w, b, Opts(base_style, 2)).ok());
    EXPECT_EQ(Exists(b + ".wkspidx"), base_style != Style::kV1);
    std::remove((b + ".wkspidx").c_str());
    const Snapshot s0 = Snap(w);
    for (int i = 0; i < 10; ++i) Step(w, rng);
    absl::Status st = Checkpt(w, d, Opts(Style::kV3, 2, b));
    ASSERT_TRUE(st.ok()) << st;
    wksp::Wksp r = Fresh();
    st = RestoreChain(r, {b, d}, {});
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_TRUE(Snap(r) == Snap(w));
    (void)s0;
    Remove(b);
    Remove(d);
  }
  // A stale sidecar (of another file once at the path) is not trusted.
  const std::string b = TmpPath("stale-base"), d = TmpPath("stale-delta");
  Remove(b);
  Remove(d);
  ASSERT_TRUE(Checkpt(w, b, Opts(Style::kV3, 1)).ok());
  const std::vector<uint8_t> old_index = ReadFile(b + ".wkspidx");
  Remove(b);
  Step(w, rng);
  Step(w, rng);
  ASSERT_TRUE(Checkpt(w, b, Opts(Style::kV2, 1)).ok());
  WriteFile(b + ".wkspidx", old_index);
  for (int i = 0; i < 5; ++i) Step(w, rng);
  ASSERT_TRUE(Checkpt(w, d, Opts(Style::kV3, 2, b)).ok());
  wksp::Wksp r = Fresh();
  absl::Status st = RestoreChain(r, {b, d}, {});
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_TRUE(Snap(r) == Snap(w));
  Remove(b);
  Remove(d);
}

// Onto a workspace with the delta's allocation table, apply checks the
// chunks the delta keeps (its bytes, and so its state, are exactly the
// delta's once the replaced chunks are written), never reading the chunks
// it replaces. A workspace that differs from the base in a replaced chunk
// only takes the delta and ends in exactly its state; one that also has an
// allocation more, or differs by a byte in a kept chunk, is refused
// untouched.
void OnlyKeptChunksAreChecked(Style style) {
  constexpr uint64_t kChunk = uint64_t{64} << 10;
  std::mt19937_64 rng(5);
  wksp::Wksp w = Fresh("kept");
  auto a = w.Alloc(1, 3 * kChunk + 100, 1);
  auto b = w.Alloc(1, kChunk, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  for (uint64_t i = 0; i < 3 * kChunk + 100; ++i)
    w.laddr(*a)[i] = static_cast<uint8_t>(rng());
  for (uint64_t i = 0; i < kChunk; ++i)
    w.laddr(*b)[i] = static_cast<uint8_t>(i);
  const std::string bp = TmpPath("kept-base"), dp = TmpPath("kept-delta");
  Remove(bp);
  Remove(dp);
  ASSERT_TRUE(Checkpt(w, bp, Opts(Style::kV3, 1)).ok());
  w.laddr(*a)[kChunk + 7] ^= 1;  // the delta replaces chunk 1 of a
  ASSERT_TRUE(Checkpt(w, dp, Opts(style, 2, bp)).ok());
  const Snapshot next = Snap(w);

  wksp::Wksp t = Fresh("kept-target");
  ASSERT_TRUE(Restore(t, bp, {}).ok());
  std::memset(t.laddr(*a) + kChunk, 0xee, kChunk);  // the replaced chunk
  // An allocation more: not the delta's table, so the whole state must be
  // the base's, and it is not.
  auto extra = t.Alloc(1, 5000, 7);
  ASSERT_TRUE(extra.ok());
  Snapshot before = Snap(t);
  absl::Status st = ApplyDelta(t, dp, {});
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_FALSE(IsWorkspaceReset(st));
  EXPECT_NE(st.message().find("applies only to state"), std::string::npos)
      << st;
  EXPECT_TRUE(Snap(t) == before);
  ASSERT_TRUE(t.Free(*extra).ok());
  st = ApplyDelta(t, dp, {});
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_TRUE(Snap(t) == next);
  EXPECT_TRUE(t.Verify().ok());

  // One byte off in each kept chunk in turn: a's chunks 0, 2, 3 and b's.
  for (uint64_t g : {*a + 3, *a + 2 * kChunk, *a + 3 * kChunk + 99, *b + 4}) {
    SCOPED_TRACE(absl::StrFormat("gaddr %u", g));
    ASSERT_TRUE(Restore(t, bp, {}).ok());
    t.laddr(g)[0] ^= 0x10;
    before = Snap(t);
    st = ApplyDelta(t, dp, {});
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
    EXPECT_FALSE(IsWorkspaceReset(st));
    EXPECT_NE(st.message().find("which the delta keeps"), std::string::npos)
        << st;
    EXPECT_NE(st.message().find("applies only to state"), std::string::npos)
        << st;
    EXPECT_TRUE(Snap(t) == before);
  }
  Remove(bp);
  Remove(dp);
}

TEST(DeltaTest, OnlyKeptChunksAreCheckedLz4) {
  OnlyKeptChunksAreChecked(Style::kV3);
}
TEST(DeltaTest, OnlyKeptChunksAreCheckedRaw) {
  OnlyKeptChunksAreChecked(Style::kV2);
}

// A small delta: every bit of it flipped, one at a time, is caught by
// verify and by apply (which then leaves the workspace untouched or reset,
// never in another state). LZ4 groups are checked against their digests;
// RAW ones are read into the workspace and checked chunk by chunk.
// keep_table: the delta changes bytes only, so an apply keeps the table
// (only marks the workspace) and a corrupt chunk found while writing must
// still reset it.
void EveryBitFlipIsCaught(Style style, bool keep_table) {
  wksp::Wksp w = Fresh("flip");
  std::vector<uint64_t> g;
  for (int i = 0; i < 4; ++i) {
    auto a = w.Alloc(0, 300 + 50 * i, 1 + i);
    ASSERT_TRUE(a.ok());
    std::memset(w.laddr(*a), 'a' + i, 300 + 50 * i);
    g.push_back(*a);
  }
  const std::string b = TmpPath("flip-base"), d = TmpPath("flip-delta");
  Remove(b);
  Remove(d);
  ASSERT_TRUE(Checkpt(w, b, Opts(Style::kV3, 1)).ok());
  const Snapshot base = Snap(w);
  std::memset(w.laddr(g[1]) + 10, 'z', 100);
  if (!keep_table) {
    ASSERT_TRUE(w.Free(g[2]).ok());
    ASSERT_TRUE(w.Alloc(0, 77, 9).ok());
  }
  ASSERT_TRUE(Checkpt(w, d, Opts(style, 1, b)).ok());
  const Snapshot next = Snap(w);
  const std::vector<uint8_t> good = ReadFile(d);
  ASSERT_LT(good.size(), 3000u);
  wksp::Wksp t = Fresh("flip");
  ASSERT_TRUE(Restore(t, b, {}).ok());
  ASSERT_TRUE(ApplyDelta(t, d, {}).ok());
  ASSERT_TRUE(Snap(t) == next);
  const std::string f = TmpPath("flip-bad");
  int caught = 0, resets = 0;
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::vector<uint8_t> bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    WriteFile(f, bad);
    EXPECT_FALSE(VerifyDelta(f, {}).ok()) << "bit " << bit;
    ASSERT_TRUE(RestoreChain(t, {b}, {}).ok());
    absl::Status st = ApplyDelta(t, f, {});
    EXPECT_FALSE(st.ok()) << "bit " << bit;
    const Snapshot after = Snap(t);
    EXPECT_TRUE(after == base || (IsWorkspaceReset(st) && after.parts.empty()))
        << "bit " << bit << ": " << st;
    caught += !st.ok();
    resets += IsWorkspaceReset(st);
  }
  EXPECT_EQ(caught, static_cast<int>(good.size() * 8));
  // RAW chunks are read into place and checked there: a flip in their bytes
  // is found after the write began, so the workspace is reset (the path
  // where the apply had only marked it, with keep_table).
  if (style == Style::kV2) {
    EXPECT_GT(resets, 0);
  }
  std::remove(f.c_str());
  Remove(b);
  Remove(d);
}

TEST(DeltaTest, EveryBitFlipIsCaughtLz4) {
  EveryBitFlipIsCaught(Style::kV3, /*keep_table=*/false);
}
TEST(DeltaTest, EveryBitFlipIsCaughtRaw) {
  EveryBitFlipIsCaught(Style::kV2, /*keep_table=*/false);
}
TEST(DeltaTest, EveryBitFlipIsCaughtBytesOnlyLz4) {
  EveryBitFlipIsCaught(Style::kV3, /*keep_table=*/true);
}
TEST(DeltaTest, EveryBitFlipIsCaughtBytesOnlyRaw) {
  EveryBitFlipIsCaught(Style::kV2, /*keep_table=*/true);
}

// ---- Kills: this binary re-runs itself as the child (main below). ----

constexpr char kChildEnv[] = "DELTA_TEST_CHILD";

int RunChild(const char* mode, char** argv) {
  auto w = wksp::Wksp::Join(argv[1]);
  if (!w.ok()) return 3;
  absl::Status st;
  if (std::strcmp(mode, "checkpt") == 0) {
    st = Checkpt(*w, argv[2], Opts(Style::kV3, 2, argv[3]));
  } else {
    RestoreOptions ro;
    ro.threads = 2;
    st = ApplyDelta(*w, argv[2], ro);
  }
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.ToString().c_str());
  return st.ok() ? 0 : 1;
}

// Runs the child with WKSP_FAULT_AT=fault; returns its wait status.
int Child(const std::string& mode, const std::vector<std::string>& args,
          const std::string& fault) {
  pid_t pid = fork();
  if (pid == 0) {
    setenv(kChildEnv, mode.c_str(), 1);
    if (!fault.empty()) setenv("WKSP_FAULT_AT", fault.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>("delta_test")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}
bool Killed(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

class DeltaKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = TmpDir() + "/shm";
    mkdir(root.c_str(), 0700);
    // The library reads no environment: set the root here, and in the
    // children from the variable they inherit (main). Names repeat across
    // concurrent runs (pids in PID namespaces): a root of its own per run.
    setenv("WKSP_SHMEM_ROOT", root.c_str(), 1);
    wksp::SetShmemRoot(root);
    name_ = absl::StrFormat("dk-%d", static_cast<int>(getpid()));
    wksp::Wksp::Delete(name_).IgnoreError();
    auto w = wksp::Wksp::Create(name_, 4096, uint64_t{16} << 20);
    ASSERT_TRUE(w.ok()) << w.status();
    // 1400 one-chunk allocations, every one changed below: 22 groups, so
    // a delta checkpoint makes 25 writes (one per group).
    std::mt19937_64 rng(5);
    for (int i = 0; i < 1400; ++i) {
      auto g = w->Alloc(0, 1000 + rng() % 3000, 1 + i % 5);
      ASSERT_TRUE(g.ok()) << i << ": " << g.status();
      gaddrs_.push_back(*g);
      std::memset(w->laddr(*g), i, 1000);
    }
    base_ = TmpPath("kill-base");
    Remove(base_);
    ASSERT_TRUE(Checkpt(*w, base_, Opts(Style::kV3, 2)).ok());
    base_state_ = Snap(*w);
    for (uint64_t g : gaddrs_) w->laddr(g)[7] ^= 0x5a;
    ASSERT_TRUE(w->Free(gaddrs_[3]).ok());
    next_state_ = Snap(*w);
  }
  void TearDown() override {
    wksp::Wksp::Delete(name_).IgnoreError();
    Remove(base_);
  }
  // keep_table: the delta changes bytes only (no allocation freed), so the
  // apply marks the workspace without clearing its table.
  void KillApply(Style style, bool keep_table);
  std::string name_, base_;
  std::vector<uint64_t> gaddrs_;
  Snapshot base_state_, next_state_;
};

TEST_F(DeltaKillTest, KilledDeltaCheckpointLeavesNothing) {
  const std::string d = TmpPath("kill-delta");
  int kills = 0;
  std::vector<int> points;
  for (int n = 1; n <= 30; ++n) points.push_back(n);
  for (int n : points) {
    Remove(d);
    const int st = Child("checkpt", {name_, d, base_},
                         absl::StrFormat("write:%d", n));
    if (Killed(st)) {
      ++kills;
      EXPECT_FALSE(Exists(d)) << "write " << n;
    } else {
      ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "write " << n;
      auto r = wksp::Wksp::CreateAnonymous("x", 4096, uint64_t{16} << 20);
      ASSERT_TRUE(r.ok());
      absl::Status rs = RestoreChain(*r, {base_, d}, {});
      ASSERT_TRUE(rs.ok()) << rs;
      EXPECT_TRUE(Snap(*r) == next_state_);
      continue;
    }
  }
  for (const char* ev : {"sync", "publish", "published"}) {
    Remove(d);
    const int st = Child("checkpt", {name_, d, base_}, absl::StrFormat("%s:1", ev));
    if (Killed(st)) {
      ++kills;
      // Killed just after getting its name: then it is complete.
      if (Exists(d)) {
        EXPECT_TRUE(VerifyDelta(d, {}).ok()) << ev;
      }
      if (std::string(ev) != "published") {
        EXPECT_FALSE(Exists(d)) << ev;
      }
    }
  }
  EXPECT_GE(kills, 20);
  // Nothing but the delta, the base and its sidecar beside them.
  Remove(d);
}

// An apply of a delta of `style` killed at each of its first 40 reads (RAW
// groups are read straight into the workspace, LZ4 ones through a buffer).
void DeltaKillTest::KillApply(Style style, bool keep_table) {
  const std::string d = TmpPath("kill-apply-delta");
  Remove(d);
  Snapshot next_state = next_state_;
  {
    auto w = wksp::Wksp::Join(name_);
    ASSERT_TRUE(w.ok());
    if (keep_table) {
      ASSERT_TRUE(Restore(*w, base_, {}).ok());
      for (uint64_t g : gaddrs_) w->laddr(g)[9] ^= 0xa5;
      next_state = Snap(*w);
    }
    ASSERT_TRUE(Checkpt(*w, d, Opts(style, 2, base_)).ok());
  }
  int kills = 0, marked = 0;
  for (int n = 1; n <= 40; ++n) {
    {  // back to the base state
      auto w = wksp::Wksp::Join(name_);
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE(Restore(*w, base_, {}).ok());
    }
    const int st = Child("apply", {name_, d}, absl::StrFormat("read:%d", n));
    auto w = wksp::Wksp::Join(name_);
    ASSERT_TRUE(w.ok()) << w.status() << " after read " << n;
    if (w->CurrentRestoreMark().has_value()) {
      // Killed while writing: the lock taker empties it, and it is reported
      // (refused) until reset or restored.
      EXPECT_TRUE(Killed(st)) << "read " << n;
      ++kills;
      ++marked;
      auto usage = w->GetUsage();
      EXPECT_TRUE(absl::IsDataLoss(usage.status())) << usage.status();
      ASSERT_TRUE(w->Reset(0).ok());
      auto after = w->GetUsage();
      ASSERT_TRUE(after.ok());
      EXPECT_EQ(after->used_cnt, 0u);
      continue;
    }
    const Snapshot s = Snap(*w);
    if (Killed(st)) {
      ++kills;
      EXPECT_TRUE(s == base_state_ || s == next_state) << "read " << n;
    } else {
      ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "read " << n;
      EXPECT_TRUE(s == next_state);
    }
    EXPECT_TRUE(w->Verify().ok());
  }
  EXPECT_GE(kills, 20);
  EXPECT_GT(marked, 0);  // some kills fell while chunks were being written
  Remove(d);
}

TEST_F(DeltaKillTest, KilledApplyIsUntouchedCompleteOrMarked) {
  KillApply(Style::kV3, /*keep_table=*/false);
}
TEST_F(DeltaKillTest, KilledRawApplyIsUntouchedCompleteOrMarked) {
  KillApply(Style::kV2, /*keep_table=*/false);
}
TEST_F(DeltaKillTest, KilledBytesOnlyApplyIsUntouchedCompleteOrMarked) {
  KillApply(Style::kV3, /*keep_table=*/true);
}
TEST_F(DeltaKillTest, KilledBytesOnlyRawApplyIsUntouchedCompleteOrMarked) {
  KillApply(Style::kV2, /*keep_table=*/true);
}

}  // namespace
}  // namespace wk::wksp_checkpt

int main(int argc, char** argv) {
  if (const char* mode = std::getenv(wk::wksp_checkpt::kChildEnv)) {
    if (const char* root = std::getenv("WKSP_SHMEM_ROOT")) {
      wk::wksp::SetShmemRoot(root);
    }
    return wk::wksp_checkpt::RunChild(mode, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
