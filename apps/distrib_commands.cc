#include "apps/distrib_commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
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

// Bytes in MB (10^6, as network rates are counted), 1 decimal.
std::string Mb(uint64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}
std::string MbPerS(uint64_t bytes, double s) {
  return absl::StrFormat("%.1f MB/s",
                         s > 0 ? static_cast<double>(bytes) / 1e6 / s : 0.0);
}

}  // namespace

absl::Status SetListen(DistribSettings& d, DistribArgs a) {
  d.listen = a[0];
  return absl::OkStatus();
}

absl::Status SetTcpCongestion(DistribSettings& d, DistribArgs a) {
  d.tcp_congestion = a[0];
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

absl::Status SetDeadline(DistribSettings& d, DistribArgs a) {
  WK_ASSIGN_OR_RETURN(d.deadline_s, ParseSeconds(a[0], "--deadline"));
  return absl::OkStatus();
}

absl::Status SetNoUpload(DistribSettings& d, DistribArgs) {
  d.upload = false;
  return absl::OkStatus();
}

absl::Status AddTracker(DistribSettings& d, DistribArgs a) {
  const std::string_view url = a[0];
  if (!url.starts_with("http://") && !url.starts_with("https://") &&
      !url.starts_with("udp://")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad --tracker '%s' (a tracker's announce URL: http://HOST:PORT/"
        "announce, https:// or udp://)",
        url));
  }
  d.trackers.emplace_back(url);
  return absl::OkStatus();
}

// --hybrid and --v1-only name the kind of torrent torrent-create makes:
// given both, which one was meant is unknown.
absl::Status SetTorrentKind(DistribSettings& d, distrib::TorrentKind kind) {
  if (d.torrent_kind != distrib::TorrentKind::kV2 && d.torrent_kind != kind) {
    return absl::InvalidArgumentError(
        "--hybrid and --v1-only exclude each other (a torrent is one kind: "
        "make the hybrid and its v1-only companion with two wksp_ctl runs, "
        "or the companion from the hybrid with torrent-v1)");
  }
  d.torrent_kind = kind;
  return absl::OkStatus();
}

absl::Status SetHybrid(DistribSettings& d, DistribArgs) {
  return SetTorrentKind(d, distrib::TorrentKind::kHybrid);
}

absl::Status SetV1Only(DistribSettings& d, DistribArgs) {
  return SetTorrentKind(d, distrib::TorrentKind::kV1);
}

absl::Status AddCompanion(DistribSettings& d, DistribArgs a) {
  d.companions.emplace_back(a[0]);
  return absl::OkStatus();
}

absl::Status SetMemMax(DistribSettings& d, DistribArgs a) {
  WK_ASSIGN_OR_RETURN(d.mem_max, ParseSize(a[0], "--mem-max"));
  return absl::OkStatus();
}

absl::Status TorrentCreate(const DistribSettings& d, size_t threads,
                           DistribArgs a) {
  WK_ASSIGN_OR_RETURN(
      distrib::TorrentSummary s,
      distrib::CreateTorrent(a[0], a[1], threads, d.torrent_kind));
  // A hybrid's v1 info-hash too, in text (v1-only clients and trackers know
  // it); the JSON object keeps its one info_hash (v2; v1 for a v1-only one).
  if (d.json) return Print(TorrentJson(s.Hash(), ""));
  return Print(s.info_hash.empty() || s.info_hash_v1.empty()
                   ? s.Hash() + "\n"
                   : s.info_hash + " " + s.info_hash_v1 + "\n");
}

absl::Status TorrentV1(const DistribSettings& d, DistribArgs a) {
  WK_ASSIGN_OR_RETURN(distrib::TorrentSummary s,
                      distrib::V1FromHybrid(a[0], a[1]));
  return Print(d.json ? TorrentJson(s.Hash(), "") : s.Hash() + "\n");
}

absl::Status SeedCommand(const DistribSettings& d, size_t threads,
                         DistribArgs a) {
  WK_ASSIGN_OR_RETURN(distrib::TorrentSummary t, distrib::ReadTorrent(a[0]));
  std::vector<std::string> companion_hashes;
  for (const std::string& c : d.companions) {
    WK_ASSIGN_OR_RETURN(distrib::TorrentSummary ct, distrib::ReadTorrent(c));
    companion_hashes.push_back(ct.Hash());
  }
  distrib::SeedOptions o;
  if (!d.listen.empty()) o.listen = d.listen;
  o.tcp_congestion = d.tcp_congestion;
  o.seconds = d.seconds;
  o.threads = threads;
  o.trackers = d.trackers;
  o.companions = d.companions;
  // Experiment knobs for distrib:fleet_bench (docs/DISTRIBUTION.md), not
  // settings: the origin's first-copy grace and libtorrent super-seeding.
  if (const char* g = std::getenv("WKSPKIT_DISTRIB_GRACE_MS")) {
    o.first_copy_grace_s = std::atof(g) / 1000;
  }
  if (const char* ss = std::getenv("WKSPKIT_DISTRIB_SUPERSEED")) {
    o.super_seed = std::string_view(ss) == "1";
  }
  absl::Status printed;
  o.ready = [&](const std::string& ep) {
    printed =
        Print(d.json ? TorrentJson(t.Hash(), ep, companion_hashes)
                     : absl::StrFormat(
                           "seeding %s %s%s\n", ep, t.Hash(),
                           companion_hashes.empty()
                               ? ""
                               : " " + absl::StrJoin(companion_hashes, " ")));
  };
  WK_ASSIGN_OR_RETURN(distrib::SeedReport r, distrib::Seed(a[0], a[1], o));
  absl::FPrintF(
      stderr,
      "seed: uploaded %u bytes (%s, %.2f x the %s file) in %.1f s "
      "(%s); refused %u requests of our fetchers (another was "
      "passing the piece on), served %u to fetchers stuck on a piece and %u "
      "as spare copies at the end\n",
      r.uploaded, Mb(r.uploaded),
      r.file_sz
          ? static_cast<double>(r.uploaded) / static_cast<double>(r.file_sz)
          : 0.0,
      Mb(r.file_sz), r.seconds, MbPerS(r.uploaded, r.seconds), r.refused,
      r.unstuck, r.spared);
  return printed;
}

absl::Status FetchCommand(const DistribSettings& d, size_t threads,
                          const ProgressOptions& progress_options,
                          DistribArgs a) {
  WK_RETURN_IF_ERROR(wksp::ValidateName(a[0]));
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[2]));
  WK_ASSIGN_OR_RETURN(distrib::TorrentSummary t, distrib::ReadTorrent(a[1]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(a[0]));
  // Phase lines and a summary of our own instead of a progress bar: a
  // fetch's bytes are network bytes, counted apart from the restore's.
  distrib::FetchOptions o;
  o.peers = d.peers;
  o.trackers = d.trackers;
  if (!d.listen.empty()) o.listen = d.listen;
  o.tcp_congestion = d.tcp_congestion;
  o.timeout_s = d.timeout_s;
  o.deadline_s = d.deadline_s;
  o.upload = d.upload;
  o.threads = threads;
  o.seed = seed;
  o.keep = d.keep;
  o.seed_after = d.seed_after;
  o.seed_seconds = d.seconds;
  o.mem_max = d.mem_max;
  absl::Status printed;
  const std::string name(w.name());
  o.phase = [&](distrib::FetchPhase ph) {
    if (progress_options.quiet) return;
    if (ph == distrib::FetchPhase::kSeeding) {
      // The fetch is done: its summary first, then seeding.
      return;
    }
    absl::FPrintF(stderr, "fetch %s: %s\n", name,
                  distrib::FetchPhaseName(ph));
  };
  bool summarized = false;
  auto summary = [&](const distrib::FetchReport& r) -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
    summarized = true;
    if (progress_options.quiet) return absl::OkStatus();
    const double dl_s = std::max(0.0, r.seconds - r.waited);
    absl::FPrintF(
        stderr,
        "fetch %s: restored %s from a %s file (%u pieces of %u KiB) in %.1f "
        "s: waited %.1f s for peers, then downloaded %s (%s), uploaded %s "
        "(%s)%s; %u failed their hash check%s%s\n",
        name, Mb(u.used_sz), Mb(r.file_sz), r.pieces, r.piece_sz >> 10, r.seconds, r.waited,
        Mb(r.downloaded), MbPerS(r.downloaded, dl_s), Mb(r.uploaded),
        MbPerS(r.uploaded, dl_s),
        r.resumed_pieces
            ? absl::StrFormat("; %u pieces were already in the kept file",
                              r.resumed_pieces)
            : "",
        r.hash_failures,
        r.peak_held ? absl::StrFormat("; at most %s held in memory",
                                      Mb(r.peak_held))
                    : "",
        r.peer_resets ? absl::StrFormat("; %u stalls (peers redialled)",
                                        r.peer_resets)
                      : "");
    return absl::OkStatus();
  };
  o.ready = [&](const std::string& ep) {
    if (!progress_options.quiet) {
      absl::FPrintF(stderr, "fetch %s: seeding (until SIGINT/SIGTERM%s)\n",
                    name,
                    d.seconds > 0 ? absl::StrFormat(" or %g s", d.seconds)
                                  : "");
    }
    printed =
        Print(d.json ? TorrentJson(t.info_hash, ep)
                     : absl::StrFormat("seeding %s %s\n", ep, t.info_hash));
  };
  o.completed = summary;
  WK_ASSIGN_OR_RETURN(distrib::FetchReport r, distrib::Fetch(w, a[1], o));
  if (!summarized) WK_RETURN_IF_ERROR(summary(r));
  if (d.seed_after && !progress_options.quiet) {
    absl::FPrintF(stderr, "fetch %s: seeding uploaded %s in %.1f s (%s)\n",
                  name, Mb(r.seed_uploaded), r.seed_seconds,
                  MbPerS(r.seed_uploaded, r.seed_seconds));
  }
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

absl::StatusOr<Action> TorrentV1Cmd(Settings& s, Args a) {
  DistribSettings d = s.distrib;
  d.json = s.json;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=] { return TorrentV1(d, args); });
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
      WK_RETURN_IF_ERROR(JoinToWrite(args[0]).status());
    }
    return FetchCommand(set.distrib, set.threads, set.progress, args);
  });
}

}  // namespace wk::apps
