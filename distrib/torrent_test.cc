#include "distrib/torrent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libtorrent/bdecode.hpp"
#include "libtorrent/bencode.hpp"
#include "libtorrent/create_torrent.hpp"
#include "libtorrent/file_storage.hpp"
#include "libtorrent/hasher.hpp"

namespace wk::distrib {
namespace {

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<char> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), {});
}

void WriteRandom(const std::string& path, uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<char> b(n);
  for (auto& c : b) c = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary).write(b.data(), b.size());
}

// libtorrent's own hashing of the same file (at dir/checkpt) with the same
// settings: the reference for our merkle roots.
std::vector<char> ReferenceTorrent(const std::string& dir, uint64_t n) {
  lt::file_storage fs;
  fs.add_file(kTorrentFileName, static_cast<std::int64_t>(n));
  lt::create_torrent ct(
      fs, static_cast<int>(PieceSize(n)),
      lt::create_torrent::v2_only |
          lt::create_torrent::canonical_files_no_tail_padding);
  lt::set_piece_hashes(ct, dir);
  ct.set_creator(kCreator);
  ct.set_creation_date(0);
  std::vector<char> out;
  lt::bencode(std::back_inserter(out), ct.generate());
  return out;
}

TEST(TorrentTest, PieceSizeRule) {
  EXPECT_EQ(PieceSize(1), 64u << 10);
  EXPECT_EQ(PieceSize(uint64_t{256} << 20), 64u << 10);         // 4096 pieces
  EXPECT_EQ(PieceSize((uint64_t{256} << 20) + 1), 128u << 10);  // 4097 -> wider
  EXPECT_EQ(PieceSize(uint64_t{1} << 30), 256u << 10);
  EXPECT_EQ(PieceSize((uint64_t{1} << 30) + 1), 512u << 10);
  EXPECT_EQ(PieceSize(uint64_t{100} << 30), uint64_t{32} << 20);
}

// Same bytes at different paths, hashed with different thread counts: the
// same torrent, equal to libtorrent's own, with no date and a fixed creator
// and name; for multi-piece, one-piece and partial-last-block files.
TEST(TorrentTest, DeterministicAndEqualToLibtorrents) {
  const std::string dir = TmpPath("tt_ref");
  mkdir(dir.c_str(), 0755);
  for (uint64_t n : {uint64_t{3} << 20, uint64_t{5000}, uint64_t{700001}}) {
    SCOPED_TRACE(n);
    const std::string a = TmpPath("tt_a.bin"), b = TmpPath("tt_b.bin");
    const std::string ref = dir + "/" + kTorrentFileName;
    WriteRandom(a, n, n);
    WriteRandom(b, n, n);
    WriteRandom(ref, n, n);
    const std::string ta = TmpPath("tt_a.torrent"),
                      tb = TmpPath("tt_b.torrent");
    ::unlink(ta.c_str());
    ::unlink(tb.c_str());
    auto sa = CreateTorrent(a, ta, 1);
    auto sb = CreateTorrent(b, tb, 3);
    ASSERT_TRUE(sa.ok()) << sa.status();
    ASSERT_TRUE(sb.ok()) << sb.status();
    EXPECT_EQ(sa->info_hash, sb->info_hash);
    EXPECT_EQ(sa->file_sz, n);
    const std::vector<char> bytes = ReadFile(ta);
    EXPECT_EQ(bytes, ReadFile(tb));
    EXPECT_EQ(bytes, ReferenceTorrent(dir, n));
    lt::error_code ec;
    lt::bdecode_node d = lt::bdecode(bytes, ec);
    ASSERT_FALSE(ec);
    EXPECT_FALSE(d.dict_find("creation date"));
    EXPECT_EQ(d.dict_find_string_value("created by"), kCreator);
    EXPECT_EQ(d.dict_find_dict("info").dict_find_string_value("name"),
              kTorrentFileName);
    auto r = ReadTorrent(ta);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->info_hash, sa->info_hash);
    // An existing output is never overwritten.
    EXPECT_FALSE(CreateTorrent(a, ta, 1).ok());
    for (const auto& p : {a, b, ref, ta, tb}) ::unlink(p.c_str());
  }
  rmdir(dir.c_str());
}

// The v1-only torrent (BEP 3): deterministic across paths and thread
// counts, equal to libtorrent's own v1-only torrent of the file, with an
// info dict of exactly length, name, piece length and pieces, each piece's
// SHA-1 as computed here, and the v1 info-hash the SHA-1 of the info dict's
// bytes; the same bytes derived from the hybrid torrent (torrent-v1).
TEST(TorrentTest, V1OnlyDeterministicAndRight) {
  const std::string dir = TmpPath("tt_v1ref");
  mkdir(dir.c_str(), 0755);
  for (uint64_t n : {uint64_t{3} << 20, uint64_t{5000}, uint64_t{700001},
                     uint64_t{64} << 10}) {
    SCOPED_TRACE(n);
    const std::string a = TmpPath("tt_v1a.bin"), b = TmpPath("tt_v1b.bin");
    const std::string ref = dir + "/" + kTorrentFileName;
    WriteRandom(a, n, n + 1);
    WriteRandom(b, n, n + 1);
    WriteRandom(ref, n, n + 1);
    const std::string ta = TmpPath("tt_v1a.torrent"),
                      tb = TmpPath("tt_v1b.torrent"),
                      th = TmpPath("tt_v1h.torrent"),
                      tv = TmpPath("tt_v1v.torrent"),
                      t2 = TmpPath("tt_v1v2.torrent"),
                      td = TmpPath("tt_v1d.torrent");
    for (const auto& p : {ta, tb, th, tv, t2, td}) ::unlink(p.c_str());
    auto sa = CreateTorrent(a, ta, 1, TorrentKind::kV1);
    auto sb = CreateTorrent(b, tb, 3, TorrentKind::kV1);
    ASSERT_TRUE(sa.ok()) << sa.status();
    ASSERT_TRUE(sb.ok()) << sb.status();
    EXPECT_TRUE(sa->info_hash.empty());
    EXPECT_EQ(sa->info_hash_v1.size(), 40u);
    EXPECT_EQ(sa->Hash(), sa->info_hash_v1);
    EXPECT_EQ(sa->info_hash_v1, sb->info_hash_v1);
    EXPECT_EQ(sa->file_sz, n);
    EXPECT_EQ(sa->piece_sz, PieceSize(n));
    const std::vector<char> bytes = ReadFile(ta);
    EXPECT_EQ(bytes, ReadFile(tb));
    // libtorrent's own v1-only torrent of the same file.
    {
      lt::file_storage fs;
      fs.add_file(kTorrentFileName, static_cast<std::int64_t>(n));
      lt::create_torrent ct(fs, static_cast<int>(PieceSize(n)),
                            lt::create_torrent::v1_only);
      lt::set_piece_hashes(ct, dir);
      ct.set_creator(kCreator);
      ct.set_creation_date(0);
      std::vector<char> want;
      lt::bencode(std::back_inserter(want), ct.generate());
      EXPECT_EQ(bytes, want);
    }
    lt::error_code ec;
    lt::bdecode_node d = lt::bdecode(bytes, ec);
    ASSERT_FALSE(ec);
    EXPECT_FALSE(d.dict_find("creation date"));
    EXPECT_FALSE(d.dict_find("announce"));
    EXPECT_EQ(d.dict_find_string_value("created by"), kCreator);
    lt::bdecode_node info = d.dict_find_dict("info");
    ASSERT_TRUE(info);
    std::vector<std::string> keys;
    for (int i = 0; i < info.dict_size(); ++i) {
      keys.emplace_back(info.dict_at(i).first);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"length", "name", "piece length",
                                              "pieces"}));
    EXPECT_EQ(info.dict_find_int_value("length"), static_cast<int64_t>(n));
    EXPECT_EQ(info.dict_find_string_value("name"), kTorrentFileName);
    EXPECT_EQ(info.dict_find_int_value("piece length"),
              static_cast<int64_t>(PieceSize(n)));
    // Each piece's SHA-1, hashed here from the file's bytes.
    const std::vector<char> file = ReadFile(a);
    const uint64_t ps = PieceSize(n), pieces = (n + ps - 1) / ps;
    const std::string sha1s(info.dict_find_string_value("pieces"));
    ASSERT_EQ(sha1s.size(), 20 * pieces);
    for (uint64_t p = 0; p < pieces; ++p) {
      const lt::sha1_hash h =
          lt::hasher(file.data() + p * ps,
                     static_cast<int>(std::min(ps, n - p * ps)))
              .final();
      EXPECT_EQ(sha1s.substr(20 * p, 20), std::string(h.data(), 20))
          << "piece " << p;
    }
    // The info-hash is the SHA-1 of the info dict's bytes as written.
    const lt::span<char const> sec = info.data_section();
    std::ostringstream hex;
    hex << lt::hasher(sec.data(), static_cast<int>(sec.size())).final();
    EXPECT_EQ(hex.str(), sa->info_hash_v1);
    auto r = ReadTorrent(ta);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->info_hash_v1, sa->info_hash_v1);
    EXPECT_TRUE(r->info_hash.empty());
    EXPECT_EQ(r->pieces, pieces);
    // The three kinds differ; the hybrid's v1 pieces give the v1 torrent
    // byte for byte without the file; only a hybrid can.
    auto sh = CreateTorrent(a, th, 2, TorrentKind::kHybrid);
    auto s2 = CreateTorrent(a, t2, 2, TorrentKind::kV2);
    ASSERT_TRUE(sh.ok()) << sh.status();
    ASSERT_TRUE(s2.ok()) << s2.status();
    EXPECT_NE(sh->info_hash_v1, sa->info_hash_v1);
    EXPECT_NE(sh->info_hash, s2->info_hash);
    auto sv = V1FromHybrid(th, tv);
    ASSERT_TRUE(sv.ok()) << sv.status();
    EXPECT_EQ(sv->info_hash_v1, sa->info_hash_v1);
    EXPECT_EQ(ReadFile(tv), bytes);
    EXPECT_FALSE(V1FromHybrid(t2, td).ok());  // v2 only: no SHA-1s
    EXPECT_FALSE(V1FromHybrid(ta, td).ok());  // v1 only already
    EXPECT_NE(::access(td.c_str(), F_OK), 0);
    EXPECT_FALSE(V1FromHybrid(th, tv).ok());  // never overwrites
    for (const auto& p : {a, b, ref, ta, tb, th, tv, t2, td}) {
      ::unlink(p.c_str());
    }
  }
  rmdir(dir.c_str());
}

TEST(TorrentTest, NotATorrent) {
  const std::string p = TmpPath("tt_junk.torrent");
  WriteRandom(p, 100, 1);
  EXPECT_FALSE(ReadTorrent(p).ok());
  ::unlink(p.c_str());
}

}  // namespace
}  // namespace wk::distrib
