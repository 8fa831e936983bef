// Private to distrib: what the seeder and the fetcher share about a
// libtorrent session: settings, peer addresses, the stop flag and alerts.
#ifndef WKSPKIT_DISTRIB_SESSION_H_
#define WKSPKIT_DISTRIB_SESSION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "distrib/first_copy.h"
#include "libtorrent/add_torrent_params.hpp"
#include "libtorrent/alert.hpp"
#include "libtorrent/session.hpp"
#include "libtorrent/settings_pack.hpp"
#include "libtorrent/socket.hpp"
#include "libtorrent/torrent_info.hpp"

namespace wk::distrib::internal {

// Settings for a session listening on `listen` ("IP:PORT", port 0 = any)
// for a torrent of `pieces` pieces: TCP only; no DHT, local discovery, UPnP
// or NAT-PMP (peers are given; trackers the torrent names are still used);
// 100 ms ticks and short timeouts, so a dead peer is dropped within seconds
// and a given peer that is not up yet is retried every second; an alert
// queue that holds an alert per piece several times over; several peers on
// one IP (loopback tests, hosts with several seeders).
lt::settings_pack Settings(const std::string& listen, int pieces);

// What a session that uploads to a fleet changes: every interested peer
// unchoked (no slot limit).
void SetOriginSettings(lt::settings_pack& p);

// "IP:PORT" or "[IPv6]:PORT" (no host names: a fetch names its peers
// exactly).
absl::StatusOr<lt::tcp::endpoint> ParseEndpoint(const std::string& text);
std::string FormatEndpoint(const lt::tcp::endpoint& ep);

// Loads a torrent file (libtorrent's checks, then ReadTorrent's).
absl::StatusOr<std::shared_ptr<lt::torrent_info>> LoadTorrent(
    const std::string& path);

// What a session is to its peers.
enum class PeerRole {
  kOrigin,    // a seed
  kSharing,   // a fetcher that serves what it holds
  kNoUpload,  // a fetcher that never serves (--no-upload)
};

// Our sharing fetchers' peer ids start with this: the origin recognises
// them (SetFingerprint).
inline constexpr char kSharingPrefix[] = "-WK0100-";

// The peer id prefix of `role`, and plaintext outgoing connections (so
// the origin may write a reject into one; incoming encrypted connections
// of other clients stay allowed).
void SetFingerprint(lt::settings_pack& p, PeerRole role);

// Adds to `atp` (whose ti is set) the plugin every connection of ours goes
// through: it turns Nagle's algorithm off on TCP connections (libtorrent
// leaves it on, and a small message written before a block then holds the
// block back until the peer's delayed ACK, 40 ms, while the request queue
// is still short), keeps its unsent kernel queue short (TCP_NOTSENT_LOWAT)
// and sets its congestion control if one is given, and
//   - kNoUpload: drops every request a peer sends;
//   - kOrigin: sends each piece to one sharing fetcher only (the first to
//     ask), and rejects (BEP 6) the others' requests for it while that
//     fetcher is getting it or can pass it on (first_copy.h says exactly
//     when: blocks still owed, then grace_s after its last activity on it
//     while the origin is still sending first copies, a shorter grace
//     following the transfer rate once every piece went out, no hold once
//     the fetcher left with every piece), so they get it from that fetcher
//     and the origin uploads about one copy. Other clients (and no-upload
//     fetchers) are served as usual.
// Returns, for kOrigin, its first-copy rule, whose counts (rejected(),
// unstuck()) any thread may read while libtorrent applies it; null for the
// other roles.
// tcp_congestion: the congestion control set on each connection (empty:
// the system's; CheckCongestion first).
std::shared_ptr<const FirstCopyRule> AddPeerPlugin(
    lt::add_torrent_params& atp, PeerRole role, double grace_s = 0,
    const std::string& tcp_congestion = "");

// OK if TCP connections can use the congestion control `name` (empty: the
// system's default, always); else InvalidArgument naming it, the kernel's
// reason and the ones it offers.
absl::Status CheckCongestion(const std::string& name);

// Disconnects every peer of the session's torrents and forgets them, bans
// included, so that the peers dialled next start afresh. It goes through an
// IP filter that blocks every address, then one that blocks none: that is
// the removal libtorrent keeps consistent (its piece picker and connect
// candidates drop their pointers to the peers it frees).
// torrent_handle::clear_peers is not: libtorrent 2.0.8 frees every peer
// entry there while the piece picker still names them as the senders of
// blocks of pieces not checked yet, and the check of such a piece then
// writes into freed memory (the likely cause of fetchers dying with
// munmap_chunk(): invalid pointer). Asynchronous like every session call;
// calls made after it (connect_peer) run after it.
void ForgetPeers(lt::session& ses);

// Whether RequestStop was called (distrib.h).
bool StopRequested();

// Waits up to `ms` for alerts and returns them (valid until the next call).
std::vector<lt::alert*> Alerts(lt::session& ses, int ms);

}  // namespace wk::distrib::internal

#endif  // WKSPKIT_DISTRIB_SESSION_H_
