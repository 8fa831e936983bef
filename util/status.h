// Error vocabulary shared by every package: absl::Status helpers that carry
// the failing operation, its object (path or descriptor) and the errno text,
// plus the two early-return macros used on error paths.
#ifndef WKSPKIT_UTIL_STATUS_H_
#define WKSPKIT_UTIL_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wk {

// Returns a status for errno value `err` raised by `op` on `object`, e.g.
// ErrnoError(ENOENT, "open", "/x") -> NotFound("open /x: No such file or
// directory (errno 2)"). The code follows absl::ErrnoToStatusCode. `err` == 0
// is treated as an unknown failure (Unknown), never as success.
absl::Status ErrnoError(int err, std::string_view op, std::string_view object);

// Returns the errno carried by a status made by ErrnoError, or 0.
int StatusErrno(const absl::Status& status);

// The one way a failed status is re-worded: `status` with message `message`,
// keeping its code and every payload (errno, error classes, markers); OK stays
// OK.
absl::Status WithMessage(const absl::Status& status, std::string_view message);

// WithMessage(status, "<context>: <message>"): says where a failure happened.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace wk

// Returns from the enclosing function when `expr` (an absl::Status) failed.
#define WK_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::absl::Status wk_status_ = (expr); \
    if (!wk_status_.ok()) [[unlikely]]  \
      return wk_status_;                \
  } while (0)

#define WK_STATUS_CONCAT_INNER_(a, b) a##b
#define WK_STATUS_CONCAT_(a, b) WK_STATUS_CONCAT_INNER_(a, b)

// `lhs = value of expr` where expr is an absl::StatusOr<T>; returns its status
// from the enclosing function when it failed.
#define WK_ASSIGN_OR_RETURN(lhs, expr)                                      \
  WK_ASSIGN_OR_RETURN_IMPL_(WK_STATUS_CONCAT_(wk_statusor_, __LINE__), lhs, \
                            expr)

#define WK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) [[unlikely]]                     \
    return std::move(tmp).status();               \
  lhs = std::move(tmp).value()

#endif  // WKSPKIT_UTIL_STATUS_H_
