// Seed (distrib.h): a session serving one file from a read-only mapping
// under one or more torrents of it, after hashing all of it against each.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "distrib/distrib.h"
#include "distrib/region_disk.h"
#include "distrib/session.h"
#include "io/mmio.h"
#include "libtorrent/add_torrent_params.hpp"
#include "libtorrent/address.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/ip_filter.hpp"
#include "libtorrent/session.hpp"
#include "libtorrent/session_params.hpp"
#include "libtorrent/torrent_handle.hpp"
#include "libtorrent/torrent_status.hpp"
#include "util/status.h"
#include "util/thread_pool.h"

namespace wk::distrib {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kAlertWaitMs = 100;

// A torrent being served, and its path (for errors).
struct Served {
  lt::torrent_handle th;
  std::string path;
  bool checked = false;
  std::shared_ptr<const internal::FirstCopyRule> first_copy;
};

absl::Status SeedLoop(lt::session& ses, std::vector<Served>& served,
                      const std::string& file, const SeedOptions& o,
                      SeedReport& report) {
  std::string endpoint;
  size_t checked = 0;
  bool announced = false;
  Clock::time_point until = Clock::time_point::max(), start{};
  auto done = [&] {
    if (!announced) return absl::OkStatus();
    report.seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    report.uploaded = report.refused = report.unstuck = report.spared = 0;
    for (const Served& s : served) {
      report.uploaded += static_cast<uint64_t>(
          std::max<int64_t>(0, s.th.status({}).total_payload_upload));
      report.refused += s.first_copy->rejected();
      report.unstuck += s.first_copy->unstuck();
      report.spared += s.first_copy->spared();
    }
    return absl::OkStatus();
  };
  while (!internal::StopRequested()) {
    if (Clock::now() >= until) return done();
    for (lt::alert* a : internal::Alerts(ses, kAlertWaitMs)) {
      if (auto* l = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (l->socket_type == lt::socket_type_t::tcp) {
          endpoint =
              internal::FormatEndpoint(lt::tcp::endpoint(l->address, l->port));
        }
      } else if (auto* f = lt::alert_cast<lt::listen_failed_alert>(a)) {
        return absl::UnavailableError(absl::StrFormat(
            "seed: cannot listen on %s: %s", o.listen, f->error.message()));
      } else if (auto* c = lt::alert_cast<lt::torrent_checked_alert>(a)) {
        auto it =
            std::find_if(served.begin(), served.end(),
                         [&](const Served& s) { return s.th == c->handle; });
        if (it == served.end() || it->checked) continue;
        lt::torrent_status st = it->th.status();
        if (!st.is_seeding) {
          const int pieces = it->th.torrent_file()->num_pieces();
          return absl::FailedPreconditionError(absl::StrFormat(
              "seed: %s does not match the torrent %s: %d of %d pieces "
              "differ (seed the file the torrent was made of)",
              file, it->path, st.num_pieces >= 0 ? pieces - st.num_pieces : 0,
              pieces));
        }
        it->checked = true;
        ++checked;
      } else if (auto* e = lt::alert_cast<lt::torrent_error_alert>(a)) {
        return absl::InternalError(
            absl::StrFormat("seed: %s", e->error.message()));
      }
    }
    if (checked == served.size() && !endpoint.empty() && !announced) {
      announced = true;
      start = Clock::now();
      if (o.seconds > 0) {
        until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(o.seconds));
      }
      if (o.ready) o.ready(endpoint);
    }
  }
  return done();
}

}  // namespace

absl::StatusOr<SeedReport> Seed(const std::string& torrent,
                                const std::string& file,
                                const SeedOptions& o) {
  WK_RETURN_IF_ERROR(internal::CheckCongestion(o.tcp_congestion));
  std::vector<std::string> paths = {torrent};
  paths.insert(paths.end(), o.companions.begin(), o.companions.end());
  std::vector<std::shared_ptr<lt::torrent_info>> tis;
  int pieces = 0;
  for (const std::string& path : paths) {
    WK_ASSIGN_OR_RETURN(std::shared_ptr<lt::torrent_info> ti,
                        internal::LoadTorrent(path));
    for (const auto& other : tis) {
      if (other->info_hashes() == ti->info_hashes()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "seed: torrent %s is given twice (name each torrent once)", path));
      }
    }
    pieces += ti->num_pieces();
    tis.push_back(std::move(ti));
  }
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(file));
  for (size_t i = 0; i < tis.size(); ++i) {
    const int64_t want = tis[i]->files().file_size(lt::file_index_t{0});
    if (static_cast<int64_t>(map.size()) != want) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "seed: %s has %u bytes, the file of torrent %s %d (seed the file "
          "the torrent was made of)",
          file, map.size(), paths[i], want));
    }
  }
  const size_t threads =
      o.threads ? o.threads : ThreadPool::HardwareConcurrency();
  Region region{
      std::span<uint8_t>(const_cast<uint8_t*>(map.data()), map.size()), false,
      true};
  try {
    lt::settings_pack settings = internal::Settings(o.listen, pieces);
    internal::SetOriginSettings(settings);
    internal::SetFingerprint(settings, internal::PeerRole::kOrigin);
    if (o.upload_rate > 0) {
      settings.set_int(
          lt::settings_pack::upload_rate_limit,
          static_cast<int>(std::min<uint64_t>(o.upload_rate, INT32_MAX)));
    }
    lt::session_params sp(std::move(settings));
    sp.disk_io_constructor = RegionDiskConstructor(region, threads);
    lt::session ses(std::move(sp));
    if (o.upload_rate > 0) {
      // libtorrent exempts peers on local networks (loopback included) from
      // the session's rate limits; the limit is for every peer.
      lt::ip_filter every;
      const std::uint32_t global =
          std::uint32_t{1} << static_cast<std::uint32_t>(
              lt::session::global_peer_class_id);
      every.add_rule(lt::make_address("0.0.0.0"),
                     lt::make_address("255.255.255.255"), global);
      every.add_rule(lt::make_address("::"),
                     lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                     global);
      ses.set_peer_class_filter(every);
    }
    std::vector<Served> served;
    for (size_t i = 0; i < tis.size(); ++i) {
      lt::add_torrent_params atp;
      atp.ti = tis[i];
      atp.trackers = o.trackers;
      atp.save_path = ".";
      atp.flags &=
          ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
      if (o.super_seed) atp.flags |= lt::torrent_flags::super_seeding;
      // Each torrent its own first-copy rule: our fetchers join v2 and
      // hybrid swarms only, so on a v1-only companion it never applies.
      auto rule =
          internal::AddPeerPlugin(atp, internal::PeerRole::kOrigin,
                                  o.first_copy_grace_s, o.tcp_congestion);
      lt::error_code ec;
      lt::torrent_handle th = ses.add_torrent(std::move(atp), ec);
      if (ec) {
        return absl::InternalError(absl::StrFormat(
            "seed: adding the torrent %s: %s", paths[i], ec.message()));
      }
      served.push_back({th, paths[i], false, std::move(rule)});
    }
    SeedReport report;
    report.file_sz = map.size();
    WK_RETURN_IF_ERROR(SeedLoop(ses, served, file, o, report));
    return report;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrFormat("seed: %s", e.what()));
  }
}

}  // namespace wk::distrib
