#include "apps/page_hint.h"

#include <string>

#include "gtest/gtest.h"

namespace wk::apps {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(PageHintTest, SaysHowMuchAndWhatToDoWhenFirstTouchesDominate) {
  // 1 GiB is 262,144 pages; at 5 us each that is 1.31 s of a 2 s restore.
  const std::string h =
      FirstTouchHint(wksp::PageSize::kNormal, kGiB, 2.0, 5e-6);
  EXPECT_NE(h.find("4 KiB pages"), std::string::npos) << h;
  EXPECT_NE(h.find("5.0 us"), std::string::npos) << h;
  EXPECT_NE(h.find("about 66%"), std::string::npos) << h;
  EXPECT_NE(h.find("huge"), std::string::npos) << h;
}

TEST(PageHintTest, CapsTheShareAtTheWholeTime) {
  const std::string h =
      FirstTouchHint(wksp::PageSize::kNormal, 4 * kGiB, 1.0, 5e-6);
  EXPECT_NE(h.find("about 100%"), std::string::npos) << h;
}

TEST(PageHintTest, SilentWhenFirstTouchesAreCheapOrPagesAreHuge) {
  // 262,144 x 0.3 us = 79 ms of 1 s: under a quarter.
  EXPECT_EQ(FirstTouchHint(wksp::PageSize::kNormal, kGiB, 1.0, 0.3e-6), "");
  EXPECT_EQ(FirstTouchHint(wksp::PageSize::kHuge, kGiB, 2.0, 5e-6), "");
  EXPECT_EQ(FirstTouchHint(wksp::PageSize::kGigantic, kGiB, 2.0, 5e-6), "");
  EXPECT_EQ(FirstTouchHint(wksp::PageSize::kNormal, kGiB, 0.0, 5e-6), "");
  EXPECT_EQ(FirstTouchHint(wksp::PageSize::kNormal, kGiB, 2.0, 0.0), "");
}

TEST(PageHintTest, MeasuresAFiniteNonNegativeCost) {
  const double per_page = FirstTouchSecondsPerPage(64);
  EXPECT_GE(per_page, 0.0);
  // Even this VM's slowest first touches are microseconds, not a second.
  EXPECT_LT(per_page, 0.01);
  EXPECT_EQ(FirstTouchSecondsPerPage(0), 0.0);
}

}  // namespace
}  // namespace wk::apps
