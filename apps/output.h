// Output formats of wksp_ctl's reporting commands: text for people and
// single-line JSON objects for programs (see docs/wksp_ctl.md). Pure
// functions from values to strings, so the formats are tested without a
// workspace.
//
// JSON (built with nlohmann::json, so strings are valid UTF-8: bytes that
// are not are replaced by U+FFFD): every object starts with
// "schema_version" (kJsonSchemaVersion). Every 64-bit quantity (sizes,
// gaddrs, tags, ids, wallclock) is a JSON string of its decimal digits, so
// that readers whose numbers are doubles keep it exact; the magic is a hex
// string. 32-bit values and small counts (seed, verbose, style, mode,
// partition counts, which are below 2^32) are JSON numbers.
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

// Bumped when a field changes meaning or type (adding fields does not).
inline constexpr int kJsonSchemaVersion = 1;

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

// checkpt-query --json: every field the text shows at `verbose`.
std::string CheckptJson(std::string_view path, int verbose,
                        const wksp_checkpt::CheckptDescription& d);

// list: one entry per region found under the shared-memory directories.
struct ListEntry {
  std::string name;
  std::string page_size;  // "normal", "huge", "gigantic"
  std::string path;       // the region's file
  uint64_t file_sz = 0;
  bool is_wksp = false;  // false: `error` says what was found instead
  std::string error;
  uint64_t footprint = 0, part_max = 0, data_max = 0;
  std::optional<uint64_t> used_sz, used_cnt;  // none: not readable
  // The lock holder ("-" when free: "PID(COMM)", or "tid T of pid:[NS]" for
  // a holder in another pid namespace) and the restore mark ("-" when none:
  // "running by PID" or "killed by PID"), from Wksp::CurrentLockHolder and
  // CurrentRestoreMark.
  std::string lock = "-";
  std::string mark = "-";
  std::vector<std::string> attached;  // "PID(COMM)" of each process mapping it
};
std::string ListText(const std::vector<ListEntry>& entries);
// checkpt-verify path: what was verified and how fast.
std::string VerifyJson(std::string_view path,
                       const wksp_checkpt::VerifyReport& r, double seconds);

std::string ListJson(const std::vector<ListEntry>& entries);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_OUTPUT_H_
