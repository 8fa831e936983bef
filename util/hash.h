// Hash functions with fixed, documented outputs (they feed file formats).
#ifndef WKSPKIT_UTIL_HASH_H_
#define WKSPKIT_UTIL_HASH_H_

#include <cstdint>

namespace wk {

// The 64-bit MurmurHash3 finalizer (fmix64). A bijection on uint64_t; the
// checkpoint format's cgroup assignment (CHECKPOINT_FORMAT.md §4.7) uses it,
// so its output must never change.
constexpr uint64_t HashU64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace wk

#endif  // WKSPKIT_UTIL_HASH_H_
