// Text to unsigned integers: the one parser every package uses for numbers
// (decimal, 0x-prefixed hex, digits in a given base) and for byte counts
// with binary suffixes. Each function reads exactly `text`, detects
// overflow, and accepts no sign, space or empty string: nullopt otherwise.
// Callers turn nullopt into an error that names their argument.
#ifndef WKSPKIT_UTIL_PARSE_H_
#define WKSPKIT_UTIL_PARSE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace wk {

// Digits in `base` (8, 10 or 16; hex digits in either case), below 2^64.
std::optional<uint64_t> ParseUintBase(std::string_view text, unsigned base);

// Decimal, or hex after a "0x" / "0X" prefix, below 2^64.
std::optional<uint64_t> ParseUint(std::string_view text);

// The shift of a binary size suffix: K 10, M 20, G 30, T 40 (either case);
// -1 for any other character.
int ByteSuffixShift(char c);

// Decimal digits with an optional size suffix (powers of 1024), e.g. 4096,
// 64K, 2m, 1G; the product must be below 2^64.
std::optional<uint64_t> ParseByteCount(std::string_view text);

}  // namespace wk

#endif  // WKSPKIT_UTIL_PARSE_H_
