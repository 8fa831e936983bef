// wksp_ctl's distribution settings and commands (docs/wksp_ctl.md,
// docs/DISTRIBUTION.md): torrent-create, seed and fetch, and the settings
// before them (--listen, --seconds, --peer, --keep, --seed-after,
// --timeout, --deadline, --no-upload, --tracker, --hybrid, --v1-only,
// --companion, --mem-max).
// command_table.cc puts them in the table.
#ifndef WKSPKIT_APPS_DISTRIB_COMMANDS_H_
#define WKSPKIT_APPS_DISTRIB_COMMANDS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apps/progress.h"
#include "distrib/torrent.h"

namespace wk::apps {

struct DistribSettings {
  std::string listen;              // empty: the command's default
  std::string tcp_congestion;      // --tcp-congestion; empty: the system's
  double seconds = 0;              // seed / seed-after time, 0 = until stop
  std::vector<std::string> peers;  // --peer, in order
  std::vector<std::string> trackers;  // --tracker, in order
  // --hybrid (v1+v2), --v1-only: the kind torrent-create makes.
  distrib::TorrentKind torrent_kind = distrib::TorrentKind::kV2;
  std::vector<std::string> companions;  // --companion, in order
  std::string keep;                // --keep FILE
  bool seed_after = false;
  bool upload = true;    // --no-upload: false
  double timeout_s = 60;  // no new piece for this long: fail
  double deadline_s = 0;  // the whole fetch; 0 = none
  uint64_t mem_max = uint64_t{256} << 20;
  bool json = false;  // print results as JSON (output.h)
};

using DistribArgs = std::span<char* const>;

absl::Status SetListen(DistribSettings& d, DistribArgs a);
absl::Status SetTcpCongestion(DistribSettings& d, DistribArgs a);
absl::Status SetSeconds(DistribSettings& d, DistribArgs a);
absl::Status AddPeer(DistribSettings& d, DistribArgs a);
absl::Status SetKeep(DistribSettings& d, DistribArgs a);
absl::Status SetSeedAfter(DistribSettings& d, DistribArgs a);
absl::Status SetTimeout(DistribSettings& d, DistribArgs a);
absl::Status SetDeadline(DistribSettings& d, DistribArgs a);
absl::Status SetNoUpload(DistribSettings& d, DistribArgs a);
absl::Status AddTracker(DistribSettings& d, DistribArgs a);
absl::Status SetHybrid(DistribSettings& d, DistribArgs a);
absl::Status SetV1Only(DistribSettings& d, DistribArgs a);
absl::Status AddCompanion(DistribSettings& d, DistribArgs a);
absl::Status SetMemMax(DistribSettings& d, DistribArgs a);

// torrent-create FILE TORRENT: prints the info-hash (v2; with --hybrid
// then the v1 info-hash; with --v1-only the v1 info-hash alone).
absl::Status TorrentCreate(const DistribSettings& d, size_t threads,
                           DistribArgs a);
// torrent-v1 HYBRID TORRENT: the v1-only companion of a hybrid torrent,
// from its SHA-1 piece hashes; prints its info-hash.
absl::Status TorrentV1(const DistribSettings& d, DistribArgs a);
// seed TORRENT FILE: prints "seeding IP:PORT INFO_HASH" once serving (then
// each --companion's info-hash), and on stderr what it uploaded when it
// ends.
absl::Status SeedCommand(const DistribSettings& d, size_t threads,
                         DistribArgs a);
// fetch WKSP TORRENT SEED|-: progress and a summary on stderr; with
// --seed-after, "seeding IP:PORT INFO_HASH" on stdout as for seed. The
// summary counts the fetch (downloaded, uploaded, rates) apart from the
// seeding after it.
absl::Status FetchCommand(const DistribSettings& d, size_t threads,
                          const ProgressOptions& progress, DistribArgs a);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_DISTRIB_COMMANDS_H_
