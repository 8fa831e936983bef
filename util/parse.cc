#include "util/parse.h"

#include "util/bits.h"

namespace wk {

std::optional<uint64_t> ParseUintBase(std::string_view text, unsigned base) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (!MulChecked(v, base, &v) || !AddChecked(v, d, &v)) return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return ParseUintBase(text.substr(2), 16);
  }
  return ParseUintBase(text, 10);
}

int ByteSuffixShift(char c) {
  switch (c) {
    case 'k':
    case 'K':
      return 10;
    case 'm':
    case 'M':
      return 20;
    case 'g':
    case 'G':
      return 30;
    case 't':
    case 'T':
      return 40;
    default:
      return -1;
  }
}

std::optional<uint64_t> ParseByteCount(std::string_view text) {
  int shift = text.empty() ? -1 : ByteSuffixShift(text.back());
  if (shift >= 0) {
    text.remove_suffix(1);
  } else {
    shift = 0;
  }
  std::optional<uint64_t> v = ParseUintBase(text, 10);
  if (!v || *v > (UINT64_MAX >> shift)) return std::nullopt;
  return *v << shift;
}

}  // namespace wk
