// wksp_ctl's distribution settings and commands (docs/wksp_ctl.md,
// docs/DISTRIBUTION.md): torrent-create, seed and fetch, and the settings
// before them (--listen, --seconds, --peer, --keep, --seed-after,
// --timeout, --mem-max). command_table.cc puts them in the table.
#ifndef WKSPKIT_APPS_DISTRIB_COMMANDS_H_
#define WKSPKIT_APPS_DISTRIB_COMMANDS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apps/progress.h"

namespace wk::apps {

struct DistribSettings {
  std::string listen;              // empty: the command's default
  double seconds = 0;              // seed / seed-after time, 0 = until stop
  std::vector<std::string> peers;  // --peer, in order
  std::string keep;                // --keep FILE
  bool seed_after = false;
  double timeout_s = 60;
  uint64_t mem_max = uint64_t{256} << 20;
  bool json = false;  // print results as JSON (output.h)
};

using DistribArgs = std::span<char* const>;

absl::Status SetListen(DistribSettings& d, DistribArgs a);
absl::Status SetSeconds(DistribSettings& d, DistribArgs a);
absl::Status AddPeer(DistribSettings& d, DistribArgs a);
absl::Status SetKeep(DistribSettings& d, DistribArgs a);
absl::Status SetSeedAfter(DistribSettings& d, DistribArgs a);
absl::Status SetTimeout(DistribSettings& d, DistribArgs a);
absl::Status SetMemMax(DistribSettings& d, DistribArgs a);

// torrent-create FILE TORRENT: prints the info-hash.
absl::Status TorrentCreate(const DistribSettings& d, size_t threads,
                           DistribArgs a);
// seed TORRENT FILE: prints "seeding IP:PORT INFO_HASH" once serving.
absl::Status SeedCommand(const DistribSettings& d, size_t threads,
                         DistribArgs a);
// fetch WKSP TORRENT SEED|-: progress and a summary on stderr; with
// --seed-after, "seeding IP:PORT INFO_HASH" on stdout as for seed.
absl::Status FetchCommand(const DistribSettings& d, size_t threads,
                          const ProgressOptions& progress, DistribArgs a);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_DISTRIB_COMMANDS_H_
