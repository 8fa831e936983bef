// Argument parsers (see parse.h).
#include "apps/parse.h"

#include <cctype>
#include <string>

#include "absl/strings/str_format.h"
#include "util/parse.h"
#include "util/status.h"
#include "wksp/name.h"

namespace wk::apps {
namespace {

absl::Status Bad(std::string_view what, std::string_view text,
                 std::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrFormat("bad %s \"%s\": %s", what, text, rule));
}

constexpr char kNumberRule[] =
    "expected a number below 2^64: decimal, 0x-prefixed hex or 0-prefixed "
    "octal";

}  // namespace

std::optional<uint64_t> ParseCNumber(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return ParseUintBase(text.substr(2), 16);
  }
  if (text.size() > 1 && text[0] == '0') {
    return ParseUintBase(text.substr(1), 8);
  }
  return ParseUintBase(text, 10);
}

absl::StatusOr<uint64_t> ParseU64(std::string_view text,
                                  std::string_view what) {
  std::optional<uint64_t> v = ParseCNumber(text);
  if (!v) [[unlikely]] {
    return Bad(what, text, kNumberRule);
  }
  return *v;
}

absl::StatusOr<uint64_t> ParseRange(std::string_view text,
                                    std::string_view what, uint64_t lo,
                                    uint64_t hi) {
  std::optional<uint64_t> v = ParseCNumber(text);
  if (!v || *v < lo || *v > hi) [[unlikely]] {
    return Bad(what, text,
               absl::StrFormat("expected a number in [%u, %u]", lo, hi));
  }
  return *v;
}

bool HasSizeSuffix(std::string_view text) {
  return !text.empty() && ByteSuffixShift(text.back()) >= 0;
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text,
                                   std::string_view what) {
  int shift = HasSizeSuffix(text) ? ByteSuffixShift(text.back()) : 0;
  std::optional<uint64_t> v =
      ParseCNumber(shift ? text.substr(0, text.size() - 1) : text);
  if (!v || (shift && *v > (UINT64_MAX >> shift))) [[unlikely]] {
    return Bad(what, text,
               "expected a whole number (decimal, 0x hex or 0 octal) with an "
               "optional K, M, G or T suffix (powers of 1024), below 2^64");
  }
  return *v << shift;
}

absl::StatusOr<mode_t> ParseMode(std::string_view text) {
  std::optional<uint64_t> v = ParseUintBase(text, 8);
  if (!v || *v > 0777) [[unlikely]] {
    return Bad("mode", text, "expected octal permission bits, at most 777");
  }
  return static_cast<mode_t>(*v);
}

absl::StatusOr<std::optional<uint32_t>> ParseSeed(std::string_view text) {
  if (text == "-") return std::optional<uint32_t>();
  std::optional<uint64_t> v = ParseCNumber(text);
  if (!v || *v > UINT32_MAX) [[unlikely]] {
    return Bad("seed", text, "expected '-' or a number below 2^32");
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(*v));
}

absl::StatusOr<wksp::PageSize> ParsePageSizeArg(std::string_view text) {
  std::string t;
  for (char c : text)
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // The names wksp_ctl prints, or the page sizes themselves.
  constexpr const char* kSizes[] = {"4k", "2m", "1g"};
  for (size_t i = 0; i < std::size(wksp::kPageSizes); ++i) {
    wksp::PageSize ps = wksp::kPageSizes[i];
    if (t == wksp::PageSizeName(ps) || t == kSizes[i]) return ps;
    // Firedancer's form: the page size in bytes.
    if (ParseCNumber(t) == static_cast<uint64_t>(ps)) return ps;
  }
  return Bad("page_sz", text,
             "expected normal, huge or gigantic (or 4K, 2M, 1G, or the size "
             "in bytes: 4096, 2097152, 1073741824)");
}

absl::StatusOr<GaddrRef> ParseGaddr(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad workspace address \"%s\": expected name:gaddr", text));
  }
  std::string_view name = text.substr(0, colon);
  WK_RETURN_IF_ERROR(wksp::ValidateName(name));
  std::optional<uint64_t> gaddr = ParseCNumber(text.substr(colon + 1));
  if (!gaddr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad workspace address \"%s\": the gaddr after ':' must be a number "
        "below 2^64 (decimal, 0x hex or 0 octal)",
        text));
  }
  return GaddrRef{std::string(name), *gaddr};
}

std::string FormatGaddr(std::string_view name, uint64_t gaddr) {
  return absl::StrFormat("%s:%u", name, gaddr);
}

absl::StatusOr<std::vector<int>> ParseCpuSeq(std::string_view text) {
  constexpr uint64_t kMax = 65535;
  std::vector<int> cpus;
  std::string_view rest = text;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    // Firedancer's stride form: lo-hi/stride.
    size_t slash = item.find('/');
    std::optional<uint64_t> stride = uint64_t{1};
    if (slash != std::string_view::npos) {
      stride = ParseUintBase(item.substr(slash + 1), 10);
      item = item.substr(0, slash);
    }
    size_t dash = item.find('-');
    std::optional<uint64_t> a = ParseUintBase(item.substr(0, dash), 10);
    std::optional<uint64_t> b = dash == std::string_view::npos
                                    ? a
                                    : ParseUintBase(item.substr(dash + 1), 10);
    if (!a || !b || !stride || *stride == 0 || *a > *b || *b > kMax ||
        (slash != std::string_view::npos && dash == std::string_view::npos))
        [[unlikely]] {
      return Bad("cpu_idx_seq", text,
                 "expected comma-separated CPU indices or ascending ranges "
                 "below 65536, optionally with a stride, e.g. 0, 0-3,8 or "
                 "0-6/2");
    }
    for (uint64_t c = *a; c <= *b; c += *stride) {
      cpus.push_back(static_cast<int>(c));
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return cpus;
}

absl::StatusOr<std::vector<int>> ParseCpuSeqOn(std::string_view text,
                                               int cpu_cnt,
                                               std::vector<int>* missing) {
  WK_ASSIGN_OR_RETURN(std::vector<int> cpus, ParseCpuSeq(text));
  if (cpus.front() >= cpu_cnt) [[unlikely]] {
    return Bad("cpu_idx_seq", text,
               absl::StrFormat("CPU %d does not exist; this machine has "
                               "CPUs 0-%d",
                               cpus.front(), cpu_cnt - 1));
  }
  if (missing) {
    missing->clear();
    for (int c : cpus) {
      if (c >= cpu_cnt) missing->push_back(c);
    }
  }
  return cpus;
}

absl::StatusOr<wksp_checkpt::Style> ParseStyle(std::string_view text) {
  WK_ASSIGN_OR_RETURN(uint64_t number, ParseRange(text, "style", 0, INT32_MAX));
  std::optional<wksp_checkpt::Style> style =
      wksp_checkpt::StyleFromNumber(number);
  if (!style) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "style %u is not supported by this build (see supported-styles)",
        number));
  }
  return *style;
}

absl::StatusOr<std::string> ParseUinfo(std::string_view text) {
  if (text.size() > wksp_checkpt::kUinfoMaxLen) {
    return absl::InvalidArgumentError(
        absl::StrFormat("info is %u bytes; a checkpoint stores at most %u",
                        text.size(), wksp_checkpt::kUinfoMaxLen));
  }
  return std::string(text);
}

}  // namespace wk::apps
