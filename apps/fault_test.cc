// Fault injection end to end (issue 11): `wksp_ctl checkpt` and `restore`
// are killed (SIGKILL), interrupted (SIGINT, SIGTERM, SIGHUP) or run out of
// space at exact I/O events (util/fault.h: WKSP_FAULT_AT=<event>:<n>), from
// a path and from a pipe, in every style. After each run:
//   - no file at PATH unless it is complete: it then restores to exactly the
//     source's allocations (bytes included);
//   - no temporary left beside PATH;
//   - the source workspace is unchanged;
//   - a restore's target is untouched, fully restored, empty, or marked
//     "being restored" by the killed process, never silently wrong.
// Kill points are event counts, found by bisection (a run with n past the
// last event completes), not timings.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

extern char** environ;

namespace wk {
namespace {

constexpr char kCtl[] = "apps/wksp_ctl_testing";
constexpr uint64_t kPartMax = 2048;
constexpr uint64_t kDataMax = uint64_t{64} << 20;
constexpr int kAllocs = 600;    // ~19 cgroups: enough frames to cut
constexpr int kMinPoints = 20;  // kill points per case (the bar)
constexpr uint64_t kMaxEvents = 4096;

// A restore killed after its first write leaves the workspace marked
// "being restored by pid P" (wksp.h): later users are refused, and the lock
// taker empties it, instead of seeing the half-written allocations.
bool IsMarked(const std::string& name) {
  absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join(name);
  if (!w.ok()) return false;
  std::optional<wksp::RestoreMark> mark = w->CurrentRestoreMark();
  return mark.has_value() && !mark->in_progress;
}

struct Alloc {
  uint64_t lo, hi, tag;
  std::string bytes;
  bool operator==(const Alloc&) const = default;
};
using Snapshot = std::vector<Alloc>;

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

// Joins `name` (recovering a dead lock owner), verifies it and copies every
// allocation.
absl::StatusOr<Snapshot> Take(const std::string& name) {
  absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join(name);
  if (!w.ok()) return w.status();
  if (absl::Status st = w->Check(); !st.ok()) return st;
  if (absl::Status st = w->Verify(); !st.ok()) return st;
  absl::StatusOr<wksp::LockGuard> g = w->Lock();
  if (!g.ok()) return g.status();
  absl::StatusOr<std::vector<wksp::PartitionInfo>> used =
      wksp::UsedPartitionsLocked(*w);
  if (!used.ok()) return used.status();
  Snapshot s;
  for (const auto& p : *used) {
    s.push_back({p.lo, p.hi, p.tag,
                 std::string(reinterpret_cast<const char*>(w->laddr(p.lo)),
                             p.hi - p.lo)});
  }
  return s;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Temporaries of checkpoints to `path` left in its directory.
std::vector<std::string> Leftovers(const std::string& path) {
  std::string dir = path.substr(0, path.rfind('/'));
  // The name wksp_checkpt.h documents: ".<base>.wkspckpt-tmp.<pid>.<n>".
  std::string prefix =
      "." + path.substr(path.rfind('/') + 1) + ".wkspckpt-tmp.";
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::string(e->d_name).rfind(prefix, 0) == 0)
        out.push_back(e->d_name);
    }
    ::closedir(d);
  }
  return out;
}

struct Result {
  int status = 0;  // waitpid status
  std::string output;
  bool Killed() const {
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }
  int Exit() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  std::string Describe() const {
    if (WIFSIGNALED(status))
      return absl::StrFormat("signal %d", WTERMSIG(status));
    return absl::StrFormat("exit %d: %s", Exit(), output);
  }
};

// Runs wksp_ctl with `args` and WKSP_FAULT_AT=fault (none if empty); stdin
// from `stdin_file` (fed through a pipe, so the restore reads a stream) or
// /dev/null.
Result RunCtl(const std::vector<std::string>& args, const std::string& fault,
              const std::string& stdin_file = "",
              const std::string& stdout_file = "") {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "WKSP_FAULT_AT=", 14) != 0) env.emplace_back(*e);
  }
  if (!fault.empty()) env.push_back("WKSP_FAULT_AT=" + fault);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> all = {kCtl};
  all.insert(all.end(), args.begin(), args.end());
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string out_path = TmpDir() + absl::StrFormat("/ctl_out.%d", ::getpid());
  int out =
      ::open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int in_pipe[2] = {-1, -1};
  if (!stdin_file.empty()) {
    EXPECT_EQ(::pipe2(in_pipe, O_CLOEXEC), 0);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = in_pipe[0] >= 0 ? in_pipe[0] : ::open("/dev/null", O_RDONLY);
    int so = stdout_file.empty() ? out
                                 : ::open(stdout_file.c_str(),
                                          O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in, 0);
    ::dup2(so, 1);
    ::dup2(out, 2);
    ::execve(kCtl, argv.data(), envp.data());
    ::_exit(127);
  }
  std::thread feeder;
  if (in_pipe[0] >= 0) {
    ::close(in_pipe[0]);
    feeder = std::thread([fd = in_pipe[1], &stdin_file] {
      std::ifstream f(stdin_file, std::ios::binary);
      std::vector<char> buf(1 << 16);
      while (f.read(buf.data(), buf.size()) || f.gcount() > 0) {
        const char* p = buf.data();
        size_t n = static_cast<size_t>(f.gcount());
        while (n) {
          ssize_t w = ::write(fd, p, n);
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) {  // the reader went away (EPIPE)
            ::close(fd);
            return;
          }
          p += w;
          n -= static_cast<size_t>(w);
        }
      }
      ::close(fd);
    });
  }
  Result r;
  ::waitpid(pid, &r.status, 0);
  if (feeder.joinable()) feeder.join();
  std::ifstream o(out_path);
  std::stringstream ss;
  ss << o.rdbuf();
  r.output = ss.str();
  ::close(out);
  ::unlink(out_path.c_str());
  return r;
}

// The number of `event`s a run makes: the largest n at which
// WKSP_FAULT_AT=<event>:<n> still kills it (runs with larger n complete).
int CountEvents(const std::vector<std::string>& args, const std::string& event,
                const std::string& stdin_file,
                const std::function<void()>& reset) {
  uint64_t lo = 0, hi = kMaxEvents;  // kills at lo (or lo == 0), not at hi
  while (hi - lo > 1) {
    uint64_t mid = (lo + hi) / 2;
    reset();
    Result r = RunCtl(args, absl::StrFormat("%s:%u", event, mid), stdin_file);
    if (r.Killed()) {
      lo = mid;
    } else {
      EXPECT_EQ(r.Exit(), 0) << r.Describe();
      hi = mid;
    }
  }
  return static_cast<int>(lo);
}

// At least kMinPoints points spread over 1..n, with the first and the last
// three always in.
std::vector<int> Points(int n) {
  std::set<int> p;
  for (int i = 1; i <= std::min(n, 3); ++i) p.insert(i);
  for (int i = std::max(1, n - 2); i <= n; ++i) p.insert(i);
  for (int k = 0; k < kMinPoints && n > 0; ++k)
    p.insert(1 + k * (n - 1) / (kMinPoints - 1));
  return {p.begin(), p.end()};
}

class FaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);
    shm_ = TmpDir() + "/shm";
    ::mkdir(shm_.c_str(), 0700);
    ::setenv("WKSP_SHMEM_ROOT", shm_.c_str(), 1);  // for wksp_ctl
    wksp::SetShmemRoot(shm_);                       // for this process
    // The source: kAllocs allocations of 1..80 KiB of varied, poorly
    // compressible bytes (LZ4 frames must be cut mid-frame too).
    absl::StatusOr<wksp::Wksp> w =
        wksp::Wksp::Create("fsrc", kPartMax, kDataMax);
    ASSERT_TRUE(w.ok()) << w.status();
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < kAllocs; ++i) {
      uint64_t sz = 1024 * (1 + (i * 37) % 80) - (i % 7);
      absl::StatusOr<uint64_t> g = w->Alloc(0, sz, 1 + i % 5);
      ASSERT_TRUE(g.ok()) << g.status();
      uint8_t* p = w->laddr(*g);
      for (uint64_t j = 0; j < sz; ++j) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        p[j] = (j & 64) ? static_cast<uint8_t>(x) : static_cast<uint8_t>(i);
      }
    }
    absl::StatusOr<Snapshot> s = Take("fsrc");
    ASSERT_TRUE(s.ok()) << s.status();
    src_ = new Snapshot(std::move(*s));
    // The restore target's own state before each restore: a few other
    // allocations, kept as a v2 checkpoint to put back.
    absl::StatusOr<wksp::Wksp> d =
        wksp::Wksp::Create("fdst", kPartMax, kDataMax);
    ASSERT_TRUE(d.ok()) << d.status();
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<uint64_t> g = d->Alloc(0, 8192 * (i + 1), 77);
      ASSERT_TRUE(g.ok()) << g.status();
      std::memset(d->laddr(*g), 0xa0 + i, 8192 * (i + 1));
    }
    t0_path_ = new std::string(TmpDir() + "/t0.ckpt");
    ::unlink(t0_path_->c_str());
    wksp_checkpt::CheckptOptions o;
    o.style = wksp_checkpt::Style::kV2;
    ASSERT_TRUE(wksp_checkpt::Checkpt(*d, *t0_path_, o).ok());
    absl::StatusOr<Snapshot> t = Take("fdst");
    ASSERT_TRUE(t.ok()) << t.status();
    t0_ = new Snapshot(std::move(*t));
    ASSERT_TRUE(wksp::Wksp::Create("fchk", kPartMax, kDataMax).ok());
  }
  static void TearDownTestSuite() {
    for (const char* n : {"fsrc", "fdst", "fchk"}) (void)wksp::Wksp::Delete(n);
    ::unlink(t0_path_->c_str());
    ::rmdir(shm_.c_str());
  }
  void TearDown() override {
    // Whatever a run did, the source is what it was.
    absl::StatusOr<Snapshot> s = Take("fsrc");
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(*s == *src_) << "the source workspace changed";
  }

  // A complete checkpoint at `path`: restores to exactly the source.
  static void ExpectCompleteCheckpoint(const std::string& path) {
    absl::StatusOr<wksp::Wksp> c = wksp::Wksp::Join("fchk");
    ASSERT_TRUE(c.ok()) << c.status();
    absl::Status st = wksp_checkpt::Restore(*c, path, {});
    ASSERT_TRUE(st.ok()) << path << ": " << st;
    absl::StatusOr<Snapshot> s = Take("fchk");
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(*s == *src_) << path << " restores to other allocations";
  }

  // Puts the target back to its own state t0.
  static void ResetTarget() {
    absl::StatusOr<wksp::Wksp> d = wksp::Wksp::Join("fdst");
    ASSERT_TRUE(d.ok()) << d.status();
    (void)d->Check();  // a killed restore may have left the lock
    ASSERT_TRUE(wksp_checkpt::Restore(*d, *t0_path_, {}).ok());
  }

  // A checkpoint of the source in `style`, written by the library.
  static std::string SourceCheckpt(int style) {
    std::string path = TmpDir() + absl::StrFormat("/src_v%d.ckpt", style);
    if (Exists(path)) return path;
    absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join("fsrc");
    EXPECT_TRUE(w.ok()) << w.status();
    wksp_checkpt::CheckptOptions o;
    o.style = *wksp_checkpt::StyleFromNumber(style);
    EXPECT_TRUE(wksp_checkpt::Checkpt(*w, path, o).ok());
    return path;
  }

  enum class Outcome { kUntouched, kRestored, kEmpty, kMarked, kWrong };
  static Outcome TargetOutcome() {
    absl::StatusOr<Snapshot> s = Take("fdst");
    if (!s.ok()) return IsMarked("fdst") ? Outcome::kMarked : Outcome::kWrong;
    if (*s == *t0_) return Outcome::kUntouched;
    if (*s == *src_) return Outcome::kRestored;
    if (s->empty()) return Outcome::kEmpty;
    return IsMarked("fdst") ? Outcome::kMarked : Outcome::kWrong;
  }

  void KillCheckpt(int style, int threads);
  void KillRestore(int style, bool pipe);

  static std::string shm_;
  static Snapshot* src_;
  static Snapshot* t0_;
  static std::string* t0_path_;
};

std::string FaultTest::shm_;
Snapshot* FaultTest::src_ = nullptr;
Snapshot* FaultTest::t0_ = nullptr;
std::string* FaultTest::t0_path_ = nullptr;

std::vector<std::string> CheckptArgs(int style, int threads,
                                     const std::string& path,
                                     const std::string& durable = "no") {
  return {"--threads",
          std::to_string(threads),
          "--durable",
          durable,
          "checkpt",
          "fsrc",
          path,
          "600",
          std::to_string(style),
          "fault"};
}

void FaultTest::KillCheckpt(int style, int threads) {
  const std::string path = TmpDir() + absl::StrFormat("/kill_v%d.ckpt", style);
  auto clean = [&] { ::unlink(path.c_str()); };
  const int n =
      CountEvents(CheckptArgs(style, threads, path), "write", "", clean);
  clean();
  ASSERT_GE(n, kMinPoints) << "too few writes to cut the checkpoint at";
  std::printf("checkpt v%d, %d threads: %d write events\n", style, threads, n);
  std::vector<std::string> faults;
  for (int p : Points(n)) faults.push_back(absl::StrFormat("write:%d", p));
  // After the footer's write, before and after the file gets its name.
  faults.push_back("publish:1");
  faults.push_back("published:1");
  for (const std::string& f : faults) {
    SCOPED_TRACE(absl::StrFormat("style %d, %s", style, f));
    Result r = RunCtl(CheckptArgs(style, threads, path), f);
    ASSERT_TRUE(r.Killed()) << r.Describe();
    if (f == "published:1") {
      ASSERT_TRUE(Exists(path));
      ExpectCompleteCheckpoint(path);
    } else {
      EXPECT_FALSE(Exists(path)) << "a killed checkpt left a file at PATH";
    }
    EXPECT_TRUE(Leftovers(path).empty());
    clean();
  }
  // Durable: killed at its fsync, nothing at PATH either.
  Result r = RunCtl(CheckptArgs(style, threads, path, "yes"), "sync:1");
  EXPECT_TRUE(r.Killed()) << r.Describe();
  EXPECT_FALSE(Exists(path));
  // And unhindered, the same command writes a complete checkpoint.
  r = RunCtl(CheckptArgs(style, threads, path, "yes"), "");
  ASSERT_EQ(r.Exit(), 0) << r.Describe();
  ExpectCompleteCheckpoint(path);
  clean();
}

TEST_F(FaultTest, KillCheckptV1) { KillCheckpt(1, 1); }
TEST_F(FaultTest, KillCheckptV2) { KillCheckpt(2, 2); }
TEST_F(FaultTest, KillCheckptV3) { KillCheckpt(3, 2); }

void FaultTest::KillRestore(int style, bool pipe) {
  const std::string file = SourceCheckpt(style);
  const std::vector<std::string> args = {
      "--threads", "2", "restore", "fdst", pipe ? "-" : file, "-"};
  const std::string in = pipe ? file : "";
  // v1 has no frames: its reads are the events (v2/v3 count frames: a file
  // restore's reads are too large and few to cut it finely).
  const std::string event = style == 1 ? "read" : "frame";
  const int n = CountEvents(args, event, in, ResetTarget);
  ASSERT_GE(n, kMinPoints) << "too few events to cut the restore at";
  std::printf("restore v%d from a %s: %d %s events\n", style,
              pipe ? "pipe" : "path", n, event.c_str());
  int marked = 0, unreached = 0;
  for (int p : Points(n)) {
    SCOPED_TRACE(absl::StrFormat("style %d %s, %s:%d", style,
                                 pipe ? "pipe" : "path", event, p));
    ResetTarget();
    Result r = RunCtl(args, absl::StrFormat("%s:%d", event, p), in);
    Outcome o = TargetOutcome();
    // From a pipe the number of reads varies with how the pipe fills (data
    // is read straight into the workspace, as much as each read returns):
    // a late point may not come. Then the restore must have finished whole.
    if (pipe && !r.Killed() && r.Exit() == 0 && o == Outcome::kRestored) {
      ++unreached;
      continue;
    }
    ASSERT_TRUE(r.Killed()) << r.Describe();
    marked += o == Outcome::kMarked;
    EXPECT_NE(o, Outcome::kWrong) << "a killed restore left a wrong workspace";
  }
  // Points past the scan kill the restore while it writes: marked. Most
  // points must be reached.
  EXPECT_GT(marked, 0);
  EXPECT_LE(unreached, kMinPoints / 4);
  std::printf("restore v%d from a %s: %d of %zu kill points left the mark\n",
              style, pipe ? "pipe" : "path", marked, Points(n).size());
  // The first event comes before the workspace is touched: untouched.
  ResetTarget();
  Result r = RunCtl(args, absl::StrFormat("%s:1", event), in);
  ASSERT_TRUE(r.Killed()) << r.Describe();
  EXPECT_EQ(TargetOutcome(), Outcome::kUntouched);
  // Unhindered: restored.
  ResetTarget();
  r = RunCtl(args, "", in);
  ASSERT_EQ(r.Exit(), 0) << r.Describe();
  EXPECT_EQ(TargetOutcome(), Outcome::kRestored);
}

TEST_F(FaultTest, KillRestoreV1Path) { KillRestore(1, false); }
TEST_F(FaultTest, KillRestoreV1Pipe) { KillRestore(1, true); }
TEST_F(FaultTest, KillRestoreV2Path) { KillRestore(2, false); }
TEST_F(FaultTest, KillRestoreV2Pipe) { KillRestore(2, true); }
TEST_F(FaultTest, KillRestoreV3Path) { KillRestore(3, false); }
TEST_F(FaultTest, KillRestoreV3Pipe) { KillRestore(3, true); }

// A checkpoint to a descriptor (stdout redirected to a regular file, so the
// parallel v2 writer writes at final offsets) killed at any write is never
// a file a restore accepts: the footer goes last, after every cgroup.
TEST_F(FaultTest, KillCheckptToARegularFileDescriptor) {
  const std::string path = TmpDir() + "/kill_fd.ckpt";
  const std::vector<std::string> args = {"--threads", "2",   "checkpt", "fsrc",
                                         "-",         "600", "2",       "fd"};
  auto run = [&](const std::string& fault) {
    return RunCtl(args, fault, "", path);
  };
  uint64_t lo = 0, hi = kMaxEvents;
  while (hi - lo > 1) {
    uint64_t mid = (lo + hi) / 2;
    (run(absl::StrFormat("write:%u", mid)).Killed() ? lo : hi) = mid;
  }
  const int n = static_cast<int>(lo);
  ASSERT_GE(n, kMinPoints);
  absl::StatusOr<wksp::Wksp> c = wksp::Wksp::Join("fchk");
  ASSERT_TRUE(c.ok()) << c.status();
  for (int p : Points(n)) {
    SCOPED_TRACE(absl::StrFormat("write:%d of %d", p, n));
    Result r = run(absl::StrFormat("write:%d", p));
    ASSERT_TRUE(r.Killed()) << r.Describe();
    absl::Status st = wksp_checkpt::Restore(*c, path, {});
    EXPECT_FALSE(st.ok()) << "a cut checkpoint restored";
  }
  Result r = run("");
  ASSERT_EQ(r.Exit(), 0) << r.Describe();
  ExpectCompleteCheckpoint(path);
  ::unlink(path.c_str());
}

// A real, asynchronous SIGTERM while the restore waits on a silent pipe
// (half the checkpoint sent, the writer still open): the blocked read gives
// way, the workspace is reset, exit 3.
TEST_F(FaultTest, SigtermWhileRestoreWaitsOnAPipe) {
  const std::string file = SourceCheckpt(3);
  std::ifstream f(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)),
                    std::istreambuf_iterator<char>());
  ResetTarget();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  std::string out_path = TmpDir() + "/sigterm_out";
  int out =
      ::open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[0], 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execl(kCtl, kCtl, "restore", "fdst", "-", "-", nullptr);
    ::_exit(127);
  }
  ::close(p[0]);
  const size_t half = bytes.size() / 2;
  std::thread feeder([&] {
    for (size_t done = 0; done < half;) {
      ssize_t w = ::write(p[1], bytes.data() + done, half - done);
      if (w <= 0) return;
      done += static_cast<size_t>(w);
    }
  });
  feeder.join();
  // Observable progress: the child has read all that was sent (its rchar),
  // bounded at 10 s.
  const std::string io_path = absl::StrFormat("/proc/%d/io", pid);
  bool caught_up = false;
  for (int i = 0; i < 10000 && !caught_up; ++i) {
    std::ifstream io(io_path);
    std::string key;
    uint64_t v = 0;
    while (io >> key >> v) {
      if (key == "rchar:" && v >= half) caught_up = true;
    }
    if (!caught_up) ::usleep(1000);
  }
  EXPECT_TRUE(caught_up) << "the restore never read what was sent";
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(p[1]);
  std::ifstream o(out_path);
  std::string msg((std::istreambuf_iterator<char>(o)),
                  std::istreambuf_iterator<char>());
  ::close(out);
  ::unlink(out_path.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 3) << msg;
  EXPECT_NE(msg.find("interrupted by SIGTERM"), std::string::npos) << msg;
  EXPECT_EQ(TargetOutcome(), Outcome::kEmpty);
}

struct Sig {
  const char* action;
  int signo;
  const char* name;
};
constexpr Sig kSigs[] = {{"int", SIGINT, "SIGINT"},
                         {"term", SIGTERM, "SIGTERM"},
                         {"hup", SIGHUP, "SIGHUP"}};

// A signal in the middle of a checkpoint: exit 128+N, a message, no file.
TEST_F(FaultTest, SignalDuringCheckpt) {
  for (int style : {1, 2, 3}) {
    for (const Sig& s : kSigs) {
      SCOPED_TRACE(absl::StrFormat("style %d, %s", style, s.name));
      const std::string path = TmpDir() + "/sig.ckpt";
      Result r = RunCtl(CheckptArgs(style, 2, path),
                        absl::StrFormat("write:5:%s", s.action));
      EXPECT_EQ(r.Exit(), 128 + s.signo) << r.Describe();
      EXPECT_NE(r.output.find(absl::StrFormat("interrupted by %s", s.name)),
                std::string::npos)
          << r.output;
      EXPECT_NE(r.output.find("no file was created at " + path),
                std::string::npos)
          << r.output;
      EXPECT_FALSE(Exists(path));
      EXPECT_TRUE(Leftovers(path).empty());
      // Once everything is written, a signal still keeps the name free.
      r = RunCtl(CheckptArgs(style, 2, path),
                 absl::StrFormat("publish:1:%s", s.action));
      EXPECT_EQ(r.Exit(), 128 + s.signo) << r.Describe();
      EXPECT_FALSE(Exists(path));
      ::unlink(path.c_str());
    }
  }
}

// A signal during a restore: before the workspace is touched, 128+N and the
// workspace untouched; after, exit 3 and the workspace empty.
TEST_F(FaultTest, SignalDuringRestore) {
  for (int style : {1, 2, 3}) {
    for (bool pipe : {false, true}) {
      const std::string file = SourceCheckpt(style);
      const std::vector<std::string> args = {"restore", "fdst",
                                             pipe ? "-" : file, "-"};
      const std::string in = pipe ? file : "";
      const std::string event = style == 1 ? "read" : "frame";
      const int n = CountEvents(args, event, in, ResetTarget);
      ASSERT_GE(n, 4);
      for (const Sig& s : kSigs) {
        SCOPED_TRACE(absl::StrFormat("style %d %s, %s", style,
                                     pipe ? "pipe" : "path", s.name));
        ResetTarget();
        Result r =
            RunCtl(args, absl::StrFormat("%s:1:%s", event, s.action), in);
        EXPECT_EQ(r.Exit(), 128 + s.signo) << r.Describe();
        EXPECT_EQ(TargetOutcome(), Outcome::kUntouched);
        ResetTarget();
        // Late: the restore writes the workspace. A v2/v3 file's first half
        // of frames is its scan; a v1 file's pre-scan makes all but its last
        // few reads (it reads the data in large pieces).
        const int late = style == 1 && !pipe ? n - 1 : 3 * n / 4;
        r = RunCtl(args, absl::StrFormat("%s:%d:%s", event, late, s.action),
                   in);
        EXPECT_EQ(r.Exit(), 3) << r.Describe();
        EXPECT_NE(r.output.find(absl::StrFormat("interrupted by %s", s.name)),
                  std::string::npos)
            << r.output;
        EXPECT_NE(r.output.find("reset to empty"), std::string::npos)
            << r.output;
        EXPECT_EQ(TargetOutcome(), Outcome::kEmpty);
      }
    }
  }
}

// A full disk, injected and real: exit 6 (out of space) naming it, nothing
// at PATH.
TEST_F(FaultTest, NoSpaceInjected) {
  for (int style : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrFormat("style %d", style));
    const std::string path = TmpDir() + "/nospace.ckpt";
    Result r = RunCtl(CheckptArgs(style, 2, path), "write:4:enospc");
    EXPECT_EQ(r.Exit(), 6) << r.Describe();
    EXPECT_NE(r.output.find("No space left on device"), std::string::npos)
        << r.output;
    EXPECT_FALSE(Exists(path));
    EXPECT_TRUE(Leftovers(path).empty());
  }
}

TEST_F(FaultTest, NoSpaceOnASmallTmpfs) {
  const std::string dir = TmpDir() + "/small_tmpfs";
  ::mkdir(dir.c_str(), 0700);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=4m") != 0) {
    int err = errno;
    ::rmdir(dir.c_str());
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(err)
                 << "): needs root; the injected ENOSPC test covers the path";
  }
  struct statvfs before;
  ASSERT_EQ(::statvfs(dir.c_str(), &before), 0);
  for (int style : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrFormat("style %d", style));
    const std::string path = dir + "/full.ckpt";
    Result r = RunCtl(CheckptArgs(style, 2, path), "");
    EXPECT_EQ(r.Exit(), 6) << r.Describe();
    EXPECT_NE(r.output.find("No space left on device"), std::string::npos)
        << r.output;
    EXPECT_FALSE(Exists(path));
    struct statvfs after;
    ASSERT_EQ(::statvfs(dir.c_str(), &after), 0);
    EXPECT_EQ(after.f_bfree, before.f_bfree)
        << "the partial file's space stayed taken";
  }
  EXPECT_EQ(::umount2(dir.c_str(), MNT_DETACH), 0) << std::strerror(errno);
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace wk
