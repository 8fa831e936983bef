// Test-only (distrib's tests): settings for a plain libtorrent session on
// loopback, standing in for a client that is not ours.
#ifndef WKSPKIT_DISTRIB_PLAIN_SESSION_TESTING_H_
#define WKSPKIT_DISTRIB_PLAIN_SESSION_TESTING_H_

#include "libtorrent/settings_pack.hpp"

namespace wk::distrib::testing {

// Listens on 127.0.0.1 at a port of the kernel's choice; no DHT, local
// discovery, UPnP, NAT-PMP or uTP (nothing leaves loopback, connections
// are TCP); posts the alerts of `alert_mask`.
inline lt::settings_pack PlainLoopbackSettings(int alert_mask) {
  lt::settings_pack sp;
  sp.set_str(lt::settings_pack::listen_interfaces, "127.0.0.1:0");
  sp.set_bool(lt::settings_pack::enable_dht, false);
  sp.set_bool(lt::settings_pack::enable_lsd, false);
  sp.set_bool(lt::settings_pack::enable_upnp, false);
  sp.set_bool(lt::settings_pack::enable_natpmp, false);
  sp.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  sp.set_bool(lt::settings_pack::enable_incoming_utp, false);
  sp.set_int(lt::settings_pack::alert_mask, alert_mask);
  return sp;
}

}  // namespace wk::distrib::testing

#endif  // WKSPKIT_DISTRIB_PLAIN_SESSION_TESTING_H_
