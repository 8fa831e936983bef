// Test support: reading a `checkpt-query` report back into fields, for
// comparing ours with the reports Firedancer printed for the same reference
// checkpoints (firedancer_ref/checkpt-query_v<S>_verbose<V>.txt). The two
// differ in layout (column widths, field order, where a value goes when it
// is long), not in what they say; the parser keeps only what they say.
#ifndef WKSPKIT_TESTDATA_CHECKPT_QUERY_H_
#define WKSPKIT_TESTDATA_CHECKPT_QUERY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "testdata/ref_workspace.h"

namespace wk::testdata {

struct QueryReport {
  int verbose = -1;  // from the first line, "checkpt <path> (verbose V)"
  // Every "label value" line, value with runs of white space made one space,
  // and every text block (a label alone on its line, the text on the lines
  // after it): its lines joined with '\n', without trailing empty lines.
  std::map<std::string, std::string> fields;
  std::optional<uint64_t> gaddr_lo, gaddr_hi;  // the "gaddr [lo, hi)" line
  std::vector<RefAlloc> partitions;            // "partition" lines, in order
  // "N bytes used (C <things>, largest L bytes)" and "F bytes free".
  std::optional<uint64_t> used_bytes, used_cnt, largest, free_bytes;
  std::optional<uint64_t> errors;  // "N errors detected" (Firedancer's)
};

// Parses a report; aborts the test binary on a line it cannot read.
QueryReport ParseQueryReport(const std::string& text);

// The text of firedancer_ref/checkpt-query_v<style>_verbose<verbose>.txt.
std::string RefQueryText(int style, int verbose);

}  // namespace wk::testdata

#endif  // WKSPKIT_TESTDATA_CHECKPT_QUERY_H_
