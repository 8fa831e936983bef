#include "apps/distrib_commands.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "apps/progress.h"
#include "distrib/distrib.h"
#include "distrib/torrent.h"
#include "util/status.h"
#include "wksp/name.h"
#include "wksp/wksp.h"

namespace wk::apps {
namespace {

// Seconds, a decimal number of at most a day times 365 (0 allowed).
absl::StatusOr<double> ParseSeconds(std::string_view text,
                                    std::string_view what) {
  double s = 0;
  if (!absl::SimpleAtod(absl::string_view(text.data(), text.size()), &s) ||
      !(s >= 0) || s > 86400.0 * 365) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad %s '%s' (seconds, e.g. 30 or 2.5)", what, text));
  }
  return s;
}

}  // namespace

absl::Status SetListen(DistribSettings& d, DistribArgs a) {
  d.listen = a[0];
  return absl::OkStatus();
}

absl::Status SetSeconds(DistribSettings& d, DistribArgs a) {
  WK_ASSIGN_OR_RETURN(d.seconds, ParseSeconds(a[0], "--seconds"));
  return absl::OkStatus();
}

absl::Status AddPeer(DistribSettings& d, DistribArgs a) {
  d.peers.push_back(a[0]);
  return absl::OkStatus();
}

absl::Status SetKeep(DistribSettings& d, DistribArgs a) {
  d.keep = a[0];
  return absl::OkStatus();
}

absl::Status SetSeedAfter(DistribSettings& d, DistribArgs) {
  d.seed_after = true;
  return absl::OkStatus();
}

absl::Status SetTimeout(DistribSettings& d, DistribArgs a) {
  WK_ASSIGN_OR_RETURN(d.timeout_s, ParseSeconds(a[0], "--timeout"));
  return absl::OkStatus();
}

absl::Status SetMemMax(DistribSettings& d, DistribArgs a) {
  WK_ASSIGN_OR_RETURN(d.mem_max, ParseSize(a[0], "--mem-max"));
  return absl::OkStatus();
}

absl::Status TorrentCreate(const DistribSettings& d, size_t threads,
                           DistribArgs a) {
  WK_ASSIGN_OR_RETURN(distrib::TorrentSummary s,
                      distrib::CreateTorrent(a[0], a[1], threads));
  return Print(d.json ? TorrentJson(s.info_hash, "") : s.info_hash + "\n");
}

absl::Status SeedCommand(const DistribSettings& d, size_t threads,
                         DistribArgs a) {
  WK_ASSIGN_OR_RETURN(distrib::TorrentSummary t, distrib::ReadTorrent(a[0]));
  distrib::SeedOptions o;
  if (!d.listen.empty()) o.listen = d.listen;
  o.seconds = d.seconds;
  o.threads = threads;
  absl::Status printed;
  o.ready = [&](const std::string& ep) {
    printed =
        Print(d.json ? TorrentJson(t.info_hash, ep)
                     : absl::StrFormat("seeding %s %s\n", ep, t.info_hash));
  };
  WK_RETURN_IF_ERROR(distrib::Seed(a[0], a[1], o));
  return printed;
}

absl::Status FetchCommand(const DistribSettings& d, size_t threads,
                          const ProgressOptions& progress_options,
                          DistribArgs a) {
  WK_RETURN_IF_ERROR(wksp::ValidateName(a[0]));
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[2]));
  WK_ASSIGN_OR_RETURN(distrib::TorrentSummary t, distrib::ReadTorrent(a[1]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(a[0]));
  Progress progress(absl::StrFormat("fetch %s", w.name()), stderr,
                    progress_options);
  distrib::FetchOptions o;
  o.peers = d.peers;
  if (!d.listen.empty()) o.listen = d.listen;
  o.timeout_s = d.timeout_s;
  o.threads = threads;
  o.seed = seed;
  o.keep = d.keep;
  o.seed_after = d.seed_after;
  o.seed_seconds = d.seconds;
  o.mem_max = d.mem_max;
  absl::Status printed;
  o.ready = [&](const std::string& ep) {
    printed =
        Print(d.json ? TorrentJson(t.info_hash, ep)
                     : absl::StrFormat("seeding %s %s\n", ep, t.info_hash));
  };
  WK_ASSIGN_OR_RETURN(distrib::FetchReport r, distrib::Fetch(w, a[1], o));
  WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
  progress.Finish(u.used_sz);
  if (progress_options.quiet) return printed;
  absl::FPrintF(stderr,
                "fetch %s: %u-byte file, %u pieces of %u bytes, %u failed "
                "their hash check, at most %u bytes held, %.3f s%s\n",
                w.name(), r.file_sz, r.pieces, r.piece_sz, r.hash_failures,
                r.peak_held, r.seconds,
                r.peer_resets ? absl::StrFormat(", %u stalls (peers redialled)",
                                                r.peer_resets)
                              : "");
  return printed;
}

// ---- the commands' parsers (command_parsers.h): the arguments the library
// parses itself are checked here too, so a bad one stops the line before it
// runs.

absl::StatusOr<Action> TorrentCreateCmd(Settings& s, Args a) {
  DistribSettings d = s.distrib;
  d.json = s.json;
  const size_t threads = s.threads;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=] { return TorrentCreate(d, threads, args); });
}

absl::StatusOr<Action> SeedCmd(Settings& s, Args a) {
  Settings set = s;
  set.distrib.json = s.json;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=] { return SeedCommand(set.distrib, set.threads, args); });
}

absl::StatusOr<Action> FetchCmd(Settings& s, Args a) {
  WK_RETURN_IF_ERROR(Name(a[0]).status());
  WK_RETURN_IF_ERROR(ParseSeed(a[2]).status());
  Settings set = s;
  set.distrib.json = s.json;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=]() -> absl::Status {
    // fetch restores into an existing workspace: the same care as restore.
    if (absl::StatusOr<std::string> path = RegionPath(args[0]); path.ok()) {
      WK_RETURN_IF_ERROR(CheckAttached(args[0], *path, "fetch", set.force));
    }
    return FetchCommand(set.distrib, set.threads, set.progress, args);
  });
}

}  // namespace wk::apps
