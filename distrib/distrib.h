// Sharing a checkpoint file from many hosts to many hosts over BitTorrent v2
// (libtorrent; docs/DISTRIBUTION.md). Make the torrent with CreateTorrent
// (torrent.h): identical files give identical torrents on any host, so
// hosts that wrote the same deterministic checkpoint all seed one torrent.
//
// Seed serves a file under its torrent. Fetch downloads one from every
// given peer at once and restores it into a workspace while it downloads:
// each cgroup frame is restored (wksp_checkpt RangeRestore) as soon as the
// pieces holding it are complete and verified against the torrent's SHA-256
// merkle tree, in whatever order they complete. A peer that sends bad data
// fails the piece's hash check; the piece is fetched again, from others
// (libtorrent bans a peer it can tell sent bad blocks).
//
// A delta checkpoint (CHECKPOINT_FORMAT.md §9.5) is fetched the same way and
// applied in place: its header and index come first, the workspace must be
// in the delta's base state (checked by hashing it before anything is
// written), then each group of changed chunks is written as its pieces
// complete.
#ifndef WKSPKIT_DISTRIB_DISTRIB_H_
#define WKSPKIT_DISTRIB_DISTRIB_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/wksp.h"

namespace wk::distrib {

// Asks every Seed and Fetch of this process to stop soon (within about
// 100 ms). Async-signal-safe: a SIGINT/SIGTERM handler may call it.
void RequestStop();

// Receives one line per libtorrent alert (peers' too) of every Seed and
// Fetch of this process, for debugging; nullptr (the default) turns the log
// off. The library writes nothing to stdout or stderr itself: wksp_ctl sets
// a sink writing to stderr when WKSPKIT_DISTRIB_LOG is set. The sink is
// called from the thread running Seed or Fetch; set it before they start.
using AlertLog = void (*)(std::string_view line);
void SetAlertLog(AlertLog log);

struct SeedOptions {
  std::string listen = "0.0.0.0:6881";  // IP:PORT; port 0 picks one
  double seconds = 0;                   // 0: until RequestStop
  size_t threads = 0;                   // hashing threads; 0 = all CPUs
  uint64_t upload_rate = 0;             // bytes/s to all peers; 0 = no limit
  // How long the first-copy rule (below) keeps a piece to the sharing
  // fetcher it was sent to once nothing of it is owed any more, while the
  // origin still has pieces no fetcher was sent in full: from the last
  // block of it sent (or that fetcher's HAVE), time for it to pass the
  // piece on. Afterwards the grace follows the measured upload rate, at
  // most this. Blocks still queued for it keep the piece its own whatever
  // their wait; a fetcher that left with every piece keeps nothing
  // (distrib/first_copy.h, DISTRIBUTION.md).
  double first_copy_grace_s = 8;
  // libtorrent's super-seeding instead (an experiment: it stalls our
  // fetches, which ask for the layout first and then a window; see
  // DISTRIBUTION.md).
  bool super_seed = false;
  // Announce URLs of trackers (HTTP, UDP) to announce to: added to the
  // torrent's own, outside its info dict (the info-hash is unchanged).
  std::vector<std::string> trackers;
  // TCP congestion control of every peer connection (TCP_CONGESTION, e.g.
  // "cubic"); empty: the system's default. A swarm sends to each host from
  // many peers at once, and a loss-agnostic default (BBR v1) into shallow
  // buffers loses packets there (docs/DISTRIBUTION.md, "Measured"). Checked
  // when the seed starts: a name the kernel does not offer fails it.
  std::string tcp_congestion;
  // Further torrents of the same file served by the same session, on the
  // same port: e.g. the v1-only companion of a hybrid torrent, for clients
  // that cannot read the hybrid (docs/DISTRIBUTION.md). Each is checked in
  // full like the main one.
  std::vector<std::string> companions;
  // Called once the file is checked in full against the torrent(s) and the
  // listen socket is up, with the address peers can use ("IP:PORT").
  std::function<void(const std::string& endpoint)> ready;
};

struct SeedReport {
  uint64_t file_sz = 0;
  uint64_t uploaded = 0;  // payload bytes sent to peers (piece data), all
                          // torrents together
  double seconds = 0;     // serving, from ready to the end
  // The first-copy rule (below): requests of our sharing fetchers refused
  // (another fetcher was getting the piece or could pass it on), and
  // requests served anyway because the fetcher was stuck on the piece
  // (refused it for a while although a peer had announced it), and
  // requests served as copies once the first pass was done, with the
  // origin's link free and its upload near one copy.
  uint64_t refused = 0;
  uint64_t unstuck = 0;
  uint64_t spared = 0;
};

// Seeds `file` (read-only, memory-mapped) under `torrent` (v2, hybrid or
// v1-only) and options.companions. Before serving, the file is hashed
// against each torrent (every 16 KiB block against a v2 merkle tree, every
// piece against a v1-only torrent's SHA-1): a file that differs anywhere is
// refused (FailedPrecondition naming the torrent and how many pieces
// differ). Returns the report when the time is up or a stop was requested.
//
// The origin's upload: every peer is unchoked (no slot limit: a fleet's
// hosts are all wanted), and each piece goes to one of our sharing fetchers
// only (the first-copy rule: the others asking for it are rejected while
// that fetcher can pass it on, and get it from that fetcher), so the
// fetchers trade among themselves and the origin sends about one copy of
// the file (docs/DISTRIBUTION.md has the rule and the figures).
absl::StatusOr<SeedReport> Seed(const std::string& torrent,
                                const std::string& file,
                                const SeedOptions& options);

// What a fetch is doing, for progress lines.
enum class FetchPhase {
  kWaiting,      // for peers: no piece yet (or re-checking a kept file)
  kDownloading,  // downloading and restoring
  kSeeding,      // restored, the kept file complete: seeding (seed_after)
};
const char* FetchPhaseName(FetchPhase phase);

struct FetchReport;

struct FetchOptions {
  std::vector<std::string> peers;    // IP:PORT of each peer to use
  std::vector<std::string> trackers;  // as SeedOptions::trackers
  std::string listen = "0.0.0.0:0";  // for peers that connect to us
  std::string tcp_congestion;        // as SeedOptions::tcp_congestion
  // A stall bound: the fetch fails when no new piece passed its check for
  // this long (the clock starts when the fetch does).
  double timeout_s = 60;
  // The whole fetch, restore included (not seed_after): 0 = no bound.
  double deadline_s = 0;
  // No byte of a wanted piece for this long (checked once a second): every
  // peer is disconnected and forgotten, bans included, and the given peers
  // are dialled afresh (docs/DISTRIBUTION.md says which libtorrent stalls
  // this gets out of). Counted in FetchReport::peer_resets.
  double stall_s = 2;
  // Serve the pieces we hold to other peers while fetching: the kept file,
  // or without keep the pieces still in memory (downloaded, not yet given
  // back; a request for one given back is answered "don't have"). false:
  // never upload (no peer is unchoked; requests are dropped).
  bool upload = true;
  size_t threads = 0;                // restore and hash threads; 0 = all
  std::optional<uint32_t> seed;      // the restore's seed (none: keep)
  // Keep the downloaded file at this path (must not exist). It is written
  // at keep + ".part" and renamed to keep once complete, verified and
  // synced; a failed or killed fetch leaves the .part file, and the next
  // fetch with the same keep re-checks its pieces and fetches the rest
  // (a .part of another size is refused). Pieces are asked for in frame
  // order within a window of mem_max bytes (rarest first inside it), the
  // rest at low priority, so frames are restored as the download goes.
  std::string keep;
  // With keep: go on seeding the kept file after the restore, for
  // seed_seconds (0: until RequestStop); ready as for Seed.
  bool seed_after = false;
  double seed_seconds = 0;
  std::function<void(const std::string& endpoint)> ready;
  // Without keep: the most file bytes held in memory at once, downloaded
  // and not yet restored. Frames are requested in file order as far as this
  // allows, and at least the first frame not yet restored is always allowed,
  // so the bound is max(mem_max, largest cgroup frame + 2 pieces) plus the
  // head and tail pieces (the first 128 KiB and last 64 KiB, rounded out to
  // pieces) while the layout is read.
  uint64_t mem_max = uint64_t{256} << 20;
  // Progress: bytes of allocation data restored so far.
  std::function<void(uint64_t done)> progress;
  // Called as the fetch enters each phase.
  std::function<void(FetchPhase)> phase;
  // Called once the workspace is restored (and the kept file complete),
  // before seeding after, with the report so far; an error fails the fetch.
  std::function<absl::Status(const FetchReport&)> completed;
};

struct FetchReport {
  uint64_t file_sz = 0;
  uint64_t pieces = 0;
  uint64_t piece_sz = 0;
  uint64_t hash_failures = 0;  // pieces that failed their check (refetched)
  uint64_t peak_held = 0;      // most bytes held at once (see mem_max)
  uint64_t peer_resets = 0;    // stalls after which the peers were redialled
  uint64_t resumed_pieces = 0;  // verified in a kept .part file at start
  uint64_t downloaded = 0;     // payload bytes received (piece data)
  uint64_t uploaded = 0;       // payload bytes sent, until restored
  double waited = 0;           // seconds until the first piece arrived
  double seconds = 0;          // until the workspace was restored (and the
                               // kept file complete); seeding excluded
  uint64_t seed_uploaded = 0;  // payload bytes sent while seeding after
  double seed_seconds = 0;     // seeding after
};

// Fetches the torrent's file (v2 or hybrid; a v1-only torrent is refused:
// InvalidArgument, naming the fix) from options.peers and the peers the
// trackers (options.trackers and any the torrent names) give into `wksp`: on
// success the workspace holds exactly the checkpoint's allocations. Failures:
// no new piece for timeout_s, or the whole fetch past deadline_s
// (DeadlineExceeded; the workspace is untouched if the file's layout had not
// arrived yet); a stop request (Cancelled; with seed_after, a stop while
// seeding is the normal end: OK); a checkpoint that does not fit or is corrupt
// (as for any restore). A failure after the first frame was restored leaves the
// workspace reset to empty (wksp_checkpt::IsWorkspaceReset). With a kept
// file, a failure once the restore is done (the kept file's sync, a stop
// request) leaves the workspace restored, complete and unmarked, and the
// .part to resume from: FetchLeftRestored says so.
absl::StatusOr<FetchReport> Fetch(wksp::Wksp& wksp, const std::string& torrent,
                                  const FetchOptions& options);

// Whether a failed Fetch left the workspace restored (only its kept file is
// not complete).
bool FetchLeftRestored(const absl::Status& status);

}  // namespace wk::distrib

#endif  // WKSPKIT_DISTRIB_DISTRIB_H_
