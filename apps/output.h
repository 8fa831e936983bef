// Output formats of wksp_ctl's reporting commands: text for people and
// single-line JSON objects for programs (see docs/wksp_ctl.md). Pure
// functions from values to strings, so the formats are tested without a
// workspace.
#ifndef WKSPKIT_APPS_OUTPUT_H_
#define WKSPKIT_APPS_OUTPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp_types.h"

namespace wk::apps {

// `text` as a JSON string literal (quotes included); control characters and
// bytes >= 0x80 are escaped as \u00XX so the output is always ASCII.
std::string JsonString(std::string_view text);

// usage wksp tag
std::string UsageText(std::string_view name, uint64_t tag,
                      const wksp::Usage& u);
std::string UsageJson(std::string_view name, uint64_t tag,
                      const wksp::Usage& u);

// query wksp: the workspace geometry, its usage and every partition.
struct WkspSummary {
  std::string name;
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0, gaddr_lo = 0, gaddr_hi = 0;
  uint64_t footprint = 0;
  std::string page_size;
  wksp::Usage usage;
  // Every partition in address order, free ones with tag 0; together they
  // tile [gaddr_lo, gaddr_hi).
  std::vector<wksp::PartitionInfo> partitions;
};
std::string QueryText(const WkspSummary& s);
std::string QueryJson(const WkspSummary& s);

// Allocations plus the free gaps between them (tag 0) in [lo, hi).
std::vector<wksp::PartitionInfo> WithFreeGaps(
    const std::vector<wksp::PartitionInfo>& used, uint64_t lo, uint64_t hi);

// checkpt-query --json: the preview; with `allocs`, also alloc_cnt and
// alloc_bytes, and with `list_allocs` every allocation.
std::string CheckptJson(std::string_view path, int verbose,
                        const wksp_checkpt::Preview& p,
                        const std::vector<wksp::PartitionInfo>* allocs,
                        bool list_allocs);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_OUTPUT_H_
