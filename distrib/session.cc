#include "distrib/session.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "distrib/distrib.h"
#include "distrib/first_copy.h"
#include "distrib/reject_filter.h"
#include "distrib/torrent.h"
#include "libtorrent/address.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/extensions.hpp"
#include "libtorrent/ip_filter.hpp"
#include "libtorrent/peer_connection_handle.hpp"
#include "libtorrent/peer_info.hpp"
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

// Unsent bytes a peer socket holds before it stops taking more: the
// requests we send a peer queue behind the blocks we send it, so a host
// whose uplink is full asks its peers late and falls behind on its
// downloads (likely the stragglers of DISTRIBUTION.md's eighth session).
constexpr int kNotSentLowat = 16 << 10;

// Sets TCP_NODELAY, TCP_NOTSENT_LOWAT (kNotSentLowat), and TCP_CONGESTION
// to `congestion` unless empty, on this process's TCP socket connecting
// `local` to `remote`. libtorrent's public API gives a connection's
// endpoints but not its descriptor, so the descriptor is found by its
// endpoints (a connected socket's pair of them is unique in the process).
void TuneSocket(const lt::tcp::endpoint& local,
                const lt::tcp::endpoint& remote,
                const std::string& congestion) {
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
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &kNotSentLowat,
                       sizeof(kNotSentLowat));
    if (!congestion.empty()) {  // checked at the start (CheckCongestion)
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, congestion.data(),
                         static_cast<socklen_t>(congestion.size()));
    }
    break;
  }
  ::closedir(d);
}

using Clock = std::chrono::steady_clock;
using internal::kSharingPrefix;
using internal::NewRejectFilter;
using internal::PeerRole;

using FirstCopies = internal::FirstCopyRule;

// A peer id starting with kSharingPrefix: one of our fetchers that serves
// what it downloads (PeerFingerprint).
bool IsSharingFetcher(const lt::peer_connection_handle& h) {
  lt::peer_info pi;
  h.get_peer_info(pi);
  if (pi.flags & (lt::peer_info::rc4_encrypted |
                  lt::peer_info::plaintext_encrypted)) {
    return false;  // a reject written by hand would not be encrypted
  }
  return std::memcmp(pi.pid.data(), kSharingPrefix,
                     sizeof(kSharingPrefix) - 1) == 0;
}

// Tunes the socket (TuneSocket) once the connection is up (an outgoing one
// is not connected yet when the plugin is created); unless serving, drops
// requests; at the origin, applies the first-copy rule (first_copy.h); at a
// fetcher, sends its hash rejects through the RejectFilter.
class Peer final : public lt::peer_plugin {
 public:
  Peer(lt::peer_connection_handle h, PeerRole role,
       std::shared_ptr<FirstCopies> first,
       std::shared_ptr<const std::string> congestion)
      : h_(std::move(h)),
        role_(role),
        first_(std::move(first)),
        congestion_(std::move(congestion)) {
    if (!h_.is_outgoing()) Tune();  // incoming: connected already
  }
  void on_connected() override { Tune(); }
  // Our handshake is queued by now (both directions), so what the filter
  // sees starts at a message boundary. A fetcher lacks the block hashes of
  // the pieces it has not verified and rejects requests for them, which
  // corrupts the heap of a libtorrent 2.0.8 peer (reject_filter.h). The
  // origin holds every hash and never rejects: its blocks stay zero-copy.
  bool on_handshake(lt::span<char const>) override {
    if (role_ == PeerRole::kOrigin ||
        h_.type() != lt::connection_type::bittorrent) {
      return true;
    }
    lt::peer_info pi;
    h_.get_peer_info(pi);
    if (pi.flags & (lt::peer_info::rc4_encrypted |
                    lt::peer_info::plaintext_encrypted)) {
      return true;  // a send crypto is (or was) in place: leave it be
    }
    lt::bt_peer_connection_handle(h_).switch_send_crypto(NewRejectFilter());
    return true;
  }
  void on_disconnect(lt::error_code const&) override {
    if (fetcher_ != 0) first_->Disconnect(fetcher_, h_.is_seed(), Clock::now());
    fetcher_ = 0;
  }
  bool on_request(lt::peer_request const& r) override {
    if (role_ == PeerRole::kNoUpload) return true;
    if (Fetcher() == 0) return false;  // served as any client is
    if (first_->Request(fetcher_, Index(r.piece), Clock::now(),
                        static_cast<uint32_t>(r.length))) {
      return false;
    }
    // Another sharing fetcher has it or is getting it: ask it instead.
    SendReject(r);
    return true;
  }
  void sent_piece(lt::peer_request const& r) override {
    if (first_) {
      first_->Sent(Fetcher(), Index(r.piece), static_cast<uint32_t>(r.length),
                   Clock::now());
    }
  }
  bool on_cancel(lt::peer_request const& r) override {
    if (Fetcher() != 0) first_->Cancelled(fetcher_, Index(r.piece));
    return false;
  }
  bool on_have(lt::piece_index_t p) override {
    if (Fetcher() != 0) first_->Have(fetcher_, Index(p), Clock::now());
    return false;
  }

 private:
  static size_t Index(lt::piece_index_t p) {
    return static_cast<size_t>(static_cast<int>(p));
  }
  // At the origin, the id of the sharing fetcher at the other end (0: not
  // the origin, or not one of our sharing fetchers). Known from the
  // handshake on, which comes before any request or HAVE.
  FirstCopies::FetcherId Fetcher() {
    if (!first_ || sharing_ == 0) return 0;
    if (sharing_ < 0) {
      sharing_ = IsSharingFetcher(h_) ? 1 : 0;
      if (sharing_ == 1) {
        const lt::peer_id& pid = h_.pid();
        fetcher_ = first_->Connect(std::string_view(pid.data(), pid.size()));
      }
    }
    return fetcher_;
  }
  void Tune() { TuneSocket(h_.local_endpoint(), h_.remote(), *congestion_); }
  // BEP 6 reject_request: length 13, id 16, index, begin, length.
  void SendReject(lt::peer_request const& r) {
    char m[17];
    auto put = [&m](int at, uint32_t v) {
      m[at] = static_cast<char>(v >> 24);
      m[at + 1] = static_cast<char>(v >> 16);
      m[at + 2] = static_cast<char>(v >> 8);
      m[at + 3] = static_cast<char>(v);
    };
    put(0, 13);
    m[4] = 16;
    put(5, static_cast<uint32_t>(static_cast<int>(r.piece)));
    put(9, static_cast<uint32_t>(r.start));
    put(13, static_cast<uint32_t>(r.length));
    h_.send_buffer(m, sizeof(m));
  }
  lt::peer_connection_handle h_;
  const PeerRole role_;
  std::shared_ptr<FirstCopies> first_;  // the origin's, else null
  std::shared_ptr<const std::string> congestion_;  // empty: the system's
  int sharing_ = -1;                    // unknown until first needed
  FirstCopies::FetcherId fetcher_ = 0;  // while connected, if sharing
};

class PeerPlugin final : public lt::torrent_plugin {
 public:
  PeerPlugin(PeerRole role, std::shared_ptr<FirstCopies> first,
             std::shared_ptr<const std::string> congestion)
      : role_(role), first_(std::move(first)), congestion_(std::move(congestion)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(
      lt::peer_connection_handle const& h) override {
    return std::make_shared<Peer>(h, role_, first_, congestion_);
  }

 private:
  const PeerRole role_;
  std::shared_ptr<FirstCopies> first_;  // the origin's, else null
  std::shared_ptr<const std::string> congestion_;
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
  // libtorrent sizes each connection's send buffer from its upload rate
  // (half a second of it) within these bounds. The floor stays small (one
  // block; kNotSentLowat keeps the kernel's queue as short): what a
  // connection has queued, the requests it sends that peer wait behind.
  // At 1 MiB a fetcher serving 7 others over a 40 Mbit/s link queued 1.5 s
  // of blocks; at 128 KiB, 16 fetchers on 10 Mbit/s links still took
  // 1.24-1.32 x T1 against 1.20-1.23 at 16 KiB (docs/DISTRIBUTION.md,
  // "Measured").
  p.set_int(lt::settings_pack::send_buffer_watermark, 8 << 20);
  p.set_int(lt::settings_pack::send_buffer_low_watermark, 16 << 10);
  p.set_int(lt::settings_pack::max_out_request_queue, 1500);
  p.set_int(lt::settings_pack::max_allowed_in_request_queue, 3000);
  return p;
}

void SetOriginSettings(lt::settings_pack& p) {
  p.set_int(lt::settings_pack::unchoke_slots_limit, -1);
}

std::shared_ptr<const FirstCopyRule> AddPeerPlugin(
    lt::add_torrent_params& atp, PeerRole role, double grace_s,
    const std::string& tcp_congestion) {
  auto congestion = std::make_shared<const std::string>(tcp_congestion);
  std::shared_ptr<FirstCopyRule> first;
  if (role == PeerRole::kOrigin) {
    first = std::make_shared<FirstCopyRule>(
        atp.ti ? static_cast<uint64_t>(atp.ti->total_size()) : 0,
        atp.ti ? static_cast<uint64_t>(atp.ti->piece_length()) : 0,
        std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(grace_s)));
  }
  atp.extensions.push_back(
      [role, first, congestion](lt::torrent_handle const&, lt::client_data_t) {
        return std::make_shared<PeerPlugin>(role, first, congestion);
      });
  return first;
}

absl::Status CheckCongestion(const std::string& name) {
  if (name.empty()) return absl::OkStatus();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrFormat(
        "--tcp-congestion %s: opening a TCP socket to try it: %s", name,
        std::strerror(errno)));
  }
  const int rc = ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name.data(),
                              static_cast<socklen_t>(name.size()));
  const int err = errno;
  ::close(fd);
  if (rc == 0) return absl::OkStatus();
  std::string offered = "unknown";
  if (std::FILE* f = std::fopen(
          "/proc/sys/net/ipv4/tcp_available_congestion_control", "re")) {
    char line[256] = {};
    if (std::fgets(line, sizeof(line), f) != nullptr) {
      offered = std::string(absl::StripTrailingAsciiWhitespace(line));
    }
    std::fclose(f);
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "--tcp-congestion %s: the kernel refuses it (%s); it offers: %s (a "
      "module may add one: modprobe tcp_%s; without CAP_NET_ADMIN only those "
      "in net.ipv4.tcp_allowed_congestion_control)",
      name, std::strerror(err), offered, name));
}

void ForgetPeers(lt::session& ses) {
  lt::ip_filter all;
  all.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"),
               lt::ip_filter::blocked);
  all.add_rule(lt::make_address("::"),
               lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
               lt::ip_filter::blocked);
  ses.set_ip_filter(std::move(all));
  ses.set_ip_filter(lt::ip_filter());
}

void SetFingerprint(lt::settings_pack& p, PeerRole role) {
  // Plaintext out (a hand-written reject must not break an encrypted
  // stream); incoming encryption stays allowed for other clients.
  p.set_int(lt::settings_pack::out_enc_policy, lt::settings_pack::pe_disabled);
  p.set_str(lt::settings_pack::peer_fingerprint,
            role == PeerRole::kSharing ? kSharingPrefix
            : role == PeerRole::kOrigin ? "-WO0100-"
                                        : "-WN0100-");
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
