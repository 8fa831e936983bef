// One decoder, one verdict: a v1 file whose magic differs from the exact
// bytes in any bit is refused by preview, checkpt-query, checkpt-verify and
// restore alike, including flips of a padding bit of the SVW encoding, which
// decode to the same number (checkpt-query once accepted those).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/svw.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteAll(const std::string& path, const std::vector<char>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

TEST(V1MagicTest, EveryBitFlipIsRefusedByEveryReader) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string good = absl::StrFormat(
      "%s/v1magic.%d.ckpt", tmp ? tmp : "/tmp", static_cast<int>(getpid()));
  const std::string bad = good + ".flipped";
  unlink(good.c_str());
  auto src = wksp::Wksp::CreateAnonymous("v1magic", 16, 1 << 20);
  ASSERT_TRUE(src.ok()) << src.status();
  ASSERT_TRUE(src->Alloc(0, 4096, 7).ok());
  CheckptOptions copt;
  copt.style = Style::kV1;
  ASSERT_TRUE(Checkpt(*src, good, copt).ok());
  const std::vector<char> bytes = ReadAll(good);
  ASSERT_GT(bytes.size(), svw::kMaxWidth);
  auto dst = wksp::Wksp::CreateAnonymous("v1magicdst", 16, 1 << 20);
  ASSERT_TRUE(dst.ok()) << dst.status();
  // The untouched file passes every reader.
  ASSERT_TRUE(PreviewCheckpt(good).ok());
  CheckptDescription d;
  ASSERT_TRUE(DescribeCheckpt(good, 3, &d).ok());
  ASSERT_TRUE(VerifyCheckpt(good, {}).ok());
  ASSERT_TRUE(Restore(*dst, good, {}).ok());

  int same_number = 0;  // flips the SVW decoder cannot see
  for (size_t bit = 0; bit < 8 * svw::kMaxWidth; ++bit) {
    SCOPED_TRACE(absl::StrFormat("bit %u of the magic flipped", bit));
    std::vector<char> b = bytes;
    b[bit / 8] = static_cast<char>(b[bit / 8] ^ (1 << (bit % 8)));
    uint64_t x = 0;
    if (svw::Decode(reinterpret_cast<const uint8_t*>(b.data()), b.size(),
                    &x) == svw::kMaxWidth &&
        x == format::kMagic) {
      ++same_number;
    }
    WriteAll(bad, b);
    EXPECT_FALSE(PreviewCheckpt(bad).ok());
    for (int verbose : {0, 1, 3}) {
      CheckptDescription dd;
      EXPECT_FALSE(DescribeCheckpt(bad, verbose, &dd).ok()) << verbose;
    }
    EXPECT_FALSE(VerifyCheckpt(bad, {}).ok());
    absl::Status r = Restore(*dst, bad, {});
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(IsWorkspaceReset(r)) << r;
  }
  // The case the issue found is among those covered.
  EXPECT_GT(same_number, 0);
  unlink(good.c_str());
  unlink(bad.c_str());
}

}  // namespace
}  // namespace wk::wksp_checkpt
