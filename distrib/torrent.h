// Deterministic BitTorrent v2 torrents of checkpoint files (BEP 52): the
// same file bytes give the same .torrent bytes, and so the same info-hash,
// on any host. What the torrent holds is fixed by the file (and the kind)
// alone:
//   - v2 only (SHA-256 merkle trees), or with hybrid also v1 SHA-1 piece
//     hashes (BEP 52's hybrid form, for clients that read only v1
//     torrents and parse it right: aria2c 1.37 and later), or v1 only
//     (BEP 3: SHA-1 piece hashes, nothing else; the companion torrent for
//     v1 clients that cannot read a hybrid: Debian 12's aria2c 1.36.0),
//   - one file named kTorrentFileName whatever the local path,
//   - piece size PieceSize(file size),
//   - no creation date, creator kCreator, no trackers, no comment.
// With v2, every 16 KiB block of the file is covered by the merkle tree and
// the piece layer lets a downloader verify each piece as it completes; a
// v1-only torrent checks whole pieces (SHA-1) only, and our fetch refuses
// it (docs/DISTRIBUTION.md: it is for other clients).
#ifndef WKSPKIT_DISTRIB_TORRENT_H_
#define WKSPKIT_DISTRIB_TORRENT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace wk::distrib {

inline constexpr char kTorrentFileName[] = "checkpt";
inline constexpr char kCreator[] = "wkspkit";
inline constexpr uint64_t kBlockSz = 16 << 10;  // BEP 52 leaf

// The piece size rule: the smallest power of two of at least 64 KiB that
// cuts the file into at most 4096 pieces (a 100 GiB file: 32 MiB pieces).
// Small pieces let a fetch restore early and refetch little after bad data,
// and in a swarm a piece is passed on only once its owner has all of it:
// at 8 fetchers and 40 Mbit/s, 256 KiB pieces kept every fetcher about a
// second behind the origin (docs/DISTRIBUTION.md, "Measured"). Not smaller:
// at 32 and 16 KiB a fetcher now and then got no byte for 2 s (its stall
// bound) early in a swarm. The cap keeps the piece layer (32 bytes a
// piece) and the per-piece bookkeeping small.
uint64_t PieceSize(uint64_t file_sz);

enum class TorrentKind {
  kV2,      // v2 only (the default)
  kHybrid,  // v1 + v2 in one info dict (BEP 52's hybrid)
  kV1,      // v1 only (BEP 3)
};

struct TorrentSummary {
  std::string info_hash;     // v2 info-hash, 64 hex digits; empty for v1
  std::string info_hash_v1;  // hybrid, v1: the v1 info-hash (40 hex digits)
  uint64_t file_sz = 0;
  uint64_t piece_sz = 0;
  uint64_t pieces = 0;
  // The hash the torrent goes by in our output: v2, or v1 for a v1-only one.
  const std::string& Hash() const {
    return info_hash.empty() ? info_hash_v1 : info_hash;
  }
};

// Hashes `file` with `threads` threads (0 = all CPUs) and writes its torrent
// of `kind` to `out` (created, must not exist; removed again on failure).
// The three kinds of one file have three different info-hashes.
absl::StatusOr<TorrentSummary> CreateTorrent(
    const std::string& file, const std::string& out, size_t threads,
    TorrentKind kind = TorrentKind::kV2);

// Writes to `out` (as CreateTorrent) the v1-only torrent of the file whose
// hybrid torrent is `hybrid`, from the hybrid's SHA-1 piece hashes, without
// the file: the same bytes as CreateTorrent(file, out, n, kV1) gives. The
// hybrid must be one of ours in shape: one file, piece size PieceSize(its
// size), no pad file (else InvalidArgument, naming what differs).
absl::StatusOr<TorrentSummary> V1FromHybrid(const std::string& hybrid,
                                            const std::string& out);

// What the torrent at `path` says, checked to be one of ours in shape: v2,
// hybrid or v1, one file (any name, so torrents made elsewhere work too).
absl::StatusOr<TorrentSummary> ReadTorrent(const std::string& path);

}  // namespace wk::distrib

#endif  // WKSPKIT_DISTRIB_TORRENT_H_
