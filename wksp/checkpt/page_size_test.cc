// Workspaces on every page size this machine offers (4 KiB, 2 MiB huge,
// 1 GiB gigantic; named and anonymous): create, join from another process,
// and checkpoints made on one page size restored on another.
//
// Huge and gigantic pages need reserved pages and, for named workspaces, a
// hugetlbfs mount: .ci/run sets both up as root (tools/hugepages.sh) and puts
// them back. Where a page size is not available a test skips and says why.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {
namespace {

using wksp::PageSize;
using wksp::Wksp;

constexpr uint64_t kPartMax = 64;
constexpr uint64_t kDataMax = uint64_t{24}
                              << 20;  // fits 13 huge pages, 1 gigantic

// Normal pages go to a private root under TEST_TMPDIR, never /dev/shm.
std::string UseTestShmemRoot() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string root = absl::StrFormat("%s/shm", tmp != nullptr ? tmp : "/tmp");
  mkdir(root.c_str(), 0700);
  wksp::SetShmemRoot(root);
  return root;
}

std::string UniqueName(const char* prefix) {
  static std::atomic<int> counter{0};
  return absl::StrFormat("%s-%d-%d", prefix, static_cast<int>(getpid()),
                         counter.fetch_add(1));
}

uint64_t PageBytes(PageSize ps) { return static_cast<uint64_t>(ps); }

// Free reserved pages of this size (0 for normal pages: not applicable).
uint64_t FreeReserved(PageSize ps) {
  std::ifstream in(
      absl::StrFormat("/sys/kernel/mm/hugepages/hugepages-%ukB/free_hugepages",
                      static_cast<unsigned>(PageBytes(ps) >> 10)));
  uint64_t n = 0;
  in >> n;
  return n;
}

uint64_t PagesNeeded(PageSize ps) {
  uint64_t fp = *Wksp::Footprint(kPartMax, kDataMax);
  return (fp + PageBytes(ps) - 1) / PageBytes(ps);
}

// Empty when workspaces of this page size can be made here; else why not.
std::string WhyUnavailable(PageSize ps, bool named) {
  if (ps == PageSize::kNormal) return "";
  if (named) {
    auto dir = wksp::ShmemDir(ps);
    if (!dir.ok()) {
      return absl::StrFormat(
          "%s pages skipped: %s (.ci/run sets this up when run as root)",
          wksp::PageSizeName(ps), dir.status().message());
    }
    if (access(dir->c_str(), W_OK) != 0) {
      // Bazel's sandbox shows mounts read-only unless told otherwise.
      return absl::StrFormat(
          "%s pages skipped: %s is not writable here (%s); .ci/run passes "
          "--sandbox_writable_path for the mounts it uses",
          wksp::PageSizeName(ps), *dir, strerror(errno));
    }
  }
  uint64_t free = FreeReserved(ps), need = PagesNeeded(ps);
  if (free < need) {
    return absl::StrFormat(
        "%s pages skipped: %u free reserved pages, %u needed (.ci/run "
        "reserves them when run as root: tools/hugepages.sh)",
        wksp::PageSizeName(ps), free, need);
  }
  return "";
}

// Fills a few allocations of varied sizes with a pattern derived from `salt`;
// returns their gaddrs.
std::vector<uint64_t> Fill(Wksp& w, uint64_t salt) {
  std::vector<uint64_t> gaddrs;
  const uint64_t sizes[] = {1, 4096, 100000, uint64_t{3} << 20, 777, 65536};
  for (uint64_t i = 0; i < std::size(sizes); i++) {
    auto g = w.Alloc(0, sizes[i], 100 + i);
    EXPECT_TRUE(g.ok()) << g.status();
    if (!g.ok()) break;
    uint8_t* p = w.laddr(*g);
    for (uint64_t j = 0; j < sizes[i]; j++) {
      p[j] = static_cast<uint8_t>((j * 131 + i * 7 + salt) >> 1);
    }
    gaddrs.push_back(*g);
  }
  return gaddrs;
}

// Empty when `w` holds what Fill(`salt`) wrote at `gaddrs`; else the first
// difference.
std::string Mismatch(Wksp& w, const std::vector<uint64_t>& gaddrs,
                     uint64_t salt) {
  const uint64_t sizes[] = {1, 4096, 100000, uint64_t{3} << 20, 777, 65536};
  auto usage = w.GetUsage();
  if (!usage.ok()) return std::string(usage.status().message());
  for (uint64_t i = 0; i < gaddrs.size(); i++) {
    auto tag = w.Tag(gaddrs[i]);
    if (!tag.ok() || *tag != 100 + i) {
      return absl::StrFormat("allocation %u: tag wrong or missing", i);
    }
    const uint8_t* p = w.laddr(gaddrs[i]);
    for (uint64_t j = 0; j < sizes[i]; j++) {
      if (p[j] != static_cast<uint8_t>((j * 131 + i * 7 + salt) >> 1)) {
        return absl::StrFormat("allocation %u: byte %u differs", i, j);
      }
    }
  }
  return "";
}

class PageSizeTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = UseTestShmemRoot(); }
  void TearDown() override {
    for (const std::string& n : names_) (void)Wksp::Delete(n);
    for (const std::string& f : files_) unlink(f.c_str());
  }
  std::string NewName(const char* prefix) {
    names_.push_back(UniqueName(prefix));
    return names_.back();
  }
  std::string NewFile(const char* suffix) {
    files_.push_back(absl::StrFormat("%s/%s.%d", root_, suffix,
                                     static_cast<int>(files_.size())));
    return files_.back();
  }

  std::string root_;
  std::vector<std::string> names_;
  std::vector<std::string> files_;
};

// A forked child joins `name` afresh, checks the data, and allocates one more
// block tagged 999 holding "child"; returns its exit status (0 = all good).
int JoinFromChild(const std::string& name, const std::vector<uint64_t>& gaddrs,
                  uint64_t salt) {
  pid_t pid = fork();
  if (pid == 0) {
    auto w = Wksp::Join(name);
    if (!w.ok()) _exit(10);
    if (!Mismatch(*w, gaddrs, salt).empty()) _exit(11);
    auto g = w->Alloc(0, 6, 999);
    if (!g.ok()) _exit(12);
    memcpy(w->laddr(*g), "child", 6);
    _exit(0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ExpectChildBlock(Wksp& w) {
  const uint64_t tag = 999;
  auto parts = w.TagQuery({&tag, 1});
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_STREQ(reinterpret_cast<const char*>(w.laddr((*parts)[0].lo)), "child");
}

class NamedOnPageSize : public PageSizeTest,
                        public ::testing::WithParamInterface<PageSize> {};

TEST_P(NamedOnPageSize, CreateJoinFromAnotherProcess) {
  PageSize ps = GetParam();
  if (std::string why = WhyUnavailable(ps, /*named=*/true); !why.empty()) {
    GTEST_SKIP() << why;
  }
  std::string name = NewName("pgnamed");
  auto w = Wksp::Create(name, kPartMax, kDataMax, {.page_size = ps});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->page_size(), ps);
  std::vector<uint64_t> gaddrs = Fill(*w, 5);
  ASSERT_EQ(JoinFromChild(name, gaddrs, 5), 0);
  ExpectChildBlock(*w);
  EXPECT_TRUE(w->Verify().ok());

  // A fresh join in this process finds it under the same page size.
  auto j = Wksp::Join(name);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->page_size(), ps);
  EXPECT_EQ(Mismatch(*j, gaddrs, 5), "");
}

TEST_P(NamedOnPageSize, AnonymousIsSharedWithForkedChild) {
  PageSize ps = GetParam();
  if (std::string why = WhyUnavailable(ps, /*named=*/false); !why.empty()) {
    GTEST_SKIP() << why;
  }
  auto w =
      Wksp::CreateAnonymous("pganon", kPartMax, kDataMax, {.page_size = ps});
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<uint64_t> gaddrs = Fill(*w, 9);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!Mismatch(*w, gaddrs, 9).empty()) _exit(11);
    auto g = w->Alloc(0, 6, 999);
    if (!g.ok()) _exit(12);
    memcpy(w->laddr(*g), "child", 6);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ExpectChildBlock(*w);
}

INSTANTIATE_TEST_SUITE_P(All, NamedOnPageSize,
                         ::testing::Values(PageSize::kNormal, PageSize::kHuge,
                                           PageSize::kGigantic),
                         [](const auto& info) {
                           return std::string(wksp::PageSizeName(info.param));
                         });

// One workspace's contents travel 4 KiB -> 2 MiB -> 1 GiB -> 4 KiB, through
// a different style at each hop; hops whose page size is missing are skipped
// (and said so), the rest still run.
TEST_F(PageSizeTest, CheckpointOnOnePageSizeRestoreOnAnother) {
  const PageSize chain[] = {PageSize::kNormal, PageSize::kHuge,
                            PageSize::kGigantic, PageSize::kNormal};
  const Style styles[] = {Style::kV2, Style::kV3, Style::kV1};
  std::string src_name = NewName("pgsrc");
  auto src = Wksp::Create(src_name, kPartMax, kDataMax, {.seed = 3});
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<uint64_t> gaddrs = Fill(*src, 1);

  Wksp* from = &*src;
  std::vector<Wksp> hops;
  hops.reserve(std::size(chain));
  std::string skipped;
  for (size_t i = 1; i < std::size(chain); i++) {
    if (std::string why = WhyUnavailable(chain[i], true); !why.empty()) {
      skipped += why + "\n";
      continue;
    }
    Style style = styles[(i - 1) % std::size(styles)];
    std::string file = NewFile("hop");
    CheckptOptions copt;
    copt.style = style;
    copt.threads = 2;
    ASSERT_TRUE(Checkpt(*from, file, copt).ok());
    auto to = Wksp::Create(NewName("pghop"), kPartMax, kDataMax,
                           {.page_size = chain[i], .seed = 8});
    ASSERT_TRUE(to.ok()) << to.status();
    RestoreOptions ropt;
    ropt.threads = 2;
    absl::Status r = Restore(*to, file, ropt);
    ASSERT_TRUE(r.ok()) << "hop " << i << ": " << r;
    EXPECT_EQ(Mismatch(*to, gaddrs, 1), "")
        << "hop " << i << " onto " << wksp::PageSizeName(chain[i])
        << " pages, style " << StyleNumber(style);
    EXPECT_TRUE(to->Verify().ok());
    hops.push_back(std::move(*to));
    from = &hops.back();
  }
  if (!skipped.empty()) {
    // The hops that could run did; report the rest without failing.
    std::printf("%s", skipped.c_str());
    RecordProperty("skipped_hops", skipped);
  }
}

}  // namespace
}  // namespace wk::wksp_checkpt
