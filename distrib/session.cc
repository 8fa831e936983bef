#include "distrib/session.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "distrib/distrib.h"
#include "distrib/torrent.h"
#include "libtorrent/address.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/extensions.hpp"
#include "libtorrent/peer_connection_handle.hpp"
#include "util/cancel.h"
#include "util/status.h"

namespace wk::distrib {
namespace {

std::atomic<bool> stop_requested{false};

// Whether `sa` is the address and port of `ep`.
bool SameEndpoint(const sockaddr_storage& sa, const lt::tcp::endpoint& ep) {
  const lt::tcp::endpoint::data_type* want = ep.data();
  if (sa.ss_family != want->sa_family) return false;
  if (sa.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(sa);
    const auto& b = reinterpret_cast<const sockaddr_in&>(*want);
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (sa.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(sa);
    const auto& b = reinterpret_cast<const sockaddr_in6&>(*want);
    return a.sin6_port == b.sin6_port &&
           std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof(a.sin6_addr)) == 0;
  }
  return false;
}

// Sets TCP_NODELAY on this process's TCP socket connecting `local` to
// `remote`. libtorrent's public API gives a connection's endpoints but not
// its descriptor, so the descriptor is found by its endpoints (a connected
// socket's pair of them is unique in the process).
void NoDelay(const lt::tcp::endpoint& local, const lt::tcp::endpoint& remote) {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    int fd = -1;
    if (!absl::SimpleAtoi(e->d_name, &fd) || fd == ::dirfd(d)) continue;
    sockaddr_storage sa{};
    socklen_t len = sizeof(sa);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0 ||
        !SameEndpoint(sa, local)) {
      continue;
    }
    len = sizeof(sa);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0 ||
        !SameEndpoint(sa, remote)) {
      continue;
    }
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    break;
  }
  ::closedir(d);
}

// Turns Nagle off once the connection is up (an outgoing one is not
// connected yet when the plugin is created) and, unless serving, drops
// requests.
class Peer final : public lt::peer_plugin {
 public:
  Peer(lt::peer_connection_handle h, bool serve)
      : h_(std::move(h)), serve_(serve) {
    if (!h_.is_outgoing()) SetNoDelay();  // incoming: connected already
  }
  void on_connected() override { SetNoDelay(); }
  bool on_request(lt::peer_request const&) override { return !serve_; }

 private:
  void SetNoDelay() { NoDelay(h_.local_endpoint(), h_.remote()); }
  lt::peer_connection_handle h_;
  const bool serve_;
};

class PeerPlugin final : public lt::torrent_plugin {
 public:
  explicit PeerPlugin(bool serve) : serve_(serve) {}
  std::shared_ptr<lt::peer_plugin> new_connection(
      lt::peer_connection_handle const& h) override {
    return std::make_shared<Peer>(h, serve_);
  }

 private:
  const bool serve_;
};

std::atomic<AlertLog> alert_log{nullptr};

}  // namespace

void RequestStop() { stop_requested.store(true, std::memory_order_relaxed); }

void SetAlertLog(AlertLog log) {
  alert_log.store(log, std::memory_order_relaxed);
}

namespace internal {

// RequestStop, or cancellation of the whole process (util/cancel.h: what
// wksp_ctl's SIGINT/SIGTERM/SIGHUP handlers request).
bool StopRequested() {
  return stop_requested.load(std::memory_order_relaxed) || CancelRequested();
}

lt::settings_pack Settings(const std::string& listen, int pieces) {
  lt::settings_pack p;
  p.set_str(lt::settings_pack::listen_interfaces, listen);
  p.set_bool(lt::settings_pack::enable_dht, false);
  p.set_bool(lt::settings_pack::enable_lsd, false);
  p.set_bool(lt::settings_pack::enable_upnp, false);
  p.set_bool(lt::settings_pack::enable_natpmp, false);
  p.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  p.set_bool(lt::settings_pack::enable_incoming_utp, false);
  p.set_int(lt::settings_pack::alert_mask,
            lt::alert_category::status | lt::alert_category::error |
                lt::alert_category::piece_progress |
                lt::alert_category::storage);
  p.set_int(lt::settings_pack::alert_queue_size, 4 * pieces + 1000);
  // With an alert log set (SetAlertLog), every alert, peers' too.
  if (alert_log.load(std::memory_order_relaxed) != nullptr) {
    p.set_int(lt::settings_pack::alert_mask, lt::alert_category::all);
  }
  p.set_int(lt::settings_pack::tick_interval, 100);
  p.set_int(lt::settings_pack::peer_timeout, 10);
  p.set_int(lt::settings_pack::request_timeout, 5);
  p.set_int(lt::settings_pack::peer_connect_timeout, 3);
  p.set_int(lt::settings_pack::handshake_timeout, 5);
  p.set_int(lt::settings_pack::inactivity_timeout, 20);
  p.set_int(lt::settings_pack::min_reconnect_time, 1);
  p.set_int(lt::settings_pack::max_failcount, 1000);
  p.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, true);
  // Loopback and LAN peers move hundreds of MB/s: let each connection keep
  // more bytes in flight than the defaults, tuned for the internet, allow.
  p.set_int(lt::settings_pack::send_buffer_watermark, 8 << 20);
  p.set_int(lt::settings_pack::send_buffer_low_watermark, 1 << 20);
  p.set_int(lt::settings_pack::max_out_request_queue, 1500);
  p.set_int(lt::settings_pack::max_allowed_in_request_queue, 3000);
  return p;
}

void AddPeerPlugin(lt::add_torrent_params& atp, bool serve) {
  atp.extensions.push_back(
      [serve](lt::torrent_handle const&, lt::client_data_t) {
        return std::make_shared<PeerPlugin>(serve);
      });
}

absl::StatusOr<lt::tcp::endpoint> ParseEndpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad peer address '%s' (want IP:PORT)", text));
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  lt::error_code ec;
  lt::address a = lt::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad peer address '%s': '%s' is not an IP address", text, host));
  }
  return lt::tcp::endpoint(a, static_cast<uint16_t>(port));
}

std::string FormatEndpoint(const lt::tcp::endpoint& ep) {
  std::ostringstream os;
  if (ep.address().is_v6()) {
    os << '[' << ep.address().to_string() << "]:" << ep.port();
  } else {
    os << ep.address().to_string() << ':' << ep.port();
  }
  return os.str();
}

absl::StatusOr<std::shared_ptr<lt::torrent_info>> LoadTorrent(
    const std::string& path) {
  WK_RETURN_IF_ERROR(ReadTorrent(path).status());
  lt::error_code ec;
  auto ti = std::make_shared<lt::torrent_info>(path, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrFormat("torrent %s: %s", path, ec.message()));
  }
  return ti;
}

std::vector<lt::alert*> Alerts(lt::session& ses, int ms) {
  std::vector<lt::alert*> v;
  if (ses.wait_for_alert(lt::milliseconds(ms)) != nullptr) ses.pop_alerts(&v);
  if (AlertLog log = alert_log.load(std::memory_order_relaxed)) {
    for (lt::alert* a : v) {
      const double t = static_cast<double>(lt::total_microseconds(
                           a->timestamp().time_since_epoch())) *
                       1e-6;
      log(absl::StrFormat("[distrib %d %.6f] %s: %s", getpid(), t, a->what(),
                          a->message()));
    }
  }
  return v;
}

}  // namespace internal
}  // namespace wk::distrib
