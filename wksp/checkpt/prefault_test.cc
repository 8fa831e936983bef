// Prefault (internal.h): on a 4 KiB-page named workspace it maps the pages
// of a range before a copy, unless its first and last pages are mapped.
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "io/populate.h"
#include "wksp/checkpt/internal.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {
namespace {

class PrefaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = std::string(tmp ? tmp : "/tmp") + "/prefault_shm";
    ::mkdir(root_.c_str(), 0700);
    wksp::SetShmemRoot(root_);
    auto w = wksp::Wksp::Create("prefault", 64, 16 << 20);
    ASSERT_TRUE(w.ok()) << w.status();
    w_ = std::make_unique<wksp::Wksp>(std::move(*w));
    ASSERT_EQ(w_->page_size(), wksp::PageSize::kNormal);
  }
  void TearDown() override {
    w_.reset();
    (void)wksp::Wksp::Delete("prefault");
  }
  // A fresh allocation of `sz` bytes, never touched by this process.
  wksp::PartitionInfo Fresh(uint64_t sz) {
    auto p = w_->AllocAtLeast(4096, sz, 1);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : wksp::PartitionInfo{};
  }
  std::string root_;
  std::unique_ptr<wksp::Wksp> w_;
};

TEST_F(PrefaultTest, MapsALargeRangeBeforeItIsWritten) {
  const wksp::PartitionInfo p = Fresh(1 << 20);
  const uint8_t* mid = w_->laddr(p.lo + (p.hi - p.lo) / 2);
  ASSERT_FALSE(io::PagePresent(mid)) << "the range was mapped already";
  ASSERT_TRUE(Prefault(*w_, p.lo, p.hi, io::PopulateFor::kWrite).ok());
  EXPECT_TRUE(io::PagePresent(w_->laddr(p.lo)));
  EXPECT_TRUE(io::PagePresent(mid));
  EXPECT_TRUE(io::PagePresent(w_->laddr(p.hi - 1)));
}

TEST_F(PrefaultTest, SkipsARangeMappedAtBothEnds) {
  const wksp::PartitionInfo p = Fresh(1 << 20);
  uint8_t* lo = w_->laddr(p.lo);
  uint8_t* last = w_->laddr(p.hi - 1);
  *lo = 1;
  *last = 1;
  const uint8_t* mid = w_->laddr(p.lo + (p.hi - p.lo) / 2);
  ASSERT_FALSE(io::PagePresent(mid));
  ASSERT_TRUE(Prefault(*w_, p.lo, p.hi, io::PopulateFor::kWrite).ok());
  EXPECT_FALSE(io::PagePresent(mid)) << "populated a range mapped at both ends";
}

TEST_F(PrefaultTest, EmptyRangeIsANoOp) {
  EXPECT_TRUE(Prefault(*w_, 4096, 4096, io::PopulateFor::kRead).ok());
}

}  // namespace
}  // namespace wk::wksp_checkpt::internal
