// A checkpoint file cut short while checkpt-verify or checkpt-query reads it
// (truncated by another process, say): an error naming the cause, never a
// SIGBUS. The cut comes at an exact point, not a time: the test's fault hook
// (util/fault.h) truncates the file at FaultEvent::kScanned, after the
// reader's scan and before it reads the frames' data through its mapping.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "util/fault.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

// What the hook truncates, and to how many bytes; how often it fired.
std::string g_path;
off_t g_cut_to = 0;
int g_cuts = 0;

int TruncateAtScanned(FaultEvent event) {
  if (event == FaultEvent::kScanned) {
    ++g_cuts;
    if (truncate(g_path.c_str(), g_cut_to) != 0) std::abort();
  }
  return 0;
}

class ReadShrinkTest
    : public ::testing::TestWithParam<std::tuple<Style, bool>> {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    g_path = absl::StrFormat("%s/read_shrink.%d.ckpt", tmp ? tmp : "/tmp",
                             static_cast<int>(getpid()));
    unlink(g_path.c_str());
    g_cuts = 0;
    const auto [style, sealed] = GetParam();
    auto src = wksp::Wksp::CreateAnonymous("readshrink", 256, 64 << 20);
    ASSERT_TRUE(src.ok()) << src.status();
    // Many cgroups of poorly compressible bytes: most of the file lies
    // past the tenth the hook keeps.
    for (uint64_t i = 0; i < 24; ++i) {
      auto g = src->Alloc(0, (1 << 20) + i * 4096, 1 + i);
      ASSERT_TRUE(g.ok()) << g.status();
      uint8_t* p = src->laddr(*g);
      for (uint64_t j = 0; j < (1 << 20); ++j) p[j] = (j * 2654435761u) >> 13;
    }
    CheckptOptions copt;
    copt.style = style;
    copt.sealed = sealed;
    ASSERT_TRUE(Checkpt(*src, g_path, copt).ok());
    struct stat st;
    ASSERT_EQ(stat(g_path.c_str(), &st), 0);
    // At a page boundary, so that a read past the cut meets a vanished page
    // (bytes past the end inside the last page read as zeros, no SIGBUS).
    g_cut_to = (st.st_size / 10) & ~off_t{4095};
    ASSERT_GT(g_cut_to, 0);
    // Untouched, the file reads fine: the failures below are the cut's.
    ASSERT_TRUE(VerifyCheckpt(g_path, {}).ok());
    previous_ = SetFaultHook(&TruncateAtScanned);
  }
  void TearDown() override {
    SetFaultHook(previous_);
    unlink(g_path.c_str());
  }
  FaultHook previous_ = nullptr;
};

void ExpectShrank(const absl::Status& st) {
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("shrank while it was being read"),
            std::string::npos)
      << st;
}

TEST_P(ReadShrinkTest, VerifyFailsNotSigbus) {
  VerifyOptions opt;
  opt.threads = 2;
  absl::StatusOr<VerifyReport> r = VerifyCheckpt(g_path, opt);
  EXPECT_EQ(g_cuts, 1);
  ASSERT_FALSE(r.ok());
  ExpectShrank(r.status());
}

TEST_P(ReadShrinkTest, QueryFailsNotSigbus) {
  CheckptDescription d;
  absl::Status st = DescribeCheckpt(g_path, 3, &d);
  EXPECT_EQ(g_cuts, 1);
  ExpectShrank(st);
  EXPECT_FALSE(d.preview.name.empty());  // what was read before the cut
}

// Cut after the scan, once a restore may have started writing: it fails and
// resets the workspace, as for a cut during the restore (shrink_test).
TEST_P(ReadShrinkTest, RestoreFailsAndResets) {
  auto dst = wksp::Wksp::CreateAnonymous("readshrinkdst", 256, 64 << 20);
  ASSERT_TRUE(dst.ok()) << dst.status();
  ASSERT_TRUE(dst->Alloc(0, 100, 77).ok());
  absl::Status st = Restore(*dst, g_path, {});
  EXPECT_EQ(g_cuts, 1);
  ExpectShrank(st);
  EXPECT_TRUE(IsWorkspaceReset(st)) << st;
  auto usage = dst->GetUsage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->used_cnt, 0u);
}

// The guard is what saves the process: opted out (SetSigbusGuard), the same
// cut kills it. A death test, in a child; any death counts (sanitizers turn
// SIGBUS into an abort).
TEST_P(ReadShrinkTest, WithoutTheGuardTheProcessDies) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        SetSigbusGuard(false);
        SetFaultHook(&TruncateAtScanned);
        (void)VerifyCheckpt(g_path, {});
        std::_Exit(0);
      },
      [](int status) { return WIFSIGNALED(status) || WEXITSTATUS(status); },
      "");
}

INSTANTIATE_TEST_SUITE_P(StylesSealedAndNot, ReadShrinkTest,
                         ::testing::Combine(::testing::Values(Style::kV2,
                                                              Style::kV3),
                                            ::testing::Bool()));

}  // namespace
}  // namespace wk::wksp_checkpt
