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
  // Called once the file is checked in full against the torrent and the
  // listen socket is up, with the address peers can use ("IP:PORT").
  std::function<void(const std::string& endpoint)> ready;
};

// Seeds `file` (read-only, memory-mapped) under `torrent`. Before serving,
// every block of the file is hashed against the torrent: a file that
// differs anywhere is refused (FailedPrecondition naming how many pieces
// differ). Returns OK when the time is up or a stop was requested.
absl::Status Seed(const std::string& torrent, const std::string& file,
                  const SeedOptions& options);

struct FetchOptions {
  std::vector<std::string> peers;    // IP:PORT of each peer to use
  std::string listen = "0.0.0.0:0";  // for peers that connect to us
  double timeout_s = 60;             // the whole fetch (and restore)
  size_t threads = 0;                // restore and hash threads; 0 = all
  std::optional<uint32_t> seed;      // the restore's seed (none: keep)
  // Keep the downloaded file at this path (created; must not exist). It is
  // then complete and verified when Fetch returns OK, and removed on failure.
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
};

struct FetchReport {
  uint64_t file_sz = 0;
  uint64_t pieces = 0;
  uint64_t piece_sz = 0;
  uint64_t hash_failures = 0;  // pieces that failed their check (refetched)
  uint64_t peak_held = 0;      // most bytes held at once (see mem_max)
  uint64_t peer_resets = 0;    // stalls after which the peers were redialled
  double seconds = 0;          // until the workspace was restored
};

// Fetches the torrent's file from options.peers (and any tracker it names)
// into `wksp`: on success the workspace holds exactly the checkpoint's
// allocations. Failures: no peer gives the data within timeout_s
// (DeadlineExceeded; the workspace is untouched if the file's layout had
// not arrived yet); a checkpoint that does not fit or is corrupt (as for
// any restore). A failure after the first frame was restored leaves the
// workspace reset to empty (wksp_checkpt::IsWorkspaceReset).
absl::StatusOr<FetchReport> Fetch(wksp::Wksp& wksp, const std::string& torrent,
                                  const FetchOptions& options);

}  // namespace wk::distrib

#endif  // WKSPKIT_DISTRIB_DISTRIB_H_
