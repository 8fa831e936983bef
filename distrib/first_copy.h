// Private to distrib: the origin's first-copy rule (session.h,
// AddPeerPlugin), kept apart from libtorrent so that tests drive it with
// their own clock. The origin sends each piece to one of our sharing
// fetchers (its owner, the first to ask) and refuses it to the others while
// the owner is getting it or can pass it on, so the origin uploads about
// one copy of the file and the fetchers trade the rest.
//
// When another fetcher may have the piece from the origin again:
//   - never while blocks of it are still owed to its owner (queued at the
//     origin, however long: kOwedCap bounds a request libtorrent dropped
//     without telling us);
//   - the grace after the owner's last activity on it (a block sent, its
//     HAVE). While the origin still has pieces no fetcher was sent in full
//     (the first pass), that is the configured grace: the origin's link is
//     the bottleneck and a second copy would delay a first one. Once every
//     piece has gone out in full (the endgame), the origin's link has time
//     to spare and the grace follows the transfer: EndgameGrace, a small
//     multiple of the time the owner needs to pass one piece to every other
//     fetcher at the origin's upload rate during the first pass (what its
//     link carried), capped by the configured grace;
//   - at once when its owner left complete (a fetch without --seed-after
//     ends when restored: waiting out a grace for a peer that is gone held
//     the last fetchers back by the whole grace); kRejoin after an
//     incomplete owner's last connection closed (most often a stalled
//     fetcher redialling its peers, which comes back with the piece within
//     a second or two; its peer id identifies it again);
//   - at once when it was owed blocks on a connection that closed (it may
//     never have got it).
// Two exceptions to all of these. First, spare copies: once every piece
// has gone out (delivered to an owner, or announced by a fetcher), the
// origin has nothing left that only it can give and its link idles, while
// the fetchers' uplinks are at their busiest, each owner passing its last
// pieces round. A request the rule would refuse is then served as a copy
// (the owner stays the owner) while the origin sends no faster than it did
// until then (a token bucket, TakeSpare), and while all it sent, these
// copies included, stays within kSpareShare more than one copy of the file.
// Measured (docs/DISTRIBUTION.md): with 16 fetchers of a 25 MB file on
// 10 Mbit/s links, the swarm took 1.25-1.33 x T1 (mean 1.29 over 7 runs)
// with them and 1.28-1.39 (mean 1.33) without, the origin sending
// 1.14-1.18 x the file instead of 1.04-1.17. Second, a fetcher refused the
// same piece for
// StuckAfter() without a break, while a fetcher announced it (HAVE), gets
// that piece from the origin (without becoming its owner). libtorrent asks
// again on the same connection at once for a block it was refused, so a piece
// it wants most (the layout, at top priority) stays requested from the origin
// and no other connection ever asks a peer for it: seen as a fetcher that
// moved no byte for 2-3 s, until its stall reset, while every other
// fetcher offered the piece.
//
// And while the first pass lasts and several fetchers are connected, a
// fetcher may claim a new piece only while fewer than BusyCap() pieces
// have blocks owed to it: without that, the first fetcher to
// connect filled the origin's queue with 3 s of requests (libtorrent's
// request queue), became the owner of half the file, and everyone then
// waited on its one uplink (it uploaded 1.8 copies at M = 8, the others
// 0.5). The cap keeps about a quarter second of the origin's upload rate
// queued per fetcher, never under kMinBusy pieces.
//
// Single-threaded (libtorrent's network thread runs every plugin
// callback), but for rejected() and unstuck(), which any thread may read
// (the seed's report). Fetchers are named by FetcherId: one per peer id,
// whatever the number of its connections.
#ifndef WKSPKIT_DISTRIB_FIRST_COPY_H_
#define WKSPKIT_DISTRIB_FIRST_COPY_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wk::distrib::internal {

class FirstCopyRule {
 public:
  using Clock = std::chrono::steady_clock;
  using FetcherId = uint32_t;  // 1, 2, ...: never reused

  // When nothing moved on a piece whose blocks are owed for this long, the
  // owner is taken to have dropped the request.
  static constexpr Clock::duration kOwedCap = std::chrono::seconds(60);
  // How long an incomplete fetcher whose connections all closed keeps its
  // pieces (it redials every second, fetch.cc).
  static constexpr Clock::duration kRejoin = std::chrono::seconds(2);
  // EndgameGrace: this many times the time to pass one piece on to every
  // other fetcher, and never under kEndgameFloor (the HAVE's round trip and
  // the requests that follow it, on a loaded host).
  static constexpr double kEndgameFactor = 2;
  static constexpr Clock::duration kEndgameFloor =
      std::chrono::milliseconds(250);
  // BusyCap: at least this many pieces, else kBusyTime of the origin's
  // recent upload rate.
  static constexpr uint32_t kMinBusy = 4;
  static constexpr double kBusyTime = 0.25;
  // A fetcher refused one delivered piece for StuckAfter(fetchers), with no
  // pause in its asking longer than kStreakGap, is stuck on it (above):
  // kStuckPerFetcher times the fetchers connected, within [kStuckMin,
  // kStuckMax]. It grows with the fetchers because every copy the origin
  // sends delays the first copies it owes them, and more of them are
  // waiting a while, for no fault, on a piece its owner is passing round:
  // 0.3 s at 16 fetchers cost the origin 1.15-1.23 x the file and the swarm
  // 1.37-1.44 x T1 (1.28-1.29 at 1 s), while 1 s at 4 fetchers left 3 runs
  // of 6 stuck long enough to take 1.44-1.67 x T1 (none of 8 at 0.3 s).
  static constexpr Clock::duration kStuckPerFetcher =
      std::chrono::milliseconds(75);
  static constexpr Clock::duration kStuckMin = std::chrono::milliseconds(300);
  static constexpr Clock::duration kStuckMax = std::chrono::seconds(2);
  static constexpr Clock::duration kStreakGap = std::chrono::milliseconds(100);
  static Clock::duration StuckAfter(size_t fetchers);
  // Spare copies (above): at most this share of the file more than one
  // copy in all; bursts of at most kSpareBurst of the origin's rate.
  static constexpr double kSpareShare = 0.15;
  static constexpr Clock::duration kSpareBurst = std::chrono::milliseconds(50);
  // A request's size when the caller does not say (libtorrent's block).
  static constexpr uint32_t kBlockBytes = 16 << 10;

  // A file of file_bytes in pieces of piece_bytes (the last one shorter);
  // grace: how long a delivered piece stays its owner's during the first
  // pass, and the most it does in the endgame; spare_share: kSpareShare,
  // or 0 for no spare copies.
  FirstCopyRule(uint64_t file_bytes, uint64_t piece_bytes,
                Clock::duration grace, double spare_share = kSpareShare);

  // The grace in the endgame: kEndgameFactor times the time for
  // piece_bytes to go to (fetchers - 1) peers at rate bytes/s, within
  // [kEndgameFloor, cap]; cap when the rate is not known (<= 0).
  static Clock::duration EndgameGrace(uint64_t piece_bytes, double rate,
                                      size_t fetchers, Clock::duration cap);

  // A connection of the sharing fetcher with this peer id is up: its id
  // (the same for every connection of one peer id).
  FetcherId Connect(std::string_view peer_id);
  // One of its connections closed; complete: it had announced every piece.
  void Disconnect(FetcherId f, bool complete, Clock::time_point now);
  // Fetcher f asks for a block of `piece` (`bytes` long): true to serve it
  // (the piece is f's from now, if it was not already, unless served as a
  // copy), false to reject it.
  bool Request(FetcherId f, size_t piece, Clock::time_point now,
               uint32_t bytes = kBlockBytes);
  // A block of `piece` of `bytes` went out to f (0: to a peer that is not
  // one of our sharing fetchers; counted in the rate only).
  void Sent(FetcherId f, size_t piece, uint32_t bytes, Clock::time_point now);
  // f cancelled a block of `piece` it had asked for.
  void Cancelled(FetcherId f, size_t piece);
  // f announced that it has `piece`.
  void Have(FetcherId f, size_t piece, Clock::time_point now);

  // Whether every piece has gone out in full to a sharing fetcher.
  bool FirstPassDone() const { return delivered_ == pieces_.size(); }
  // The grace in force at `now`.
  Clock::duration Grace(Clock::time_point now) const;
  // How many pieces with blocks owed one fetcher may have before it may
  // claim another.
  uint32_t BusyCap() const;
  // Requests refused so far.
  uint64_t rejected() const {
    return rejected_.load(std::memory_order_relaxed);
  }
  // Requests served because the fetcher was stuck (StuckAfter).
  uint64_t unstuck() const { return unstuck_.load(std::memory_order_relaxed); }
  // Requests served as spare copies (TakeSpare).
  uint64_t spared() const { return spared_.load(std::memory_order_relaxed); }
  size_t pieces() const { return pieces_.size(); }

 private:
  struct Piece {
    FetcherId owner = 0;  // 0: none
    // The owner's last activity on it: a request, a block sent, a HAVE.
    Clock::time_point last{};
    uint32_t owed = 0;     // blocks requested by the owner, not yet sent
    uint64_t to_owner = 0;  // bytes of it sent to the current owner
    bool delivered = false;  // once sent in full to an owner (sticky)
    bool announced = false;  // a sharing fetcher announced it (sticky)
  };
  struct Fetcher {
    int live = 0;            // open connections
    uint32_t busy = 0;       // pieces it owns with blocks owed
    uint64_t spare_owed = 0;   // bytes of spare copies granted, not yet sent
    Clock::time_point gone{};  // when the last one closed
  };
  bool Held(const Piece& p, Clock::time_point now) const;
  // Notes that f was refused `piece` at `now`; whether it has been, without
  // a break, for StuckAfter(the fetchers connected).
  bool Stuck(FetcherId f, size_t piece, Clock::time_point now);
  // p has no owner any more.
  void Drop(Piece& p);
  // Whether f may have `bytes` as a spare copy at `now`; if so, they are
  // taken from the bucket and the budget at once (many requests come in
  // before the first of them is sent).
  bool TakeSpare(FetcherId f, uint32_t bytes, Clock::time_point now);
  // The bucket refilled up to `now` at out_rate_, within kSpareBurst of it.
  void Refill(Clock::time_point now);
  // A piece neither delivered nor announced before is now one or the
  // other (it has gone out): once every piece has, the origin has nothing
  // left that only it can give.
  void CountOut(Clock::time_point now);
  // Block bytes sent, for the recent rate and (unless taken already, as a
  // spare copy's were) the spare bucket.
  void CountRate(uint64_t bytes, bool taken, Clock::time_point now);
  uint64_t PieceBytes(size_t piece) const;

  const uint64_t file_bytes_, piece_bytes_;
  const Clock::duration grace_;
  const double spare_share_;
  std::vector<Piece> pieces_;
  std::vector<Fetcher> fetchers_{1};  // [0] unused: no fetcher
  std::map<std::string, FetcherId, std::less<>> ids_;
  size_t delivered_ = 0, live_fetchers_ = 0;
  uint64_t sent_bytes_ = 0;  // every block, to anyone: the upload rate
  Clock::time_point first_sent_{};
  double first_pass_rate_ = 0;  // bytes/s from the first block to the pass's end
  // The recent upload rate: bytes over windows of about kRateWindow.
  static constexpr Clock::duration kRateWindow = std::chrono::milliseconds(250);
  Clock::time_point window_start_{};
  uint64_t window_bytes_ = 0;
  double recent_rate_ = 0;
  // Spare copies: pieces delivered or announced; the origin's rate from its
  // first block until all were; the bytes its link could still have carried
  // since then at that rate, less what it sent and was granted (negative: a
  // backlog), as of spare_at_; spare copies' bytes granted, not yet sent.
  size_t out_ = 0;
  double out_rate_ = 0;
  double spare_ = 0;
  Clock::time_point spare_at_{};
  uint64_t spare_owed_ = 0;
  // Written on the one thread, read from any: relaxed is enough for counts.
  std::atomic<uint64_t> rejected_{0}, unstuck_{0}, spared_{0};
  // Refusals of a delivered piece to a fetcher that is not its owner: the
  // first and the last of the current run of them.
  struct Streak {
    Clock::time_point since, last;
  };
  std::map<std::pair<FetcherId, size_t>, Streak> streaks_;
  static constexpr size_t kPruneAt = 4096;
  size_t prune_at_ = kPruneAt;  // streaks_'s size that next drops ended runs
};

}  // namespace wk::distrib::internal

#endif  // WKSPKIT_DISTRIB_FIRST_COPY_H_
