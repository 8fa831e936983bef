#include "lib/error_map.h"

#include <cerrno>

#include "util/status.h"

namespace wkspkit {

wkspkit_err_t ErrFromStatus(const absl::Status& status) {
  const int err = wk::StatusErrno(status);
  // The caller's descriptor is not open (or not for this): its bad argument.
  if (err == EBADF) return WKSPKIT_ERR_INVALID_ARGUMENT;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return WKSPKIT_OK;
    case absl::StatusCode::kInvalidArgument:
      return WKSPKIT_ERR_INVALID_ARGUMENT;
    case absl::StatusCode::kNotFound:
      return WKSPKIT_ERR_NOT_FOUND;
    case absl::StatusCode::kAlreadyExists:
      return WKSPKIT_ERR_ALREADY_EXISTS;
    case absl::StatusCode::kPermissionDenied:
      return WKSPKIT_ERR_PERMISSION_DENIED;
    case absl::StatusCode::kResourceExhausted:
      return WKSPKIT_ERR_RESOURCE_EXHAUSTED;
    case absl::StatusCode::kFailedPrecondition:
      return WKSPKIT_ERR_FAILED_PRECONDITION;
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kOutOfRange:
      return WKSPKIT_ERR_DATA_LOSS;
    case absl::StatusCode::kCancelled:
      return WKSPKIT_ERR_CANCELLED;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      if (err != 0 && err != EAGAIN && err != EWOULDBLOCK && err != EBUSY &&
          err != ETIMEDOUT)
        return WKSPKIT_ERR_IO;
      return WKSPKIT_ERR_BUSY;
    case absl::StatusCode::kUnknown:
      return err != 0 ? WKSPKIT_ERR_IO : WKSPKIT_ERR_INTERNAL;
    case absl::StatusCode::kUnimplemented:
      return WKSPKIT_ERR_UNSUPPORTED;
    default:
      return WKSPKIT_ERR_INTERNAL;
  }
}

const char* ErrName(wkspkit_err_t err) {
  switch (err) {
    case WKSPKIT_OK:
      return "WKSPKIT_OK";
    case WKSPKIT_ERR_INVALID_ARGUMENT:
      return "WKSPKIT_ERR_INVALID_ARGUMENT";
    case WKSPKIT_ERR_NOT_FOUND:
      return "WKSPKIT_ERR_NOT_FOUND";
    case WKSPKIT_ERR_ALREADY_EXISTS:
      return "WKSPKIT_ERR_ALREADY_EXISTS";
    case WKSPKIT_ERR_PERMISSION_DENIED:
      return "WKSPKIT_ERR_PERMISSION_DENIED";
    case WKSPKIT_ERR_RESOURCE_EXHAUSTED:
      return "WKSPKIT_ERR_RESOURCE_EXHAUSTED";
    case WKSPKIT_ERR_FAILED_PRECONDITION:
      return "WKSPKIT_ERR_FAILED_PRECONDITION";
    case WKSPKIT_ERR_DATA_LOSS:
      return "WKSPKIT_ERR_DATA_LOSS";
    case WKSPKIT_ERR_CANCELLED:
      return "WKSPKIT_ERR_CANCELLED";
    case WKSPKIT_ERR_BUSY:
      return "WKSPKIT_ERR_BUSY";
    case WKSPKIT_ERR_IO:
      return "WKSPKIT_ERR_IO";
    case WKSPKIT_ERR_UNSUPPORTED:
      return "WKSPKIT_ERR_UNSUPPORTED";
    case WKSPKIT_ERR_INTERNAL:
      return "WKSPKIT_ERR_INTERNAL";
  }
  return "unknown error";
}

}  // namespace wkspkit
