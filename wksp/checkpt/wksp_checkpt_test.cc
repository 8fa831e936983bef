#include "wksp/checkpt/wksp_checkpt.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "gtest/gtest.h"
#include "io/fd.h"
#include "testdata/checkpt_query.h"
#include "testdata/ref_workspace.h"
#include "util/status.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/test_util.h"
#include "wksp/geometry.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {

// For test messages.
std::ostream& operator<<(std::ostream& os, Style s) {
  return os << "style " << StyleNumber(s);
}

namespace {

// The styles a checkpoint is written in.
constexpr Style kWritten[] = {Style::kV1, Style::kV2, Style::kV3};

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), {});
}

void WriteFile(const std::string& path, std::span<const uint8_t> bytes) {
  ::unlink(path.c_str());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

wksp::Wksp NewWksp(uint64_t part_max, uint64_t data_max,
                   const char* name = "t") {
  auto w = wksp::Wksp::CreateAnonymous(name, part_max, data_max);
  EXPECT_TRUE(w.ok()) << w.status();
  return std::move(*w);
}

using testutil::Snap;
using testutil::Snapshot;

// Fills w with `n` allocations of random size (1 .. max_sz), alignment and
// tag, and random bytes, then frees about a third of them.
void Populate(wksp::Wksp& w, int n, uint64_t max_sz, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> gaddrs;
  for (int i = 0; i < n; ++i) {
    uint64_t sz = 1 + rng() % max_sz;
    uint64_t align = uint64_t{1} << (rng() % 13);
    uint64_t tag = 1 + rng() % 7;
    auto g = w.Alloc(align, sz, tag);
    if (!g.ok()) break;
    uint8_t* p = w.laddr(*g);
    for (uint64_t j = 0; j < sz; ++j)
      p[j] = static_cast<uint8_t>(rng() >> (j & 31));
    gaddrs.push_back(*g);
  }
  for (size_t i = 1; i < gaddrs.size(); i += 3)
    ASSERT_TRUE(w.Free(gaddrs[i]).ok());
}

// Restores the style-independent content of a checkpoint through a pipe
// fed by another thread.
absl::Status RestoreViaPipe(wksp::Wksp& w, const std::string& path,
                            const RestoreOptions& opt) {
  int p[2];
  if (pipe(p) != 0) return absl::InternalError("pipe");
  std::vector<uint8_t> bytes = ReadFile(path);
  std::thread feeder([&] {
    (void)io::WriteExact(p[1], bytes.data(), bytes.size());
    close(p[1]);
  });
  absl::Status st = RestoreFd(w, p[0], opt);
  close(p[0]);  // unblocks the feeder if the restore stopped early
  feeder.join();
  return st;
}

class CheckptTest : public ::testing::Test {
 protected:
  // A restore that stops early closes the pipe under the feeding thread:
  // that must be an EPIPE error there, not a fatal signal.
  void SetUp() override { signal(SIGPIPE, SIG_IGN); }
  void TearDown() override {
    for (const auto& p : files_) ::unlink(p.c_str());
  }
  std::string File(const std::string& name) {
    files_.push_back(TmpPath(name));
    ::unlink(files_.back().c_str());
    return files_.back();
  }
  std::vector<std::string> files_;
};

TEST_F(CheckptTest, RoundTripEveryStyleThreadCountAndTransport) {
  wksp::Wksp src = NewWksp(256, 8 << 20, "src");
  Populate(src, 150, 100000, 1);
  const Snapshot want = Snap(src);
  ASSERT_GT(want.parts.size(), 50u);
  for (Style style : kWritten) {
    for (size_t wt : {1, 2, 3, 4}) {
      std::string path = File(absl::StrFormat("rt_%d_%u", style, wt));
      CheckptOptions co;
      co.style = style;
      co.threads = wt;
      co.uinfo = "round trip";
      ASSERT_TRUE(Checkpt(src, path, co).ok()) << style << " " << wt;
      for (size_t rt : {1, 2, 3, 4}) {
        for (bool pipe : {false, true}) {
          SCOPED_TRACE(absl::StrFormat("style %d wt %u rt %u pipe %d", style,
                                       wt, rt, pipe));
          wksp::Wksp dst = NewWksp(256, 8 << 20, "dst");
          Populate(dst, 20, 1000, 99);  // restore replaces all of this
          RestoreOptions ro;
          ro.threads = rt;
          ro.seed = 77;
          absl::Status st =
              pipe ? RestoreViaPipe(dst, path, ro) : Restore(dst, path, ro);
          ASSERT_TRUE(st.ok()) << st;
          EXPECT_TRUE(Snap(dst) == want);
          EXPECT_TRUE(dst.Verify().ok());
          EXPECT_EQ(dst.seed(), 77u);
        }
      }
    }
  }
}

// The cgroup frames (everything from the first cgroup to the appendix) are
// identical whatever the thread count; so is the rest modulo the info frame.
TEST_F(CheckptTest, BytesIdenticalAcrossThreadCounts) {
  wksp::Wksp src = NewWksp(4096, 32 << 20, "same");
  Populate(src, 3000, 20000, 2);
  for (Style style : {Style::kV2, Style::kV3}) {
    std::vector<uint8_t> first;
    for (size_t t : {1, 2, 3, 8}) {
      std::string path = File(absl::StrFormat("same_%d_%u", style, t));
      CheckptOptions co;
      co.style = style;
      co.threads = t;
      ASSERT_TRUE(Checkpt(src, path, co).ok());
      std::vector<uint8_t> f = ReadFile(path);
      internal::V2Scan scan;
      ASSERT_TRUE(internal::ScanV2(f, 1, nullptr, false, &scan).ok());
      ASSERT_GT(scan.tasks.size(), 10u);
      ASSERT_TRUE(scan.sealed);
      // Each cgroup frame and its seal's digest (the seals' offsets move
      // with the v3 info frame's size, which varies with the wallclock).
      std::vector<uint8_t> body;
      for (const internal::CgroupTask& task : scan.tasks) {
        body.insert(body.end(), f.begin() + task.off, f.begin() + task.end);
        for (uint64_t d : {task.seal.digest.lo, task.seal.digest.hi}) {
          for (int i = 0; i < 8; ++i) body.push_back(uint8_t(d >> (8 * i)));
        }
      }
      if (first.empty()) {
        first = body;
      } else {
        EXPECT_TRUE(body == first) << "style " << style << " threads " << t;
      }
    }
  }
}

TEST_F(CheckptTest, EmptyWorkspaceAndOneHugeAllocation) {
  for (Style style : kWritten) {
    wksp::Wksp empty = NewWksp(16, 1 << 20);
    std::string path = File(absl::StrFormat("empty_%d", style));
    CheckptOptions co;
    co.style = style;
    ASSERT_TRUE(Checkpt(empty, path, co).ok());
    wksp::Wksp dst = NewWksp(16, 1 << 20);
    Populate(dst, 5, 1000, 3);
    ASSERT_TRUE(Restore(dst, path, {}).ok());
    EXPECT_TRUE(Snap(dst).parts.empty());
    EXPECT_TRUE(dst.Verify().ok());

    wksp::Wksp big = NewWksp(16, 24 << 20);
    auto g = big.Alloc(0, 20 << 20, 9);
    ASSERT_TRUE(g.ok());
    std::memset(big.laddr(*g), 0x5a, 20 << 20);
    std::string bpath = File(absl::StrFormat("big_%d", style));
    co.threads = 4;
    ASSERT_TRUE(Checkpt(big, bpath, co).ok());
    wksp::Wksp bdst = NewWksp(16, 24 << 20);
    RestoreOptions ro;
    ro.threads = 4;
    ASSERT_TRUE(Restore(bdst, bpath, ro).ok());
    EXPECT_TRUE(Snap(bdst) == Snap(big));
  }
}

TEST_F(CheckptTest, ThousandsOfTinyAllocations) {
  wksp::Wksp src = NewWksp(16384, 16 << 20, "tiny");
  Populate(src, 6000, 16, 11);
  const Snapshot want = Snap(src);
  ASSERT_GT(want.parts.size(), 3000u);
  for (Style style : kWritten) {
    std::string path = File(absl::StrFormat("tiny_%d", style));
    CheckptOptions co;
    co.style = style;
    co.threads = 2;
    ASSERT_TRUE(Checkpt(src, path, co).ok());
    for (bool pipe : {false, true}) {
      wksp::Wksp dst = NewWksp(16384, 16 << 20);
      RestoreOptions ro;
      ro.threads = 3;
      ASSERT_TRUE(
          (pipe ? RestoreViaPipe(dst, path, ro) : Restore(dst, path, ro)).ok());
      EXPECT_TRUE(Snap(dst) == want) << style << " " << pipe;
    }
  }
}

// Slots needed to restore `s` into a region starting at lo and ending at hi:
// one per allocation and one per free gap.
uint64_t SlotsNeeded(const Snapshot& s, uint64_t lo, uint64_t hi) {
  uint64_t n = 0, prev = lo;
  for (const auto& p : s.parts) {
    n += 1 + (p.lo > prev);
    prev = p.hi;
  }
  return n + (hi > prev);
}

TEST_F(CheckptTest, TargetsOfOtherShapes) {
  wksp::Wksp src = NewWksp(64, 1 << 20, "shape");
  Populate(src, 40, 10000, 4);
  const Snapshot want = Snap(src);
  uint64_t max_hi = 0;
  for (const auto& p : want.parts) max_hi = std::max(max_hi, p.hi);
  for (Style style : kWritten) {
    std::string path = File(absl::StrFormat("shape_%d", style));
    CheckptOptions co;
    co.style = style;
    ASSERT_TRUE(Checkpt(src, path, co).ok());
    // Larger data region, same part_max: fits.
    wksp::Wksp larger = NewWksp(64, 4 << 20);
    ASSERT_TRUE(Restore(larger, path, {}).ok());
    EXPECT_TRUE(Snap(larger) == want);
    // Exactly as small as fits: the data region ends at the last allocation
    // and part_max is just enough (a smaller part_max also moves gaddr_lo
    // down, so every allocation still lies inside).
    {
      uint64_t pm = 64;
      for (;;) {  // shrink part_max while it still has enough slots
        uint64_t lo = wksp::GaddrLo(pm - 1);
        uint64_t need = SlotsNeeded(want, lo, max_hi);
        if (pm - 1 < need) break;
        --pm;
      }
      ASSERT_LT(pm, 64u);
      wksp::Wksp exact = NewWksp(pm, max_hi - wksp::GaddrLo(pm));
      absl::Status st = Restore(exact, path, {});
      ASSERT_TRUE(st.ok()) << st << " part_max " << pm;
      EXPECT_TRUE(Snap(exact) == want);
      EXPECT_TRUE(exact.Verify().ok());
      // One slot fewer: refused, untouched.
      wksp::Wksp short_of_one = NewWksp(pm - 1, max_hi - wksp::GaddrLo(pm - 1));
      Populate(short_of_one, 2, 100, 5);
      Snapshot before = Snap(short_of_one);
      st = Restore(short_of_one, path, {});
      EXPECT_FALSE(st.ok());
      EXPECT_FALSE(IsWorkspaceReset(st)) << st;
      EXPECT_TRUE(Snap(short_of_one) == before);
    }
    // Too few partitions: refused before anything changes.
    wksp::Wksp few = NewWksp(8, 4 << 20);
    Populate(few, 3, 100, 5);
    Snapshot before = Snap(few);
    absl::Status st = Restore(few, path, {});
    EXPECT_FALSE(st.ok());
    EXPECT_FALSE(IsWorkspaceReset(st)) << st;
    EXPECT_TRUE(Snap(few) == before);
    // A data region ending before the last allocation: refused likewise.
    uint64_t small = max_hi - wksp::GaddrLo(64) - 1;
    wksp::Wksp tiny = NewWksp(64, small);
    Populate(tiny, 3, 100, 6);
    before = Snap(tiny);
    st = Restore(tiny, path, {});
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
    EXPECT_TRUE(Snap(tiny) == before);
  }
}

TEST_F(CheckptTest, BadArgumentsAndExistingFile) {
  wksp::Wksp w = NewWksp(16, 1 << 20);
  std::string path = File("exists");
  { std::ofstream(path) << "keep me"; }
  CheckptOptions co;
  absl::Status st = Checkpt(w, path, co);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_EQ(ReadFile(path).size(), 7u);  // untouched
  co.style = static_cast<Style>(4);
  EXPECT_EQ(Checkpt(w, File("bad_style"), co).code(),
            absl::StatusCode::kInvalidArgument);
  co.style = Style::kV2;
  co.mode = 010000;
  EXPECT_EQ(Checkpt(w, File("bad_mode"), co).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Restore(w, File("missing"), {}).ok());
  for (Style s : kStyles) {
    EXPECT_TRUE(StyleIsSupported(s));
    EXPECT_EQ(StyleFromNumber(StyleNumber(s)), s);
  }
  EXPECT_FALSE(StyleIsSupported(static_cast<Style>(-1)));
  EXPECT_FALSE(StyleFromNumber(4).has_value());
  EXPECT_EQ(StoredStyle(Style::kV3), 2);  // v3 is stored as v2 with LZ4
  EXPECT_EQ(StoredFrameStyle(Style::kV3),
            static_cast<int>(checkpt::FrameStyle::kLz4));
  EXPECT_EQ(StoredFrameStyle(Style::kV2),
            static_cast<int>(checkpt::FrameStyle::kRaw));
  EXPECT_EQ(StoredFrameStyle(Style::kV1), 0);
}

// A checkpoint written to a descriptor mid-file starts at its position,
// leaves the position at its end, and restores from there (stream path).
TEST_F(CheckptTest, DescriptorAtAnOffset) {
  wksp::Wksp src = NewWksp(64, 1 << 20, "off");
  Populate(src, 30, 5000, 12);
  const Snapshot want = Snap(src);
  for (Style style : kWritten) {
    std::string path = File(absl::StrFormat("off_%d", style));
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    const std::string prefix(100, 'p');
    ASSERT_TRUE(io::WriteExact(fd, prefix.data(), prefix.size()).ok());
    CheckptOptions co;
    co.style = style;
    co.threads = 2;
    ASSERT_TRUE(CheckptFd(src, fd, co).ok());
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), st.st_size) << style;
    ASSERT_EQ(lseek(fd, 100, SEEK_SET), 100);
    wksp::Wksp dst = NewWksp(64, 1 << 20);
    absl::Status rs = RestoreFd(dst, fd, {});
    ASSERT_TRUE(rs.ok()) << rs;
    EXPECT_TRUE(Snap(dst) == want) << style;
    close(fd);
  }
}

TEST_F(CheckptTest, ModeIsExactWhateverTheUmask) {
  wksp::Wksp w = NewWksp(16, 1 << 20);
  mode_t old = umask(077);
  for (mode_t mode : {0644, 0600, 0444}) {
    std::string path = File(absl::StrFormat("mode_%o", mode));
    CheckptOptions co;
    co.mode = mode;
    ASSERT_TRUE(Checkpt(w, path, co).ok());
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode);
  }
  umask(old);
}

// A checkpoint cut short by a full disk leaves no file (RLIMIT_FSIZE stands
// in for the full disk, in a child so the limit stays there).
TEST_F(CheckptTest, FailedCheckpointLeavesNoFile) {
  wksp::Wksp w = NewWksp(64, 8 << 20);
  Populate(w, 40, 200000, 7);
  for (Style style : kWritten) {
    std::string path = File(absl::StrFormat("full_%d", style));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      signal(SIGXFSZ, SIG_IGN);
      struct rlimit rl = {100000, 100000};
      setrlimit(RLIMIT_FSIZE, &rl);
      CheckptOptions co;
      co.style = style;
      co.threads = 2;
      absl::Status st = Checkpt(w, path, co);
      _exit(st.ok() ? 1 : (access(path.c_str(), F_OK) == 0 ? 2 : 0));
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "style " << style;
    EXPECT_NE(access(path.c_str(), F_OK), 0);
  }
  // Writing to a descriptor that fails: a clear error.
  int full = open("/dev/full", O_WRONLY);
  ASSERT_GE(full, 0);
  for (Style style : kWritten) {
    CheckptOptions co;
    co.style = style;
    absl::Status st = CheckptFd(w, full, co);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("No space"), std::string_view::npos) << st;
  }
  close(full);
}

// Every truncation point near frame boundaries and random byte flips: never
// a crash; the target is untouched or reset, and always verifies.
TEST_F(CheckptTest, CorruptAndTruncatedFiles) {
  wksp::Wksp src = NewWksp(128, 2 << 20, "bad");
  Populate(src, 60, 20000, 8);
  std::mt19937_64 rng(9);
  for (Style style : kWritten) {
    std::string path = File(absl::StrFormat("good_%d", style));
    CheckptOptions co;
    co.style = style;
    ASSERT_TRUE(Checkpt(src, path, co).ok());
    const std::vector<uint8_t> good = ReadFile(path);
    std::vector<uint64_t> cuts = {0,
                                  1,
                                  8,
                                  9,
                                  12,
                                  79,
                                  80,
                                  81,
                                  good.size() - 1,
                                  good.size() - 120,
                                  good.size() - 121};
    if (style != Style::kV1) {
      internal::V2Scan scan;
      ASSERT_TRUE(internal::ScanV2(good, 1, nullptr, false, &scan).ok());
      for (const auto& t : scan.tasks) {
        for (uint64_t d : {0, 1, 24, 47}) cuts.push_back(t.off + d);
      }
      cuts.push_back(scan.footer.frame_off);
    }
    for (int i = 0; i < 20; ++i) cuts.push_back(rng() % good.size());
    std::string bad = File(absl::StrFormat("bad_%d", style));
    wksp::Wksp dst = NewWksp(128, 2 << 20);
    auto check = [&](const std::vector<uint8_t>& bytes, const char* what,
                     uint64_t at, bool must_fail) {
      SCOPED_TRACE(absl::StrFormat("style %d %s at %u", style, what, at));
      WriteFile(bad, bytes);
      for (bool pipe : {false, true}) {
        ASSERT_TRUE(dst.Reset(1).ok());
        auto g = dst.Alloc(0, 100, 3);
        ASSERT_TRUE(g.ok());
        absl::Status st =
            pipe ? RestoreViaPipe(dst, bad, {}) : Restore(dst, bad, {});
        if (must_fail) {
          EXPECT_FALSE(st.ok()) << "pipe " << pipe;
        }
        EXPECT_TRUE(dst.Verify().ok());
        if (!st.ok() && !IsWorkspaceReset(st)) {
          // Untouched: the allocation made above is still there.
          auto tag = dst.Tag(*g);
          ASSERT_TRUE(tag.ok());
          EXPECT_EQ(*tag, 3u) << st;
        }
        if (IsWorkspaceReset(st)) {
          EXPECT_TRUE(Snap(dst).parts.empty());
        }
      }
    };
    for (uint64_t cut : cuts) {
      if (cut >= good.size()) continue;
      std::vector<uint8_t> t(good.begin(), good.begin() + cut);
      check(t, "truncated", cut, true);
    }
    for (int i = 0; i < 300; ++i) {
      std::vector<uint8_t> f = good;
      uint64_t at = rng() % f.size();
      f[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      check(f, "flipped", at, false);
    }
  }
}

// A restore that fails after it modified the workspace says so and keeps
// what its cause said: the message, the errno, the checkpoint error class.
TEST_F(CheckptTest, WorkspaceResetKeepsTheCause) {
  absl::Status reset =
      internal::WorkspaceReset(ErrnoError(EIO, "read", "fd 9"));
  EXPECT_TRUE(IsWorkspaceReset(reset));
  EXPECT_EQ(StatusErrno(reset), EIO);
  EXPECT_NE(reset.message().find("read fd 9"), std::string_view::npos);
  EXPECT_NE(reset.message().find("reset to empty"), std::string_view::npos);

  // End to end: the second cgroup frame of a v3 stream has an impossible
  // LZ4 chunk size, found only after the first cgroup was restored.
  wksp::Wksp src = NewWksp(256, 8 << 20, "cause");
  Populate(src, 150, 20000, 13);
  std::string path = File("cause");
  CheckptOptions co;
  co.style = Style::kV3;
  ASSERT_TRUE(Checkpt(src, path, co).ok());
  std::vector<uint8_t> f = ReadFile(path);
  internal::V2Scan scan;
  ASSERT_TRUE(internal::ScanV2(f, 1, nullptr, false, &scan).ok());
  ASSERT_GE(scan.tasks.size(), 2u);
  const uint64_t second = scan.tasks[1].off;  // one volume: in file order
  f[second] = f[second + 1] = f[second + 2] = 0xff;
  WriteFile(path, f);
  wksp::Wksp dst = NewWksp(256, 8 << 20);
  absl::Status st = RestoreViaPipe(dst, path, {});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(IsWorkspaceReset(st)) << st;
  EXPECT_EQ(checkpt::ClassOf(st), checkpt::ErrorClass::kComp) << st;
  EXPECT_TRUE(Snap(dst).parts.empty());
}

// A stream of empty cgroup frames that never reaches an appendix is refused
// once it has more cgroups than any appendix may list (bounded memory).
TEST_F(CheckptTest, EndlessCgroupStreamIsRefused) {
  format::Header h;
  h.name = "endless";
  h.part_max = 16;
  h.data_max = 1 << 20;
  std::vector<uint8_t> bytes(format::kHeaderSz);
  format::EncodeHeader(h, bytes.data());
  uint8_t info[format::kInfoSz];
  std::string strings;
  format::EncodeInfo(format::Info{}, info, &strings);
  bytes.insert(bytes.end(), info, info + sizeof(info));
  bytes.insert(bytes.end(), strings.begin(), strings.end());
  uint8_t data_cmd[format::kCmdSz];
  format::EncodeCmd({0, format::kMax, format::kMax}, data_cmd);
  for (int i = 0; i < 5000; ++i) {
    bytes.insert(bytes.end(), data_cmd, data_cmd + sizeof(data_cmd));
  }
  std::string path = File("endless");
  WriteFile(path, bytes);
  wksp::Wksp dst = NewWksp(16, 1 << 20);
  absl::Status st = RestoreViaPipe(dst, path, {});
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("more cgroups than an appendix"),
            std::string_view::npos)
      << st;
  EXPECT_TRUE(dst.Verify().ok());
}

// Firedancer's own files restore exactly, with any thread count; a v2 or v3
// checkpoint of the result reproduces their cgroup frames byte for byte.
TEST_F(CheckptTest, FiredancerReferenceFiles) {
  for (Style style : kWritten) {
    testdata::RefWorkspace ref = testdata::LoadRef(StyleNumber(style));
    std::string path =
        testdata::RefPath(absl::StrFormat("ref_v%d.checkpt", style));
    auto pv = PreviewCheckpt(path);
    ASSERT_TRUE(pv.ok()) << pv.status();
    EXPECT_EQ(pv->style, style);
    EXPECT_EQ(pv->name, ref.name);
    EXPECT_EQ(pv->seed, ref.seed);
    EXPECT_EQ(pv->part_max, ref.part_max);
    EXPECT_EQ(pv->data_max, ref.data_max);
    for (size_t threads : {1, 2, 4}) {
      SCOPED_TRACE(absl::StrFormat("style %d threads %u", style, threads));
      wksp::Wksp w = NewWksp(ref.part_max, ref.data_max, "ref");
      RestoreOptions ro;
      ro.threads = threads;
      ro.seed = ref.seed;
      ASSERT_TRUE(Restore(w, path, ro).ok());
      Snapshot s = Snap(w);
      ASSERT_EQ(s.parts.size(), ref.allocs.size());
      for (size_t i = 0; i < ref.allocs.size(); ++i) {
        const auto& a = ref.allocs[i];
        EXPECT_EQ(s.parts[i].lo, a.lo);
        EXPECT_EQ(s.parts[i].hi, a.hi);
        EXPECT_EQ(s.parts[i].tag, a.tag);
        std::vector<uint8_t> want(a.hi - a.lo);
        testdata::RefFill(a.lo, a.hi, a.tag, want.data());
        EXPECT_TRUE(s.bytes[i] == want) << i;
      }
      EXPECT_TRUE(w.Verify().ok());
      if (style == Style::kV1 || threads != 2) continue;
      // Re-checkpoint in the same style, sealed and not: the cgroup frames
      // must match theirs byte for byte; unsealed, so must the layout (the
      // whole file, but for the run-varying info frame's size).
      for (bool sealed : {false, true}) {
        SCOPED_TRACE(sealed ? "sealed" : "unsealed");
        std::string again = File(absl::StrFormat("again_%d_%d", style, sealed));
        CheckptOptions co;
        co.style = style;
        co.threads = 3;
        co.sealed = sealed;
        ASSERT_TRUE(Checkpt(w, again, co).ok());
        std::vector<uint8_t> theirs = ReadFile(path), ours = ReadFile(again);
        internal::V2Scan ts, os;
        ASSERT_TRUE(internal::ScanV2(theirs, 1, nullptr, false, &ts).ok());
        ASSERT_TRUE(internal::ScanV2(ours, 1, nullptr, false, &os).ok());
        EXPECT_FALSE(ts.sealed);
        EXPECT_EQ(os.sealed, sealed);
        ASSERT_EQ(ts.tasks.size(), os.tasks.size());
        for (size_t i = 0; i < ts.tasks.size(); ++i) {
          const auto &t = ts.tasks[i], &o = os.tasks[i];
          EXPECT_TRUE(std::equal(theirs.begin() + t.off, theirs.begin() + t.end,
                                 ours.begin() + o.off, ours.begin() + o.end))
              << i;
        }
        if (sealed) continue;
        int64_t shift = static_cast<int64_t>(os.tasks.front().off) -
                        static_cast<int64_t>(ts.tasks.front().off);
        EXPECT_EQ(static_cast<int64_t>(ours.size()) - shift,
                  static_cast<int64_t>(theirs.size()));
        // Past the info frame, only offsets may differ: by the shift.
        EXPECT_TRUE(std::equal(theirs.begin() + ts.tasks.front().off,
                               theirs.begin() + ts.tasks.back().next,
                               ours.begin() + os.tasks.front().off,
                               ours.begin() + os.tasks.back().next));
      }
    }
  }
}

// What each level adds, with values from the reference data (query_ref_test
// compares every field with Firedancer's own reports).
TEST_F(CheckptTest, PrintEveryLevel) {
  for (Style style : kWritten) {
    const testdata::RefWorkspace ref = testdata::LoadRef(StyleNumber(style));
    const std::string uinfo = testdata::ParseQueryReport(
                                  testdata::RefQueryText(StyleNumber(style), 2))
                                  .fields.at("uinfo");
    uint64_t used = 0;
    for (const auto& a : ref.allocs) used += a.hi - a.lo;
    const std::string name_line =
        absl::StrFormat("\t%-22s %s\n", "name", ref.name);
    const std::string used_line = absl::StrFormat(
        "%u bytes used (%u allocations", used, ref.allocs.size());
    const std::string first_partition = absl::StrFormat(
        "partition [0x%016x, 0x%016x)", ref.allocs[0].lo, ref.allocs[0].hi);
    std::string path =
        testdata::RefPath(absl::StrFormat("ref_v%d.checkpt", style));
    for (int v = 0; v <= 4; ++v) {
      const testutil::Printed p = testutil::PrintToText(path, v);
      ASSERT_TRUE(p.status.ok()) << p.status;
      const std::string& text = p.text;
      EXPECT_NE(text.find(name_line), std::string::npos) << text;
      EXPECT_EQ(text.find("\tuinfo\n") != std::string::npos, v >= 2) << text;
      EXPECT_EQ(text.find(uinfo) != std::string::npos, v >= 2) << text;
      EXPECT_EQ(text.find(used_line) != std::string::npos, v >= 3) << text;
      EXPECT_EQ(text.find(first_partition) != std::string::npos, v >= 4)
          << text;
    }
  }
  EXPECT_FALSE(PrintCheckpt(TmpPath("nope"), 0, stdout).ok());
  // A truncated file still shows its header, but every level fails, saying
  // how many bytes the file has (even verbose 0, which reads no more than
  // the layout).
  for (Style style : kWritten) {
    std::vector<uint8_t> f =
        ReadFile(testdata::RefPath(absl::StrFormat("ref_v%d.checkpt", style)));
    ASSERT_GT(f.size(), 200u);
    f.erase(f.end() - 200, f.end());
    std::string cut = File(absl::StrFormat("cut_%d", style));
    WriteFile(cut, f);
    const std::string has = absl::StrFormat("has %u bytes", f.size());
    for (int v = 0; v <= 4; ++v) {
      const testutil::Printed p = testutil::PrintToText(cut, v);
      const absl::Status& st = p.status;
      const std::string& text = p.text;
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << style << " " << v;
      EXPECT_NE(st.message().find("ends early"), std::string_view::npos)
          << st;
      EXPECT_NE(st.message().find(has), std::string_view::npos) << st;
      EXPECT_NE(text.find("\tname"), std::string::npos) << text;
    }
    EXPECT_FALSE(CheckptAllocations(cut).ok()) << style;
  }
}

TEST_F(CheckptTest, PreviewRejectsNonCheckpoints) {
  std::string path = File("junk");
  WriteFile(path, std::vector<uint8_t>(200, 0x42));
  EXPECT_EQ(PreviewCheckpt(path).status().code(), absl::StatusCode::kDataLoss);
  WriteFile(path, std::vector<uint8_t>(5, 0x1f));
  EXPECT_FALSE(PreviewCheckpt(path).ok());
  EXPECT_FALSE(PreviewCheckpt(TmpPath("missing")).ok());
}

}  // namespace
}  // namespace wk::wksp_checkpt
