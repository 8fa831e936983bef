// Output formats of wksp_ctl's reporting commands: text for people and
// single-line JSON objects for programs (see docs/wksp_ctl.md and the
// schema, docs/wksp_ctl.schema.json). Pure functions from values to
// strings, so the formats are tested without a workspace.
//
// JSON (built with nlohmann::json, so strings are valid UTF-8: bytes that
// are not are replaced by U+FFFD): every object starts with
// "schema_version" (kJsonSchemaVersion). One fact has one key, one type and
// one meaning in every command's object: numbers are JSON numbers (64-bit
// values exactly, as digits; a reader whose numbers are doubles needs a
// 64-bit parser above 2^53), a style is the number the user writes (3 for
// v3), a fact that does not apply is null, never "-" or a missing key.
#ifndef WKSPKIT_APPS_OUTPUT_H_
#define WKSPKIT_APPS_OUTPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp_types.h"  // LockHolder, RestoreMark, Usage

namespace wk::apps {

// Bumped when a field changes meaning or type (adding fields does not).
inline constexpr int kJsonSchemaVersion = 2;

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

// A process, as /proc shows it: its pid and comm ("" when not readable).
struct ProcRef {
  uint32_t pid = 0;
  std::string cmd;
};
// "PID(COMM), ..." for messages.
std::string FormatProcs(const std::vector<ProcRef>& procs);

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
  // Wksp::CurrentLockHolder and CurrentRestoreMark.
  std::optional<wksp::LockHolder> lock;
  std::optional<wksp::RestoreMark> mark;
  std::vector<ProcRef> attached;  // each other process mapping it
};
std::string ListText(const std::vector<ListEntry>& entries);
// checkpt-verify path: what was verified and how fast.
std::string VerifyJson(std::string_view path,
                       const wksp_checkpt::VerifyReport& r, double seconds);

// alloc: the allocation made (`sz` and `align` as asked, `align` 0 = the
// default).
std::string AllocJson(std::string_view name, uint64_t gaddr, uint64_t sz,
                      uint64_t align, uint64_t tag);
// info: the lowest allocation with `tag`, if any.
std::string InfoJson(std::string_view name, uint64_t tag,
                     std::optional<wksp::PartitionInfo> part);
// tag-query: the tag of the allocation holding `gaddr` (0: none).
std::string TagQueryJson(std::string_view name, uint64_t gaddr, uint64_t tag);
// supported-styles.
std::string StylesJson(const std::vector<int>& styles);
// --version.
std::string VersionJson(std::string_view version);
// torrent-create (`seed_ep` empty) and seed / fetch --seed-after (the
// address it serves on); a seed's --companion torrents' hashes, if any, as
// "companions".
std::string TorrentJson(std::string_view info_hash, std::string_view seed_ep,
                        const std::vector<std::string>& companions = {});

std::string ListJson(const std::vector<ListEntry>& entries);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_OUTPUT_H_
