// Deterministic checkpoints (CheckptOptions::deterministic): two processes
// (different pids, thread names, host names where the test may set one,
// clocks, paths and thread counts) that hold the same workspace state write
// byte-identical files, in every style; without the option they do not.
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace {

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

// The same state every time: 400 allocations (several cgroups), some freed.
wksp::Wksp MakeState() {
  auto w = wksp::Wksp::CreateAnonymous("det", 1024, 16 << 20);
  EXPECT_TRUE(w.ok()) << w.status();
  std::mt19937_64 rng(7);
  std::vector<uint64_t> gaddrs;
  for (int i = 0; i < 400; ++i) {
    uint64_t sz = 1 + rng() % 20000;
    auto g = w->Alloc(uint64_t{1} << (rng() % 8), sz, 1 + rng() % 5);
    EXPECT_TRUE(g.ok()) << g.status();
    uint8_t* p = w->laddr(*g);
    // Half compressible, half not, so LZ4 has real work in v3.
    for (uint64_t j = 0; j < sz; ++j)
      p[j] = static_cast<uint8_t>(i % 2 ? rng() : j / 64);
    gaddrs.push_back(*g);
  }
  for (size_t i = 1; i < gaddrs.size(); i += 3)
    EXPECT_TRUE(w->Free(gaddrs[i]).ok());
  return std::move(*w);
}

// Writes the state's checkpoint from a child process (its own pid, thread
// name and, where allowed, host name; its own moment), `threads` threads.
void CheckptInChild(const std::string& path, Style style, size_t threads,
                    bool deterministic) {
  ::unlink(path.c_str());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Best effort: a new UTS namespace lets the child have another host
    // name; without the privilege the host simply stays the same.
    if (unshare(CLONE_NEWUTS) == 0) {
      [[maybe_unused]] const int rc = sethostname("other-host", 10);
    }
    pthread_setname_np(pthread_self(), "child-thread");
    wksp::Wksp w = MakeState();
    CheckptOptions opt;
    opt.style = style;
    opt.threads = threads;
    opt.uinfo = "same state";
    opt.deterministic = deterministic;
    _exit(Checkpt(w, path, opt).ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(DeterministicTest, ProcessesWriteIdenticalFiles) {
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    SCOPED_TRACE(absl::StrFormat("style %d", StyleNumber(style)));
    for (bool det : {true, false}) {
      const std::string a = TmpPath("det_a"), b = TmpPath("det_b");
      CheckptInChild(a, style, 1, det);
      CheckptInChild(b, style, 3, det);
      std::vector<uint8_t> fa = ReadFile(a), fb = ReadFile(b);
      ASSERT_GT(fa.size(), 1000000u);
      if (det) {
        EXPECT_TRUE(fa == fb) << "deterministic files differ";
        // The file restores to the state it was made of.
        wksp::Wksp src = MakeState();
        auto dst = wksp::Wksp::CreateAnonymous("dst", 1024, 16 << 20);
        ASSERT_TRUE(dst.ok());
        RestoreOptions ro;
        ro.threads = 2;
        ro.seed = src.seed();
        ASSERT_TRUE(Restore(*dst, a, ro).ok());
        auto lock_s = src.Lock();
        auto lock_d = dst->Lock();
        ASSERT_TRUE(lock_s.ok() && lock_d.ok());
        auto ps = wksp::UsedPartitionsLocked(src);
        auto pd = wksp::UsedPartitionsLocked(*dst);
        ASSERT_TRUE(ps.ok() && pd.ok());
        ASSERT_EQ(*ps, *pd);
        for (const auto& p : *ps) {
          ASSERT_EQ(
              0, std::memcmp(src.laddr(p.lo), dst->laddr(p.lo), p.hi - p.lo));
        }
      } else {
        // The run-dependent fields (clock, pid, path...) tell them apart.
        EXPECT_FALSE(fa == fb);
      }
      ::unlink(a.c_str());
      ::unlink(b.c_str());
    }
  }
}

}  // namespace
}  // namespace wk::wksp_checkpt
