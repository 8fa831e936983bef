// A checkpoint file cut short while a restore reads it (truncated by another
// process, say) makes the restore fail with the workspace reset: never a
// SIGBUS, never a workspace that looks restored.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

class ShrinkTest : public ::testing::TestWithParam<std::tuple<Style, bool>> {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    path_ = absl::StrFormat("%s/shrink.%d.ckpt", tmp ? tmp : "/tmp",
                            static_cast<int>(getpid()));
    unlink(path_.c_str());
  }
  void TearDown() override { unlink(path_.c_str()); }
  std::string path_;
};

TEST_P(ShrinkTest, FileTruncatedDuringRestoreFailsAndResets) {
  const auto [style, sealed] = GetParam();
  auto src = wksp::Wksp::CreateAnonymous("shrinksrc", 256, 64 << 20);
  ASSERT_TRUE(src.ok()) << src.status();
  // Many cgroups: sizes around the cgroup limit, incompressible-ish bytes.
  for (uint64_t i = 0; i < 40; ++i) {
    auto g = src->Alloc(0, (1 << 20) + i * 4096, 1 + i);
    ASSERT_TRUE(g.ok()) << g.status();
    uint8_t* p = src->laddr(*g);
    for (uint64_t j = 0; j < (1 << 20); ++j) p[j] = (j * 2654435761u) >> 13;
  }
  CheckptOptions copt;
  copt.style = style;
  copt.sealed = sealed;
  ASSERT_TRUE(Checkpt(*src, path_, copt).ok());

  auto dst = wksp::Wksp::CreateAnonymous("shrinkdst", 256, 64 << 20);
  ASSERT_TRUE(dst.ok()) << dst.status();
  ASSERT_TRUE(dst->Alloc(0, 100, 77).ok());  // something to lose
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  RestoreOptions ropt;
  ropt.threads = 1;
  int calls = 0;
  // The first progress report comes after the first MiB: cut the file
  // to a tenth then, as another process might.
  ropt.progress = [&](uint64_t, uint64_t) {
    if (calls++ == 0) {
      ASSERT_EQ(truncate(path_.c_str(), st.st_size / 10), 0);
    }
  };
  absl::Status r = Restore(*dst, path_, ropt);
  ASSERT_GT(calls, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(IsWorkspaceReset(r)) << r;
  auto usage = dst->GetUsage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->used_cnt, 0u);
}

INSTANTIATE_TEST_SUITE_P(StylesSealedAndNot, ShrinkTest,
                         ::testing::Combine(::testing::Values(Style::kV2,
                                                              Style::kV3),
                                            ::testing::Bool()));

}  // namespace
}  // namespace wk::wksp_checkpt
