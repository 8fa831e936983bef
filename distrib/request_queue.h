// Private to distrib: how deep a fetch keeps its requests to each peer,
// by the congestion control its connections use.
//
// libtorrent keeps request_queue_time seconds of a peer's recent rate
// asked of it (3 by default), so every peer with requests queued sends at
// once. BBR does not slow down on loss: with 16 fetchers on 10 Mbit/s
// links their many sending flows overran the hosts' shallow queues, the
// origin's link first, and shorter queues, fewer flows sending at once,
// made the swarm 1.25 x T1 instead of 1.31. With cubic, which backs off,
// they cost instead: 1.26 against 1.22 (docs/DISTRIBUTION.md, "Measured",
// ninth session).
#ifndef WKSPKIT_DISTRIB_REQUEST_QUEUE_H_
#define WKSPKIT_DISTRIB_REQUEST_QUEUE_H_

#include <string>

namespace wk::distrib::internal {

// The congestion control a new TCP socket of this network namespace gets;
// empty if it cannot be read.
std::string DefaultCongestion();

// request_queue_time for connections using the congestion control `name`
// (empty: DefaultCongestion()): 1 for BBR (any version), libtorrent's 3
// for the others.
int RequestQueueSeconds(const std::string& name);

}  // namespace wk::distrib::internal

#endif  // WKSPKIT_DISTRIB_REQUEST_QUEUE_H_
