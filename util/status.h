// Error vocabulary shared by every package: absl::Status helpers that carry
// the failing operation, its object (path or descriptor) and the errno text,
// plus the two early-return macros used on error paths.
//
// The one rule for error classes: a failed status's code is its class,
// chosen by the layer that knows the cause; the layers above add context
// (Annotate, WithMessage keep the code and payloads) and never re-code it.
// Tools map the class to what the user sees (wksp_ctl: apps/exit_status.h).
//   kInvalidArgument   the caller's arguments are wrong (usage)
//   kNotFound          a named workspace, file or allocation does not exist
//   kPermissionDenied  permission denied
//   kResourceExhausted out of space or memory: a full file system, an empty
//                      huge-page pool, memory that cannot be populated, no
//                      free partition or slot in a workspace
//   kCancelled         a signal asked to stop (util/cancel.h); the message
//                      names the signal
//   kDeadlineExceeded  a wait ran out: a lock wait limit, a timeout
//   kUnavailable       a lock is held by someone who will not let go (a
//                      waiter gave up with a reason)
//   kDataLoss          only for data that is corrupt or truncated: a
//                      checkpoint file or stream, a workspace's metadata. A
//                      signal, a full disk or unpopulatable memory met while
//                      reading a good file is never DataLoss.
//   anything else      failed for another reason (kAlreadyExists,
//                      kFailedPrecondition: the state forbids it, ...)
// ErrnoError follows absl::ErrnoToStatusCode, so a system call's EINVAL or
// EAGAIN reads kInvalidArgument or kUnavailable; a tool tells those apart
// from the library's own by the errno payload (StatusErrno != 0).
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
