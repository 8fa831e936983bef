#include "distrib/torrent.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "libtorrent/bencode.hpp"
#include "libtorrent/create_torrent.hpp"
#include "libtorrent/file_storage.hpp"
#include "libtorrent/hasher.hpp"
#include "libtorrent/torrent_info.hpp"
#include "util/status.h"
#include "util/thread_pool.h"

namespace wk::distrib {
namespace {

constexpr uint64_t kPieceMin = 64 << 10;
constexpr uint64_t kPiecesMax = 4096;

uint64_t NextPow2(uint64_t x) {
  uint64_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

// The merkle root over `leaves` padded with zero hashes to `width` (a power
// of two), as BEP 52 builds every subtree.
lt::sha256_hash MerkleRoot(std::vector<lt::sha256_hash> leaves,
                           uint64_t width) {
  leaves.resize(width);  // sha256_hash() is all zeros
  while (leaves.size() > 1) {
    for (size_t i = 0; i < leaves.size() / 2; ++i) {
      lt::hasher256 h;
      h.update(leaves[2 * i]);
      h.update(leaves[2 * i + 1]);
      leaves[i] = h.final();
    }
    leaves.resize(leaves.size() / 2);
  }
  return leaves[0];
}

std::string Hex(const lt::sha256_hash& h) {
  std::ostringstream os;
  os << h;
  return os.str();
}

absl::StatusOr<TorrentSummary> Summarize(const lt::torrent_info& ti) {
  if (!ti.v2() && !ti.v1()) [[unlikely]] {
    return absl::InvalidArgumentError(
        "not a BitTorrent v1 or v2 torrent (make it with wksp_ctl "
        "torrent-create)");
  }
  int files = 0;
  for (lt::file_index_t i : ti.files().file_range()) {
    files += !ti.files().pad_file_at(i);
  }
  // libtorrent may add a pad file after the last one (v1 alignment): the
  // checkpoint is the first file.
  if (files != 1 || ti.files().pad_file_at(lt::file_index_t{0})) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "torrent holds %d files; a checkpoint torrent holds one", files));
  }
  TorrentSummary s;
  if (ti.v2()) s.info_hash = Hex(ti.info_hashes().v2);
  if (ti.v1()) {
    std::ostringstream os;
    os << ti.info_hashes().v1;
    s.info_hash_v1 = os.str();
  }
  s.file_sz = static_cast<uint64_t>(ti.files().file_size(lt::file_index_t{0}));
  s.piece_sz = static_cast<uint64_t>(ti.piece_length());
  s.pieces = static_cast<uint64_t>(ti.num_pieces());
  return s;
}

// Writes the torrent of kind `kind` of an n-byte file with these piece
// hashes (roots: v2, sha1: v1; each empty where the kind has none) to
// `out`. `what` names the source in errors.
absl::StatusOr<TorrentSummary> WriteTorrent(
    const std::string& what, const std::string& out, uint64_t n,
    TorrentKind kind, const std::vector<lt::sha256_hash>& roots,
    const std::vector<lt::sha1_hash>& sha1) {
  const uint64_t piece_sz = PieceSize(n);
  const uint64_t pieces = (n + piece_sz - 1) / piece_sz;
  std::vector<char> bytes;
  try {
    lt::file_storage fs;
    fs.set_piece_length(static_cast<int>(piece_sz));
    fs.add_file(kTorrentFileName, static_cast<std::int64_t>(n));
    // One file, no tail padding: a hybrid's v1 pieces cover the same
    // bytes as its v2 pieces (and a v1 torrent's), with no pad file.
    const lt::create_flags_t flags =
        kind == TorrentKind::kV2   ? lt::create_torrent::v2_only
        : kind == TorrentKind::kV1 ? lt::create_torrent::v1_only
                                   : lt::create_flags_t{};
    lt::create_torrent ct(
        fs, static_cast<int>(piece_sz),
        flags | lt::create_torrent::canonical_files_no_tail_padding);
    for (uint64_t p = 0; p < pieces; ++p) {
      if (!roots.empty()) {
        ct.set_hash2(lt::file_index_t{0}, lt::piece_index_t::diff_type(p),
                     roots[p]);
      }
      if (!sha1.empty()) {
        ct.set_hash(lt::piece_index_t(static_cast<int>(p)), sha1[p]);
      }
    }
    ct.set_creator(kCreator);
    ct.set_creation_date(0);
    lt::bencode(std::back_inserter(bytes), ct.generate());
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrFormat("making the torrent of %s: %s", what, e.what()));
  }
  lt::error_code ec;
  lt::torrent_info ti(bytes.data(), static_cast<int>(bytes.size()), ec);
  if (ec) [[unlikely]]
    return absl::InternalError("the torrent made does not load: " +
                               ec.message());
  WK_ASSIGN_OR_RETURN(TorrentSummary s, Summarize(ti));
  WK_ASSIGN_OR_RETURN(io::Fd fd, io::CreateExclusive(out, 0644));
  absl::Status st = io::WriteExact(fd.get(), bytes.data(), bytes.size());
  if (st.ok()) st = fd.Close();
  if (!st.ok()) [[unlikely]] {
    ::unlink(out.c_str());
    return Annotate(st, absl::StrFormat("writing %s", out));
  }
  return s;
}

}  // namespace

uint64_t PieceSize(uint64_t file_sz) {
  uint64_t p = kPieceMin;
  while ((file_sz + p - 1) / p > kPiecesMax) p <<= 1;
  return p;
}

absl::StatusOr<TorrentSummary> CreateTorrent(const std::string& file,
                                             const std::string& out,
                                             size_t threads, TorrentKind kind) {
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(file));
  (void)map.Advise(io::Advice::kSequential);
  const uint64_t n = map.size();
  const uint64_t piece_sz = PieceSize(n);
  const uint64_t pieces = (n + piece_sz - 1) / piece_sz;
  const uint64_t per_piece = piece_sz / kBlockSz;
  const bool v1 = kind != TorrentKind::kV2, v2 = kind != TorrentKind::kV1;
  // A file of one piece is padded to a power of two of its own blocks, not
  // to a whole piece (BEP 52: the file's tree, whose root it is).
  const uint64_t width =
      pieces == 1 ? NextPow2((n + kBlockSz - 1) / kBlockSz) : per_piece;
  std::vector<lt::sha256_hash> roots(v2 ? pieces : 0);
  std::vector<lt::sha1_hash> sha1(v1 ? pieces : 0);
  std::atomic<uint64_t> next{0};
  ThreadPool pool(std::min<uint64_t>(
      threads ? threads : ThreadPool::HardwareConcurrency(), pieces));
  pool.ExecAll([&](size_t) {
    for (uint64_t p; (p = next.fetch_add(1)) < pieces;) {
      const uint64_t start = p * piece_sz;
      const uint64_t end = std::min(n, start + piece_sz);
      const char* bytes = reinterpret_cast<const char*>(map.data());
      if (v2) {
        std::vector<lt::sha256_hash> leaves;
        for (uint64_t off = start; off < end; off += kBlockSz) {
          const uint64_t len = std::min(kBlockSz, n - off);
          leaves.push_back(
              lt::hasher256(bytes + off, static_cast<int>(len)).final());
        }
        roots[p] = MerkleRoot(std::move(leaves), width);
      }
      if (v1) {
        sha1[p] =
            lt::hasher(bytes + start, static_cast<int>(end - start)).final();
      }
    }
  });
  return WriteTorrent(file, out, n, kind, roots, sha1);
}

absl::StatusOr<TorrentSummary> V1FromHybrid(const std::string& hybrid,
                                            const std::string& out) {
  lt::error_code ec;
  lt::torrent_info ti(hybrid, ec);
  if (ec) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("torrent %s: %s", hybrid, ec.message()));
  }
  absl::StatusOr<TorrentSummary> s = Summarize(ti);
  if (!s.ok()) [[unlikely]]
    return Annotate(s.status(), absl::StrFormat("torrent %s", hybrid));
  if (!ti.v1() || !ti.v2()) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "torrent %s is %s, not a hybrid: only a hybrid holds both hash kinds "
        "(make the v1 torrent from the file with --v1-only torrent-create)",
        hybrid, ti.v1() ? "v1-only" : "v2-only"));
  }
  // Ours in shape: its v1 pieces are then exactly the v1 torrent's.
  if (ti.files().num_files() != 1 || s->piece_sz != PieceSize(s->file_sz))
      [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "torrent %s was not made by torrent-create (%d files with pad files, "
        "%u-byte pieces where a %u-byte file gets %u): make the v1 torrent "
        "from the file with --v1-only torrent-create",
        hybrid, ti.files().num_files(), s->piece_sz, s->file_sz,
        PieceSize(s->file_sz)));
  }
  std::vector<lt::sha1_hash> sha1(s->pieces);
  for (uint64_t p = 0; p < s->pieces; ++p) {
    sha1[p] = ti.hash_for_piece(lt::piece_index_t(static_cast<int>(p)));
  }
  return WriteTorrent(hybrid, out, s->file_sz, TorrentKind::kV1, {}, sha1);
}

absl::StatusOr<TorrentSummary> ReadTorrent(const std::string& path) {
  lt::error_code ec;
  lt::torrent_info ti(path, ec);
  if (ec) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("torrent %s: %s", path, ec.message()));
  }
  absl::StatusOr<TorrentSummary> s = Summarize(ti);
  if (!s.ok()) [[unlikely]]
    return Annotate(s.status(), absl::StrFormat("torrent %s", path));
  return s;
}

}  // namespace wk::distrib
