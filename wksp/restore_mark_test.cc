// A restore killed after it marked the workspace and wrote some slot
// records: every later user is told (check, verify, join, alloc, usage,
// query, checkpt), the lock's recovery empties the workspace instead of
// rebuilding the half-written records, and reset or a new restore clears the
// mark. The restore is the real one (wksp/checkpt) in a child process, killed
// by the allocator's critical-section hook at its Nth placed slot.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/clock.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/internal/lock.h"
#include "wksp/test_util.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp {
namespace {

using ::testing::HasSubstr;

constexpr int kAllocs = 40;
constexpr int kKillAtSlot = 10;

std::atomic<int> g_placed{0};
void KillAtNthSlot(const char* where) {
  if (strcmp(where, internal::kRestoreSlotPlacedPoint) == 0 &&
      g_placed.fetch_add(1) + 1 == kKillAtSlot) {
    raise(SIGKILL);
  }
}

// Fills allocation i with a pattern of its own.
void Fill(Wksp& w, uint64_t g, uint64_t sz, int i) {
  memset(w.laddr(g), 0x40 + i, sz);
}

class RestoreMarkTest : public ::testing::TestWithParam<wksp_checkpt::Style> {
 protected:
  void SetUp() override { testing::UseTestShmemRoot(); }
};

TEST_P(RestoreMarkTest, KilledRestoreIsReportedAndRecoveredToEmpty) {
  const std::string src_name = testing::UniqueName("mark-src");
  const std::string dst_name = testing::UniqueName("mark-dst");
  auto src = Wksp::Create(src_name, 128, 1 << 20);
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<std::pair<uint64_t, uint64_t>> allocs;
  for (int i = 0; i < kAllocs; ++i) {
    uint64_t sz = 100 + 37 * i;
    auto g = src->Alloc(64, sz, 1 + i % 3);
    ASSERT_TRUE(g.ok());
    Fill(*src, *g, sz, i);
    allocs.emplace_back(*g, sz);
  }
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/" + src_name + ".ckpt";
  wksp_checkpt::CheckptOptions co;
  co.style = GetParam();
  ASSERT_TRUE(wksp_checkpt::Checkpt(*src, path, co).ok());

  auto dst = Wksp::Create(dst_name, 128, 1 << 20);
  ASSERT_TRUE(dst.ok()) << dst.status();
  ASSERT_TRUE(dst->Alloc(0, 5000, 9).ok());  // old contents to be replaced

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    internal::SetCriticalSectionHook(&KillAtNthSlot);
    absl::Status st = wksp_checkpt::Restore(*dst, path, {});
    _exit(st.ok() ? 0 : 1);  // reached only if the hook did not fire
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  // Some records were written: a rebuild would make allocations of them.
  int tagged = 0;
  for (uint64_t i = 0; i < dst->part_max(); ++i) {
    tagged += testing::Slots(*dst)[i].tag != 0;
  }
  EXPECT_GE(tagged, kKillAtSlot);

  const std::string pid_text = "pid " + std::to_string(pid);
  // Seen from a fresh join, before anyone took the lock over.
  {
    auto j = Wksp::Join(dst_name);
    ASSERT_TRUE(j.ok()) << j.status();
    auto mark = j->CurrentRestoreMark();
    ASSERT_TRUE(mark.has_value());
    EXPECT_EQ(mark->pid, static_cast<uint32_t>(pid));
    EXPECT_TRUE(mark->same_pid_ns);
    EXPECT_FALSE(mark->in_progress);  // its restorer is dead
    EXPECT_NE(mark->since_unix_s, 0);
    EXPECT_THAT(DescribeRestoreMark(*mark), HasSubstr("did not finish"));
    // Check takes the dead restorer's lock over: reported, not OK.
    absl::Status c = j->Check();
    EXPECT_EQ(c.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(c.message(), HasSubstr(pid_text));
    EXPECT_THAT(c.message(), HasSubstr("restore the checkpoint again"));
    EXPECT_THAT(c.message(), HasSubstr("reset"));
  }
  // Recovery emptied it: no record survives, metadata is one free partition.
  for (uint64_t i = 0; i < dst->part_max(); ++i) {
    EXPECT_EQ(testing::Slots(*dst)[i].tag, 0u) << "slot " << i;
  }
  EXPECT_EQ(internal::LockOwner(&testing::Hdr(*dst)->lock), 0u);
  // And everything keeps saying so.
  const uint64_t tags[] = {1};
  for (absl::Status s : std::vector<absl::Status>{
           dst->Check(), dst->Verify(), dst->Alloc(0, 10, 1).status(),
           dst->GetUsage().status(), dst->TagQuery(tags).status(),
           dst->Free(dst->gaddr_lo())}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(s.message(), HasSubstr(pid_text)) << s;
  }
  {
    auto g = dst->Lock();  // admin lock works (restore and reset need it)
    ASSERT_TRUE(g.ok());
    EXPECT_FALSE(g->recovered());  // recovered once, by Check above
    EXPECT_EQ(UsedPartitionsLocked(*dst).status().code(),
              absl::StatusCode::kDataLoss);
  }
  // A checkpoint of it is refused rather than silently empty.
  absl::Status ck = wksp_checkpt::Checkpt(*dst, path + ".2", co);
  EXPECT_FALSE(ck.ok());
  EXPECT_THAT(ck.message(), HasSubstr(pid_text));

  // A new restore succeeds and clears the mark; the data is the source's.
  ASSERT_TRUE(wksp_checkpt::Restore(*dst, path, {}).ok());
  EXPECT_FALSE(dst->CurrentRestoreMark().has_value());
  EXPECT_TRUE(dst->Check().ok());
  EXPECT_TRUE(dst->Verify().ok());
  EXPECT_EQ(dst->GetUsage()->used_cnt, static_cast<uint64_t>(kAllocs));
  for (int i = 0; i < kAllocs; ++i) {
    auto [g, sz] = allocs[i];
    EXPECT_EQ(memcmp(dst->laddr(g), src->laddr(g), sz), 0) << i;
  }
  // Reset clears a mark too.
  testing::Hdr(*dst)->restore =
      internal::PackIdentity(internal::SelfPidNs(), 1);
  EXPECT_EQ(dst->Check().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(dst->Reset(0).ok());
  EXPECT_FALSE(dst->CurrentRestoreMark().has_value());
  EXPECT_TRUE(dst->Check().ok());
  EXPECT_EQ(dst->GetUsage()->used_cnt, 0u);

  EXPECT_TRUE(Wksp::Delete(src_name).ok());
  EXPECT_TRUE(Wksp::Delete(dst_name).ok());
  unlink(path.c_str());
  unlink((path + ".2").c_str());
}

INSTANTIATE_TEST_SUITE_P(Styles, RestoreMarkTest,
                         ::testing::Values(wksp_checkpt::Style::kV1,
                                           wksp_checkpt::Style::kV2,
                                           wksp_checkpt::Style::kV3));

}  // namespace
}  // namespace wk::wksp
