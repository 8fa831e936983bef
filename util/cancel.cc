#include "util/cancel.h"

#include <csignal>

#include "absl/strings/str_format.h"

namespace wk {

const char* SignalName(int signo) {
  switch (signo) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

absl::Status CheckCancel() {
  const int signo = CancelSignal();
  if (signo == 0) [[likely]] {
    if (!CallCancelled()) [[likely]]
      return absl::OkStatus();
    return absl::CancelledError(
        "cancelled by the caller (the call's cancel flag was set)");
  }
  return absl::CancelledError(absl::StrFormat("interrupted by %s (signal %d)",
                                              SignalName(signo), signo));
}

void ClearCancelForTest() {
  cancel_internal::g_signal.store(0, std::memory_order_relaxed);
}

}  // namespace wk
