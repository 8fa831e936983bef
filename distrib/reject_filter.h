// Private to distrib: keeps our fetchers' BEP 52 hash rejects for block
// hashes from corrupting the heap of the libtorrent 2.0.8 peers they go to.
//
// libtorrent 2.0.8 (Debian 12's) asks a peer for the block hashes of a
// piece that failed its check (a v2-only torrent), and hands the peer's
// hash_reject to hash_picker::hashes_rejected, which treats every rejected
// request as a piece-layer one: it indexes its per-file table of 512-piece
// ranges with the request's block index / 512 and writes past the table's
// end for every piece after the first 512 / blocks-per-piece of the file
// (piece 32 on at 256 KiB pieces). Fixed upstream in 2.0.13 ("stricter
// checks in hash-picker"). The request goes to whichever peer is next to
// send a block or a HAVE, whether or not it has the piece, so a fetcher
// that lacks the piece (and its block hashes) rejects it: one bad piece from
// a bad seeder could then kill the fetcher that asked.
//
// The filter sits on the send side of each of our fetcher's plaintext
// connections (libtorrent's crypto_plugin hook, after the handshake) and
// passes every byte through unchanged, except the proof-layers field of a
// hash_reject for the block layer (base 0), whose top bit it sets. Such a
// reject matches no request the receiver has outstanding, so libtorrent
// ignores it (before hashes_rejected); the request stays pending on that
// connection, as a rejected one would have been useless anyway. Piece-layer
// rejects and all other messages go out untouched.
#ifndef WKSPKIT_DISTRIB_REJECT_FILTER_H_
#define WKSPKIT_DISTRIB_REJECT_FILTER_H_

#include <cstdint>
#include <memory>
#include <span>

#include "libtorrent/extensions.hpp"

namespace wk::distrib::internal {

// The byte-stream rewriter, fed the outgoing messages in order (any split).
// It must start at a message boundary (after the 68-byte handshake).
class RejectRewriter {
 public:
  // Rewrites `bytes` in place; returns how many hash rejects it neutered.
  int Feed(std::span<char> bytes);

 private:
  uint8_t head_[5] = {};  // length prefix and message id, as they come
  uint32_t head_n_ = 0;   // bytes of head_ seen (5: in the payload)
  uint32_t left_ = 0;     // payload bytes of the current message still to come
  uint32_t pos_ = 0;      // payload offset of the next byte
  bool reject_ = false;   // the current message is a hash_reject
  uint32_t base_ = 0;     // its base field, as far as seen
};

// A send-side crypto_plugin that runs every outgoing byte through a
// RejectRewriter and changes nothing else. Install it with
// bt_peer_connection_handle::switch_send_crypto once the handshake is
// queued (peer_plugin::on_handshake), on a connection without encryption
// (it would replace the RC4 stream). libtorrent copies blocks read from
// disk before they reach a send crypto, so the mapped file is never written.
std::shared_ptr<lt::crypto_plugin> NewRejectFilter();

}  // namespace wk::distrib::internal

#endif  // WKSPKIT_DISTRIB_REJECT_FILTER_H_
