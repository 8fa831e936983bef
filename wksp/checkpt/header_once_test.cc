// Every reader of a v2/v3 checkpoint (restore from a path, a regular
// descriptor or a pipe; verify; preview and print) decodes its header
// exactly once: the sniff (sniff.h) reads and decodes it, and what follows
// (the mapped scan, the stream walk) takes the decoded header from the sniff
// instead of decoding the file's first bytes again. The test counts
// FaultEvent::kHeader, which format::DecodeHeader raises on every decode.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "util/fault.h"
#include "wksp/checkpt/restore_ranges.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

std::atomic<int> g_decodes{0};

int CountHeaders(FaultEvent event) {
  if (event == FaultEvent::kHeader) g_decodes.fetch_add(1);
  return 0;
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::vector<uint8_t> out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  uint8_t buf[1 << 16];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) {
    out.insert(out.end(), buf, buf + n);
  }
  close(fd);
  return out;
}

class HeaderOnceTest
    : public ::testing::TestWithParam<std::tuple<Style, bool>> {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    path_ = absl::StrFormat("%s/header_once.%d.ckpt", tmp ? tmp : "/tmp",
                            static_cast<int>(getpid()));
    unlink(path_.c_str());
    auto src = wksp::Wksp::CreateAnonymous("hdronce", 64, 8 << 20);
    ASSERT_TRUE(src.ok()) << src.status();
    for (uint64_t i = 0; i < 6; ++i) {
      auto g = src->Alloc(0, 4096 + i * 512, 1 + i);
      ASSERT_TRUE(g.ok()) << g.status();
      std::memset(src->laddr(*g), static_cast<int>(i + 1), 4096);
    }
    const auto [style, sealed] = GetParam();
    CheckptOptions copt;
    copt.style = style;
    copt.sealed = sealed;
    copt.index = false;
    ASSERT_TRUE(Checkpt(*src, path_, copt).ok());
    auto dst = wksp::Wksp::CreateAnonymous("hdronce", 64, 8 << 20);
    ASSERT_TRUE(dst.ok()) << dst.status();
    dst_.emplace(std::move(*dst));
    g_decodes = 0;
    previous_ = SetFaultHook(&CountHeaders);
  }
  void TearDown() override {
    SetFaultHook(previous_);
    unlink(path_.c_str());
  }

  // Runs `read` and returns how many headers it decoded.
  template <typename F>
  int Decodes(F&& read) {
    g_decodes = 0;
    read();
    return g_decodes.load();
  }

  std::string path_;
  std::optional<wksp::Wksp> dst_;
  FaultHook previous_ = nullptr;
};

TEST_P(HeaderOnceTest, RestoreFromPathDecodesOnce) {
  EXPECT_EQ(Decodes([&] {
              absl::Status st = Restore(*dst_, path_, {});
              EXPECT_TRUE(st.ok()) << st;
            }),
            1);
}

TEST_P(HeaderOnceTest, RestoreFromRegularFdDecodesOnce) {
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Decodes([&] {
              absl::Status st = RestoreFd(*dst_, fd, {});
              EXPECT_TRUE(st.ok()) << st;
            }),
            1);
  close(fd);
}

TEST_P(HeaderOnceTest, RestoreAndVerifyFromPipeDecodeOnce) {
  const std::vector<uint8_t> bytes = ReadAll(path_);
  ASSERT_FALSE(bytes.empty());
  for (bool verify : {false, true}) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    std::thread writer([&] {
      for (size_t off = 0; off < bytes.size();) {
        ssize_t n = write(p[1], bytes.data() + off, bytes.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      close(p[1]);
    });
    EXPECT_EQ(Decodes([&] {
                if (verify) {
                  auto rep = VerifyCheckptFd(p[0], {});
                  EXPECT_TRUE(rep.ok()) << rep.status();
                } else {
                  absl::Status st = RestoreFd(*dst_, p[0], {});
                  EXPECT_TRUE(st.ok()) << st;
                }
              }),
              1)
        << (verify ? "verify" : "restore");
    writer.join();
    close(p[0]);
  }
}

TEST_P(HeaderOnceTest, VerifyDecodesOnce) {
  EXPECT_EQ(Decodes([&] {
              auto rep = VerifyCheckpt(path_, {});
              EXPECT_TRUE(rep.ok()) << rep.status();
            }),
            1);
}

TEST_P(HeaderOnceTest, PreviewAndPrintDecodeOnce) {
  EXPECT_EQ(Decodes([&] {
              auto p = PreviewCheckpt(path_);
              EXPECT_TRUE(p.ok()) << p.status();
            }),
            1);
  // Verbose 1 scans the info frame only; 3 every cgroup too.
  for (int verbose : {0, 1, 3}) {
    EXPECT_EQ(Decodes([&] {
                CheckptDescription d;
                absl::Status st = DescribeCheckpt(path_, verbose, &d);
                EXPECT_TRUE(st.ok()) << st;
              }),
              1)
        << "verbose " << verbose;
  }
}

TEST_P(HeaderOnceTest, RangeRestoreDecodesOnce) {
  const std::vector<uint8_t> bytes = ReadAll(path_);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(Decodes([&] {
              auto r = RangeRestore::Open(*dst_, bytes, {});
              ASSERT_TRUE(r.ok()) << r.status();
              for (size_t k = 0; k < (*r)->frames().size(); ++k) {
                EXPECT_TRUE((*r)->RestoreFrame(k).ok());
              }
              EXPECT_TRUE((*r)->Finish().ok());
            }),
            1);
}

INSTANTIATE_TEST_SUITE_P(Styles, HeaderOnceTest,
                         ::testing::Combine(::testing::Values(Style::kV2,
                                                              Style::kV3),
                                            ::testing::Bool()));

}  // namespace
}  // namespace wk::wksp_checkpt
