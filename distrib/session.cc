#include "distrib/session.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "distrib/distrib.h"
#include "distrib/first_copy.h"
#include "distrib/reject_filter.h"
#include "distrib/torrent.h"
#include "libtorrent/address.hpp"
#include "libtorrent/alert_types.hpp"
#include "libtorrent/bdecode.hpp"
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

using Clock = std::chrono::steady_clock;
using internal::kSharingPrefix;
using internal::NewRejectFilter;
using internal::PeerRole;

using FirstCopies = internal::FirstCopyRule;

class Peer;

// The origin's state, shared by its connections: the first-copy rule, and
// the connections to sharing fetchers, which Sweep walks to tell each
// fetcher when it may ask again for a piece it was refused.
struct Origin {
  Origin(uint64_t file_bytes, uint64_t piece_bytes, Clock::duration grace)
      : rule(file_bytes, piece_bytes, grace) {}
  // Every kSweepEvery at most, from any connection's callbacks (the origin
  // sends or receives something several times a millisecond while busy,
  // and each connection ticks once a second), or when forced.
  void Sweep(Clock::time_point now, bool force);

  static constexpr Clock::duration kSweepEvery = std::chrono::milliseconds(20);
  FirstCopies rule;
  std::vector<Peer*> peers;  // each Peer adds and removes itself
  Clock::time_point last_sweep{};
};

// A peer id starting with kSharingPrefix: one of our fetchers that serves
// what it downloads (PeerFingerprint).
bool IsSharingFetcher(const lt::peer_connection_handle& h) {
  lt::peer_info pi;
  h.get_peer_info(pi);
  if (pi.flags &
      (lt::peer_info::rc4_encrypted | lt::peer_info::plaintext_encrypted)) {
    return false;  // a reject written by hand would not be encrypted
  }
  return std::memcmp(pi.pid.data(), kSharingPrefix,
                     sizeof(kSharingPrefix) - 1) == 0;
}

// Turns Nagle off once the connection is up (an outgoing one is not
// connected yet when the plugin is created); unless serving, drops
// requests; at the origin, applies the first-copy rule (first_copy.h); at a
// fetcher, sends its hash rejects through the RejectFilter.
//
// At the origin, a sharing fetcher refused a piece is also told "don't
// have" for it (the lt_donthave extension, which libtorrent fetchers
// support), and HAVE again once the rule would serve it (Sweep). Without
// that, its libtorrent asked the origin again at once, for the same piece
// or the next one held for someone else: 34 000 to 100 000 rejects in an
// 8-fetcher run of fleet_bench (up to 1 000 000 on a loaded machine), each
// its own TCP segment, costing both sides CPU and request slots that
// should have gone to the peers holding those pieces; 3 000 to 5 000 with
// it. Told "don't have", its picker asks the origin only for pieces it may
// get, and the others' owners for the rest.
class Peer final : public lt::peer_plugin {
 public:
  Peer(lt::peer_connection_handle h, PeerRole role,
       std::shared_ptr<Origin> origin)
      : h_(std::move(h)), role_(role), origin_(std::move(origin)) {
    if (!h_.is_outgoing()) SetNoDelay();  // incoming: connected already
    if (origin_) origin_->peers.push_back(this);
  }
  ~Peer() override {
    if (origin_) std::erase(origin_->peers, this);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  void on_connected() override { SetNoDelay(); }
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
    if (pi.flags &
        (lt::peer_info::rc4_encrypted | lt::peer_info::plaintext_encrypted)) {
      return true;  // a send crypto is (or was) in place: leave it be
    }
    lt::bt_peer_connection_handle(h_).switch_send_crypto(NewRejectFilter());
    return true;
  }
  // The fetcher's message id for lt_donthave (0: it has none).
  bool on_extension_handshake(lt::bdecode_node const& h) override {
    if (!origin_ || h.type() != lt::bdecode_node::dict_t) return true;
    const lt::bdecode_node m = h.dict_find_dict("m");
    if (m) {
      const int64_t id = m.dict_find_int_value("lt_donthave", 0);
      donthave_id_ = id > 0 && id < 256 ? static_cast<uint8_t>(id) : 0;
    }
    return true;
  }
  void on_disconnect(lt::error_code const&) override {
    if (fetcher_ != 0) {
      origin_->rule.Disconnect(fetcher_, h_.is_seed(), Clock::now());
    }
    fetcher_ = 0;
    // Its pieces may be free now (a fetcher that left complete holds
    // none): the others learn it at once.
    if (origin_) origin_->Sweep(Clock::now(), true);
  }
  bool on_request(lt::peer_request const& r) override {
    if (role_ == PeerRole::kNoUpload) return true;
    if (Fetcher() == 0) return false;  // served as any client is
    const Clock::time_point now = Clock::now();
    const size_t piece = Index(r.piece);
    if (origin_->rule.Request(fetcher_, piece, now)) {
      origin_->Sweep(now, false);
      return false;
    }
    // Another sharing fetcher has it or is getting it, or this one has
    // enough pieces coming: ask the others instead.
    SendReject(r);
    Hide(piece);
    origin_->Sweep(now, false);
    return true;
  }
  void sent_piece(lt::peer_request const& r) override {
    if (!origin_) return;
    const Clock::time_point now = Clock::now();
    origin_->rule.Sent(Fetcher(), Index(r.piece),
                       static_cast<uint32_t>(r.length), now);
    origin_->Sweep(now, false);
  }
  bool on_cancel(lt::peer_request const& r) override {
    if (Fetcher() != 0) origin_->rule.Cancelled(fetcher_, Index(r.piece));
    return false;
  }
  bool on_have(lt::piece_index_t p) override {
    if (Fetcher() == 0) return false;
    const Clock::time_point now = Clock::now();
    origin_->rule.Have(fetcher_, Index(p), now);
    origin_->Sweep(now, false);
    return false;
  }
  // A fetcher told "don't have" for every piece it still wants says it is
  // not interested; libtorrent would then choke it and drop the requests
  // it queued, and unchoke it again only in its next round (seconds later)
  // once our HAVE makes it interested: the owed blocks were never sent, the
  // rule held their pieces from everyone (kOwedCap), and fetches stalled
  // until they redialled. The origin unchokes every fetcher anyway
  // (SetOriginSettings): it ignores their lack of interest.
  bool on_not_interested() override { return Fetcher() != 0; }
  // Once a second: a grace may run out while the origin is quiet.
  void tick() override {
    if (origin_) origin_->Sweep(Clock::now(), false);
  }
  // HAVE again for each piece hidden from this fetcher that it may now
  // have from the origin.
  void Reannounce(Clock::time_point now) {
    if (hidden_list_.empty() || fetcher_ == 0 || h_.is_disconnecting()) {
      return;
    }
    std::erase_if(hidden_list_, [&](uint32_t p) {
      if (!origin_->rule.MayAsk(fetcher_, p, now)) return false;
      hidden_[p] = false;
      SendHave(p);
      return true;
    });
  }

 private:
  static size_t Index(lt::piece_index_t p) {
    return static_cast<size_t>(static_cast<int>(p));
  }
  // At the origin, the id of the sharing fetcher at the other end (0: not
  // the origin, or not one of our sharing fetchers). Known from the
  // handshake on, which comes before any request or HAVE.
  FirstCopies::FetcherId Fetcher() {
    if (!origin_ || sharing_ == 0) return 0;
    if (sharing_ < 0) {
      sharing_ = IsSharingFetcher(h_) ? 1 : 0;
      if (sharing_ == 1) {
        const lt::peer_id& pid = h_.pid();
        fetcher_ =
            origin_->rule.Connect(std::string_view(pid.data(), pid.size()));
      }
    }
    return fetcher_;
  }
  void SetNoDelay() { NoDelay(h_.local_endpoint(), h_.remote()); }
  // Tells the fetcher "don't have" for `piece`, once until it is announced
  // again.
  void Hide(size_t piece) {
    if (donthave_id_ == 0 || piece >= origin_->rule.pieces()) return;
    if (hidden_.empty()) hidden_.assign(origin_->rule.pieces(), false);
    if (hidden_[piece]) return;
    hidden_[piece] = true;
    hidden_list_.push_back(static_cast<uint32_t>(piece));
    // lt_donthave: length 6, id 20 (extended), its id, the piece index.
    char m[10];
    Put32(m, 6);
    m[4] = 20;
    m[5] = static_cast<char>(donthave_id_);
    Put32(m + 6, static_cast<uint32_t>(piece));
    h_.send_buffer(m, sizeof(m));
  }
  // HAVE: length 5, id 4, the piece index.
  void SendHave(size_t piece) {
    char m[9];
    Put32(m, 5);
    m[4] = 4;
    Put32(m + 5, static_cast<uint32_t>(piece));
    h_.send_buffer(m, sizeof(m));
  }
  // Big-endian, as every integer in the peer protocol.
  static void Put32(char* at, uint32_t v) {
    at[0] = static_cast<char>(v >> 24);
    at[1] = static_cast<char>(v >> 16);
    at[2] = static_cast<char>(v >> 8);
    at[3] = static_cast<char>(v);
  }
  // BEP 6 reject_request: length 13, id 16, index, begin, length.
  void SendReject(lt::peer_request const& r) {
    char m[17];
    Put32(m, 13);
    m[4] = 16;
    Put32(m + 5, static_cast<uint32_t>(static_cast<int>(r.piece)));
    Put32(m + 9, static_cast<uint32_t>(r.start));
    Put32(m + 13, static_cast<uint32_t>(r.length));
    h_.send_buffer(m, sizeof(m));
  }
  lt::peer_connection_handle h_;
  const PeerRole role_;
  std::shared_ptr<Origin> origin_;      // at the origin, else null
  int sharing_ = -1;                    // unknown until first needed
  FirstCopies::FetcherId fetcher_ = 0;  // while connected, if sharing
  uint8_t donthave_id_ = 0;             // its lt_donthave id (0: none)
  std::vector<bool> hidden_;            // pieces it was told it lacks
  std::vector<uint32_t> hidden_list_;   // the same, as a list (Reannounce)
};

class PeerPlugin final : public lt::torrent_plugin {
 public:
  PeerPlugin(PeerRole role, uint64_t file_bytes, uint64_t piece_bytes,
             Clock::duration grace)
      : role_(role) {
    if (role == PeerRole::kOrigin) {
      origin_ = std::make_shared<Origin>(file_bytes, piece_bytes, grace);
    }
  }
  std::shared_ptr<lt::peer_plugin> new_connection(
      lt::peer_connection_handle const& h) override {
    return std::make_shared<Peer>(h, role_, origin_);
  }

 private:
  const PeerRole role_;
  std::shared_ptr<Origin> origin_;
};

void Origin::Sweep(Clock::time_point now, bool force) {
  if (!force && now - last_sweep < kSweepEvery) return;
  last_sweep = now;
  for (Peer* p : peers) p->Reannounce(now);
}

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
  // (half a second of it) within these bounds. The floor stays small: a
  // fetcher serving 7 others over a 40 Mbit/s link at 1 MiB each queued
  // 1.5 s of blocks, and every request waited behind that queue, so the
  // last pieces reached the last fetchers late (fleet_bench, M = 8: swarm /
  // T1 1.37 against 1.43, mean of 8 alternating runs each on a loaded
  // machine, the lower one in 7 of 8 pairs).
  p.set_int(lt::settings_pack::send_buffer_watermark, 8 << 20);
  p.set_int(lt::settings_pack::send_buffer_low_watermark, 128 << 10);
  p.set_int(lt::settings_pack::max_out_request_queue, 1500);
  p.set_int(lt::settings_pack::max_allowed_in_request_queue, 3000);
  return p;
}

void SetOriginSettings(lt::settings_pack& p) {
  p.set_int(lt::settings_pack::unchoke_slots_limit, -1);
}

void AddPeerPlugin(lt::add_torrent_params& atp, PeerRole role, double grace_s) {
  const uint64_t file_bytes =
      atp.ti ? static_cast<uint64_t>(atp.ti->total_size()) : 0;
  const uint64_t piece_bytes =
      atp.ti ? static_cast<uint64_t>(atp.ti->piece_length()) : 0;
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(grace_s));
  atp.extensions.push_back([role, file_bytes, piece_bytes, grace](
                               lt::torrent_handle const&, lt::client_data_t) {
    return std::make_shared<PeerPlugin>(role, file_bytes, piece_bytes, grace);
  });
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
            role == PeerRole::kSharing  ? kSharingPrefix
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
