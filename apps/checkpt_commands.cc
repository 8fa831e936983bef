// wksp_ctl's checkpoint commands: checkpt, checkpt-query, checkpt-verify,
// restore, restore-new.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/checkpt_tee.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/output.h"
#include "apps/page_hint.h"
#include "apps/parse.h"
#include "apps/progress.h"
#include "util/clock.h"
#include "util/status.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::apps {
namespace {

// The size of the file at `path` or behind `fd` when it is a regular file.
std::optional<uint64_t> RegularFileSize(const std::string& path, int fd) {
  struct stat st;
  int rc = path == "-" ? fstat(fd, &st) : stat(path.c_str(), &st);
  if (rc != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

// The summary's tail for a checkpoint file: its size and, for v3 (LZ4), its
// share of the allocation bytes.
std::string FileSuffix(uint64_t file_sz, uint64_t data_sz, bool lz4) {
  std::string s = absl::StrFormat("; file %u bytes (%s)", file_sz,
                                  HumanBytes(static_cast<double>(file_sz)));
  if (lz4 && data_sz) {
    absl::StrAppendFormat(
        &s, ", %.1f%% of the data",
        100.0 * static_cast<double>(file_sz) / static_cast<double>(data_sz));
  }
  return s;
}

// Commands that give the checkpoint at `path` a workspace that fits: its own
// geometry on `page_size` pages, under a new name or in place of workspace
// `name` (which exists: `new`/`restore-new` on it alone would fail).
std::string FittingNew(const std::string& name, const std::string& path,
                       wksp::PageSize page_size) {
  absl::StatusOr<wksp_checkpt::Preview> p = wksp_checkpt::PreviewCheckpt(path);
  if (!p.ok()) return "";
  const char* ps = wksp::PageSizeName(page_size);
  return absl::StrFormat(
      "the checkpoint is fine but does not fit workspace %s (it needs "
      "part_max %u, data_max %u); restore it into a new workspace of its own "
      "geometry: `wksp_ctl restore-new %s.new %s - %s 0 600`, or replace %s "
      "with one: `wksp_ctl delete %s restore-new %s %s - %s 0 600`",
      name, p->part_max, p->data_max, name, path, ps, name, name, name, path,
      ps);
}

// The summary's tail when the first touches of a 4 KiB-page workspace's
// pages (every new process pays them) explain much of an operation that
// started at `t0` (apps/page_hint.h). Measured only for 4 KiB pages and
// enough bytes to matter (the probe takes a millisecond or two).
std::string PageHint(const wksp::Wksp& w, uint64_t bytes, int64_t t0) {
  const double secs = static_cast<double>(MonotonicNs() - t0) * 1e-9;
  if (w.page_size() != wksp::PageSize::kNormal || bytes < (uint64_t{64} << 20))
    return "";
  return FirstTouchHint(w.page_size(), bytes, secs, FirstTouchSecondsPerPage());
}

bool IsFitError(const absl::Status& st) {
  return !wksp_checkpt::IsWorkspaceReset(st) &&
         (st.code() == absl::StatusCode::kFailedPrecondition ||
          st.code() == absl::StatusCode::kResourceExhausted);
}

absl::Status RestoreInto(wksp::Wksp& w, const std::string& path,
                         std::optional<uint32_t> seed, const Settings& set) {
  Progress progress(absl::StrFormat("restore %s", w.name()), stderr,
                    set.progress);
  wksp_checkpt::RestoreOptions opt;
  opt.seed = seed;
  opt.threads = set.threads;
  opt.progress = progress.Callback();
  // A total from the file size where the restore cannot tell one (v1, a
  // stream from a redirected file): an estimate, a little high. Not for v3,
  // whose file is smaller than its data. (PreviewCheckpt of a redirected
  // stdin puts its offset back, so the restore reads from the start.)
  const std::optional<uint64_t> file_sz = RegularFileSize(path, STDIN_FILENO);
  bool lz4 = false;
  if (file_sz) {
    absl::StatusOr<wksp_checkpt::Preview> p =
        wksp_checkpt::PreviewCheckpt(path);
    lz4 = p.ok() && p->style == wksp_checkpt::Style::kV3;
    if (p.ok() && !lz4) progress.SetFallbackTotal(*file_sz);
  }
  std::vector<std::string> chain{path};
  chain.insert(chain.end(), set.deltas.begin(), set.deltas.end());
  const int64_t t0 = MonotonicNs();
  absl::Status st = path == "-" ? wksp_checkpt::RestoreFd(w, STDIN_FILENO, opt)
                                : wksp_checkpt::RestoreChain(w, chain, opt);
  if (IsFitError(st) && path != "-") {
    std::string hint = FittingNew(std::string(w.name()), path, w.page_size());
    if (!hint.empty()) {
      return WithMessage(st, absl::StrFormat("%s (%s)", hint, st.message()));
    }
  }
  WK_RETURN_IF_ERROR(st);
  WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
  progress.Finish(u.used_sz,
                  (file_sz ? FileSuffix(*file_sz, u.used_sz, lz4) : "") +
                      PageHint(w, u.used_sz, t0));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Action> AddTee(Settings& s, Args a) {
  const std::string path = a[0];
  if (path.empty() || path == "-") {
    return absl::InvalidArgumentError(
        "--tee takes a file path; stdout ('-') can only be checkpt's own path");
  }
  s.tees.push_back(path);
  return Action();
}

absl::StatusOr<Action> Checkpt(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  std::string path = a[1];
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[2]));
  WK_ASSIGN_OR_RETURN(const wksp_checkpt::Style style, ParseStyle(a[3]));
  WK_ASSIGN_OR_RETURN(const std::string uinfo, ParseUinfo(a[4]));
  if (!s.base.empty() && path == "-") {
    return absl::InvalidArgumentError(
        "a delta checkpoint (--base) is written to a path, not '-'");
  }
  const Settings set = s;
  s.tees.clear();  // --tee: outputs of this checkpt only
  std::vector<std::string> outputs;
  if (!set.tees.empty()) {
    if (!set.base.empty()) {
      return absl::InvalidArgumentError(
          "--tee writes full checkpoints; a delta (--base) has one output");
    }
    outputs.push_back(path);
    for (const std::string& t : set.tees) {
      if (std::find(outputs.begin(), outputs.end(), t) != outputs.end()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "output %s is named twice (checkpt's path and --tee paths must "
            "differ)",
            t));
      }
      outputs.push_back(t);
    }
  }
  return Action([=]() -> absl::Status {
    if (path == "-" && isatty(STDOUT_FILENO) == 1) {
      return absl::FailedPreconditionError(
          "refusing to write a checkpoint to a terminal (redirect stdout)");
    }
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
    Progress progress(absl::StrFormat("checkpt %s", w.name()), stderr,
                      set.progress);
    wksp_checkpt::CheckptOptions opt;
    opt.style = style;
    opt.mode = mode;
    opt.uinfo = uinfo;
    opt.threads = set.threads;
    opt.durable = set.durable;
    opt.deterministic = set.deterministic;
    opt.sealed = set.sealed;
    opt.base = set.base;
    opt.progress = progress.Callback();
    // Known before the first allocation is written, which may be large.
    progress.SetFallbackTotal(u.used_sz, /*estimate=*/false);
    const std::optional<uint64_t> start =
        path == "-" ? RegularFileSize(path, STDOUT_FILENO) : std::nullopt;
    const int64_t t0 = MonotonicNs();
    const bool lz4 =
        (style == wksp_checkpt::Style::kDefault ? wksp_checkpt::kDefaultStyle
                                                 : style) ==
        wksp_checkpt::Style::kV3;
    if (!outputs.empty()) {
      uint64_t bytes = 0;
      WK_RETURN_IF_ERROR(CheckptTee(w, outputs, opt, &bytes));
      progress.Finish(u.used_sz,
                      FileSuffix(bytes, u.used_sz, lz4) +
                          absl::StrFormat(", %d identical outputs",
                                          outputs.size()) +
                          PageHint(w, u.used_sz, t0));
      return absl::OkStatus();
    }
    WK_RETURN_IF_ERROR(path == "-"
                           ? wksp_checkpt::CheckptFd(w, STDOUT_FILENO, opt)
                           : wksp_checkpt::Checkpt(w, path, opt));
    const std::string page_hint = PageHint(w, u.used_sz, t0);
    // The file's size, where it can be known (a path, or stdout redirected
    // to a file), and for v3 how much of the data it is.
    std::string suffix;
    std::optional<uint64_t> end = RegularFileSize(path, STDOUT_FILENO);
    if (end && (path != "-" || start)) {
      suffix = FileSuffix(*end - (start ? *start : 0), u.used_sz, lz4);
    }
    progress.Finish(u.used_sz, suffix + page_hint);
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> CheckptQuery(Settings& s, Args a) {
  std::string path = a[0];
  WK_ASSIGN_OR_RETURN(uint64_t v, ParseRange(a[1], "verbose", 0, 4));
  const int verbose = static_cast<int>(v);
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    if (path != "-" && wksp_checkpt::IsDeltaCheckpt(path)) {
      return QueryDelta(path, verbose, json);
    }
    wksp_checkpt::CheckptDescription d;
    absl::Status st = wksp_checkpt::DescribeCheckpt(path, verbose, &d);
    // A failure after the header still shows what was read (text only: a
    // JSON reader wants all or nothing).
    if (st.ok() || (!json && !d.preview.name.empty())) {
      WK_RETURN_IF_ERROR(
          Print(json ? CheckptJson(path, verbose, d)
                     : wksp_checkpt::CheckptText(path, verbose, d)));
    }
    return st;
  });
}

absl::StatusOr<Action> CheckptVerify(Settings& s, Args a) {
  const std::string path = a[0];
  const Settings set = s;
  s.deltas.clear();  // --delta: verify the chain path, deltas...
  if (!set.deltas.empty() && path == "-") {
    return absl::InvalidArgumentError("a chain (--delta) is read from paths, not '-'");
  }
  return Action([=]() -> absl::Status {
    if (path == "-" && isatty(STDIN_FILENO) == 1) {
      return absl::FailedPreconditionError(
          "refusing to read a checkpoint from a terminal (redirect stdin)");
    }
    if (!set.deltas.empty() ||
        (path != "-" && wksp_checkpt::IsDeltaCheckpt(path))) {
      return VerifyDeltaOrChain(path, set.deltas, set);
    }
    wksp_checkpt::VerifyOptions opt;
    opt.threads = set.threads;
    const int64_t t0 = MonotonicNs();
    WK_ASSIGN_OR_RETURN(wksp_checkpt::VerifyReport r,
                        path == "-"
                            ? wksp_checkpt::VerifyCheckptFd(STDIN_FILENO, opt)
                            : wksp_checkpt::VerifyCheckpt(path, opt));
    const double dt =
        std::max(static_cast<double>(MonotonicNs() - t0) / 1e9, 1e-9);
    if (set.json) return Print(VerifyJson(path, r, dt));
    const bool v1 = r.style == wksp_checkpt::Style::kV1;
    const char* what = v1         ? "structure only (v1 has no checksums)"
                       : r.sealed ? "sealed, every frame's checksum matches"
                                  : "unsealed, structure and data decoded";
    // v1's data is skipped, not read: a rate over it would be fiction.
    const std::string rate =
        v1 ? ""
           : absl::StrFormat(
                 " (%s/s)", HumanBytes(static_cast<double>(r.file_bytes) / dt));
    return Print(absl::StrFormat(
        "checkpt-verify %s: OK: v%d, %s; %u allocations, %u data bytes, %u "
        "file bytes in %.3f s%s\n",
        path, wksp_checkpt::StyleNumber(r.style), what, r.allocs, r.data_bytes,
        r.file_bytes, dt, rate));
  });
}

absl::StatusOr<Action> Restore(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  std::string path = a[1];
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[2]));
  const Settings set = s;
  s.deltas.clear();  // --delta: restore the chain path, deltas...
  if (!set.deltas.empty() && path == "-") {
    return absl::InvalidArgumentError("a chain (--delta) is read from paths, not '-'");
  }
  return Action([=]() -> absl::Status {
    if (path == "-" && isatty(STDIN_FILENO) == 1) {
      return absl::FailedPreconditionError(
          "refusing to read a checkpoint from a terminal (redirect stdin)");
    }
    WK_ASSIGN_OR_RETURN(std::string wksp_path, RegionPath(name));
    WK_RETURN_IF_ERROR(CheckAttached(name, wksp_path, "restore", set.force));
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(name));
    return RestoreInto(w, path, seed, set);
  });
}

// restore-new wksp path seed|- page_sz cpu_idx_seq mode: `new` with the
// checkpoint's own geometry, then `restore`; the new workspace is deleted
// again if the restore fails.
absl::StatusOr<Action> RestoreNew(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  std::string path = a[1];
  if (path == "-") {
    return absl::InvalidArgumentError(
        "restore-new reads the checkpoint's geometry first and needs a path, "
        "not '-' (use new + restore for a stream)");
  }
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[2]));
  WK_ASSIGN_OR_RETURN(wksp::PageSize page_size, ParsePageSizeArg(a[3]));
  WK_ASSIGN_OR_RETURN(std::vector<int> cpus, CpuSeqArg(a[4]));
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[5]));
  const Settings set = s;
  s.deltas.clear();  // --delta: restore the chain path, deltas...
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp_checkpt::Preview p,
                        wksp_checkpt::PreviewCheckpt(path));
    if (!set.deltas.empty()) {
      // The chain's state: the last delta's geometry and seed.
      WK_ASSIGN_OR_RETURN(wksp_checkpt::DeltaDescription last,
                          wksp_checkpt::DescribeDelta(set.deltas.back()));
      p.part_max = std::max(p.part_max, last.part_max);
      p.data_max = std::max(p.data_max, last.data_max);
      p.seed = last.seed;
    }
    wksp::CreateOptions opt;
    opt.page_size = page_size;
    opt.mode = mode;
    opt.cpu_idx = cpus.front();
    WK_ASSIGN_OR_RETURN(wksp::Wksp w,
                        wksp::Wksp::Create(name, p.part_max, p.data_max, opt));
    absl::Status st = RestoreInto(
        w, path, seed ? seed : std::optional<uint32_t>(p.seed), set);
    if (!st.ok()) {
      wksp::Wksp::Delete(name).IgnoreError();
      return WithMessage(
          st,
          absl::StrFormat("%s (the new workspace was deleted)", st.message()));
    }
    return absl::OkStatus();
  });
}

}  // namespace wk::apps
