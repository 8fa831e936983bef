// The one mapping from the C++ API's absl::Status codes to the C API's
// stable wkspkit_err_t classes, and the classes' names.
#ifndef WKSPKIT_LIB_ERROR_MAP_H_
#define WKSPKIT_LIB_ERROR_MAP_H_

#include "absl/status/status.h"
#include "wkspkit/wkspkit.h"

namespace wkspkit {

// The class of a failed `status` (WKSPKIT_OK for OK):
//   InvalidArgument -> INVALID_ARGUMENT, NotFound -> NOT_FOUND,
//   AlreadyExists -> ALREADY_EXISTS, PermissionDenied -> PERMISSION_DENIED,
//   ResourceExhausted -> RESOURCE_EXHAUSTED,
//   FailedPrecondition -> FAILED_PRECONDITION,
//   DataLoss and OutOfRange (an unexpected end of file) -> DATA_LOSS,
//   Cancelled -> CANCELLED,
//   Unavailable and DeadlineExceeded -> BUSY (a lock held or waited out),
//     except a system error (errno attached, util/status.h) other than
//     EAGAIN/EBUSY/ETIMEDOUT, which is IO,
//   Unknown -> IO when it carries an errno, else INTERNAL,
//   Unimplemented -> UNSUPPORTED, anything else -> INTERNAL;
//   and a system error EBADF (the caller's descriptor) -> INVALID_ARGUMENT.
wkspkit_err_t ErrFromStatus(const absl::Status& status);

// "WKSPKIT_ERR_NOT_FOUND" etc.; "unknown error" for other values.
const char* ErrName(wkspkit_err_t err);

}  // namespace wkspkit

#endif  // WKSPKIT_LIB_ERROR_MAP_H_
