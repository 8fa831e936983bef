// The helpers every command family shares (command.h).
#include "apps/command.h"

#include <sys/stat.h>
#include <sys/sysinfo.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "apps/list.h"
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

absl::StatusOr<wksp::Wksp> JoinToWrite(const std::string& name) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
  absl::Status st = wksp::ShmemReserve(name);
  if (!st.ok()) [[unlikely]] {
    return WithMessage(
        st, absl::StrFormat("workspace %s is sparse (made before creation "
                            "reserved its memory) and its pages cannot all "
                            "be had: %s; nothing was changed. Free space "
                            "there, or checkpt it and restore-new it where "
                            "it fits",
                            name, st.message()));
  }
  return w;
}

// The file a region name refers to (the first directory holding it), or
// NotFound naming the directories searched.
absl::StatusOr<std::string> RegionPath(const std::string& name) {
  for (wksp::PageSize ps : wksp::kPageSizes) {
    absl::StatusOr<std::string> dir = wksp::ShmemDir(ps);
    if (!dir.ok()) continue;
    std::string path = absl::StrFormat("%s/%s", *dir, name);
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) return path;
  }
  // Join's NotFound says where it looked.
  return wksp::Wksp::Join(name, true).status();
}

absl::Status CheckAttached(const std::string& name, const std::string& path,
                           std::string_view what, bool force) {
  const std::vector<ProcRef> procs = ProcessesMapping(path);
  if (procs.empty()) return absl::OkStatus();
  const std::string who = FormatProcs(procs);
  if (!force) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "workspace %s is mapped by %u other process(es): %s; a %s changes "
        "memory they are using. Stop them first, or put --force before the "
        "command to %s anyway",
        name, procs.size(), who, what, what));
  }
  absl::FPrintF(stderr,
                "%swksp_ctl: warning: %s of workspace %s while %u other "
                "process(es) map it (--force): %s\n",
                LineStart(stderr), what, name, procs.size(), who);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> CpuSeqArg(std::string_view text) {
  std::vector<int> missing;
  WK_ASSIGN_OR_RETURN(std::vector<int> cpus,
                      ParseCpuSeqOn(text, get_nprocs_conf(), &missing));
  if (!missing.empty()) {
    absl::FPrintF(stderr,
                  "%swksp_ctl: warning: cpu_idx_seq %s: CPU(s) %s do not "
                  "exist on this machine (CPUs 0-%d); memory goes near CPU "
                  "%d\n",
                  LineStart(stderr), text, absl::StrJoin(missing, ","),
                  get_nprocs_conf() - 1, cpus.front());
  }
  return cpus;
}

absl::StatusOr<uint64_t> TagArg(std::string_view text) {
  return ParseRange(text, "tag", 1, UINT64_MAX);
}

}  // namespace wk::apps
