// Seals (CHECKPOINT_FORMAT.md §4.10): every single-bit flip of small sealed
// v2/v3 files is caught by checkpt-verify and restore from a path (every
// third also from a pipe and by checkpt-query 3), as is a sample of
// multi-byte edits by all five, and a failed restore leaves the workspace
// untouched or reset, never wrong; a path and a pipe of the same bytes, sealed
// or not, succeed or fail alike.
#include "wksp/checkpt/seal.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "gtest/gtest.h"
#include "io/fd.h"
#include "util/status.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/test_util.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/geometry.h"
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

void WriteFile(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

wksp::Wksp NewWksp(const char* name) {
  auto w = wksp::Wksp::CreateAnonymous(name, 64, 1 << 16);
  EXPECT_TRUE(w.ok()) << w.status();
  return std::move(*w);
}

using testutil::Snap;
using testutil::Snapshot;

// A few small allocations with patterned bytes (compressible and not).
void Fill(wksp::Wksp& w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (uint64_t sz : {16, 40, 300, 5, 1000}) {
    auto g = w.Alloc(8, sz, 1 + rng() % 5);
    ASSERT_TRUE(g.ok()) << g.status();
    uint8_t* p = w.laddr(*g);
    for (uint64_t j = 0; j < sz; ++j) {
      p[j] = static_cast<uint8_t>(j < sz / 2 ? j & 7 : rng());
    }
  }
}

// A checkpoint written to a pipe whole (the files here fit in its buffer),
// so the reader needs no feeder thread.
struct Pipe {
  int r = -1;
  explicit Pipe(std::span<const uint8_t> bytes) {
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    EXPECT_TRUE(io::WriteExact(p[1], bytes.data(), bytes.size()).ok());
    close(p[1]);
    r = p[0];
  }
  ~Pipe() { close(r); }
};

// Every way of reading one mutated file, and whether each accepted it.
struct Outcome {
  bool verify_path, verify_pipe, query, restore_path, restore_pipe;
};

class SealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    devnull_ = std::fopen("/dev/null", "w");
    ASSERT_NE(devnull_, nullptr);
  }
  void TearDown() override {
    std::fclose(devnull_);
    for (const auto& p : paths_) ::unlink(p.c_str());
  }

  std::string File(const std::string& name) {
    paths_.push_back(TmpPath(name));
    ::unlink(paths_.back().c_str());
    return paths_.back();
  }

  // A restore either succeeds or leaves `dst` as it was (before) or reset
  // to empty (IsWorkspaceReset): never anything else. Puts dst back.
  bool CheckRestore(wksp::Wksp& dst, const Snapshot& before,
                    const absl::Status& st, const std::string& what) {
    if (st.ok()) {
      Refill(dst);  // the restored content replaced `before`
      return true;
    }
    Snapshot after = Snap(dst);
    EXPECT_TRUE(dst.Verify().ok()) << what;
    if (IsWorkspaceReset(st)) {
      EXPECT_TRUE(after.parts.empty()) << what << ": " << st;
      Refill(dst);
    } else {
      EXPECT_TRUE(after == before) << what << ": " << st;
    }
    return false;
  }

  static void Refill(wksp::Wksp& dst) {
    ASSERT_TRUE(dst.Reset(dst.seed()).ok());
    Fill(dst, 7);
  }

  // `all` false: only the path readers (verify, restore), for the many
  // mutations where every way would make the test too slow under ASan.
  Outcome ReadEveryWay(std::span<const uint8_t> bytes, wksp::Wksp& dst,
                       const Snapshot& before, const std::string& what,
                       bool all = true) {
    const std::string path = TmpPath("mutated");
    WriteFile(path, bytes);
    Outcome o{};
    o.verify_path = VerifyCheckpt(path, {}).ok();
    o.restore_path =
        CheckRestore(dst, before, Restore(dst, path, {}), what + " path");
    if (all) {
      {
        Pipe p(bytes);
        o.verify_pipe = VerifyCheckptFd(p.r, {}).ok();
      }
      o.query = PrintCheckpt(path, 3, devnull_).ok();
      Pipe p(bytes);
      o.restore_pipe =
          CheckRestore(dst, before, RestoreFd(dst, p.r, {}), what + " pipe");
    }
    ::unlink(path.c_str());
    return o;
  }

  std::vector<uint8_t> Write(Style style, bool sealed) {
    wksp::Wksp src = NewWksp("src");
    Fill(src, 3);
    CheckptOptions co;
    co.style = style;
    co.sealed = sealed;
    co.uinfo = "seal test";
    // Fixed info fields: a v3 info frame's compressed size would otherwise
    // vary with the clock, and sizes are compared across files.
    co.deterministic = true;
    const std::string path =
        File(absl::StrFormat("seal_%d_%d", StyleNumber(style), sealed));
    EXPECT_TRUE(Checkpt(src, path, co).ok());
    return ReadFile(path);
  }

  FILE* devnull_ = nullptr;
  std::vector<std::string> paths_;
};

TEST_F(SealTest, SealedFilesVerifyAndRestore) {
  for (Style style : {Style::kV2, Style::kV3}) {
    for (bool sealed : {true, false}) {
      SCOPED_TRACE(
          absl::StrFormat("v%d sealed %d", StyleNumber(style), sealed));
      std::vector<uint8_t> f = Write(style, sealed);
      internal::V2Scan scan;
      ASSERT_TRUE(internal::ScanV2(f, 1, nullptr, false, &scan).ok());
      EXPECT_EQ(scan.sealed, sealed);
      wksp::Wksp dst = NewWksp("dst");
      Refill(dst);
      const Snapshot before = Snap(dst);
      Outcome o = ReadEveryWay(f, dst, before, "intact");
      EXPECT_TRUE(o.verify_path && o.verify_pipe && o.query && o.restore_path &&
                  o.restore_pipe);
      const std::string path = TmpPath("intact");
      WriteFile(path, f);
      auto rep = VerifyCheckpt(path, {.threads = 3});
      ASSERT_TRUE(rep.ok()) << rep.status();
      EXPECT_EQ(rep->sealed, sealed);
      EXPECT_EQ(rep->style, style);
      EXPECT_EQ(rep->allocs, 5u);
      EXPECT_EQ(rep->file_bytes, f.size());
      ::unlink(path.c_str());
    }
  }
}

// The seals cost 40 bytes each: one after the info frame, one per cgroup,
// three in the trailer.
TEST_F(SealTest, SealsAreTheOnlyDifference) {
  for (Style style : {Style::kV2, Style::kV3}) {
    std::vector<uint8_t> s = Write(style, true), u = Write(style, false);
    internal::V2Scan ss, us;
    ASSERT_TRUE(internal::ScanV2(s, 1, nullptr, false, &ss).ok());
    ASSERT_TRUE(internal::ScanV2(u, 1, nullptr, false, &us).ok());
    ASSERT_EQ(ss.tasks.size(), us.tasks.size());
    EXPECT_EQ(s.size(), u.size() + seal::kSealSz * (4 + ss.tasks.size()));
    for (size_t i = 0; i < ss.tasks.size(); ++i) {
      const auto &a = ss.tasks[i], &b = us.tasks[i];
      EXPECT_EQ(b.end, b.next);  // unsealed: compact
      EXPECT_EQ(a.end + seal::kSealSz, a.next);
      EXPECT_TRUE(std::equal(s.begin() + a.off, s.begin() + a.end,
                             u.begin() + b.off, u.begin() + b.end));
    }
  }
}

TEST_F(SealTest, EverySingleBitFlipIsCaught) {
  for (Style style : {Style::kV2, Style::kV3}) {
    const std::vector<uint8_t> f = Write(style, true);
    wksp::Wksp dst = NewWksp("dst");
    Refill(dst);
    const Snapshot before = Snap(dst);
    for (size_t bit = 0; bit < 8 * f.size(); ++bit) {
      std::vector<uint8_t> m = f;
      m[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      const std::string what =
          absl::StrFormat("v%d bit %u", StyleNumber(style), bit);
      // Every flip through the path readers, every third through all five
      // (all five for every flip is too slow under ASan).
      Outcome o = ReadEveryWay(m, dst, before, what, bit % 3 == 0);
      ASSERT_FALSE(o.verify_path || o.verify_pipe || o.query ||
                   o.restore_path || o.restore_pipe)
          << what;
    }
  }
}

TEST_F(SealTest, MultiByteEditsAreCaught) {
  std::mt19937_64 rng(11);
  for (Style style : {Style::kV2, Style::kV3}) {
    const std::vector<uint8_t> f = Write(style, true);
    wksp::Wksp dst = NewWksp("dst");
    Refill(dst);
    const Snapshot before = Snap(dst);
    for (int i = 0; i < 200; ++i) {
      std::vector<uint8_t> m = f;
      const size_t len = 2 + rng() % 15;
      const size_t at = rng() % (f.size() - len);
      for (size_t j = 0; j < len; ++j) m[at + j] = static_cast<uint8_t>(rng());
      if (m == f) continue;
      const std::string what =
          absl::StrFormat("v%d %u bytes at %u", StyleNumber(style), len, at);
      Outcome o = ReadEveryWay(m, dst, before, what);
      ASSERT_FALSE(o.verify_path || o.verify_pipe || o.query ||
                   o.restore_path || o.restore_pipe)
          << what;
    }
  }
}

// Unsealed files (Firedancer's layout) have no checksum, so some edits go
// unnoticed; but a path and a pipe of the same bytes must agree, for
// restore and verify alike, and checkpt-query 3 must accept exactly what
// restore accepts. Sealed files: always caught (above).
TEST_F(SealTest, PathAndPipeAgree) {
  std::mt19937_64 rng(5);
  for (Style style : {Style::kV1, Style::kV2, Style::kV3}) {
    const std::vector<uint8_t> f = Write(style, false);
    wksp::Wksp dst = NewWksp("dst");
    Refill(dst);
    const Snapshot before = Snap(dst);
    for (int i = 0; i < 600; ++i) {
      std::vector<uint8_t> m = f;
      switch (i % 3) {
        case 0:  // one bit
          m[rng() % m.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:  // a few bytes
          for (int j = 0, at = rng() % (m.size() - 4); j < 4; ++j) {
            m[at + j] = static_cast<uint8_t>(rng());
          }
          break;
        default:  // cut or extended
          if (rng() % 2) {
            m.resize(rng() % m.size());
          } else {
            m.resize(m.size() + 1 + rng() % 64, static_cast<uint8_t>(rng()));
          }
      }
      const std::string what =
          absl::StrFormat("v%d edit %d", StyleNumber(style), i);
      Outcome o = ReadEveryWay(m, dst, before, what);
      ASSERT_EQ(o.restore_path, o.restore_pipe) << what;
      ASSERT_EQ(o.verify_path, o.verify_pipe) << what;
      ASSERT_EQ(o.verify_path, o.restore_path) << what;
      if (style != Style::kV1) {
        ASSERT_EQ(o.query, o.restore_path) << what;
      }
    }
  }
}

// Firedancer's restore from a path (fd_wksp_restore_v2.c, the mmio path),
// step by step as that code seeks and tests, over our checkpt::Reader (which
// reads the same frames). Returns the allocations it would restore, with
// their bytes, in slot order; fails where a Firedancer test would.
absl::StatusOr<Snapshot> FiredancerPathRestore(std::span<const uint8_t> f) {
  auto need = [](bool c, const char* what) {
    return c ? absl::OkStatus() : absl::DataLossError(what);
  };
  auto cmd = [](checkpt::Reader& r) -> absl::StatusOr<format::Cmd> {
    uint8_t b[format::kCmdSz];
    WK_RETURN_IF_ERROR(r.Meta(b, sizeof(b)));
    return format::DecodeCmd(b);
  };
  const uint64_t n = f.size(), info_off = format::kHeaderSz,
                 ftr_off = n - format::kFooterSz;
  WK_RETURN_IF_ERROR(need(info_off < ftr_off && ftr_off < n, "sizes"));
  WK_ASSIGN_OR_RETURN(checkpt::Reader r, checkpt::Reader::Mmio(f));
  format::Header h;
  WK_RETURN_IF_ERROR(format::DecodeHeader(f, &h));
  const checkpt::FrameStyle fs = h.frame_style_compressed;
  WK_RETURN_IF_ERROR(r.Seek(info_off));  // the info frame, right at 80
  WK_RETURN_IF_ERROR(r.Open(fs).status());
  uint8_t ib[format::kInfoSz];
  WK_RETURN_IF_ERROR(r.Meta(ib, sizeof(ib)));
  format::Info info;
  uint64_t ssz = 0;
  WK_RETURN_IF_ERROR(format::DecodeInfoStruct(ib, &info, &ssz));
  std::vector<uint8_t> strings(ssz);
  WK_RETURN_IF_ERROR(r.Data(strings.data(), ssz));
  WK_RETURN_IF_ERROR(r.Close().status());
  WK_RETURN_IF_ERROR(r.Seek(ftr_off));  // the footer, at n - 120
  WK_RETURN_IF_ERROR(r.Open(checkpt::FrameStyle::kRaw).status());
  uint8_t fb[format::kFooterSz];
  WK_RETURN_IF_ERROR(r.Data(fb, sizeof(fb)));
  WK_ASSIGN_OR_RETURN(uint64_t ftr_end, r.Close());
  const format::Footer ftr = format::DecodeFooter(fb);
  WK_RETURN_IF_ERROR(need(ftr_end == n && ftr.checkpt_sz == n, "ftr sz"));
  WK_RETURN_IF_ERROR(format::CheckFooterMatchesHeader(ftr, h, f.data()));
  const uint64_t vol = ftr.frame_off;
  WK_RETURN_IF_ERROR(need(info_off < vol && vol < ftr_off, "volumes off"));
  WK_RETURN_IF_ERROR(r.Seek(vol));
  WK_RETURN_IF_ERROR(r.Open(fs).status());
  WK_ASSIGN_OR_RETURN(format::Cmd vc, cmd(r));
  WK_ASSIGN_OR_RETURN(uint64_t vol_end, r.Close());
  WK_RETURN_IF_ERROR(need(vc.a == 0 && vc.b == format::kMax, "volumes cmd"));
  WK_RETURN_IF_ERROR(need(vol < vol_end && vol_end <= ftr_off, "volumes end"));
  const uint64_t data_lo = wksp::LimitsOf(h.part_max, h.data_max).gaddr_lo;
  const uint64_t data_hi = data_lo + h.data_max;
  uint64_t rem = ftr.alloc_cnt, hi = vol, volumes = 0, cgroups = 0;
  Snapshot out;
  out.parts.resize(ftr.alloc_cnt);
  out.bytes.resize(ftr.alloc_cnt);
  for (uint64_t app = vc.c; app != 0; ++volumes) {
    WK_RETURN_IF_ERROR(
        need(volumes < ftr.volume_cnt && info_off < app && app < hi,
             "appendix off"));
    WK_RETURN_IF_ERROR(r.Seek(app));
    WK_RETURN_IF_ERROR(r.Open(fs).status());
    WK_ASSIGN_OR_RETURN(format::Cmd ac, cmd(r));
    WK_RETURN_IF_ERROR(need(ac.IsAppendix() && ac.b <= 1024, "appendix"));
    const uint64_t g = ac.b;
    std::vector<uint64_t> off(g + 1), lo(g + 1);
    WK_RETURN_IF_ERROR(r.Data(off.data(), 8 * g));
    WK_RETURN_IF_ERROR(r.Data(lo.data(), 8 * g));
    WK_RETURN_IF_ERROR(r.Close().status());
    off[g] = app;
    lo[g] = rem;
    for (uint64_t i = g; i-- > 0;) {
      WK_RETURN_IF_ERROR(need(off[i] < off[i + 1] && lo[i] <= rem, "offs"));
      rem -= lo[i];
      lo[i] = rem;
    }
    WK_RETURN_IF_ERROR(
        need(g == 0 || std::max(ac.c, info_off) < off[0], "first cgroup"));
    for (uint64_t i = 0; i < g; ++i, ++cgroups) {
      WK_RETURN_IF_ERROR(r.Seek(off[i]));
      WK_RETURN_IF_ERROR(r.Open(fs).status());
      for (uint64_t k = lo[i]; k < lo[i + 1]; ++k) {
        WK_ASSIGN_OR_RETURN(format::Cmd m, cmd(r));
        WK_RETURN_IF_ERROR(
            need(m.IsMeta() && data_lo <= m.b && m.b < m.c && m.c <= data_hi,
                 "meta"));
        out.parts[k] = {m.b, m.c, m.a};
      }
      WK_ASSIGN_OR_RETURN(format::Cmd d, cmd(r));
      WK_RETURN_IF_ERROR(need(d.IsData(), "data cmd"));
      for (uint64_t k = lo[i]; k < lo[i + 1]; ++k) {
        out.bytes[k].resize(out.parts[k].hi - out.parts[k].lo);
        WK_RETURN_IF_ERROR(r.Data(out.bytes[k].data(), out.bytes[k].size()));
      }
      WK_ASSIGN_OR_RETURN(uint64_t end, r.Close());
      // "== hi if compactly stored": a seal in between is skipped.
      WK_RETURN_IF_ERROR(need(off[i] < end && end <= off[i + 1], "cgroup end"));
    }
    hi = g ? off[0] : app;
    app = ac.c;
  }
  WK_RETURN_IF_ERROR(
      need(rem == 0 && cgroups == ftr.cgroup_cnt && volumes == ftr.volume_cnt,
           "counts"));
  return out;
}

// Our sealed files, read as Firedancer reads a path, give the source's
// allocations: the seals sit where it skips bytes. (The same reader also
// accepts Firedancer's own reference-layout files: the unsealed ones.)
TEST_F(SealTest, FiredancerPathRestoreReadsSealedFiles) {
  for (Style style : {Style::kV2, Style::kV3}) {
    for (bool sealed : {true, false}) {
      SCOPED_TRACE(
          absl::StrFormat("v%d sealed %d", StyleNumber(style), sealed));
      auto w = wksp::Wksp::CreateAnonymous("src", 512, 1 << 20);
      ASSERT_TRUE(w.ok()) << w.status();
      wksp::Wksp src = std::move(*w);
      Fill(src, 3);
      for (int i = 0; i < 100; ++i) {
        auto g = src.Alloc(8, 7 + i, 9);
        ASSERT_TRUE(g.ok()) << g.status();
        std::memset(src.laddr(*g), i, 7 + i);
      }
      CheckptOptions co;
      co.style = style;
      co.sealed = sealed;
      co.threads = 2;
      const std::string path =
          File(absl::StrFormat("fd_%d_%d", StyleNumber(style), sealed));
      ASSERT_TRUE(Checkpt(src, path, co).ok());
      absl::StatusOr<Snapshot> fd = FiredancerPathRestore(ReadFile(path));
      ASSERT_TRUE(fd.ok()) << fd.status();
      Snapshot want = Snap(src);
      // Slots are in file order; compare in address order.
      std::vector<size_t> idx(fd->parts.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
        return fd->parts[a].lo < fd->parts[b].lo;
      });
      Snapshot got;
      for (size_t i : idx) {
        got.parts.push_back(fd->parts[i]);
        got.bytes.push_back(fd->bytes[i]);
      }
      EXPECT_TRUE(got == want);
      EXPECT_GT(want.parts.size(), 32u);  // several cgroups
    }
  }
}

}  // namespace
}  // namespace wk::wksp_checkpt
