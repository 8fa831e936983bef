// The project's version: one home for what `wksp_ctl --version` prints and
// what every checkpoint records in its build info.
#ifndef WKSPKIT_UTIL_VERSION_H_
#define WKSPKIT_UTIL_VERSION_H_

namespace wk {

inline constexpr char kVersion[] = "0.9.0";

}  // namespace wk

#endif  // WKSPKIT_UTIL_VERSION_H_
