// The contract between tools/bench.sh and every benchmark binary (see
// docs/PERFORMANCE.md): the script sets BENCH_QUICK=1 for `--quick` runs and
// a benchmark may then shrink its working set so the whole quick run fits in
// a minute on two cores. A size can also be forced per benchmark through its
// own environment variable (e.g. WKSP_BENCH_BYTES), which wins over both.
// Header only; reads the environment on every call (cheap, and tests can
// change it between calls).
#ifndef WKSPKIT_BENCH_BENCH_ENV_H_
#define WKSPKIT_BENCH_BENCH_ENV_H_

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace wk::bench {

// True when BENCH_QUICK is set to anything but "" or "0".
inline bool QuickMode() {
  const char* v = std::getenv("BENCH_QUICK");
  return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

// The working-set size to use: the decimal value of environment variable
// `var` when it is set to a positive number (an optional K, M or G suffix
// multiplies by 2^10, 2^20, 2^30), else `quick` in quick mode, else `full`.
// A malformed or zero value is ignored rather than trusted.
inline uint64_t SizeFromEnv(const char* var, uint64_t full, uint64_t quick) {
  const char* v = var != nullptr ? std::getenv(var) : nullptr;
  if (v != nullptr && *v >= '0' && *v <= '9') {  // no sign, no blanks
    errno = 0;
    char* end = nullptr;
    unsigned long long n = std::strtoull(v, &end, 10);
    const char unit = static_cast<char>(*end | 0x20);  // lower case
    const int shift = unit == 'k'   ? 10
                      : unit == 'm' ? 20
                      : unit == 'g' ? 30
                                    : 0;
    if (shift != 0) ++end;
    if (errno == 0 && *end == '\0' && n > 0 && n <= (~0ull >> shift)) {
      return static_cast<uint64_t>(n) << shift;
    }
  }
  return QuickMode() ? quick : full;
}

}  // namespace wk::bench

#endif  // WKSPKIT_BENCH_BENCH_ENV_H_
