// The helpers every command family shares (command.h).
#include "apps/command.h"

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "util/status.h"
#include "wksp/name.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::apps {
namespace {

// Joining a workspace with a restore mark succeeds (it can then be reset or
// restored again), so the user is told here, whatever the command.
void WarnRestoreMark(const wksp::Wksp& w) {
  std::optional<wksp::RestoreMark> mark = w.CurrentRestoreMark();
  if (!mark) return;
  absl::FPrintF(stderr, "%swksp_ctl: workspace %s: %s; %s\n", LineStart(stderr),
                w.name(), wksp::DescribeRestoreMark(*mark),
                mark->in_progress
                    ? "its contents are not valid until it finishes"
                    : "it is (or is about to be) empty: restore it again, or "
                      "`reset` it to use it empty");
}

}  // namespace

// Every report goes through here so a closed stdout is an error, not silence.
absl::Status Print(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
      std::fflush(stdout) != 0) [[unlikely]] {
    int err = errno;
    std::clearerr(stdout);
    return ErrnoError(err, "write", "stdout");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Name(std::string_view text) {
  WK_RETURN_IF_ERROR(wksp::ValidateName(text));
  return std::string(text);
}

absl::StatusOr<wksp::Wksp> JoinWarn(const std::string& name) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(name));
  WarnRestoreMark(w);
  return w;
}

absl::StatusOr<uint64_t> TagArg(std::string_view text) {
  return ParseRange(text, "tag", 1, UINT64_MAX);
}

}  // namespace wk::apps
