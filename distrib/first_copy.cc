#include "distrib/first_copy.h"

#include <algorithm>

namespace wk::distrib::internal {

FirstCopyRule::FirstCopyRule(uint64_t file_bytes, uint64_t piece_bytes,
                             Clock::duration grace, double spare_share)
    : file_bytes_(file_bytes),
      piece_bytes_(piece_bytes),
      grace_(grace),
      spare_share_(spare_share),
      pieces_(piece_bytes ? (file_bytes + piece_bytes - 1) / piece_bytes : 0) {}

FirstCopyRule::Clock::duration FirstCopyRule::EndgameGrace(
    uint64_t piece_bytes, double rate, size_t fetchers, Clock::duration cap) {
  if (!(rate > 0)) return cap;
  const double others = static_cast<double>(std::max<size_t>(1, fetchers) - 1);
  const double s = kEndgameFactor * static_cast<double>(piece_bytes) *
                   std::max(1.0, others) / rate;
  const auto t = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(s));
  return std::clamp(t, std::min(kEndgameFloor, cap), cap);
}

FirstCopyRule::Clock::duration FirstCopyRule::Grace(
    Clock::time_point now) const {
  (void)now;
  if (!FirstPassDone()) return grace_;
  return EndgameGrace(piece_bytes_, first_pass_rate_, live_fetchers_, grace_);
}

uint32_t FirstCopyRule::BusyCap() const {
  if (piece_bytes_ == 0) return kMinBusy;
  const double n = recent_rate_ * kBusyTime / static_cast<double>(piece_bytes_);
  return n > kMinBusy ? static_cast<uint32_t>(std::min(n, 1e6)) : kMinBusy;
}

void FirstCopyRule::Refill(Clock::time_point now) {
  const double burst =
      out_rate_ * std::chrono::duration<double>(kSpareBurst).count();
  const double more =
      out_rate_ * std::chrono::duration<double>(now - spare_at_).count();
  spare_ = std::min(burst, spare_ + std::max(0.0, more));
  spare_at_ = now;
}

bool FirstCopyRule::TakeSpare(FetcherId f, uint32_t bytes,
                              Clock::time_point now) {
  if (out_ < pieces_.size() || !(out_rate_ > 0) || !(spare_share_ > 0)) {
    return false;
  }
  if (static_cast<double>(sent_bytes_ + spare_owed_ + bytes) >
      (1 + spare_share_) * static_cast<double>(file_bytes_)) {
    return false;
  }
  Refill(now);
  if (spare_ <= 0) return false;
  spare_ -= bytes;
  spare_owed_ += bytes;
  fetchers_[f].spare_owed += bytes;
  spared_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void FirstCopyRule::CountRate(uint64_t bytes, bool taken,
                              Clock::time_point now) {
  if (sent_bytes_ == 0) first_sent_ = window_start_ = now;
  sent_bytes_ += bytes;
  if (out_ == pieces_.size() && !taken) {
    Refill(now);
    spare_ -= static_cast<double>(bytes);
  }
  window_bytes_ += bytes;
  const Clock::duration span = now - window_start_;
  if (span >= kRateWindow) {
    recent_rate_ = static_cast<double>(window_bytes_) /
                   std::chrono::duration<double>(span).count();
    window_start_ = now;
    window_bytes_ = 0;
  }
}

void FirstCopyRule::Drop(Piece& p) {
  if (p.owner != 0 && p.owed > 0) --fetchers_[p.owner].busy;
  p.owner = 0, p.owed = 0, p.to_owner = 0;
}

FirstCopyRule::FetcherId FirstCopyRule::Connect(std::string_view peer_id) {
  auto it = ids_.find(peer_id);
  if (it == ids_.end()) {
    it = ids_.emplace(std::string(peer_id),
                      static_cast<FetcherId>(fetchers_.size()))
             .first;
    fetchers_.emplace_back();
  }
  if (fetchers_[it->second].live++ == 0) ++live_fetchers_;
  return it->second;
}

void FirstCopyRule::Disconnect(FetcherId f, bool complete,
                               Clock::time_point now) {
  if (f == 0 || f >= fetchers_.size() || fetchers_[f].live == 0) return;
  Fetcher& fe = fetchers_[f];
  if (--fe.live == 0) {
    --live_fetchers_;
    fe.gone = now;
    // Its spare copies still granted went with its connections.
    spare_owed_ -= fe.spare_owed;
    fe.spare_owed = 0;
    // Its runs of refusals end with its last connection, not with one of
    // several.
    std::erase_if(streaks_,
                  [f](const auto& kv) { return kv.first.first == f; });
  }
  for (Piece& p : pieces_) {
    if (p.owner != f) continue;
    // Blocks owed died with the connection: it may never have the piece.
    // A fetcher that left with every piece is gone: waiting for it would
    // only hold the others back.
    if (p.owed > 0 || (fe.live == 0 && complete)) Drop(p);
  }
}

bool FirstCopyRule::Held(const Piece& p, Clock::time_point now) const {
  if (p.owner == 0) return false;
  const Fetcher& fe = fetchers_[p.owner];
  if (fe.live == 0) return now - fe.gone < kRejoin;
  if (p.owed > 0) return now - p.last < kOwedCap;
  return now - p.last < Grace(now);
}

bool FirstCopyRule::Request(FetcherId f, size_t piece, Clock::time_point now,
                            uint32_t bytes) {
  if (f == 0 || piece >= pieces_.size()) return true;
  Piece& p = pieces_[piece];
  if (p.owner != f) {
    // Others have it to give: only a stuck fetcher gets a copy from us, or
    // any, once every piece went out, while our link has room (TakeSpare).
    // (Announced, not delivered: an owner often gets some blocks of a piece
    // from peers, and the piece then never counts as delivered here.)
    if (p.announced && Held(p, now) && Stuck(f, piece, now)) {
      unstuck_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    // The cap shares out the first copies; alone, or once every piece went
    // out, it would only make the fetcher ask again and again.
    const bool capped = !FirstPassDone() && live_fetchers_ > 1 &&
                        fetchers_[f].busy >= BusyCap();
    if (capped || Held(p, now)) {
      if (TakeSpare(f, bytes, now)) return true;
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    Drop(p);
    p.owner = f;
  }
  p.last = now;
  if (p.owed++ == 0) ++fetchers_[f].busy;
  return true;
}

bool FirstCopyRule::Stuck(FetcherId f, size_t piece, Clock::time_point now) {
  // Runs that ended are dropped now and then (a dropped run restarts as a
  // new one would): when the map has doubled since, so that many fetchers
  // each refused many pieces at once do not make every refusal a sweep.
  if (streaks_.size() >= prune_at_) {
    std::erase_if(streaks_, [now](const auto& kv) {
      return now - kv.second.last > kStreakGap;
    });
    prune_at_ = std::max<size_t>(kPruneAt, 2 * streaks_.size());
  }
  auto [it, fresh] = streaks_.try_emplace({f, piece}, Streak{now, now});
  Streak& s = it->second;
  if (!fresh && now - s.last > kStreakGap) s.since = now;
  s.last = now;
  return now - s.since >= StuckAfter(live_fetchers_);
}

FirstCopyRule::Clock::duration FirstCopyRule::StuckAfter(size_t fetchers) {
  return std::clamp<Clock::duration>(
      kStuckPerFetcher * static_cast<int64_t>(std::min<size_t>(fetchers, 1000)),
      kStuckMin, kStuckMax);
}

void FirstCopyRule::Sent(FetcherId f, size_t piece, uint32_t bytes,
                         Clock::time_point now) {
  if (f == 0 || f >= fetchers_.size() || piece >= pieces_.size()) {
    CountRate(bytes, false, now);
    return;
  }
  Piece& p = pieces_[piece];
  Fetcher& fe = fetchers_[f];
  // Not the owner's: a copy, a spare one while f has some granted (a copy
  // for a stuck fetcher otherwise; either way the bytes are the same).
  const bool spare = p.owner != f && fe.spare_owed >= bytes;
  if (spare) fe.spare_owed -= bytes, spare_owed_ -= bytes;
  CountRate(bytes, spare, now);
  if (p.owner != f) return;
  if (p.owed > 0 && --p.owed == 0) --fetchers_[f].busy;
  p.last = now;
  p.to_owner += bytes;
  if (!p.delivered && p.to_owner >= PieceBytes(piece)) {
    if (!p.announced) CountOut(now);
    p.delivered = true;
    if (++delivered_ == pieces_.size()) {
      // The origin's rate while its link was the bottleneck; what it sends
      // later (duplicates, when asked) says nothing about the link.
      const double secs =
          std::chrono::duration<double>(now - first_sent_).count();
      first_pass_rate_ = secs > 0 ? static_cast<double>(sent_bytes_) / secs : 0;
    }
  }
}

void FirstCopyRule::Cancelled(FetcherId f, size_t piece) {
  if (f == 0 || f >= fetchers_.size() || piece >= pieces_.size()) return;
  Piece& p = pieces_[piece];
  // A spare copy's cancel gives nothing back: the peer's CANCEL comes
  // whether or not the block already went out, and a refund for one that
  // did would let the origin send past its share.
  if (p.owner == f && p.owed > 0 && --p.owed == 0) --fetchers_[f].busy;
}

void FirstCopyRule::Have(FetcherId f, size_t piece, Clock::time_point now) {
  if (f == 0 || piece >= pieces_.size()) return;
  streaks_.erase({f, piece});
  Piece& p = pieces_[piece];
  if (!p.announced && !p.delivered) CountOut(now);
  p.announced = true;
  if (p.owner == f) p.last = now;  // it has it: the others get it from it
}

void FirstCopyRule::CountOut(Clock::time_point now) {
  if (++out_ != pieces_.size()) return;
  const double secs = std::chrono::duration<double>(now - first_sent_).count();
  out_rate_ = secs > 0 ? static_cast<double>(sent_bytes_) / secs : 0;
  spare_ = 0, spare_at_ = now;
}

uint64_t FirstCopyRule::PieceBytes(size_t piece) const {
  return std::min(piece_bytes_, file_bytes_ - piece * piece_bytes_);
}

}  // namespace wk::distrib::internal
