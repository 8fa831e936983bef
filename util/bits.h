// Small integer helpers: powers of two, alignment, overflow-checked sums.
// All are constexpr and branch-light; callers validate their inputs.
#ifndef WKSPKIT_UTIL_BITS_H_
#define WKSPKIT_UTIL_BITS_H_

#include <cstdint>

namespace wk {

constexpr bool IsPow2(uint64_t x) { return x && !(x & (x - 1)); }

// `align` must be a power of two. AlignUp wraps when x is within align-1 of
// 2^64; use AlignUpChecked where that can happen.
constexpr uint64_t AlignDown(uint64_t x, uint64_t align) {
  return x & ~(align - 1);
}
constexpr uint64_t AlignUp(uint64_t x, uint64_t align) {
  return (x + align - 1) & ~(align - 1);
}
constexpr bool IsAligned(uint64_t x, uint64_t align) {
  return !(x & (align - 1));
}

// Sets *out = AlignUp(x, align) and returns true, or returns false (leaving
// *out alone) when that overflows.
constexpr bool AlignUpChecked(uint64_t x, uint64_t align, uint64_t* out) {
  uint64_t t;
  if (__builtin_add_overflow(x, align - 1, &t)) return false;
  *out = t & ~(align - 1);
  return true;
}

// Sets *out = a + b and returns true, or returns false on overflow.
constexpr bool AddChecked(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

// Sets *out = a * b and returns true, or returns false on overflow.
constexpr bool MulChecked(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// floor(log2(x)) for x > 0.
constexpr int Log2Floor(uint64_t x) { return 63 - __builtin_clzll(x); }

}  // namespace wk

#endif  // WKSPKIT_UTIL_BITS_H_
