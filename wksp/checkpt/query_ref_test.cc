// Our checkpt-query report (PrintCheckpt) against the 15 that Firedancer
// printed for the same reference files (firedancer_ref/README.md), field by
// field: every field Firedancer prints must be in ours with the same value.
// The reports differ in layout only, which the parser drops (column widths,
// field order, a long value on the label's line or below it).
//
// Left out, each for a stated reason:
//   - the path in the first line: where the file was when it was printed
//     (ours is under the test's runfiles);
//   - the time zone's name at the end of wallclock's text: local time, so
//     it depends on the machine's TZ (SameTextAsFiredancerAtVerbose0To2
//     fixes TZ and compares it too);
//   - "N errors detected": Firedancer counts problems and goes on; our query
//     fails on the first one instead, so a report it prints has none (and
//     Firedancer's says 0).
// Firedancer's v2 reports stop at verbose 2's fields whatever the level, and
// its v1 report at level 3 has no gaddr line: what ours adds at levels 3 and
// 4 is compared with the reference data (ref_v<S>.allocs.tsv and the
// workspace's README) instead.
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "testdata/checkpt_query.h"
#include "testdata/ref_workspace.h"
#include "wksp/checkpt/test_util.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/geometry.h"

namespace wk::wksp_checkpt {
namespace {

using testdata::QueryReport;

std::string OurReport(int style, int verbose) {
  std::string path =
      testdata::RefPath(absl::StrFormat("ref_v%d.checkpt", style));
  testutil::Printed p = testutil::PrintToText(path, verbose);
  EXPECT_TRUE(p.status.ok()) << p.status;
  return std::move(p.text);
}

// Without its last word (the time zone's name).
std::string WithoutLastWord(const std::string& s) {
  return s.substr(0, s.rfind(' '));
}

void ExpectAllocationsMatchRef(const QueryReport& ours,
                               const testdata::RefWorkspace& ref, int verbose) {
  uint64_t used = 0, largest = 0;
  for (const auto& a : ref.allocs) {
    used += a.hi - a.lo;
    largest = std::max(largest, a.hi - a.lo);
  }
  EXPECT_EQ(ours.used_bytes, used);
  EXPECT_EQ(ours.used_cnt, ref.allocs.size());
  EXPECT_EQ(ours.largest, largest);
  EXPECT_EQ(ours.free_bytes, ref.data_max - used);
  const wksp::Limits l = wksp::LimitsOf(ref.part_max, ref.data_max);
  EXPECT_EQ(ours.gaddr_lo, l.gaddr_lo);
  EXPECT_EQ(ours.gaddr_hi, l.gaddr_hi);
  if (verbose < 4) return;
  ASSERT_EQ(ours.partitions.size(), ref.allocs.size());
  for (size_t i = 0; i < ref.allocs.size(); ++i) {
    EXPECT_EQ(ours.partitions[i].lo, ref.allocs[i].lo) << i;
    EXPECT_EQ(ours.partitions[i].hi, ref.allocs[i].hi) << i;
    EXPECT_EQ(ours.partitions[i].tag, ref.allocs[i].tag) << i;
  }
}

TEST(QueryRef, SameFieldsAsFiredancer) {
  int compared = 0;
  for (int style = 1; style <= 3; ++style) {
    const testdata::RefWorkspace ref = testdata::LoadRef(style);
    for (int verbose = 0; verbose <= 4; ++verbose) {
      SCOPED_TRACE(absl::StrFormat("ref_v%d verbose %d", style, verbose));
      const QueryReport theirs =
          testdata::ParseQueryReport(testdata::RefQueryText(style, verbose));
      const QueryReport ours =
          testdata::ParseQueryReport(OurReport(style, verbose));
      EXPECT_EQ(ours.verbose, theirs.verbose);
      ASSERT_FALSE(theirs.fields.empty());
      for (const auto& [label, value] : theirs.fields) {
        SCOPED_TRACE(label);
        auto it = ours.fields.find(label);
        ASSERT_NE(it, ours.fields.end()) << "our report has no " << label;
        if (label == "wallclock") {
          EXPECT_EQ(WithoutLastWord(it->second), WithoutLastWord(value));
        } else {
          EXPECT_EQ(it->second, value);
        }
        ++compared;
      }
      if (theirs.gaddr_lo) {
        EXPECT_EQ(ours.gaddr_lo, theirs.gaddr_lo);
        EXPECT_EQ(ours.gaddr_hi, theirs.gaddr_hi);
      }
      if (theirs.errors) {
        EXPECT_EQ(*theirs.errors, 0u);
      }
      if (theirs.used_bytes) {
        EXPECT_EQ(ours.used_bytes, theirs.used_bytes);
        EXPECT_EQ(ours.used_cnt, theirs.used_cnt);
        EXPECT_EQ(ours.largest, theirs.largest);
        EXPECT_EQ(ours.free_bytes, theirs.free_bytes);
        EXPECT_EQ(ours.partitions.size(), theirs.partitions.size());
        for (size_t i = 0;
             i < theirs.partitions.size() && i < ours.partitions.size(); ++i) {
          EXPECT_EQ(ours.partitions[i].lo, theirs.partitions[i].lo) << i;
          EXPECT_EQ(ours.partitions[i].hi, theirs.partitions[i].hi) << i;
          EXPECT_EQ(ours.partitions[i].tag, theirs.partitions[i].tag) << i;
        }
      }
      if (verbose >= 3) ExpectAllocationsMatchRef(ours, ref, verbose);
    }
  }
  // 15 reports: 5 fields at verbose 0, all of the info from 1 on.
  EXPECT_GT(compared, 150);
}

// At verbose 0-2 our text is Firedancer's, byte for byte, except the path
// in the first line (the reference was printed in its own directory). Every
// other field comes from the file itself; the wallclock's text is in local
// time, as Firedancer writes it, so the test fixes TZ to the reference
// machine's (UTC, printed "GMT+00").
TEST(QueryRef, SameTextAsFiredancerAtVerbose0To2) {
  setenv("TZ", "UTC", 1);
  tzset();
  for (int style = 1; style <= 3; ++style) {
    for (int verbose = 0; verbose <= 2; ++verbose) {
      SCOPED_TRACE(absl::StrFormat("ref_v%d verbose %d", style, verbose));
      const std::string theirs = testdata::RefQueryText(style, verbose);
      const std::string ours = OurReport(style, verbose);
      const std::string first = absl::StrFormat(
          "checkpt ref_v%d.checkpt (verbose %d)\n", style, verbose);
      ASSERT_EQ(theirs.substr(0, first.size()), first);
      const size_t eol = ours.find('\n');
      ASSERT_NE(eol, std::string::npos);
      EXPECT_EQ(first + ours.substr(eol + 1), theirs);
    }
  }
}

// The parser reads both layouts of one field alike, so a difference the
// test above reports is in the values.
TEST(QueryRef, ParserIgnoresLayoutOnly) {
  const QueryReport a = testdata::ParseQueryReport(
      "checkpt x (verbose 2)\n\tseed                   1234         \n"
      "\tpath\n\t\t./f\n\tbinfo\n\t\tone\ntwo\n\n\tuinfo\n\t\tu\n");
  const QueryReport b = testdata::ParseQueryReport(
      "checkpt /y/z (verbose 2)\n\tpath ./f\n\tseed 1234\n\tbinfo\n\t\tone\n"
      "\t\ttwo\n\tuinfo\n\t\tu\n");
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.fields.at("binfo"), "one\ntwo");
  EXPECT_EQ(a.verbose, 2);
}

}  // namespace
}  // namespace wk::wksp_checkpt
