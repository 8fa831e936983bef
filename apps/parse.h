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
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"

namespace wk::apps {

// A number as C's strtoul(text, 0) and so Firedancer's fd_wksp_ctl reads
// it: decimal, 0x-prefixed hex, or 0-prefixed octal ("010" is 8); below
// 2^64, nothing else in `text` (no sign or space).
std::optional<uint64_t> ParseCNumber(std::string_view text);

// ParseCNumber, or InvalidArgument naming `what` ("align", "tag", ...).
absl::StatusOr<uint64_t> ParseU64(std::string_view text, std::string_view what);

// ParseU64 restricted to [lo, hi].
absl::StatusOr<uint64_t> ParseRange(std::string_view text,
                                    std::string_view what, uint64_t lo,
                                    uint64_t hi);

// A byte count: a ParseCNumber number with an optional binary suffix K, M,
// G or T (powers of 1024, upper or lower case), e.g. 4096, 0x1000, 64K, 4G.
// No fractions.
absl::StatusOr<uint64_t> ParseSize(std::string_view text,
                                   std::string_view what);

// True if `text` ends in a size suffix (so `new` reads it as bytes, not pages).
bool HasSizeSuffix(std::string_view text);

// Octal permission bits, at most 0777 (e.g. 600, 0644).
absl::StatusOr<mode_t> ParseMode(std::string_view text);

// A checkpoint style number as the commands take it (wksp_checkpt's
// StyleFromNumber), or InvalidArgument pointing at supported-styles.
absl::StatusOr<wksp_checkpt::Style> ParseStyle(std::string_view text);

// The info string a checkpoint stores: at most kUinfoMaxLen bytes.
absl::StatusOr<std::string> ParseUinfo(std::string_view text);

// "-" means "no seed given" (nullopt); otherwise a number below 2^32.
// (Numbers below: ParseCNumber forms.)
absl::StatusOr<std::optional<uint32_t>> ParseSeed(std::string_view text);

// normal|huge|gigantic, the page sizes 4K|2M|1G, or (as Firedancer takes
// them) the size in bytes: 4096|2097152|1073741824.
absl::StatusOr<wksp::PageSize> ParsePageSizeArg(std::string_view text);

// "name:gaddr" text addresses: a valid workspace name, ':', and a decimal or
// 0x-prefixed hex gaddr below 2^64.
struct GaddrRef {
  std::string name;
  uint64_t gaddr = 0;
};
absl::StatusOr<GaddrRef> ParseGaddr(std::string_view text);
std::string FormatGaddr(std::string_view name, uint64_t gaddr);

// A CPU index sequence such as "0", "0-3", "0-3,8,10-11" or "0-6/2" (every
// second CPU of 0..6, Firedancer's stride form): non-empty, comma-separated
// indices or ascending ranges with an optional stride, each below 65536.
absl::StatusOr<std::vector<int>> ParseCpuSeq(std::string_view text);

// ParseCpuSeq on a machine with `cpu_cnt` CPUs (online or not:
// get_nprocs_conf()). The first CPU, the one memory is placed near, must
// exist (else an error naming it and the machine's range); the indices of
// later ones that do not exist go to *missing (when given), for a warning:
// Firedancer's scripts name CPUs of bigger machines (0-6/2) and still run.
absl::StatusOr<std::vector<int>> ParseCpuSeqOn(std::string_view text,
                                               int cpu_cnt,
                                               std::vector<int>* missing);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_PARSE_H_
