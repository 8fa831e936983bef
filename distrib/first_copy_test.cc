#include "distrib/first_copy.h"

#include <chrono>

#include "gtest/gtest.h"

namespace wk::distrib::internal {
namespace {

using Clock = FirstCopyRule::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kPiece = 256 << 10;
constexpr uint32_t kBlock = 16 << 10;

// Sends every block of `piece` to f, one per millisecond from `t`; returns
// the time after the last.
Clock::time_point SendPiece(FirstCopyRule& r, FirstCopyRule::FetcherId f,
                            size_t piece, Clock::time_point t,
                            uint64_t bytes = kPiece) {
  for (uint64_t off = 0; off < bytes; off += kBlock) {
    EXPECT_TRUE(r.Request(f, piece, t));
    t += milliseconds(1);
    r.Sent(f, piece, kBlock, t);
  }
  return t;
}

TEST(FirstCopyRule, EndgameGraceFollowsTheRate) {
  const auto cap = seconds(8);
  // 256 KiB to 7 others at 5 MB/s: 0.367 s; twice that.
  EXPECT_NEAR(std::chrono::duration<double>(
                  FirstCopyRule::EndgameGrace(kPiece, 5e6, 8, cap))
                  .count(),
              2 * 7 * 262144 / 5e6, 1e-6);
  // Twice as fast a link, half the grace.
  EXPECT_NEAR(std::chrono::duration<double>(
                  FirstCopyRule::EndgameGrace(kPiece, 10e6, 8, cap))
                  .count(),
              2 * 7 * 262144 / 10e6, 1e-6);
  // Never under the floor, never over the cap; the cap when no rate is
  // known yet.
  EXPECT_EQ(FirstCopyRule::EndgameGrace(kPiece, 1e12, 8, cap),
            FirstCopyRule::kEndgameFloor);
  EXPECT_EQ(FirstCopyRule::EndgameGrace(kPiece, 1e3, 8, cap), cap);
  EXPECT_EQ(FirstCopyRule::EndgameGrace(kPiece, 0, 8, cap), cap);
  // One fetcher (or none): one piece time, twice.
  EXPECT_EQ(FirstCopyRule::EndgameGrace(kPiece, 1e5, 1, cap),
            FirstCopyRule::EndgameGrace(kPiece, 1e5, 2, cap));
  // A cap under the floor wins.
  EXPECT_EQ(FirstCopyRule::EndgameGrace(kPiece, 1e12, 8, milliseconds(10)),
            milliseconds(10));
}

TEST(FirstCopyRule, OneOwnerWhileOwedThenForTheGrace) {
  FirstCopyRule r(4 * kPiece, kPiece, seconds(8));
  const Clock::time_point t0{};
  const auto a = r.Connect("peer-a"), b = r.Connect("peer-b");
  EXPECT_NE(a, b);
  EXPECT_EQ(r.Connect("peer-a"), a);  // a second connection: same fetcher
  EXPECT_TRUE(r.Request(a, 0, t0));
  // Owed blocks hold it however long they wait in the queue.
  EXPECT_FALSE(r.Request(b, 0, t0 + seconds(30)));
  r.Sent(a, 0, kBlock, t0 + seconds(30));
  // Delivered (nothing owed): the grace from the last block.
  EXPECT_FALSE(r.Request(b, 0, t0 + seconds(37)));
  r.Have(a, 0, t0 + seconds(37));  // its HAVE restarts it
  EXPECT_FALSE(r.Request(b, 0, t0 + seconds(44)));
  EXPECT_TRUE(r.Request(b, 0, t0 + seconds(45) + milliseconds(1)));
  // b owns it now: a is the one refused.
  EXPECT_FALSE(r.Request(a, 0, t0 + seconds(46)));
  EXPECT_EQ(r.rejected(), 4u);
  // Cancelled blocks are no longer owed.
  EXPECT_TRUE(r.Request(a, 1, t0));
  r.Cancelled(a, 1);
  EXPECT_FALSE(r.Request(b, 1, t0 + seconds(7)));
  EXPECT_TRUE(r.Request(b, 1, t0 + seconds(8)));
  // An owner that never moves on owed blocks loses them at the cap.
  EXPECT_TRUE(r.Request(a, 2, t0));
  EXPECT_FALSE(r.Request(b, 2, t0 + FirstCopyRule::kOwedCap -
                                   milliseconds(1)));
  EXPECT_TRUE(r.Request(b, 2, t0 + FirstCopyRule::kOwedCap));
}

TEST(FirstCopyRule, EndgameShortensTheGrace) {
  // 3 pieces, the last a half; no spare copies (they would serve b early).
  FirstCopyRule r(5 * kPiece / 2, kPiece, seconds(8), /*spare_share=*/0);
  const auto a = r.Connect("a"), b = r.Connect("b"), c = r.Connect("c");
  Clock::time_point t{};
  t = SendPiece(r, a, 0, t);
  t = SendPiece(r, b, 1, t);
  EXPECT_FALSE(r.FirstPassDone());
  EXPECT_EQ(r.Grace(t), seconds(8));
  // Piece 0 waits for the first pass's grace.
  EXPECT_FALSE(r.Request(c, 0, t + seconds(1)));
  t = SendPiece(r, c, 2, t, kPiece / 2);
  EXPECT_TRUE(r.FirstPassDone());
  // 640 KiB in 40 ms (16 MB/s), 3 fetchers: 2 x 2 x 256 KiB / rate, about
  // 65 ms, so the floor.
  EXPECT_EQ(r.Grace(t), FirstCopyRule::kEndgameFloor);
  EXPECT_FALSE(r.Request(b, 2, t + milliseconds(200)));
  EXPECT_TRUE(r.Request(b, 2, t + milliseconds(250)));
}

TEST(FirstCopyRule, OwnerThatLeftCompleteHoldsNothing) {
  FirstCopyRule r(2 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b");
  Clock::time_point t = SendPiece(r, a, 0, Clock::time_point{});
  EXPECT_FALSE(r.Request(b, 0, t));
  r.Disconnect(a, /*complete=*/true, t);
  EXPECT_TRUE(r.Request(b, 0, t));
}

TEST(FirstCopyRule, IncompleteOwnerHoldsWhileItMayRedial) {
  FirstCopyRule r(3 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b");
  Clock::time_point t = SendPiece(r, a, 0, Clock::time_point{});
  // Piece 1: half its blocks still owed when the connection closes.
  EXPECT_TRUE(r.Request(a, 1, t));
  EXPECT_TRUE(r.Request(a, 1, t));
  r.Sent(a, 1, kBlock, t);
  r.Disconnect(a, /*complete=*/false, t);
  EXPECT_TRUE(r.Request(b, 1, t));  // it may never have it
  EXPECT_FALSE(r.Request(b, 0, t + FirstCopyRule::kRejoin -
                                   milliseconds(1)));
  // It redials in time (same peer id): the piece stays its own.
  EXPECT_EQ(r.Connect("a"), a);
  EXPECT_FALSE(r.Request(b, 0, t + FirstCopyRule::kRejoin));
  // It goes away for good: the others may have it after kRejoin.
  r.Disconnect(a, /*complete=*/false, t + seconds(3));
  EXPECT_FALSE(r.Request(b, 0, t + seconds(4)));
  EXPECT_TRUE(r.Request(b, 0, t + seconds(3) + FirstCopyRule::kRejoin));
}

TEST(FirstCopyRule, OneOfTwoConnectionsClosingKeepsThePieces) {
  FirstCopyRule r(2 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b");
  EXPECT_EQ(r.Connect("a"), a);
  Clock::time_point t = SendPiece(r, a, 0, Clock::time_point{});
  r.Disconnect(a, /*complete=*/true, t);  // the other is still up
  EXPECT_FALSE(r.Request(b, 0, t + seconds(5)));
}

TEST(FirstCopyRule, AFetcherClaimsFewPiecesAtOnce) {
  FirstCopyRule r(64 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b");
  const Clock::time_point t{};
  ASSERT_EQ(r.BusyCap(), FirstCopyRule::kMinBusy);
  for (size_t p = 0; p < FirstCopyRule::kMinBusy; ++p) {
    EXPECT_TRUE(r.Request(a, p, t));
    EXPECT_TRUE(r.Request(a, p, t));  // more blocks of its own: always
  }
  const size_t next = FirstCopyRule::kMinBusy;
  EXPECT_FALSE(r.Request(a, next, t));  // a fifth piece: not yet
  EXPECT_TRUE(r.Request(b, next, t));   // another fetcher may
  // Piece 0's two blocks go out: a may claim one more.
  r.Sent(a, 0, kBlock, t);
  EXPECT_FALSE(r.Request(a, next + 1, t));
  r.Sent(a, 0, kBlock, t);
  EXPECT_TRUE(r.Request(a, next + 1, t));
  // A cancel frees the slot too.
  EXPECT_FALSE(r.Request(a, next + 2, t));
  r.Cancelled(a, 1);
  r.Cancelled(a, 1);
  EXPECT_TRUE(r.Request(a, next + 2, t));
  // A fast link lets each fetcher have more queued: 640 KiB every 10 ms
  // (65.5 MB/s) is 16.4 MB in a quarter second, 62 pieces.
  Clock::time_point u = t;
  for (int i = 0; i < 100; ++i) {
    u += milliseconds(10);
    r.Sent(0, 0, 640 << 10, u);
  }
  EXPECT_EQ(r.BusyCap(), 62u);
}

TEST(FirstCopyRule, NoClaimCapAloneOrAfterTheFirstPass) {
  FirstCopyRule r(8 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a");
  const Clock::time_point t{};
  for (size_t p = 0; p < 8; ++p) EXPECT_TRUE(r.Request(a, p, t));  // alone
  for (size_t p = 0; p < 8; ++p) {
    for (uint64_t off = 0; off < kPiece; off += kBlock) r.Sent(a, p, kBlock, t);
  }
  ASSERT_TRUE(r.FirstPassDone());
  const auto b = r.Connect("b");
  const Clock::time_point late = t + seconds(9);  // past every grace
  for (size_t p = 0; p < 8; ++p) EXPECT_TRUE(r.Request(b, p, late));
}

// libtorrent asks again at once for a block it was refused: a fetcher
// asking for a piece another fetcher announced, without a break, for
// StuckAfter(fetchers connected: 4 here, 0.3 s), is
// served (a copy: the owner stays); a break restarts the count, and a piece
// nobody announced is never copied so.
TEST(FirstCopyRule, AFetcherStuckOnAnAnnouncedPieceGetsACopy) {
  FirstCopyRule r(4 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b"), c = r.Connect("c"),
             d = r.Connect("d");
  Clock::time_point t = SendPiece(r, a, 0, Clock::time_point{});
  r.Have(a, 0, t);
  EXPECT_TRUE(r.Request(a, 1, t));  // piece 1: owed to a, not delivered
  const auto step = milliseconds(10);
  const Clock::time_point t0 = t;
  const auto stuck = FirstCopyRule::StuckAfter(4);
  EXPECT_EQ(r.Connect("b"), b);  // b's second connection
  for (; t - t0 < stuck; t += step) {
    EXPECT_FALSE(r.Request(b, 0, t)) << (t - t0).count();
    EXPECT_FALSE(r.Request(b, 1, t));
    // One of its two connections closing midway does not end its run.
    if (t - t0 == stuck / 2) r.Disconnect(b, false, t);
  }
  EXPECT_EQ(r.unstuck(), 0u);
  EXPECT_TRUE(r.Request(b, 0, t));  // stuck for that long without a break
  EXPECT_TRUE(r.Request(b, 0, t + step));  // and the rest of its blocks
  EXPECT_EQ(r.unstuck(), 2u);
  EXPECT_FALSE(r.Request(b, 1, t));  // owed to a, not announced: never
  // Piece 2: a got it from peers (its request to us cancelled), so it was
  // never sent in full from here; its HAVE is what counts.
  EXPECT_TRUE(r.Request(a, 2, t));
  r.Cancelled(a, 2);
  r.Have(a, 2, t);
  const Clock::time_point t2 = t;
  for (; t - t2 < stuck; t += step) EXPECT_FALSE(r.Request(c, 2, t));
  EXPECT_TRUE(r.Request(c, 2, t));
  // a still owns piece 0: c, newly asking, is refused, and so is d, whose
  // asking paused for longer than kStreakGap.
  EXPECT_FALSE(r.Request(c, 0, t));
  // d asks for 200 ms, pauses past kStreakGap, asks for 200 ms more: never
  // 0.3 s in one run, never served; then 100 ms more is.
  Clock::time_point d1 = t;
  for (int run = 0; run < 2; ++run) {
    const Clock::time_point start = d1;
    for (; d1 - start < milliseconds(200); d1 += step) {
      EXPECT_FALSE(r.Request(d, 0, d1));
    }
    d1 += FirstCopyRule::kStreakGap + step;
  }
  d1 -= FirstCopyRule::kStreakGap + step;
  for (const auto end = d1 + milliseconds(100); d1 < end; d1 += step) {
    EXPECT_FALSE(r.Request(d, 0, d1));
  }
  EXPECT_TRUE(r.Request(d, 0, d1));
  EXPECT_TRUE(r.Request(a, 0, d1));  // still the owner (b and d got copies)
  // b announcing the piece ends its run: a later one starts from zero.
  r.Have(b, 0, d1);
  EXPECT_FALSE(r.Request(b, 0, d1 + step));
}

// How many of f's requests for `piece` are served at `now` in a row (at
// most 1000).
uint64_t Served(FirstCopyRule& r, FirstCopyRule::FetcherId f, size_t piece,
                Clock::time_point now) {
  uint64_t n = 0;
  while (n < 1000 && r.Request(f, piece, now)) ++n;
  return n;
}

// Once every piece went out, requests the rule refuses are served as
// copies at the origin's rate until then.
TEST(FirstCopyRule, SpareCopiesOnceEveryPieceWentOut) {
  constexpr size_t kPieces = 64;
  FirstCopyRule r(kPieces * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b");
  // a gets all but the last piece one block per ms (16 KiB/ms); b is
  // refused them.
  Clock::time_point t{};
  for (size_t p = 0; p + 1 < kPieces; ++p) t = SendPiece(r, a, p, t);
  EXPECT_FALSE(r.Request(b, 0, t));
  // The last piece goes to a too but for a block (a had it from a peer),
  // so it is out only once a announces it.
  t = SendPiece(r, a, kPieces - 1, t, kPiece - kBlock);
  EXPECT_FALSE(r.Request(b, 0, t));
  r.Have(a, kPieces - 1, t);
  EXPECT_FALSE(r.Request(b, 0, t));  // the bucket starts empty
  EXPECT_EQ(r.spared(), 0u);
  // 10 ms later: about 10 blocks' worth (the rate was 1023 blocks in
  // 1022 ms), granted at once, however many ask.
  t += milliseconds(10);
  const uint64_t granted = Served(r, b, 0, t);
  EXPECT_GE(granted, 10u);
  EXPECT_LE(granted, 11u);
  EXPECT_EQ(r.spared(), granted);
  // Sending what was granted does not count twice: 10 ms on, as many.
  for (uint64_t i = 0; i < granted; ++i) r.Sent(b, 0, kBlock, t);
  t += milliseconds(10);
  const uint64_t more = Served(r, b, 1, t);
  EXPECT_GE(more, 10u);
  EXPECT_LE(more, 11u);
  // A cancel gives nothing back (the block may be out already).
  r.Cancelled(b, 1);
  r.Cancelled(b, 1);
  EXPECT_EQ(Served(r, b, 1, t), 0u);
  // Bursts are bounded: after a second idle, kSpareBurst of the rate.
  t += seconds(1);
  const uint64_t burst = Served(r, b, 2, t);
  EXPECT_GE(burst, 50u);
  EXPECT_LE(burst, 52u);
  // a is still the owner; b's refusals were counted.
  EXPECT_TRUE(r.Request(a, 2, t));
  EXPECT_EQ(r.rejected(), 7u);  // after each run of grants and the cancels
}

// All the origin sends, granted spare copies included, stays within
// kSpareShare more than the file.
TEST(FirstCopyRule, SpareCopiesStayWithinTheShare) {
  constexpr size_t kPieces = 16;
  constexpr uint64_t kFile = kPieces * kPiece;
  const auto bound =
      static_cast<uint64_t>((1 + FirstCopyRule::kSpareShare) * kFile);
  FirstCopyRule r(kFile, kPiece, seconds(8));
  const auto a = r.Connect("a"), b = r.Connect("b");
  Clock::time_point t{};
  for (size_t p = 0; p < kPieces; ++p) t = SendPiece(r, a, p, t);
  ASSERT_TRUE(r.FirstPassDone());
  // a asks for piece 0 again (it stays a's while that block is owed).
  // Granted and sent 10 ms at a time, until refused for 10 rounds in a row.
  EXPECT_TRUE(r.Request(a, 0, t));
  uint64_t sent = kFile;
  for (int idle = 0, round = 0; idle < 10 && round < 1000; ++round) {
    t += milliseconds(10);
    const uint64_t n = Served(r, b, 0, t);
    for (uint64_t i = 0; i < n; ++i) r.Sent(b, 0, kBlock, t);
    sent += n * kBlock;
    idle = n ? 0 : idle + 1;
  }
  EXPECT_LE(sent, bound);
  EXPECT_GT(sent + kBlock, bound);
  // Granted and not yet sent counts as sent.
  FirstCopyRule q(kFile, kPiece, seconds(8));
  const auto qa = q.Connect("a"), qb = q.Connect("b");
  Clock::time_point u{};
  for (size_t p = 0; p < kPieces; ++p) u = SendPiece(q, qa, p, u);
  EXPECT_TRUE(q.Request(qa, 0, u));
  uint64_t granted = 0;
  for (int round = 0; round < 100; ++round) {
    u += milliseconds(10);
    granted += Served(q, qb, 0, u);
  }
  EXPECT_LE(kFile + granted * kBlock, bound);
  EXPECT_GT(kFile + (granted + 1) * kBlock, bound);
  // Those a closed connection took with it no longer count.
  q.Disconnect(qb, /*complete=*/false, u);
  EXPECT_EQ(q.Connect("b"), qb);
  u += milliseconds(10);
  EXPECT_TRUE(q.Request(qb, 0, u));
  // A share of 0: no spare copies at all.
  FirstCopyRule z(kFile, kPiece, seconds(8), /*spare_share=*/0);
  const auto za = z.Connect("a"), zb = z.Connect("b");
  Clock::time_point v{};
  for (size_t p = 0; p < kPieces; ++p) v = SendPiece(z, za, p, v);
  EXPECT_TRUE(z.Request(za, 0, v));
  EXPECT_FALSE(z.Request(zb, 0, v + milliseconds(100)));
  EXPECT_EQ(z.spared(), 0u);
}

TEST(FirstCopyRule, StuckAfterGrowsWithTheFetchers) {
  EXPECT_EQ(FirstCopyRule::StuckAfter(0), FirstCopyRule::kStuckMin);
  EXPECT_EQ(FirstCopyRule::StuckAfter(4), milliseconds(300));
  EXPECT_EQ(FirstCopyRule::StuckAfter(8), milliseconds(600));
  EXPECT_EQ(FirstCopyRule::StuckAfter(16), milliseconds(1200));
  EXPECT_EQ(FirstCopyRule::StuckAfter(1u << 20), FirstCopyRule::kStuckMax);
}

TEST(FirstCopyRule, OthersAndBadIndicesAreServed) {
  FirstCopyRule r(2 * kPiece, kPiece, seconds(8));
  const auto a = r.Connect("a");
  EXPECT_TRUE(r.Request(a, 0, Clock::time_point{}));
  EXPECT_TRUE(r.Request(0, 0, Clock::time_point{}));  // not a sharing fetcher
  EXPECT_TRUE(r.Request(a, 99, Clock::time_point{}));
  r.Sent(0, 0, kBlock, Clock::time_point{});  // counted in the rate only
  r.Disconnect(0, true, Clock::time_point{});
  r.Disconnect(a, true, Clock::time_point{});
  r.Disconnect(a, true, Clock::time_point{});  // once too often: ignored
  EXPECT_EQ(r.rejected(), 0u);
}

}  // namespace
}  // namespace wk::distrib::internal
