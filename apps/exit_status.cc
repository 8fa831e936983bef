// Status class to exit status (see exit_status.h).
#include "apps/exit_status.h"

#include "util/status.h"

namespace wk::apps {

ExitStatus ExitStatusOf(const absl::Status& status) {
  // A system call's EINVAL or EAGAIN is no usage error or held lock: only
  // codes the library chose itself (no errno) carry those two classes.
  const bool from_errno = StatusErrno(status) != 0;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
      return from_errno ? kExitFailed : kExitUsage;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kPermissionDenied:
      return kExitPermission;
    case absl::StatusCode::kResourceExhausted:
      return kExitNoSpace;
    case absl::StatusCode::kDeadlineExceeded:
      return kExitLockWait;
    case absl::StatusCode::kUnavailable:
      return from_errno ? kExitFailed : kExitLockWait;
    case absl::StatusCode::kDataLoss:
      return kExitCorrupt;
    default:
      return kExitFailed;
  }
}

const char* ExitStatusName(int exit_status) {
  switch (exit_status) {
    case kExitOk:
      return "ok";
    case kExitFailed:
      return "failed";
    case kExitUsage:
      return "usage";
    case kExitWkspReset:
      return "restore failed, workspace reset";
    case kExitNotFound:
      return "not found";
    case kExitPermission:
      return "permission denied";
    case kExitNoSpace:
      return "out of space or memory";
    case kExitLockWait:
      return "lock held or timed out";
    case kExitCorrupt:
      return "corrupt or truncated data";
    case kExitBrokenPipe:
      return "broken pipe";
    default:
      return exit_status > kExitSignalBase ? "interrupted by a signal"
                                           : "unknown";
  }
}

}  // namespace wk::apps
