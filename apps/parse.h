// Argument parsing for wksp_ctl and alloc_stress: numbers, sizes with binary
// suffixes, octal modes, seeds, page sizes, workspace addresses and CPU index
// sequences. Every
// parser either returns a value or InvalidArgument naming the text and the
// rule it broke; none of them throws or reads past the string.
#ifndef WKSPKIT_APPS_PARSE_H_
#define WKSPKIT_APPS_PARSE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "wksp/shmem.h"

namespace wk::apps {

// Decimal or 0x-prefixed hex, below 2^64. `what` names the argument in
// errors ("align", "tag", ...).
absl::StatusOr<uint64_t> ParseU64(std::string_view text, std::string_view what);

// ParseU64 restricted to [lo, hi].
absl::StatusOr<uint64_t> ParseRange(std::string_view text,
                                    std::string_view what, uint64_t lo,
                                    uint64_t hi);

// An integer byte count with an optional binary suffix K, M, G or T (powers
// of 1024, upper or lower case), e.g. 4096, 64K, 4G. No fractions.
absl::StatusOr<uint64_t> ParseSize(std::string_view text,
                                   std::string_view what);

// True if `text` ends in a size suffix (so `new` reads it as bytes, not pages).
bool HasSizeSuffix(std::string_view text);

// Octal permission bits, at most 0777 (e.g. 600, 0644).
absl::StatusOr<mode_t> ParseMode(std::string_view text);

// "-" means "no seed given" (nullopt); otherwise a number below 2^32.
absl::StatusOr<std::optional<uint32_t>> ParseSeed(std::string_view text);

// normal|huge|gigantic, or the page sizes themselves: 4K|2M|1G.
absl::StatusOr<wksp::PageSize> ParsePageSizeArg(std::string_view text);

// "name:gaddr" text addresses: a valid workspace name, ':', and a decimal or
// 0x-prefixed hex gaddr below 2^64.
struct GaddrRef {
  std::string name;
  uint64_t gaddr = 0;
};
absl::StatusOr<GaddrRef> ParseGaddr(std::string_view text);
std::string FormatGaddr(std::string_view name, uint64_t gaddr);

// A CPU index sequence such as "0", "0-3" or "0-3,8,10-11": non-empty,
// comma-separated indices or ascending ranges, each below 65536.
absl::StatusOr<std::vector<int>> ParseCpuSeq(std::string_view text);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_PARSE_H_
