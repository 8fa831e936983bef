// wksp_ctl's settings (tag, --threads, --json, ...), which change the commands
// after them and run nothing, and the commands about wksp_ctl itself (help,
// --version, supported-styles).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/commands.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "util/status.h"
#include "util/version.h"
#include "wksp/checkpt/wksp_checkpt.h"

namespace wk::apps {

absl::StatusOr<Action> SetWait(Settings& s, Args a) {
  // Seconds, fractions allowed; at most a year (a longer bound is no bound).
  double seconds = 0;
  const std::string_view v = a[0];
  if (!absl::SimpleAtod(absl::string_view(v.data(), v.size()), &seconds) ||
      !(seconds >= 0) ||
      seconds > 365.0 * 86400) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bad --wait \"%s\": seconds to wait for a workspace lock, 0 up to a "
        "year (0: fail at once when it is held)",
        v));
  }
  s.lock_wait_ns = static_cast<int64_t>(seconds * 1e9);
  return Action();
}

absl::StatusOr<Action> SetTag(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(s.tag, TagArg(a[0]));
  return Action();
}

absl::StatusOr<Action> SetThreads(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(uint64_t n, ParseRange(a[0], "thread count", 0, 4096));
  s.threads = n;
  return Action();
}

absl::StatusOr<Action> SetJson(Settings& s, Args) {
  s.json = true;
  return Action();
}

absl::StatusOr<Action> SetText(Settings& s, Args) {
  s.json = false;
  return Action();
}

absl::StatusOr<Action> SetPartMax(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(s.part_max, ParseRange(a[0], "part_max", 0, UINT32_MAX));
  return Action();
}

absl::StatusOr<Action> SetDurable(Settings& s, Args a) {
  std::string_view v = a[0];
  if (v != "yes" && v != "no") {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad --durable \"%s\": must be yes or no", v));
  }
  s.durable = v == "yes";
  return Action();
}

absl::StatusOr<Action> SetSeal(Settings& s, Args a) {
  const std::string_view v = a[0];
  if (v != "yes" && v != "no") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--seal takes yes or no, not '%s' (no: Firedancer's exact layout)", v));
  }
  s.sealed = v == "yes";
  return Action();
}

absl::StatusOr<Action> SetForce(Settings& s, Args) {
  s.force = true;
  return Action();
}

absl::StatusOr<Action> SetDeterministic(Settings& s, Args) {
  s.deterministic = true;
  return Action();
}

absl::StatusOr<Action> SetQuiet(Settings& s, Args) {
  s.progress.quiet = true;
  return Action();
}

absl::StatusOr<Action> SetProgress(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(s.progress.mode, ParseProgressMode(a[0]));
  return Action();
}

absl::StatusOr<Action> Help(Settings&, Args) {
  return Action([] { return Print(kHelpText); });
}

absl::StatusOr<Action> Version(Settings& s, Args) {
  const bool json = s.json;
  return Action([json] {
    return Print(json ? VersionJson(kVersion)
                      : absl::StrFormat("wksp_ctl (wkspkit) %s\n", kVersion));
  });
}

absl::StatusOr<Action> SupportedStyles(Settings& s, Args) {
  const bool json = s.json;
  return Action([json] {
    std::vector<int> styles;
    for (wksp_checkpt::Style style : wksp_checkpt::kStyles) {
      styles.push_back(wksp_checkpt::StyleNumber(style));
    }
    if (json) return Print(StylesJson(styles));
    return Print(absl::StrJoin(styles, " ") + "\n");
  });
}

}  // namespace wk::apps
