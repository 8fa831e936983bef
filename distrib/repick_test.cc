// repick.h: LeftIdle and PieceToMove on their own; Repick against two
// libtorrent sessions on loopback. With the seed's upload stopped, nothing
// the fetcher does makes it re-check its interest in the seed (no piece
// completes, a seed sends no HAVE): its connection logs UPDATE_INTEREST
// only after a Repick, and the moved piece keeps its priority.
#include "distrib/repick.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "distrib/plain_session_testing.h"
#include "distrib/torrent.h"
#include "gtest/gtest.h"
#include "libtorrent/add_torrent_params.hpp"
#include "libtorrent/address.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/download_priority.hpp"
#include "libtorrent/ip_filter.hpp"
#include "libtorrent/session.hpp"
#include "libtorrent/settings_pack.hpp"
#include "libtorrent/torrent_info.hpp"
#include "libtorrent/torrent_status.hpp"

namespace wk::distrib::internal {
namespace {

using Clock = std::chrono::steady_clock;

lt::peer_info Peer(lt::peer_flags_t flags, int queued) {
  lt::peer_info p;
  p.flags = flags;
  p.download_queue_length = queued;
  return p;
}

TEST(LeftIdle, OnlyAnUnchokedInterestingConnectionWithNothingAsked) {
  const auto want = lt::peer_info::interesting;
  EXPECT_TRUE(LeftIdle(Peer(want, 0)));
  EXPECT_FALSE(LeftIdle(Peer(want, 1)));  // a request is out
  EXPECT_FALSE(LeftIdle(Peer({}, 0)));    // it has nothing we want
  EXPECT_FALSE(LeftIdle(Peer(want | lt::peer_info::remote_choked, 0)));
  EXPECT_FALSE(LeftIdle(Peer(want | lt::peer_info::connecting, 0)));
  EXPECT_FALSE(LeftIdle(Peer(want | lt::peer_info::handshake, 0)));
  // Our own choking of it is about our upload, not our download.
  EXPECT_TRUE(LeftIdle(Peer(want | lt::peer_info::choked, 0)));
}

TEST(PieceToMove, AHadPieceFromTheGivenOneRoundTheEnd) {
  const std::vector<bool> have = {false, true, false, true, false};
  EXPECT_EQ(PieceToMove(have, 0), 1u);
  EXPECT_EQ(PieceToMove(have, 1), 1u);
  EXPECT_EQ(PieceToMove(have, 2), 3u);
  EXPECT_EQ(PieceToMove(have, 4), 1u);  // wraps
  EXPECT_EQ(PieceToMove(have, 9), 1u);  // past the end: from the start
  EXPECT_EQ(PieceToMove(std::vector<bool>(4, false), 0), std::nullopt);
  EXPECT_EQ(PieceToMove({}, 0), std::nullopt);
}

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d =
      std::string(t ? t : "/tmp") + "/" + name + std::to_string(::getpid());
  ::mkdir(d.c_str(), 0755);
  return d;
}

// How many of the fetcher's peer-log lines for its connection say
// UPDATE_INTEREST, over `ms` of alerts (the rest are dropped).
int InterestChecks(lt::session& ses, int ms) {
  int n = 0;
  const auto end = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < end) {
    ses.wait_for_alert(lt::milliseconds(20));
    std::vector<lt::alert*> v;
    ses.pop_alerts(&v);
    for (lt::alert* a : v) {
      auto* l = lt::alert_cast<lt::peer_log_alert>(a);
      if (l && std::string(l->event_type) == "UPDATE_INTEREST") ++n;
    }
  }
  return n;
}

// What the two-session scenario saw (run in a child process: see RunInChild).
struct Scenario {
  std::string setup;       // empty, or why the scenario could not be set up
  int checks_without = -1;  // interest re-checks in a second without Repick
  int checks_after = -1;    // ... in the second after one
  int have_before = -1, have_after = -1;  // the fetcher's pieces around it
  bool prio_kept = false;   // the moved piece's priority as before
  bool idle_refused = false;  // Repick of a dont_download piece: false...
  bool idle_kept = false;     // ... and the piece left so
};

Scenario RunScenario(std::shared_ptr<lt::torrent_info> ti,
                     const std::string& sdir, const std::string& fdir) {
  Scenario r;
  // The seed: slow (4 pieces a second) so that the fetcher stays partway.
  lt::settings_pack ss =
      testing::PlainLoopbackSettings(lt::alert_category::status);
  ss.set_int(lt::settings_pack::upload_rate_limit, 256 << 10);
  ss.set_int(lt::settings_pack::allowed_fast_set_size, 0);
  // Both sessions are left to the child's _exit (RunInChild).
  lt::session& seed = *new lt::session(ss);
  {
    // Loopback is a local network, which libtorrent exempts from rate
    // limits unless its peers are put in the global class.
    lt::ip_filter every;
    every.add_rule(lt::make_address("0.0.0.0"),
                   lt::make_address("255.255.255.255"),
                   std::uint32_t{1} << static_cast<std::uint32_t>(
                       lt::session::global_peer_class_id));
    seed.set_peer_class_filter(every);
  }
  lt::add_torrent_params sa;
  sa.ti = ti;
  sa.save_path = sdir;
  lt::torrent_handle sh = seed.add_torrent(sa);

  lt::session& fetch = *new lt::session(testing::PlainLoopbackSettings(
      lt::alert_category::status | lt::alert_category::peer_log));
  lt::add_torrent_params fa;
  fa.ti = ti;
  fa.save_path = fdir;
  lt::torrent_handle fh = fetch.add_torrent(fa);

  const auto until = Clock::now() + std::chrono::seconds(60);
  while (!sh.status().is_seeding && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!sh.status().is_seeding) return r.setup = "the seed never seeded", r;
  fh.connect_peer(lt::tcp::endpoint(lt::make_address("127.0.0.1"),
                                    seed.listen_port()));
  while (fh.status().num_pieces < 2 && Clock::now() < until) {
    (void)InterestChecks(fetch, 50);
  }
  if (fh.status().num_pieces < 2) return r.setup = "no 2 pieces in 60 s", r;

  // Stop the seed's upload; let what was under way arrive.
  lt::settings_pack stop;
  stop.set_int(lt::settings_pack::upload_rate_limit, 1);
  seed.apply_settings(stop);
  (void)InterestChecks(fetch, 1500);
  r.have_before = fh.status().num_pieces;
  if (r.have_before >= 32) return r.setup = "the fetch completed", r;

  // Nothing re-checks the interest on its own; a Repick does.
  r.checks_without = InterestChecks(fetch, 1000);
  const lt::torrent_status st = fh.status(lt::torrent_handle::query_pieces);
  std::vector<bool> had(32);
  for (int p = 0; p < 32; ++p) had[p] = st.pieces.get_bit(lt::piece_index_t(p));
  const std::optional<size_t> p = PieceToMove(had, 0);
  if (!p) return r.setup = "no piece to move", r;
  const lt::piece_index_t pi(static_cast<int>(*p));
  fh.piece_priority(pi, lt::top_priority);
  if (!Repick(fh, *p)) return r.setup = "Repick refused a wanted piece", r;
  r.checks_after = InterestChecks(fetch, 1000);
  r.prio_kept = fh.piece_priority(pi) == lt::top_priority;
  r.have_after = fh.status().num_pieces;

  fh.piece_priority(pi, lt::dont_download);
  r.idle_refused = !Repick(fh, *p);
  r.idle_kept = fh.piece_priority(pi) == lt::dont_download;
  return r;
}

// Runs the scenario in a child process, which ends with _exit and never
// destroys its sessions: their teardown (libtorrent's disk threads, in an
// uninstrumented library) reads as a race to ThreadSanitizer, and is not
// what is tested.
Scenario RunInChild(std::shared_ptr<lt::torrent_info> ti,
                    const std::string& sdir,
             const std::string& fdir) {
  int fds[2];
  if (::pipe(fds) != 0) return Scenario{.setup = "pipe failed"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const Scenario r = RunScenario(ti, sdir, fdir);
    const std::string line = absl::StrFormat(
        "%d %d %d %d %d %d %d %s\n", r.checks_without, r.checks_after,
        r.have_before, r.have_after, r.prio_kept, r.idle_refused, r.idle_kept,
        r.setup.empty() ? "-" : r.setup);
    (void)!::write(fds[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[256];
  pollfd pf{fds[0], POLLIN, 0};
  const auto until = Clock::now() + std::chrono::seconds(150);
  while (Clock::now() < until && ::poll(&pf, 1, 1000) >= 0) {
    if (!(pf.revents & (POLLIN | POLLHUP))) continue;
    const ssize_t k = ::read(fds[0], buf, sizeof(buf));
    if (k <= 0) break;
    got.append(buf, static_cast<size_t>(k));
  }
  ::close(fds[0]);
  ::kill(pid, SIGKILL);  // gone already, unless it hung
  ::waitpid(pid, nullptr, 0);
  Scenario r;
  int kept = 0, refused = 0, idle_kept = 0;
  char why[128] = "";
  if (std::sscanf(got.c_str(), "%d %d %d %d %d %d %d %127[^\n]",
                  &r.checks_without, &r.checks_after, &r.have_before,
                  &r.have_after, &kept, &refused, &idle_kept, why) != 8) {
    r.setup = "no answer from the child: " + got;
    return r;
  }
  r.prio_kept = kept, r.idle_refused = refused, r.idle_kept = idle_kept;
  if (std::string(why) != "-") r.setup = why;
  return r;
}

TEST(Repick, MakesAnInterestedConnectionLookAgain) {
  const std::string sdir = TmpDir("repick_seed"), fdir = TmpDir("repick_fetch");
  const std::string file = sdir + "/" + kTorrentFileName,
                    tor = sdir + "/t.torrent";
  const uint64_t n = uint64_t{2} << 20;  // 32 pieces of 64 KiB
  {
    std::vector<char> b(n);
    std::mt19937_64 rng(5);
    for (auto& c : b) c = static_cast<char>(rng());
    std::ofstream(file, std::ios::binary).write(b.data(), b.size());
  }
  ASSERT_TRUE(CreateTorrent(file, tor, 1).ok());
  lt::error_code ec;
  auto ti = std::make_shared<lt::torrent_info>(tor, ec);
  ASSERT_FALSE(ec) << ec.message();
  const Scenario r = RunInChild(ti, sdir, fdir);
  ::unlink((fdir + "/" + kTorrentFileName).c_str());
  ::unlink(file.c_str());
  ::unlink(tor.c_str());
  ::rmdir(sdir.c_str());
  ::rmdir(fdir.c_str());
  ASSERT_EQ(r.setup, "");
  EXPECT_EQ(r.checks_without, 0);
  EXPECT_GE(r.checks_after, 1);
  EXPECT_EQ(r.have_after, r.have_before) << "a piece came in: inconclusive";
  EXPECT_TRUE(r.prio_kept);
  EXPECT_TRUE(r.idle_refused);
  EXPECT_TRUE(r.idle_kept);
}

}  // namespace
}  // namespace wk::distrib::internal
