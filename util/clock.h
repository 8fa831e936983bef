// Clocks: a monotonic one for measuring durations and the wall clock that
// checkpoints record. Both in nanoseconds.
#ifndef WKSPKIT_UTIL_CLOCK_H_
#define WKSPKIT_UTIL_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace wk {

// Nanoseconds since an arbitrary fixed point; never goes backwards.
inline int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Nanoseconds since the UNIX epoch.
inline int64_t WallclockNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace wk

#endif  // WKSPKIT_UTIL_CLOCK_H_
