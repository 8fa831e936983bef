// Progress inside one large allocation (ProgressFn's contract): checkpoints
// and restores of a workspace holding a single 64 MiB allocation report many
// intermediate byte counts, in every style, to and from a path and a pipe.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "gtest/gtest.h"
#include "io/fd.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/test_util.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

constexpr uint64_t kAllocSz = uint64_t{64} << 20;
constexpr uint64_t kDataMax = kAllocSz + (uint64_t{8} << 20);

// Every report of one run.
struct Reports {
  std::vector<uint64_t> done, total;
  ProgressFn Fn() {
    return [this](uint64_t d, uint64_t t) {
      done.push_back(d);
      total.push_back(t);
    };
  }
  // Checks the contract for a run that moved kAllocSz bytes and reported
  // totals `want_total` (0: unknown): done never decreases, the last report
  // says everything, and the count moved inside the allocation, about once
  // per `step` bytes.
  void Check(uint64_t want_total, uint64_t step) const {
    ASSERT_FALSE(done.empty());
    uint64_t between = 0;
    for (size_t i = 0; i < done.size(); ++i) {
      if (i) {
        EXPECT_LE(done[i - 1], done[i]) << "report " << i;
      }
      EXPECT_EQ(total[i], want_total) << "report " << i;
      if (done[i] > 0 && done[i] < kAllocSz) ++between;
    }
    EXPECT_EQ(done.back(), kAllocSz);
    EXPECT_GE(between, kAllocSz / step / 2)
        << "only " << between << " reports inside the allocation";
  }
};

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

class ProgressTest : public ::testing::TestWithParam<Style> {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    path_ = TmpPath(absl::StrFormat("progress_test_%d.ckpt",
                                    StyleNumber(GetParam())));
    ::unlink(path_.c_str());
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  // A workspace with one kAllocSz allocation of varied, half-compressible
  // bytes.
  static wksp::Wksp Source() {
    auto w = wksp::Wksp::CreateAnonymous("progsrc", 16, kDataMax);
    EXPECT_TRUE(w.ok()) << w.status();
    auto g = w->Alloc(4096, kAllocSz, 5);
    EXPECT_TRUE(g.ok()) << g.status();
    uint8_t* p = w->laddr(*g);
    uint64_t x = 88172645463325252u;
    for (uint64_t i = 0; i < kAllocSz; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const uint64_t v = (i >> 12) & 1 ? x : i >> 6;
      std::memcpy(p + i, &v, 8);
    }
    return std::move(*w);
  }

  // How often the library reports: per MiB, v1 per 4 MiB.
  static uint64_t Step() {
    return GetParam() == Style::kV1 ? internal::kV1ProgressStep
                                    : checkpt::kCountStep;
  }

  std::string path_;
};

TEST_P(ProgressTest, CheckptToAPathAndAPipe) {
  wksp::Wksp src = Source();
  for (size_t threads : {size_t{1}, size_t{3}}) {
    SCOPED_TRACE(absl::StrFormat("threads %u", threads));
    Reports path_reports;
    CheckptOptions opt;
    opt.style = GetParam();
    opt.threads = threads;
    opt.durable = false;
    opt.progress = path_reports.Fn();
    ::unlink(path_.c_str());
    ASSERT_TRUE(Checkpt(src, path_, opt).ok());
    path_reports.Check(kAllocSz, Step());

    Reports pipe_reports;
    opt.progress = pipe_reports.Fn();
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    uint64_t drained = 0;
    std::thread drain([&] {
      std::vector<uint8_t> b(1 << 20);
      for (ssize_t n; (n = ::read(p[0], b.data(), b.size())) > 0;) drained += n;
    });
    absl::Status st = CheckptFd(src, p[1], opt);
    close(p[1]);
    drain.join();
    close(p[0]);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_GT(drained, 0u);
    pipe_reports.Check(kAllocSz, Step());
  }
}

TEST_P(ProgressTest, RestoreFromAPathAndAPipe) {
  wksp::Wksp src = Source();
  CheckptOptions copt;
  copt.style = GetParam();
  copt.durable = false;
  ASSERT_TRUE(Checkpt(src, path_, copt).ok());
  const testutil::Snapshot want = testutil::Snap(src);
  auto dst = wksp::Wksp::CreateAnonymous("progdst", 16, kDataMax);
  ASSERT_TRUE(dst.ok()) << dst.status();

  for (size_t threads : {size_t{1}, size_t{2}}) {
    SCOPED_TRACE(absl::StrFormat("threads %u", threads));
    Reports path_reports;
    RestoreOptions opt;
    opt.threads = threads;
    opt.progress = path_reports.Fn();
    ASSERT_TRUE(Restore(*dst, path_, opt).ok());
    path_reports.Check(kAllocSz, Step());  // a file's total is known, v1's too
    EXPECT_TRUE(testutil::Snap(*dst) == want);
  }

  Reports pipe_reports;
  RestoreOptions opt;
  opt.progress = pipe_reports.Fn();
  absl::StatusOr<io::Fd> in = io::OpenRead(path_);
  ASSERT_TRUE(in.ok()) << in.status();
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  std::thread feed([&] {
    std::vector<uint8_t> b(1 << 20);
    for (ssize_t n; (n = ::read(in->get(), b.data(), b.size())) > 0;) {
      if (!io::WriteExact(p[1], b.data(), static_cast<size_t>(n)).ok()) break;
    }
    close(p[1]);
  });
  absl::Status st = RestoreFd(*dst, p[0], opt);
  close(p[0]);  // unblocks the feeder if the restore stopped early
  feed.join();
  ASSERT_TRUE(st.ok()) << st;
  pipe_reports.Check(0, Step());  // a stream's total is not known
  EXPECT_TRUE(testutil::Snap(*dst) == want);
}

INSTANTIATE_TEST_SUITE_P(Styles, ProgressTest,
                         ::testing::Values(Style::kV1, Style::kV2, Style::kV3),
                         [](const auto& info) {
                           return absl::StrFormat("v%d",
                                                  StyleNumber(info.param));
                         });

}  // namespace
}  // namespace wk::wksp_checkpt
