// repick.h: LeftIdle and PieceToMove on their own; Repick against two
// libtorrent sessions on loopback. With the seed's upload stopped, nothing
// the fetcher does makes it re-check its interest in the seed (no piece
// completes, a seed sends no HAVE): its connection logs UPDATE_INTEREST
// only after a Repick, and the moved piece keeps its priority.
#include "distrib/repick.h"

#include <sys/stat.h>
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

lt::settings_pack Loopback(int alerts) {
  lt::settings_pack sp;
  sp.set_str(lt::settings_pack::listen_interfaces, "127.0.0.1:0");
  sp.set_bool(lt::settings_pack::enable_dht, false);
  sp.set_bool(lt::settings_pack::enable_lsd, false);
  sp.set_bool(lt::settings_pack::enable_upnp, false);
  sp.set_bool(lt::settings_pack::enable_natpmp, false);
  sp.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  sp.set_bool(lt::settings_pack::enable_incoming_utp, false);
  sp.set_int(lt::settings_pack::alert_mask, alerts);
  return sp;
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

void RunScenario(std::shared_ptr<lt::torrent_info> ti, const std::string& sdir,
                 const std::string& fdir);

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

  RunScenario(ti, sdir, fdir);
  ::unlink((fdir + "/" + kTorrentFileName).c_str());
  ::unlink(file.c_str());
  ::unlink(tor.c_str());
  ::rmdir(sdir.c_str());
  ::rmdir(fdir.c_str());
}

void RunScenario(std::shared_ptr<lt::torrent_info> ti, const std::string& sdir,
                 const std::string& fdir) {
  // The seed: slow (4 pieces a second) so that the fetcher stays partway.
  lt::settings_pack ss = Loopback(lt::alert_category::status);
  ss.set_int(lt::settings_pack::upload_rate_limit, 256 << 10);
  ss.set_int(lt::settings_pack::allowed_fast_set_size, 0);
  lt::session seed(ss);
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

  lt::session fetch(
      Loopback(lt::alert_category::status | lt::alert_category::peer_log));
  lt::add_torrent_params fa;
  fa.ti = ti;
  fa.save_path = fdir;
  lt::torrent_handle fh = fetch.add_torrent(fa);

  const auto until = Clock::now() + std::chrono::seconds(60);
  while (!sh.status().is_seeding && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(sh.status().is_seeding);
  fh.connect_peer(
      lt::tcp::endpoint(lt::make_address("127.0.0.1"), seed.listen_port()));
  while (fh.status().num_pieces < 2 && Clock::now() < until) {
    (void)InterestChecks(fetch, 50);
  }
  ASSERT_GE(fh.status().num_pieces, 2);

  // Stop the seed's upload; let what was under way arrive.
  lt::settings_pack stop;
  stop.set_int(lt::settings_pack::upload_rate_limit, 1);
  seed.apply_settings(stop);
  (void)InterestChecks(fetch, 1500);
  const int have = fh.status().num_pieces;
  ASSERT_LT(have, 32);

  // Nothing re-checks the interest on its own...
  EXPECT_EQ(InterestChecks(fetch, 1000), 0);
  // ...a Repick does.
  const lt::torrent_status st = fh.status(lt::torrent_handle::query_pieces);
  std::vector<bool> had(32);
  for (int p = 0; p < 32; ++p) had[p] = st.pieces.get_bit(lt::piece_index_t(p));
  const std::optional<size_t> p = PieceToMove(had, 0);
  ASSERT_TRUE(p.has_value());
  const lt::piece_index_t pi(static_cast<int>(*p));
  fh.piece_priority(pi, lt::top_priority);
  ASSERT_TRUE(Repick(fh, *p));
  EXPECT_GE(InterestChecks(fetch, 1000), 1);
  EXPECT_EQ(fh.piece_priority(pi), lt::top_priority);
  EXPECT_EQ(fh.status().num_pieces, have) << "a piece came in: inconclusive";

  // A piece not wanted is left as it is.
  fh.piece_priority(pi, lt::dont_download);
  EXPECT_FALSE(Repick(fh, *p));
  EXPECT_EQ(fh.piece_priority(pi), lt::dont_download);
}

}  // namespace
}  // namespace wk::distrib::internal
