// Private to distrib (fetch.cc): getting libtorrent 2.0.8 to ask an idle
// peer again.
//
// libtorrent picks blocks to ask a peer for only on an event on that
// connection (a block or a reject in, an unchoke, interest gained) and,
// once in end-game, every 5 s. A HAVE from a peer we are interested in
// already is no such event. So a connection whose last pick found every
// block it could ask for busy elsewhere (requested from the origin, which
// refuses most of what a fetcher asks it) asks for nothing while the peer
// announces piece after piece we lack. On the simulated fleet (M = 4) that
// was the fetcher holding most first copies: it had every piece its peers
// had, the origin's refusals kept the rest busy, and it asked its three
// peers for nothing for 3.5 s; the others waited on its pieces, and the
// swarm took 1.5-1.6 x T1 in 3 runs of 12 (docs/DISTRIBUTION.md).
//
// The one public path that re-runs every connection's picker: a piece's
// priority moving to or from dont_download makes the torrent re-check its
// interest in every peer, and a connection still interested picks at once.
// Repick moves a piece we have there and back: that changes neither what
// we want nor what we serve.
#ifndef WKSPKIT_DISTRIB_REPICK_H_
#define WKSPKIT_DISTRIB_REPICK_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "libtorrent/peer_info.hpp"
#include "libtorrent/torrent_handle.hpp"

namespace wk::distrib::internal {

// Whether libtorrent left this connection idle: we want a piece it has,
// it does not choke us, the connection is up, and nothing is asked of it.
bool LeftIdle(const lt::peer_info& p);

// A piece to move (Repick): one we have, the first at or after `from`
// (wrapping round), so that successive calls spread over the pieces;
// none when we have none.
std::optional<size_t> PieceToMove(const std::vector<bool>& have, size_t from);

// Moves `had` (a piece th has) to dont_download and back to its priority:
// every connection still interested then picks. Returns false, moving
// nothing, when the piece is not wanted (dont_download) already.
bool Repick(const lt::torrent_handle& th, size_t had);

// When to look (get_peer_info every time would cost the network thread a
// copy of every peer's state): at most every kEvery.
class Repicker {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kEvery = std::chrono::milliseconds(200);

  // Looks at th's peers if kEvery has passed since the last look and,
  // when one is LeftIdle, Repicks a piece of `have`. Returns whether it
  // did.
  bool Tick(const lt::torrent_handle& th, const std::vector<bool>& have,
            Clock::time_point now);
  uint64_t repicks() const { return repicks_; }

 private:
  Clock::time_point last_{};
  size_t next_ = 0;  // where PieceToMove starts next
  uint64_t repicks_ = 0;
  std::vector<lt::peer_info> peers_;  // kept: its capacity is reused
};

}  // namespace wk::distrib::internal

#endif  // WKSPKIT_DISTRIB_REPICK_H_
