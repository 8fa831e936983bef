#include "distrib/repick.h"

#include "libtorrent/download_priority.hpp"

namespace wk::distrib::internal {

bool LeftIdle(const lt::peer_info& p) {
  const bool wanted = static_cast<bool>(p.flags & lt::peer_info::interesting);
  const bool choked = static_cast<bool>(p.flags & lt::peer_info::remote_choked);
  const bool up =
      !(p.flags & (lt::peer_info::connecting | lt::peer_info::handshake));
  return wanted && !choked && up && p.download_queue_length == 0;
}

std::optional<size_t> PieceToMove(const std::vector<bool>& have, size_t from) {
  const size_t n = have.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t p = (from + k) % n;
    if (have[p]) return p;
  }
  return std::nullopt;
}

bool Repick(const lt::torrent_handle& th, size_t had) {
  const lt::piece_index_t i(static_cast<int>(had));
  const lt::download_priority_t prio = th.piece_priority(i);
  if (prio == lt::dont_download) return false;
  // Both run on libtorrent's network thread in this order; the interest
  // re-check they cause is deferred until both are done.
  th.piece_priority(i, lt::dont_download);
  th.piece_priority(i, prio);
  return true;
}

bool Repicker::Tick(const lt::torrent_handle& th, const std::vector<bool>& have,
                    Clock::time_point now) {
  if (now - last_ < kEvery) return false;
  last_ = now;
  th.get_peer_info(peers_);
  bool idle = false;
  for (const lt::peer_info& p : peers_) idle = idle || LeftIdle(p);
  if (!idle) return false;
  const std::optional<size_t> had = PieceToMove(have, next_);
  if (!had) return false;
  next_ = *had + 1;
  if (!Repick(th, *had)) return false;
  ++repicks_;
  return true;
}

}  // namespace wk::distrib::internal
