#include "distrib/torrent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libtorrent/bdecode.hpp"
#include "libtorrent/bencode.hpp"
#include "libtorrent/create_torrent.hpp"
#include "libtorrent/file_storage.hpp"

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

TEST(TorrentTest, NotATorrent) {
  const std::string p = TmpPath("tt_junk.torrent");
  WriteRandom(p, 100, 1);
  EXPECT_FALSE(ReadTorrent(p).ok());
  ::unlink(p.c_str());
}

}  // namespace
}  // namespace wk::distrib
