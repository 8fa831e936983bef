// The distribution scenario of issue 14, on loopback with ports chosen at
// run time, every wait bounded, every process and file cleaned up:
//   - three processes checkpoint the same workspace deterministically with
//     1, 2 and 3 threads: the files and their torrents are byte-identical;
//   - they seed (rate-limited, so the fetch takes a few seconds); three
//     fetchers start at once into three new workspaces; one seeder is
//     killed once a fetcher is halfway; one seeder serves a copy with a
//     byte flipped in every piece of allocation data;
//   - every fetcher ends with the source's allocations; the bad pieces
//     were rejected by the hash checks;
//   - a fetch with no reachable peer fails within its timeout and leaves
//     its workspace untouched;
//   - the stall bound: a slow fetch longer than its timeout succeeds, and
//     one whose seeder stops midway fails after about the timeout, its
//     workspace reset;
//   - a fetcher asked for block hashes it lacks answers with a reject that
//     matches no request (reject_filter.h).
#include "distrib/distrib.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "distrib/plain_session_testing.h"
#include "distrib/torrent.h"
#include "gtest/gtest.h"
#include "libtorrent/add_torrent_params.hpp"
#include "libtorrent/address.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/session.hpp"
#include "libtorrent/settings_pack.hpp"
#include "libtorrent/torrent_handle.hpp"
#include "libtorrent/torrent_info.hpp"
#include "libtorrent/torrent_status.hpp"
#include "wksp/checkpt/test_util.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/test_util.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::distrib {
namespace {

// Bound on any single wait: generous, since a loaded 2-core machine (tests
// and builds in parallel) stretches a 20 s fetch past 60 s.
constexpr int kWaitMs = 90000;

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

// A child process running fn; its exit status is fn's result. The parent
// holds no libtorrent session or thread when it forks.
struct Child {
  pid_t pid = -1;
  int pidfd = -1;
  int out = -1;  // read end of the pipe the child writes its lines to
};

// Children not reaped yet: a failed assertion returns from the test body
// early, and TearDown still stops them.
std::vector<pid_t>& Unreaped() {
  static std::vector<pid_t> v;
  return v;
}

Child Spawn(std::function<int(int out_fd)> fn) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    close(p[0]);
    _exit(fn(p[1]));
  }
  close(p[1]);
  Unreaped().push_back(c.pid);
  c.out = p[0];
  c.pidfd = static_cast<int>(syscall(SYS_pidfd_open, c.pid, 0));
  EXPECT_GE(c.pidfd, 0);
  return c;
}

void WriteLine(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!write(fd, l.data(), l.size());
}

// The next line the child writes, within ms ("" on timeout or EOF).
std::string ReadLine(const Child& c, int ms) {
  std::string line;
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    int left =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                             end - std::chrono::steady_clock::now())
                             .count());
    if (left <= 0) return "";
    pollfd pfd{c.out, POLLIN, 0};
    if (poll(&pfd, 1, left) <= 0) return "";
    char ch;
    if (read(c.out, &ch, 1) != 1) return "";
    if (ch == '\n') return line;
    line += ch;
  }
}

// Waits for the child to exit (within ms; else kills it) and returns its
// exit status (-1 if it did not exit by itself).
int Reap(Child& c, int ms) {
  pollfd pfd{c.pidfd, POLLIN, 0};
  bool exited = poll(&pfd, 1, ms) == 1;
  if (!exited) kill(c.pid, SIGKILL);
  int status = 0;
  waitpid(c.pid, &status, 0);
  std::erase(Unreaped(), c.pid);
  close(c.pidfd);
  close(c.out);
  c.pid = -1;
  if (!exited || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool Exited(const Child& c) {
  pollfd pfd{c.pidfd, POLLIN, 0};
  return poll(&pfd, 1, 0) == 1;
}

using Content = wksp_checkpt::testutil::Snapshot;
using wksp_checkpt::testutil::Snap;

// A port nothing listens on: bound, then closed.
int ClosedPort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// A seeder of `file` through `torrent` on a loopback port of its own choosing,
// in a child process; its first line is the endpoint to dial.
Child SpawnSeeder(const std::string& torrent, const std::string& file,
                  size_t threads, uint64_t upload_rate,
                  const std::string& tcp_congestion = "") {
  return Spawn([=](int out) {
    SeedOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = threads;
    o.upload_rate = upload_rate;
    o.tcp_congestion = tcp_congestion;
    o.ready = [out](const std::string& ep) { WriteLine(out, ep); };
    return Seed(torrent, file, o).ok() ? 0 : 1;
  });
}

// A fetch progress callback that writes `line` to `out` once, when `at`
// bytes are restored.
std::function<void(uint64_t)> SayAt(int out, uint64_t at, std::string line) {
  return [out, at, line, said = false](uint64_t done) mutable {
    if (!said && done >= at) {
      said = true;
      WriteLine(out, line);
    }
  };
}

// `count` allocations of 64 KiB of incompressible data (from `seed`), tag 1.
void FillRandom(wksp::Wksp& w, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < count; ++i) {
    auto g = w.Alloc(64, 64 << 10, 1);
    ASSERT_TRUE(g.ok()) << g.status();
    for (uint64_t j = 0; j < (64 << 10); ++j) w.laddr(*g)[j] = uint8_t(rng());
  }
}

class DistribTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    // Workspaces under $TEST_TMPDIR: Bazel runs tests in PID namespaces, so
    // pids (the prefix) repeat between concurrent runs; /dev/shm is shared.
    wksp::testing::UseTestShmemRoot();
    prefix_ = absl::StrFormat("dt%d", getpid());
  }
  void TearDown() override {
    for (pid_t pid : Unreaped()) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    Unreaped().clear();
    for (const auto& n : wksps_) (void)wksp::Wksp::Delete(n);
    for (const auto& f : files_) ::unlink(f.c_str());
  }
  wksp::Wksp NewWksp(const std::string& tag) {
    wksps_.push_back(prefix_ + tag);
    auto w = wksp::Wksp::Create(wksps_.back(), 2048, 48 << 20);
    EXPECT_TRUE(w.ok()) << w.status();
    return std::move(*w);
  }
  std::string File(const std::string& name) {
    files_.push_back(TmpPath(prefix_ + name));
    ::unlink(files_.back().c_str());
    return files_.back();
  }
  std::string prefix_;
  std::vector<std::string> wksps_, files_;
};

// Seeder 2 turns bad after its check, so fetchers fail pieces and ask peers
// for block hashes; other fetchers reject those requests, which corrupted
// the asking fetcher's heap (libtorrent 2.0.8: reject_filter.h) until our
// fetchers sent such rejects neutered. It died in 1-2 runs of 3 before.
TEST_F(DistribTest, ThreeSeedersThreeFetchers) {
  // The source: incompressible allocations, so v3 files are large.
  wksp::Wksp src = NewWksp("src");
  std::mt19937_64 rng(14);
  for (int i = 0; i < 600; ++i) {
    uint64_t sz = 1 + rng() % 60000;
    auto g = src.Alloc(64, sz, 1 + i % 4);
    ASSERT_TRUE(g.ok()) << g.status();
    for (uint64_t j = 0; j < sz; ++j) src.laddr(*g)[j] = uint8_t(rng());
  }
  const Content want = Snap(src);

  // Three checkpointers, 1, 2 and 3 threads, each making its torrent.
  std::vector<std::string> ckpt, torrent;
  std::vector<Child> writers;
  for (int i = 0; i < 3; ++i) {
    ckpt.push_back(File(absl::StrFormat("_%d.ckpt", i)));
    torrent.push_back(File(absl::StrFormat("_%d.torrent", i)));
    const std::string name = wksps_[0], c = ckpt[i], t = torrent[i];
    writers.push_back(Spawn([=](int out) {
      auto w = wksp::Wksp::Join(name);
      if (!w.ok()) return 1;
      wksp_checkpt::CheckptOptions o;
      o.style = wksp_checkpt::Style::kV3;
      o.threads = static_cast<size_t>(i + 1);
      o.deterministic = true;
      if (!wksp_checkpt::Checkpt(*w, c, o).ok()) return 2;
      auto s = CreateTorrent(c, t, static_cast<size_t>(i + 1));
      if (!s.ok()) return 3;
      WriteLine(out, s->info_hash);
      return 0;
    }));
  }
  std::vector<std::string> hashes;
  for (auto& w : writers) {
    hashes.push_back(ReadLine(w, kWaitMs));
    ASSERT_EQ(Reap(w, kWaitMs), 0);
  }
  const std::vector<uint8_t> file0 = ReadFile(ckpt[0]);
  ASSERT_GT(file0.size(), uint64_t{16} << 20);
  for (int i = 1; i < 3; ++i) {
    EXPECT_TRUE(ReadFile(ckpt[i]) == file0) << "checkpoint " << i;
    EXPECT_TRUE(ReadFile(torrent[i]) == ReadFile(torrent[0])) << i;
    EXPECT_EQ(hashes[i], hashes[0]);
  }
  ASSERT_EQ(hashes[0].size(), 64u);

  // Three seeders, rate-limited so the fetches last long enough to lose one
  // (until 33f767f the limit did not apply to loopback peers; enforced, the
  // fetcher crash of reject_filter.h showed in 2 runs of 3 without the filter).
  std::vector<Child> seeders;
  std::vector<std::string> peers;
  for (int i = 0; i < 3; ++i) {
    const std::string c = ckpt[i], t = torrent[i];
    seeders.push_back(SpawnSeeder(t, c, 2, 6 << 20));
  }
  for (auto& s : seeders) {
    peers.push_back(ReadLine(s, kWaitMs));
    ASSERT_FALSE(peers.back().empty());
  }
  // Seeder 2 was checked: now its copy goes bad, one byte in every piece
  // past the head (its mapping sees the change).
  {
    const uint64_t piece = PieceSize(file0.size());
    int fd = open(ckpt[2].c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    for (uint64_t off = 2 * piece + 1000; off + 200000 < file0.size();
         off += piece) {
      uint8_t b = file0[off] ^ 0x5A;
      ASSERT_EQ(pwrite(fd, &b, 1, static_cast<off_t>(off)), 1);
    }
    close(fd);
  }

  // Three fetchers at once; each says "half" once halfway, then its report.
  std::vector<Child> fetchers;
  uint64_t total = 0;
  for (const auto& b : want.bytes) total += b.size();
  for (int i = 0; i < 3; ++i) {
    NewWksp(absl::StrFormat("dst%d", i));
    const std::string name = wksps_.back();
    const std::string t = torrent[0];
    fetchers.push_back(Spawn([=](int out) {
      auto w = wksp::Wksp::Join(name);
      if (!w.ok()) return 1;
      FetchOptions o;
      o.peers = peers;
      o.listen = "127.0.0.1:0";
      o.timeout_s = 40;
      o.threads = 2;
      o.mem_max = 4 << 20;  // smaller than the file: the window moves
      o.progress = SayAt(out, total / 2, "half");
      auto r = Fetch(*w, t, o);
      if (!r.ok()) {
        WriteLine(out, std::string(r.status().message()));
        return 2;
      }
      WriteLine(out,
                absl::StrFormat("%u %u %u %u", r->hash_failures, r->peak_held,
                                r->piece_sz, r->peer_resets));
      return 0;
    }));
  }
  ASSERT_EQ(ReadLine(fetchers[0], kWaitMs), "half");
  // Killed midway: the fetches are not done yet.
  int running = 0;
  for (const auto& f : fetchers) running += !Exited(f);
  kill(seeders[0].pid, SIGKILL);
  EXPECT_GT(running, 0) << "the fetches ended before a seeder was killed";

  uint64_t failures = 0;
  for (int i = 0; i < 3; ++i) {
    std::string line;
    for (int k = 0; k < 2 && (line.empty() || line == "half"); ++k) {
      line = ReadLine(fetchers[i], kWaitMs);
    }
    EXPECT_EQ(Reap(fetchers[i], kWaitMs), 0) << "fetcher " << i << ": " << line;
    std::printf(
        "fetcher %d: hash failures, peak bytes held, piece size, stalls: %s\n",
        i, line.c_str());
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    ASSERT_EQ(f.size(), 4u) << line;
    failures += std::stoull(f[0]);
    // What a fetcher held stayed within its stated bound (distrib.h; every
    // cgroup frame here is smaller than mem_max): mem_max, plus the pieces
    // of the head and tail.
    const uint64_t piece = std::stoull(f[2]);
    EXPECT_LE(std::stoull(f[1]),
              (uint64_t{4} << 20) + 4 * piece + (uint64_t{192} << 10));
    auto w = wksp::Wksp::Join(wksps_[1 + i]);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(Snap(*w) == want) << "fetcher " << i;
    EXPECT_TRUE(w->Verify().ok());
  }
  EXPECT_GT(failures, 0u) << "the bad seeder's pieces were never rejected";
  for (auto& s : seeders) {
    if (s.pid > 0 && !Exited(s)) kill(s.pid, SIGTERM);
    (void)Reap(s, kWaitMs);
  }
}

TEST_F(DistribTest, NoPeerFailsWithinTimeoutUntouched) {
  wksp::Wksp src = NewWksp("src");
  auto g = src.Alloc(64, 5000, 3);
  ASSERT_TRUE(g.ok());
  const std::string c = File(".ckpt"), t = File(".torrent");
  ASSERT_TRUE(wksp_checkpt::Checkpt(src, c, {}).ok());
  ASSERT_TRUE(CreateTorrent(c, t, 1).ok());
  wksp::Wksp dst = NewWksp("dst");
  ASSERT_TRUE(dst.Alloc(64, 777, 5).ok());
  const Content before = Snap(dst);
  FetchOptions o;
  o.peers = {absl::StrFormat("127.0.0.1:%d", ClosedPort())};
  o.listen = "127.0.0.1:0";
  o.timeout_s = 2;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = Fetch(dst, t, o);
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  EXPECT_FALSE(wksp_checkpt::IsWorkspaceReset(r.status()));
  EXPECT_LT(s, 2 + 5.0);  // the timeout, plus closing the session
  EXPECT_TRUE(Snap(dst) == before);
}

// The congestion control of every established TCP connection with `port`
// at either end, as ss names it (both ends of a loopback connection are
// listed): one name per connection end.
std::vector<std::string> CongestionOfConnections(int port) {
  std::vector<std::string> names;
  std::ifstream avail("/proc/sys/net/ipv4/tcp_available_congestion_control");
  std::vector<std::string> known(std::istream_iterator<std::string>(avail),
                                 std::istream_iterator<std::string>{});
  const std::string cmd = absl::StrFormat(
      "ss -tinH state established '( sport = :%d or dport = :%d )' 2>&1",
      port, port);
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return names;
  char line[4096];
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    for (absl::string_view word :
         absl::StrSplit(line, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
      if (std::find(known.begin(), known.end(), word) != known.end()) {
        names.emplace_back(word);
      }
    }
  }
  ::pclose(p);
  return names;
}

// TCP_NOTSENT_LOWAT of this process's TCP sockets connected to `port`
// (-1 where it cannot be read).
std::vector<int> NotSentLowatOfSocketsTo(int port) {
  std::vector<int> out;
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
        peer.sin_family != AF_INET || ntohs(peer.sin_port) != port) {
      continue;
    }
    int v = -1;
    socklen_t vlen = sizeof(v);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &vlen) != 0) {
      v = -1;
    }
    out.push_back(v);
  }
  return out;
}

// --tcp-congestion: both ends of the seed's and the fetch's connections use
// it while the fetch runs, and the fetch's keeps its unsent queue short (reno: built into every kernel, and no system's
// default here); a name the kernel does not offer fails the fetch at once,
// naming those it offers, the workspace untouched.
TEST_F(DistribTest, TcpCongestionOnEveryPeerConnection) {
  wksp::Wksp src = NewWksp("src");
  FillRandom(src, 48, 21);
  const Content want = Snap(src);
  const std::string c = File(".ckpt"), t = File(".torrent");
  ASSERT_TRUE(wksp_checkpt::Checkpt(src, c, {}).ok());
  ASSERT_TRUE(CreateTorrent(c, t, 1).ok());
  // 3 MB at 1 MB/s: about 3 s in which to look at the connections.
  Child seeder = SpawnSeeder(t, c, 1, 1 << 20, "reno");
  const std::string ep = ReadLine(seeder, kWaitMs);
  ASSERT_FALSE(ep.empty());
  const int port = std::atoi(ep.substr(ep.rfind(':') + 1).c_str());
  wksp::Wksp dst = NewWksp("dst");
  FetchOptions o;
  o.peers = {ep};
  o.listen = "127.0.0.1:0";
  o.tcp_congestion = "reno";
  // Looked at as the first piece comes in: the connection is up then (a
  // fetch that has every piece, a seed, may drop its connection to the
  // seeder before the restore reports progress, as under ASan).
  std::vector<std::string> seen;
  std::vector<int> lowat;
  o.phase = [&](FetchPhase phase) {
    if (phase == FetchPhase::kDownloading) {
      seen = CongestionOfConnections(port);
      lowat = NotSentLowatOfSocketsTo(port);
    }
  };
  auto r = Fetch(dst, t, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(Snap(dst) == want);
  // The fetch's end and the seed's end of their one connection.
  EXPECT_EQ(seen, std::vector<std::string>({"reno", "reno"}))
      << absl::StrJoin(seen, " ");
  // The fetch's socket keeps its unsent queue short (kNotSentLowat).
  EXPECT_EQ(lowat, std::vector<int>({16 << 10})) << absl::StrJoin(lowat, " ");
  kill(seeder.pid, SIGTERM);  // no handler in the child: it just ends
  (void)Reap(seeder, kWaitMs);

  wksp::Wksp other = NewWksp("other");
  ASSERT_TRUE(other.Alloc(64, 999, 2).ok());
  const Content before = Snap(other);
  o.tcp_congestion = "no-such-cc";
  o.phase = nullptr;
  auto bad = Fetch(other, t, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no-such-cc"), std::string::npos);
  EXPECT_NE(bad.status().message().find("offers: "), std::string::npos)
      << bad.status();
  EXPECT_NE(bad.status().message().find("reno"), std::string::npos);
  EXPECT_TRUE(Snap(other) == before);
  SeedOptions so;
  so.tcp_congestion = "no-such-cc";
  EXPECT_EQ(Seed(t, c, so).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A v1-only torrent (the companion for v1 clients): seed checks every
// piece's SHA-1 at start and refuses a file that differs in one piece,
// naming the torrent and the count; alone or as a companion of the hybrid
// (each torrent is checked), and serves the right file under both on one
// port; fetch refuses it at once, naming the fix, the workspace untouched.
TEST_F(DistribTest, V1OnlyTorrentSeedChecksPiecesFetchRefuses) {
  const uint64_t n = 700001;  // 11 pieces of 64 KiB, the last short
  const std::string good = File(".good"), bad = File(".bad");
  {
    std::mt19937_64 rng(7);
    std::vector<char> b(n);
    for (auto& c : b) c = static_cast<char>(rng());
    std::ofstream(good, std::ios::binary).write(b.data(), b.size());
    b[3 * (64 << 10) + 5] ^= 1;  // one bit of piece 3
    std::ofstream(bad, std::ios::binary).write(b.data(), b.size());
  }
  const std::string v1 = File(".v1.torrent"), v1bad = File(".v1bad.torrent"),
                    hy = File(".hy.torrent");
  ASSERT_TRUE(CreateTorrent(good, v1, 1, TorrentKind::kV1).ok());
  ASSERT_TRUE(CreateTorrent(bad, v1bad, 1, TorrentKind::kV1).ok());
  ASSERT_TRUE(CreateTorrent(good, hy, 1, TorrentKind::kHybrid).ok());
  auto seed = [](const std::string& torrent, const std::string& file,
                 std::vector<std::string> companions, std::string* ep) {
    SeedOptions o;
    o.listen = "127.0.0.1:0";
    o.seconds = 0.2;
    o.threads = 2;
    o.companions = std::move(companions);
    o.ready = [ep](const std::string& e) { *ep = e; };
    return Seed(torrent, file, o);
  };
  std::string ep;
  auto r = seed(v1, bad, {}, &ep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("1 of 11 pieces differ"),
            std::string_view::npos)
      << r.status();
  EXPECT_NE(r.status().message().find(v1), std::string_view::npos)
      << r.status();
  EXPECT_TRUE(ep.empty());  // never served
  // The hybrid matches the file, the companion does not: refused too.
  r = seed(hy, good, {v1bad}, &ep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(v1bad), std::string_view::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("1 of 11 pieces differ"),
            std::string_view::npos)
      << r.status();
  EXPECT_TRUE(ep.empty());
  // The right file under the v1 torrent, and under the hybrid with the v1
  // companion: checked, then served.
  r = seed(v1, good, {}, &ep);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(ep.empty());
  ep.clear();
  r = seed(hy, good, {v1}, &ep);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(ep.empty());
  // The same torrent twice is a mistake, said so.
  r = seed(hy, good, {hy}, &ep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("given twice"), std::string_view::npos)
      << r.status();

  wksp::Wksp dst = NewWksp("dst");
  ASSERT_TRUE(dst.Alloc(64, 777, 5).ok());
  const Content before = Snap(dst);
  FetchOptions fo;
  fo.peers = {absl::StrFormat("127.0.0.1:%d", ClosedPort())};
  fo.listen = "127.0.0.1:0";
  auto f = Fetch(dst, v1, fo);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("v1-only torrent"),
            std::string_view::npos)
      << f.status();
  EXPECT_NE(f.status().message().find("hybrid or v2 torrent"),
            std::string_view::npos)
      << f.status();
  EXPECT_TRUE(Snap(dst) == before);
}

// A plain libtorrent client (its default peer id, its own files: not one of
// our fetchers) downloads the v1-only companion from a seed serving it
// beside the hybrid, on the hybrid's port: the companion's blocks come from
// the same region as the hybrid's (its own storage there), byte-identical,
// every piece checked against its SHA-1 by the client.
TEST_F(DistribTest, PlainClientDownloadsV1CompanionFromSeed) {
  const uint64_t n = (uint64_t{3} << 20) + 12345;  // 49 pieces of 64 KiB
  const std::string file = File(".src"), v1 = File(".v1.torrent"),
                    hy = File(".hy.torrent");
  std::vector<char> bytes(n);
  {
    std::mt19937_64 rng(11);
    for (auto& c : bytes) c = static_cast<char>(rng());
    std::ofstream(file, std::ios::binary).write(bytes.data(), bytes.size());
  }
  ASSERT_TRUE(CreateTorrent(file, hy, 1, TorrentKind::kHybrid).ok());
  ASSERT_TRUE(V1FromHybrid(hy, v1).ok());
  Child seeder = Spawn([=](int out) {
    SeedOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.companions = {v1};
    o.ready = [out](const std::string& ep) { WriteLine(out, ep); };
    return Seed(hy, file, o).ok() ? 0 : 1;
  });
  const std::string ep = ReadLine(seeder, kWaitMs);
  ASSERT_FALSE(ep.empty());
  const std::string dir = TmpPath(prefix_ + "_plain");
  ::mkdir(dir.c_str(), 0755);
  files_.push_back(dir + "/" + kTorrentFileName);  // removed by TearDown
  // The plain client runs in a child of its own, its session left to the
  // child's _exit: libtorrent's teardown (uninstrumented) draws a
  // ThreadSanitizer report against its disk thread otherwise. It writes
  // its count of pieces once seeding with all of them (under ASan it was
  // seen to say seeding with 46 or 48 of 49 for a moment), or why not.
  Child client = Spawn([=](int out) {
    lt::session& ses = *new lt::session(
        testing::PlainLoopbackSettings(lt::alert_category::status));
    lt::add_torrent_params atp;
    lt::error_code ec;
    atp.ti = std::make_shared<lt::torrent_info>(v1, ec);
    if (ec || atp.ti->v2()) {
      WriteLine(out, "not a v1-only torrent: " + ec.message());
      return 1;
    }
    atp.save_path = dir;
    lt::torrent_handle th = ses.add_torrent(std::move(atp));
    const size_t colon = ep.rfind(':');
    th.connect_peer(lt::tcp::endpoint(
        lt::make_address(ep.substr(0, colon)),
        static_cast<uint16_t>(std::stoi(ep.substr(colon + 1)))));
    const auto end =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    lt::torrent_status last;
    while (std::chrono::steady_clock::now() < end) {
      ses.wait_for_alert(lt::milliseconds(100));
      std::vector<lt::alert*> alerts;
      ses.pop_alerts(&alerts);
      const lt::torrent_status st = th.status();
      if (st.is_seeding && st.num_pieces == th.torrent_file()->num_pieces()) {
        WriteLine(out, std::to_string(st.num_pieces));
        return 0;
      }
      last = st;
    }
    WriteLine(out, absl::StrFormat("not seeding in time: seeding %d, %d pieces",
                                   last.is_seeding, last.num_pieces));
    return 1;
  });
  EXPECT_EQ(ReadLine(client, kWaitMs), "49");
  EXPECT_EQ(Reap(client, kWaitMs), 0);
  std::ifstream in(dir + "/" + kTorrentFileName, std::ios::binary);
  const std::vector<char> got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_TRUE(got == bytes) << "downloaded " << got.size() << " bytes";
  kill(seeder.pid, SIGTERM);  // no handler in the child: it just ends
  (void)Reap(seeder, kWaitMs);
  ::rmdir(dir.c_str());
}

// The stall bound (--timeout): no new verified piece for timeout_s fails the
// fetch, however long it has run; a slow fetch that keeps getting pieces
// does not. One rate-limited seeder (1 MiB/s, an 8 MiB file: a piece every
// quarter second, the whole file in about 8 s):
//   - a fetch with timeout_s = 3 finishes although it lasts longer than 3 s;
//   - a second fetch from it, the seeder stopped with SIGSTOP once half the
//     data is restored, fails about 3 s later with the stall message; its
//     workspace was modified, so it is reset to empty, carries no restore
//     mark and verifies (wksp_ctl: exit status 3).
TEST_F(DistribTest, StallBoundNotWholeFetch) {
  constexpr double kTimeout = 3;
  wksp::Wksp src = NewWksp("src");
  ASSERT_NO_FATAL_FAILURE(FillRandom(src, 128, 21));  // 8 MiB
  const Content want = Snap(src);
  uint64_t total = 0;
  for (const auto& b : want.bytes) total += b.size();
  const std::string c = File(".ckpt"), t = File(".torrent");
  wksp_checkpt::CheckptOptions co;
  co.style = wksp_checkpt::Style::kV2;
  ASSERT_TRUE(wksp_checkpt::Checkpt(src, c, co).ok());
  ASSERT_TRUE(CreateTorrent(c, t, 1).ok());

  Child seeder = SpawnSeeder(t, c, 1, 1 << 20);
  const std::string peer = ReadLine(seeder, kWaitMs);
  ASSERT_FALSE(peer.empty());

  // A fetcher: "half" once half the data is restored, then "ok" or the
  // failure's code and message.
  auto fetcher = [&](const std::string& name) {
    return Spawn([=](int out) {
      auto w = wksp::Wksp::Join(name);
      if (!w.ok()) return 1;
      FetchOptions o;
      o.peers = {peer};
      o.listen = "127.0.0.1:0";
      o.timeout_s = kTimeout;
      o.threads = 1;
      o.upload = false;
      // A window of 1 MiB: the download runs at most that far ahead of the
      // restore, so "half restored" means about half downloaded. With the
      // default window (the whole file) it runs ahead by however long a
      // loaded machine keeps the restore thread waiting, and the fetch
      // stopped at "half" sometimes had every piece already (1 run in 4
      // finished within 0.1 s of the seeder's SIGSTOP).
      o.mem_max = 1 << 20;
      o.progress = SayAt(out, total / 2, "half");
      auto r = Fetch(*w, t, o);
      if (r.ok()) {
        WriteLine(out, "ok");
        return 0;
      }
      WriteLine(out, absl::StrFormat(
                         "%d %d %s", static_cast<int>(r.status().code()),
                         wksp_checkpt::IsWorkspaceReset(r.status()) ? 1 : 0,
                         r.status().message()));
      return 2;
    });
  };
  using SteadyClock = std::chrono::steady_clock;
  auto since = [](SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
  };

  // 1. Slow but moving: longer than the stall bound, and it succeeds.
  NewWksp("slow");
  const auto t0 = SteadyClock::now();
  Child slow = fetcher(wksps_.back());
  EXPECT_EQ(ReadLine(slow, kWaitMs), "half");
  EXPECT_EQ(ReadLine(slow, kWaitMs), "ok");
  EXPECT_EQ(Reap(slow, kWaitMs), 0);
  const double slow_s = since(t0);
  std::printf("slow fetch: %.1f s with a %.0f s stall bound\n", slow_s,
              kTimeout);
  EXPECT_GT(slow_s, 1.5 * kTimeout) << "the rate limit did not slow it";
  {
    auto w = wksp::Wksp::Join(wksps_.back());
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(Snap(*w) == want);
  }

  // 2. The seeder stops halfway: the fetch fails on the stall bound.
  wksp::Wksp stalled = NewWksp("stalled");
  Child f = fetcher(wksps_.back());
  ASSERT_EQ(ReadLine(f, kWaitMs), "half");
  ASSERT_EQ(kill(seeder.pid, SIGSTOP), 0);
  const auto stopped = SteadyClock::now();
  const std::string line = ReadLine(f, kWaitMs);
  const double waited = since(stopped);
  EXPECT_EQ(Reap(f, kWaitMs), 2) << line;
  std::printf("stalled fetch failed %.1f s after SIGSTOP: %s\n", waited,
              line.c_str());
  // Pieces already on their way when it stopped may still arrive, so the
  // clock may start a little after the stop, never before the last piece
  // (a quarter second earlier at most, at this rate, on an idle machine).
  EXPECT_GE(waited, kTimeout - 1);
  EXPECT_LT(waited, kTimeout + 10);  // the bound plus closing the session
  const std::string want_head = absl::StrFormat(
      "%d 1 ", static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(line.rfind(want_head, 0), 0u) << line;
  EXPECT_NE(line.find("no new piece for 3 s"), std::string::npos) << line;
  // Reset to empty, no restore mark, metadata consistent.
  EXPECT_FALSE(stalled.CurrentRestoreMark().has_value());
  auto u = stalled.GetUsage();
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->used_sz, 0u);
  EXPECT_TRUE(stalled.Verify().ok());

  kill(seeder.pid, SIGCONT);
  kill(seeder.pid, SIGTERM);
  (void)Reap(seeder, kWaitMs);
}

// Stall resets while pieces are half in. Two slow seeders, the second
// sending a bad byte in every piece past the head; once the first piece
// is in the good one is stopped (SIGSTOP) for 4 s. Meanwhile the bad
// one sends blocks of pieces that cannot pass without the good one's, and
// the fetch, finding no new piece, forgets every peer and redials (stall_s
// 0.5: at every second without a piece) while libtorrent's piece picker
// still names the forgotten peers as the senders of those blocks. Then the
// good seeder goes on and those pieces are checked. With
// torrent_handle::clear_peers the peer entries were freed under the picker
// and the checks wrote into freed memory (the likely cause of fetchers
// dying with munmap_chunk(): invalid pointer); the fetch must end with the
// source's allocations, having reset its peers.
TEST_F(DistribTest, PeerResetsWhilePiecesAreHalfIn) {
  wksp::Wksp src = NewWksp("src");
  ASSERT_NO_FATAL_FAILURE(FillRandom(src, 32, 33));  // 2 MiB
  const Content want = Snap(src);
  std::vector<std::string> ckpt = {File("_good.ckpt"), File("_bad.ckpt")};
  const std::string t = File(".torrent");
  wksp_checkpt::CheckptOptions co;
  co.style = wksp_checkpt::Style::kV2;
  ASSERT_TRUE(wksp_checkpt::Checkpt(src, ckpt[0], co).ok());
  ASSERT_TRUE(CreateTorrent(ckpt[0], t, 1).ok());
  const std::vector<uint8_t> file = ReadFile(ckpt[0]);
  {
    std::ofstream copy(ckpt[1], std::ios::binary);
    copy.write(reinterpret_cast<const char*>(file.data()),
               static_cast<std::streamsize>(file.size()));
    ASSERT_TRUE(copy.good());
  }

  // 192 KiB/s each: a piece takes over a second, so blocks of several
  // pieces are in flight at any time.
  std::vector<Child> seeders;
  std::vector<std::string> peers;
  for (const std::string& c : ckpt) {
    seeders.push_back(SpawnSeeder(t, c, 1, 192 << 10));
    peers.push_back(ReadLine(seeders.back(), kWaitMs));
    ASSERT_FALSE(peers.back().empty());
  }
  // The second seeder was checked: now its copy goes bad past the head.
  {
    const uint64_t piece = PieceSize(file.size());
    int fd = open(ckpt[1].c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    for (uint64_t off = piece + 1000; off < file.size(); off += piece) {
      uint8_t b = file[off] ^ 0x5A;
      ASSERT_EQ(pwrite(fd, &b, 1, static_cast<off_t>(off)), 1);
    }
    close(fd);
  }

  NewWksp("dst");
  const std::string name = wksps_.back();
  Child f = Spawn([=](int out) {
    auto w = wksp::Wksp::Join(name);
    if (!w.ok()) return 1;
    FetchOptions o;
    o.peers = peers;
    o.listen = "127.0.0.1:0";
    o.timeout_s = 30;
    o.threads = 1;
    o.upload = false;
    o.stall_s = 0.5;
    o.phase = [out](FetchPhase ph) {
      if (ph == FetchPhase::kDownloading) WriteLine(out, "first");
    };
    auto r = Fetch(*w, t, o);
    if (!r.ok()) {
      WriteLine(out, std::string(r.status().message()));
      return 2;
    }
    WriteLine(out, absl::StrFormat("%u %u", r->peer_resets, r->hash_failures));
    return 0;
  });
  ASSERT_EQ(ReadLine(f, kWaitMs), "first");
  ASSERT_EQ(kill(seeders[0].pid, SIGSTOP), 0);
  // The outage: the fetch cannot end without the good seeder's blocks.
  EXPECT_EQ(ReadLine(f, 4000), "");
  ASSERT_EQ(kill(seeders[0].pid, SIGCONT), 0);
  const std::string line = ReadLine(f, kWaitMs);
  EXPECT_EQ(Reap(f, kWaitMs), 0) << line;
  std::printf("peer resets, hash failures: %s\n", line.c_str());
  std::vector<std::string> n = absl::StrSplit(line, ' ');
  ASSERT_EQ(n.size(), 2u) << line;
  EXPECT_GT(std::stoull(n[0]), 0u) << "the peers were never reset";
  auto w = wksp::Wksp::Join(name);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(Snap(*w) == want);
  EXPECT_TRUE(w->Verify().ok());
  for (auto& s : seeders) {
    kill(s.pid, SIGTERM);
    (void)Reap(s, kWaitMs);
  }
}

// The exchange that corrupted libtorrent 2.0.8 fetchers' heaps
// (reject_filter.h), provoked by hand: a raw BitTorrent v2 client connects
// to a fetcher that has nothing yet and asks it for block hashes. The
// fetcher rejects, and the reject must reach the wire neutered (proof-layer
// count with its top bit set, every other field echoed), so that a
// libtorrent 2.0.8 asker matches it to no request and drops it.
TEST_F(DistribTest, FetcherSendsBlockHashRejectsNeutered) {
  wksp::Wksp src = NewWksp("src");
  std::mt19937_64 rng(5);
  auto g = src.Alloc(64, 300 << 10, 1);
  ASSERT_TRUE(g.ok());
  for (uint64_t j = 0; j < (300 << 10); ++j) src.laddr(*g)[j] = uint8_t(rng());
  const std::string c = File(".ckpt"), t = File(".torrent");
  ASSERT_TRUE(wksp_checkpt::Checkpt(src, c, {}).ok());
  auto sum = CreateTorrent(c, t, 1);
  ASSERT_TRUE(sum.ok()) << sum.status();
  lt::error_code ec;
  const lt::torrent_info ti(t, ec);
  ASSERT_FALSE(ec) << ec.message();
  const lt::sha256_hash root = ti.files().root(lt::file_index_t{0});

  // A fetcher whose only given peer is not there: it listens and waits.
  NewWksp("dst");
  const std::string name = wksps_.back();
  const int port = ClosedPort();
  Child f = Spawn([=](int out) {
    auto w = wksp::Wksp::Join(name);
    if (!w.ok()) return 1;
    FetchOptions o;
    o.peers = {absl::StrFormat("127.0.0.1:%d", ClosedPort())};
    o.listen = absl::StrFormat("127.0.0.1:%d", port);
    o.timeout_s = 15;
    auto r = Fetch(*w, t, o);
    WriteLine(out, std::string(r.status().message()));
    return 0;
  });

  // Connect and shake hands: v2 (reserved bit 0x10 of byte 7) and fast
  // extension (0x04), the info-hash truncated. Until the fetcher listens
  // the connect fails, and until its torrent is checked and resumed it
  // closes a connection for it unanswered: both are tried again (bounded).
  std::string hs = "\x13" "BitTorrent protocol";
  hs += std::string("\0\0\0\0\0\0\0\x14", 8);
  for (int i = 0; i < 20; ++i) {
    hs += static_cast<char>(std::stoi(sum->info_hash.substr(2 * i, 2),
                                      nullptr, 16));
  }
  hs += "-XX0000-abcdefghijkl";
  auto read_from = [](int fd, size_t n) {
    std::string b(n, '\0');
    size_t got = 0;
    while (got < n) {
      const ssize_t r = read(fd, b.data() + got, n - got);
      if (r <= 0) return std::string();
      got += static_cast<size_t>(r);
    }
    return b;
  };
  int s = -1;
  for (int i = 0; i < 200 && s < 0; ++i) {
    s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    timeval tv{10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        write(s, hs.data(), hs.size()) != static_cast<ssize_t>(hs.size()) ||
        read_from(s, 68).size() != 68) {
      close(s);
      s = -1;
      usleep(50000);
    }
  }
  ASSERT_GE(s, 0) << "the fetcher on " << port << " never shook hands";
  auto read_n = [&read_from, s](size_t n) { return read_from(s, n); };

  // Hash request (21): pieces root, base 0 (blocks), index 0, 2 hashes,
  // no proof layers. The fetcher has no block, so no block hash.
  auto put32 = [](std::string& m, uint32_t v) {
    for (int sh = 24; sh >= 0; sh -= 8) m += static_cast<char>(v >> sh);
  };
  auto get32 = [](const std::string& m, size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | uint8_t(m[at + i]);
    return v;
  };
  std::string req;
  put32(req, 49);
  req += static_cast<char>(21);
  req.append(reinterpret_cast<const char*>(root.data()), 32);
  put32(req, 0);
  put32(req, 0);
  put32(req, 2);
  put32(req, 0);
  ASSERT_EQ(write(s, req.data(), req.size()), 53);
  std::string reject;
  for (int i = 0; i < 100 && reject.empty(); ++i) {
    const std::string len = read_n(4);
    ASSERT_EQ(len.size(), 4u) << "the fetcher sent no hash reject";
    const std::string body = read_n(get32(len, 0));
    if (!body.empty() && body[0] == 23) reject = body;
  }
  ASSERT_EQ(reject.size(), 49u);
  EXPECT_EQ(reject.substr(1, 32), req.substr(5, 32));  // pieces root
  EXPECT_EQ(get32(reject, 33), 0u);                    // base
  EXPECT_EQ(get32(reject, 37), 0u);                    // index
  EXPECT_EQ(get32(reject, 41), 2u);                    // count
  EXPECT_EQ(get32(reject, 45), 0x80000000u);           // proof layers
  close(s);
  kill(f.pid, SIGTERM);
  (void)Reap(f, kWaitMs);
}

}  // namespace
}  // namespace wk::distrib
