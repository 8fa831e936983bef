// The index sidecar of a full sealed checkpoint (CHECKPOINT_FORMAT.md §9.2)
// comes from the writer's own pass over the bytes: it must equal the index
// computed from the file afterwards, for any thread count, RAW (v2) and LZ4
// (v3), and the checkpoint's bytes must not depend on whether it is made.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {
namespace {

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

TEST(SidecarTest, WriterIndexEqualsIndexOfFile) {
  auto w = wksp::Wksp::CreateAnonymous("side", 1024, 32 << 20);
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(9);
  // Sizes around every boundary the digests see: under a chunk, exactly
  // chunks, past 1 MiB (RAW's pieces) at odd sizes; half compressible.
  const uint64_t sizes[] = {1,           100,         65535,
                            65536,       65537,       3 * 65536,
                            (1 << 20) - 1, (1 << 20) + 7, 5 * (1 << 20) + 4097};
  for (int rep = 0; rep < 3; ++rep) {
    for (uint64_t sz : sizes) {
      auto g = w->Alloc(uint64_t{1} << (rng() % 7), sz, 1 + rng() % 5);
      ASSERT_TRUE(g.ok()) << g.status();
      for (uint64_t j = 0; j < sz; ++j) {
        w->laddr(*g)[j] = (j / 4096) % 2 ? uint8_t(j) : uint8_t(rng());
      }
    }
  }
  const std::string path = TmpPath("side.ckpt"), plain = TmpPath("plain.ckpt");
  for (Style style : {Style::kV2, Style::kV3}) {
    for (size_t threads : {1, 2, 3}) {
      SCOPED_TRACE(absl::StrFormat("style %d, %u threads", StyleNumber(style),
                                   threads));
      ::unlink(path.c_str());
      ::unlink(SidecarPath(path).c_str());
      ::unlink(plain.c_str());
      CheckptOptions o;
      o.style = style;
      o.threads = threads;
      o.deterministic = true;
      ASSERT_TRUE(Checkpt(*w, path, o).ok());
      absl::StatusOr<ChunkIndex> from_writer = ReadSidecar(path);
      ASSERT_TRUE(from_writer.ok()) << from_writer.status();
      // The file's bytes do not depend on the index being made.
      o.index = false;
      ASSERT_TRUE(Checkpt(*w, plain, o).ok());
      EXPECT_TRUE(ReadAll(plain) == ReadAll(path));
      // The index of the file, computed from it (no sidecar any more).
      ASSERT_EQ(::unlink(SidecarPath(path).c_str()), 0);
      absl::StatusOr<ChunkIndex> from_file = IndexOfFull(path, 1);
      ASSERT_TRUE(from_file.ok()) << from_file.status();
      EXPECT_EQ(from_writer->allocs.size(), 27u);
      EXPECT_TRUE(from_writer->Encode() == from_file->Encode());
      EXPECT_TRUE(from_writer->Id() == from_file->Id());
    }
  }
  ::unlink(path.c_str());
  ::unlink(plain.c_str());
}

}  // namespace
}  // namespace wk::wksp_checkpt::internal
