// Loopback throughput of a torrent fetch + restore against a plain TCP copy
// of the same file, measured in the same run (docs/DISTRIBUTION.md).
//
// The workload is the reference one (docs/PERFORMANCE.md): allocations of
// log-uniform size between 4 KiB and 4 MiB, every page half pseudo-random,
// half text, checkpointed as v3 (deterministic) to /dev/shm. Then, each
// over 127.0.0.1:
//   tcp copy      one process writes the file into a socket, this one reads
//                 it into a buffer and drops it (the ceiling: no hashing, no
//                 restore);
//   tcp restore   the same socket fed to a stream restore (the way without
//                 a torrent: `checkpt W - | ssh host wksp_ctl restore W -`);
//   fetch, 1 / 3 seeders   Fetch into the workspace from that many seeder
//                 processes.
// Figures: GB/s of file bytes (1e9), and each one's ratio to the tcp copy.
// Usage: fetch_throughput [BYTES allocated, default 256M] (build -c opt).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/workload.h"
#include "distrib/distrib.h"
#include "distrib/torrent.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "util/clock.h"
#include "util/parse.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::distrib {
namespace {

int Die(const std::string& what) {
  std::fprintf(stderr, "fetch_throughput: %s\n", what.c_str());
  return 1;
}

// A listening loopback socket on a port the kernel picks.
int Listen(int* port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      listen(s, 1) != 0) {
    return -1;
  }
  socklen_t len = sizeof(a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return s;
}

int Connect(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  return s;
}

// A child that accepts one connection and writes the file into it.
pid_t ServeOnce(int lsock, const io::Mapping& file) {
  pid_t pid = fork();
  if (pid == 0) {
    int c = accept(lsock, nullptr, nullptr);
    _exit(c >= 0 && io::WriteExact(c, file.data(), file.size()).ok() ? 0 : 1);
  }
  return pid;
}

double Seconds(int64_t t0) { return (MonotonicNs() - t0) * 1e-9; }

struct Row {
  std::string what;
  double seconds;
};

int Main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  uint64_t want = uint64_t{256} << 20;
  if (argc > 1) {
    std::optional<uint64_t> v = ParseByteCount(argv[1]);
    if (!v || *v == 0) return Die("bad size (e.g. 256M, 1G)");
    want = *v;
  }
  const std::string tag = absl::StrFormat("ft%d", getpid());
  const std::string ckpt = "/dev/shm/" + tag + ".ckpt";
  const std::string torrent = "/dev/shm/" + tag + ".torrent";
  const uint64_t data_max = want + want / 2 + (uint64_t{64} << 20);
  auto w = wksp::Wksp::Create(tag, 65536, data_max);
  if (!w.ok()) return Die(std::string(w.status().message()));
  struct Cleanup {
    std::string name, ckpt, torrent;
    ~Cleanup() {
      (void)wksp::Wksp::Delete(name);
      ::unlink(ckpt.c_str());
      // The index sidecar a sealed v2/v3 checkpoint writes beside its path.
      ::unlink((ckpt + ".wkspidx").c_str());
      ::unlink(torrent.c_str());
    }
  } cleanup{tag, ckpt, torrent};

  std::mt19937_64 rng(1);
  uint64_t allocated = 0;
  while (allocated < want) {
    const double lg = 12 + 10 * std::uniform_real_distribution<>(0, 1)(rng);
    const uint64_t sz = static_cast<uint64_t>(std::exp2(lg));
    auto g = w->Alloc(4096, sz, 1);
    if (!g.ok()) break;
    bench::FillHalfCompressible({w->laddr(*g), sz}, *g, 7);
    allocated += sz;
  }
  wksp_checkpt::CheckptOptions co;
  co.deterministic = true;
  co.threads = 0;
  if (auto st = wksp_checkpt::Checkpt(*w, ckpt, co); !st.ok()) {
    return Die(std::string(st.message()));
  }
  auto ts = CreateTorrent(ckpt, torrent, 0);
  if (!ts.ok()) return Die(std::string(ts.status().message()));
  auto file = io::MapFileReadOnly(ckpt);
  if (!file.ok()) return Die(std::string(file.status().message()));
  absl::PrintF(
      "workload: %.1f MiB allocated, v3 file %.1f MiB, %u pieces of %u KiB\n",
      allocated / 1048576.0, file->size() / 1048576.0, ts->pieces,
      ts->piece_sz >> 10);

  std::vector<Row> rows;
  {  // tcp copy
    int port = 0, l = Listen(&port);
    pid_t pid = ServeOnce(l, *file);
    int s = Connect(port);
    std::vector<uint8_t> buf(4 << 20);
    const int64_t t0 = MonotonicNs();
    uint64_t got = 0;
    for (ssize_t r; (r = read(s, buf.data(), buf.size())) > 0;) got += r;
    rows.push_back({"tcp copy", Seconds(t0)});
    close(s);
    close(l);
    waitpid(pid, nullptr, 0);
    if (got != file->size()) return Die("tcp copy short");
  }
  {  // tcp stream restore
    int port = 0, l = Listen(&port);
    pid_t pid = ServeOnce(l, *file);
    int s = Connect(port);
    wksp_checkpt::RestoreOptions ro;
    ro.threads = 0;
    const int64_t t0 = MonotonicNs();
    absl::Status st = wksp_checkpt::RestoreFd(*w, s, ro);
    rows.push_back({"tcp restore (stream)", Seconds(t0)});
    close(s);
    close(l);
    waitpid(pid, nullptr, 0);
    if (!st.ok()) return Die(std::string(st.message()));
  }
  for (int seeders : {1, 3}) {
    std::vector<pid_t> pids;
    std::vector<std::string> peers;
    for (int i = 0; i < seeders; ++i) {
      int p[2];
      if (pipe(p) != 0) return Die("pipe");
      pid_t pid = fork();
      if (pid == 0) {
        close(p[0]);
        SeedOptions so;
        so.listen = "127.0.0.1:0";
        so.ready = [&](const std::string& ep) {
          std::string l = ep + "\n";
          (void)!write(p[1], l.data(), l.size());
        };
        _exit(Seed(torrent, ckpt, so).ok() ? 0 : 1);
      }
      close(p[1]);
      std::string ep;
      char ch;
      while (read(p[0], &ch, 1) == 1 && ch != '\n') ep += ch;
      close(p[0]);
      if (ep.empty()) return Die("a seeder did not start");
      pids.push_back(pid);
      peers.push_back(ep);
    }
    FetchOptions fo;
    fo.peers = peers;
    fo.listen = "127.0.0.1:0";
    fo.timeout_s = 600;
    auto r = Fetch(*w, torrent, fo);
    for (pid_t pid : pids) kill(pid, SIGTERM);
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
    if (!r.ok()) return Die(std::string(r.status().message()));
    rows.push_back({absl::StrFormat("fetch + restore, %d seeder%s", seeders,
                                    seeders > 1 ? "s" : ""),
                    r->seconds});
  }
  const double n = static_cast<double>(file->size());
  for (const Row& row : rows) {
    std::printf("%-28s %7.3f s %6.2f GB/s  x_tcp_copy %.2f\n", row.what.c_str(),
                row.seconds, n / row.seconds * 1e-9,
                rows[0].seconds / row.seconds);
  }
  return 0;
}

}  // namespace
}  // namespace wk::distrib

int main(int argc, char** argv) { return wk::distrib::Main(argc, argv); }
