// The command table and runner of wksp_ctl (see commands.h).
#include "apps/commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/boot_flags.h"
#include "apps/distrib_commands.h"
#include "apps/list.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "apps/progress.h"
#include "util/bits.h"
#include "util/cancel.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/version.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/name.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::apps {
namespace {

using Args = std::span<char* const>;

// Typical allocation size `new` sizes the partition slots for.
constexpr uint64_t kTypicalAllocSz = 64 * 1024;

// What the settings before a command say; each command's parser copies the
// settings in force at its place on the line.
struct Settings {
  uint64_t tag = 1;
  size_t threads = 0;
  bool json = false;
  uint64_t part_max = 0;  // 0: estimate from the footprint
  bool durable = true;    // fsync a checkpoint before publishing it
  bool sealed = true;     // v2/v3 checkpoints carry seal records
  bool deterministic = false;
  ProgressOptions progress;
  DistribSettings distrib;
};

// A parsed command, ready to run: every argument was checked when it was
// made.
using Action = std::function<absl::Status()>;

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

absl::StatusOr<wksp::Wksp> JoinWarn(const std::string& name) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(name));
  WarnRestoreMark(w);
  return w;
}

// Tells the user whom a command waits for (after about a second, then every
// ten) and keeps waiting.
bool ReportLockWait(const wksp::LockWait& wait) {
  absl::FPrintF(stderr,
                "%swksp_ctl: waiting for the workspace lock of %s held by %s "
                "(waited %.0f s so far)\n",
                LineStart(stderr), wait.wksp_name,
                wksp::DescribeLockHolder(wait.holder),
                static_cast<double>(wait.waited_ns) * 1e-9);
  return true;
}

absl::StatusOr<uint64_t> TagArg(std::string_view text) {
  return ParseRange(text, "tag", 1, UINT64_MAX);
}

// ---- settings: change `s`, run nothing
// ---------------------------------------

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

absl::StatusOr<Action> SetDeterministic(Settings& s, Args) {
  s.deterministic = true;
  return Action();
}

// A distribution setting (distrib_commands.h): checked now, nothing to run.
template <absl::Status (*kSet)(DistribSettings&, DistribArgs)>
absl::StatusOr<Action> Distrib(Settings& s, Args a) {
  WK_RETURN_IF_ERROR(kSet(s.distrib, a));
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

// ---- commands
// -----------------------------------------------------------------

absl::StatusOr<Action> Help(Settings&, Args) {
  return Action([] { return Print(kHelpText); });
}

absl::StatusOr<Action> Version(Settings&, Args) {
  return Action([] {
    return Print(absl::StrFormat("wksp_ctl (wkspkit) %s\n", kVersion));
  });
}

absl::StatusOr<Action> SupportedStyles(Settings&, Args) {
  return Action([] {
    std::string out;
    for (wksp_checkpt::Style style : wksp_checkpt::kStyles) {
      absl::StrAppendFormat(&out, "%s%d", out.empty() ? "" : " ",
                            wksp_checkpt::StyleNumber(style));
    }
    return Print(out + "\n");
  });
}

absl::StatusOr<Action> List(Settings& s, Args) {
  const bool json = s.json;
  return Action([json] {
    std::vector<ListEntry> entries = ListWorkspaces();
    return Print(json ? ListJson(entries) : ListText(entries));
  });
}

// The geometry `new` creates: footprint in whole pages, part_max, data_max.
struct NewPlan {
  std::string name;
  uint64_t part_max = 0, data_max = 0;
  wksp::CreateOptions opt;
};

absl::StatusOr<NewPlan> PlanNew(const Settings& s, Args a) {
  NewPlan n;
  WK_ASSIGN_OR_RETURN(n.name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(wksp::PageSize page_size, ParsePageSizeArg(a[2]));
  WK_ASSIGN_OR_RETURN(std::vector<int> cpus, ParseCpuSeq(a[3]));
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[4]));
  const uint64_t page = static_cast<uint64_t>(page_size);
  uint64_t bytes;
  if (HasSizeSuffix(a[1])) {
    WK_ASSIGN_OR_RETURN(bytes, ParseSize(a[1], "page_cnt"));
  } else {
    WK_ASSIGN_OR_RETURN(uint64_t pages, ParseU64(a[1], "page_cnt"));
    if (!MulChecked(pages, page, &bytes)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("page_cnt %u of %s pages overflows", pages,
                          wksp::PageSizeName(page_size)));
    }
  }
  uint64_t footprint;
  if (bytes == 0 || !AlignUpChecked(bytes, page, &footprint)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad page_cnt \"%s\": must give a nonzero size "
                        "below 2^64",
                        a[1]));
  }
  n.part_max = s.part_max ? s.part_max
                          : wksp::Wksp::PartMaxEst(footprint, kTypicalAllocSz);
  n.data_max = wksp::Wksp::DataMaxEst(footprint, n.part_max);
  if (n.part_max == 0 || n.data_max == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%u bytes is too small for a workspace with %s partition slots",
        footprint,
        n.part_max ? absl::StrFormat("%u", n.part_max) : std::string("any")));
  }
  n.opt.page_size = page_size;
  n.opt.mode = mode;
  n.opt.cpu_idx = cpus.front();
  return n;
}

absl::StatusOr<Action> New(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(NewPlan n, PlanNew(s, a));
  return Action([n] {
    return wksp::Wksp::Create(n.name, n.part_max, n.data_max, n.opt).status();
  });
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

absl::StatusOr<Action> Delete(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  return Action([name]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(std::string path, RegionPath(name));
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "refusing to delete %s: not a regular file, so not a workspace",
          path));
    }
    absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join(name, /*read_only=*/true);
    if (!w.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "refusing to delete %s: a %u-byte file that is not a workspace (%s)",
          path, static_cast<uint64_t>(st.st_size), w.status().message()));
    }
    return wksp::Wksp::Delete(name);
  });
}

absl::StatusOr<Action> Alloc(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t align, ParseU64(a[1], "align"));
  if (align && !IsPow2(align)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad align \"%s\": must be 0 or a power of two", a[1]));
  }
  WK_ASSIGN_OR_RETURN(uint64_t sz, ParseSize(a[2], "sz"));
  if (sz == 0) return absl::InvalidArgumentError("bad sz \"0\": must be >= 1");
  const uint64_t tag = s.tag;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    WK_ASSIGN_OR_RETURN(uint64_t gaddr, w.Alloc(align, sz, tag));
    return Print(FormatGaddr(w.name(), gaddr) + "\n");
  });
}

absl::StatusOr<Action> Info(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t tag, TagArg(a[1]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    uint64_t tags[] = {tag};
    WK_ASSIGN_OR_RETURN(std::vector<wksp::PartitionInfo> parts,
                        w.TagQuery(tags));
    if (parts.empty()) return Print("- 0\n");
    return Print(absl::StrFormat("%s %u\n", FormatGaddr(w.name(), parts[0].lo),
                                 parts[0].hi - parts[0].lo));
  });
}

absl::StatusOr<Action> Free(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(GaddrRef ref, ParseGaddr(a[0]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(ref.name));
    return w.Free(ref.gaddr);
  });
}

absl::StatusOr<Action> TagQuery(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(GaddrRef ref, ParseGaddr(a[0]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(ref.name));
    WK_ASSIGN_OR_RETURN(uint64_t tag, w.Tag(ref.gaddr));
    return Print(absl::StrFormat("%u\n", tag));
  });
}

absl::StatusOr<Action> TagFree(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t tag, TagArg(a[1]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    uint64_t tags[] = {tag};
    return w.TagFree(tags).status();
  });
}

absl::StatusOr<Action> Memset(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(GaddrRef ref, ParseGaddr(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t c, ParseRange(a[1], "byte", 0, 255));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(ref.name));
    return w.Memset(ref.gaddr, static_cast<int>(c));
  });
}

// A command whose only argument is a workspace it joins and acts on.
template <absl::Status (*kOp)(wksp::Wksp&)>
absl::StatusOr<Action> OnWksp(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  return Action([name]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    return kOp(w);
  });
}
absl::Status DoCheck(wksp::Wksp& w) { return w.Check(); }
absl::Status DoVerify(wksp::Wksp& w) { return w.Verify(); }
absl::Status DoReset(wksp::Wksp& w) { return w.Reset(w.seed()); }

absl::StatusOr<Action> Rebuild(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[1]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    return w.Rebuild(seed.value_or(w.seed()));
  });
}

absl::StatusOr<Action> UsageCmd(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t tag, TagArg(a[1]));
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    uint64_t tags[] = {tag};
    WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage(tags));
    return Print(json ? UsageJson(w.name(), tag, u)
                      : UsageText(w.name(), tag, u));
  });
}

absl::StatusOr<Action> Query(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    WkspSummary sum;
    {
      // One lock for both, so the list and the counts agree.
      WK_ASSIGN_OR_RETURN(wksp::LockGuard guard, w.Lock());
      WK_ASSIGN_OR_RETURN(std::vector<wksp::PartitionInfo> used,
                          wksp::UsedPartitionsLocked(w));
      WK_ASSIGN_OR_RETURN(sum.usage, wksp::UsageLocked(w));
      sum.partitions = WithFreeGaps(used, w.gaddr_lo(), w.gaddr_hi());
    }
    sum.name = std::string(w.name());
    sum.seed = w.seed();
    sum.part_max = w.part_max();
    sum.data_max = w.data_max();
    sum.gaddr_lo = w.gaddr_lo();
    sum.gaddr_hi = w.gaddr_hi();
    sum.footprint = w.footprint();
    sum.page_size = wksp::PageSizeName(w.page_size());
    return Print(json ? QueryJson(sum) : QueryText(sum));
  });
}

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

absl::StatusOr<Action> Checkpt(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  std::string path = a[1];
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[2]));
  WK_ASSIGN_OR_RETURN(uint64_t number, ParseRange(a[3], "style", 0, INT32_MAX));
  std::optional<wksp_checkpt::Style> style =
      wksp_checkpt::StyleFromNumber(number);
  if (!style) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "style %u is not supported by this build (see supported-styles)",
        number));
  }
  std::string uinfo = a[4];
  if (uinfo.size() > wksp_checkpt::kUinfoMaxLen) {
    return absl::InvalidArgumentError(
        absl::StrFormat("info is %u bytes; a checkpoint stores at most %u",
                        uinfo.size(), wksp_checkpt::kUinfoMaxLen));
  }
  const Settings set = s;
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
    opt.style = *style;
    opt.mode = mode;
    opt.uinfo = uinfo;
    opt.threads = set.threads;
    opt.durable = set.durable;
    opt.deterministic = set.deterministic;
    opt.sealed = set.sealed;
    opt.progress = progress.Callback();
    // Known before the first allocation is written, which may be large.
    progress.SetFallbackTotal(u.used_sz, /*estimate=*/false);
    const std::optional<uint64_t> start =
        path == "-" ? RegularFileSize(path, STDOUT_FILENO) : std::nullopt;
    WK_RETURN_IF_ERROR(path == "-"
                           ? wksp_checkpt::CheckptFd(w, STDOUT_FILENO, opt)
                           : wksp_checkpt::Checkpt(w, path, opt));
    // The file's size, where it can be known (a path, or stdout redirected
    // to a file), and for v3 how much of the data it is.
    std::string suffix;
    std::optional<uint64_t> end = RegularFileSize(path, STDOUT_FILENO);
    if (end && (path != "-" || start)) {
      suffix = FileSuffix(
          *end - (start ? *start : 0), u.used_sz,
          wksp_checkpt::StoredFrameStyle(*style) ==
              wksp_checkpt::StoredFrameStyle(wksp_checkpt::Style::kV3));
    }
    progress.Finish(u.used_sz, suffix);
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> CheckptQuery(Settings& s, Args a) {
  std::string path = a[0];
  WK_ASSIGN_OR_RETURN(uint64_t v, ParseRange(a[1], "verbose", 0, 4));
  const int verbose = static_cast<int>(v);
  const bool json = s.json;
  return Action([=]() -> absl::Status {
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
  return Action([=]() -> absl::Status {
    if (path == "-" && isatty(STDIN_FILENO) == 1) {
      return absl::FailedPreconditionError(
          "refusing to read a checkpoint from a terminal (redirect stdin)");
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
    const char* what = r.style == wksp_checkpt::Style::kV1
                           ? "structure only (v1 has no checksums)"
                       : r.sealed ? "sealed, every frame's checksum matches"
                                  : "unsealed, structure and data decoded";
    return Print(absl::StrFormat(
        "checkpt-verify %s: OK: v%d, %s; %u allocations, %u data bytes, %u "
        "file bytes in %.3f s (%s/s)\n",
        path, wksp_checkpt::StyleNumber(r.style), what, r.allocs, r.data_bytes,
        r.file_bytes, dt, HumanBytes(static_cast<double>(r.file_bytes) / dt)));
  });
}

// What `new` would make a workspace that fits the checkpoint at `path`:
// its own geometry on `page_size` pages.
std::string FittingNew(const std::string& name, const std::string& path,
                       wksp::PageSize page_size) {
  absl::StatusOr<wksp_checkpt::Preview> p = wksp_checkpt::PreviewCheckpt(path);
  if (!p.ok()) return "";
  absl::StatusOr<uint64_t> fp = wksp::Wksp::Footprint(p->part_max, p->data_max);
  if (!fp.ok()) return "";
  const uint64_t page = static_cast<uint64_t>(page_size);
  uint64_t pages = (*fp + page - 1) / page;
  return absl::StrFormat(
      "the checkpoint is fine but does not fit workspace %s; one that fits "
      "(its geometry: part_max %u, data_max %u): `wksp_ctl --part-max %u new "
      "%s %u %s 0 600`, or create and restore in one step: `wksp_ctl "
      "restore-new %s %s - %s 0 600`",
      name, p->part_max, p->data_max, p->part_max, name, pages,
      wksp::PageSizeName(page_size), name, path, wksp::PageSizeName(page_size));
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
  // whose file is smaller than its data. (A preview of a redirected stdin
  // reads with pread and leaves its offset alone.)
  const std::optional<uint64_t> file_sz = RegularFileSize(path, STDIN_FILENO);
  bool lz4 = false;
  if (file_sz) {
    absl::StatusOr<wksp_checkpt::Preview> p =
        wksp_checkpt::PreviewCheckpt(path);
    lz4 = p.ok() && p->style == wksp_checkpt::Style::kV3;
    if (p.ok() && !lz4) progress.SetFallbackTotal(*file_sz);
  }
  absl::Status st = path == "-" ? wksp_checkpt::RestoreFd(w, STDIN_FILENO, opt)
                                : wksp_checkpt::Restore(w, path, opt);
  if (IsFitError(st) && path != "-") {
    std::string hint = FittingNew(std::string(w.name()), path, w.page_size());
    if (!hint.empty()) {
      return WithMessage(st, absl::StrFormat("%s (%s)", hint, st.message()));
    }
  }
  WK_RETURN_IF_ERROR(st);
  WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
  progress.Finish(u.used_sz,
                  file_sz ? FileSuffix(*file_sz, u.used_sz, lz4) : "");
  return absl::OkStatus();
}

absl::StatusOr<Action> Restore(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  std::string path = a[1];
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[2]));
  const Settings set = s;
  return Action([=]() -> absl::Status {
    if (path == "-" && isatty(STDIN_FILENO) == 1) {
      return absl::FailedPreconditionError(
          "refusing to read a checkpoint from a terminal (redirect stdin)");
    }
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
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
  WK_ASSIGN_OR_RETURN(std::vector<int> cpus, ParseCpuSeq(a[4]));
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[5]));
  const Settings set = s;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp_checkpt::Preview p,
                        wksp_checkpt::PreviewCheckpt(path));
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

// ---- distribution (distrib_commands.h): the arguments the library parses
// itself are checked here too, so a bad one stops the line before it runs.

absl::StatusOr<Action> TorrentCreateCmd(Settings& s, Args a) {
  const size_t threads = s.threads;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=] { return TorrentCreate(threads, args); });
}

absl::StatusOr<Action> SeedCmd(Settings& s, Args a) {
  const Settings set = s;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=] { return SeedCommand(set.distrib, set.threads, args); });
}

absl::StatusOr<Action> FetchCmd(Settings& s, Args a) {
  WK_RETURN_IF_ERROR(Name(a[0]).status());
  WK_RETURN_IF_ERROR(ParseSeed(a[2]).status());
  const Settings set = s;
  std::vector<char*> args(a.begin(), a.end());
  return Action([=] {
    return FetchCommand(set.distrib, set.threads, set.progress, args);
  });
}

// ---- the table
// ----------------------------------------------------------------

struct Command {
  const char* name;
  const char* args;  // argument names, for messages
  int argc;
  bool prints;      // writes to stdout
  int stdout_path;  // index of a path argument meaning stdout when "-", or -1
  int stdin_path;   // index of a path argument meaning stdin when "-", or -1
  absl::StatusOr<Action> (*parse)(Settings&, Args);
};

// New commands go here; help.cc and docs/wksp_ctl.md describe each.
constexpr Command kCommands[] = {
    {"help", "", 0, true, -1, -1, Help},
    {"--help", "", 0, true, -1, -1, Help},
    {"-h", "", 0, true, -1, -1, Help},
    {"--version", "", 0, true, -1, -1, Version},
    {"tag", "val", 1, false, -1, -1, SetTag},
    {"--threads", "n", 1, false, -1, -1, SetThreads},
    {"--json", "", 0, false, -1, -1, SetJson},
    {"--text", "", 0, false, -1, -1, SetText},
    {"--part-max", "n", 1, false, -1, -1, SetPartMax},
    {"--durable", "yes|no", 1, false, -1, -1, SetDurable},
    {"--seal", "yes|no", 1, false, -1, -1, SetSeal},
    {"-q", "", 0, false, -1, -1, SetQuiet},
    {"--quiet", "", 0, false, -1, -1, SetQuiet},
    {"--progress", "auto|always|never", 1, false, -1, -1, SetProgress},
    {"supported-styles", "", 0, true, -1, -1, SupportedStyles},
    {"list", "", 0, true, -1, -1, List},
    {"new", "wksp page_cnt page_sz cpu_idx_seq mode", 5, false, -1, -1, New},
    {"delete", "wksp", 1, false, -1, -1, Delete},
    {"alloc", "wksp align sz", 3, true, -1, -1, Alloc},
    {"info", "wksp tag", 2, true, -1, -1, Info},
    {"free", "wksp_gaddr", 1, false, -1, -1, Free},
    {"tag-query", "wksp_gaddr", 1, true, -1, -1, TagQuery},
    {"tag-free", "wksp tag", 2, false, -1, -1, TagFree},
    {"memset", "wksp_gaddr c", 2, false, -1, -1, Memset},
    {"check", "wksp", 1, false, -1, -1, OnWksp<DoCheck>},
    {"verify", "wksp", 1, false, -1, -1, OnWksp<DoVerify>},
    {"rebuild", "wksp seed|-", 2, false, -1, -1, Rebuild},
    {"reset", "wksp", 1, false, -1, -1, OnWksp<DoReset>},
    {"usage", "wksp tag", 2, true, -1, -1, UsageCmd},
    {"query", "wksp", 1, true, -1, -1, Query},
    {"checkpt", "wksp path mode style info", 5, false, 1, -1, Checkpt},
    {"checkpt-query", "path verbose", 2, true, -1, 0, CheckptQuery},
    {"checkpt-verify", "path|-", 1, true, -1, 0, CheckptVerify},
    {"restore", "wksp path seed|-", 3, false, -1, 1, Restore},
    {"restore-new", "wksp path seed|- page_sz cpu_idx_seq mode", 6, false, -1,
     -1, RestoreNew},
    {"--deterministic", "", 0, false, -1, -1, SetDeterministic},
    // Distribution (distrib_commands.h).
    {"--listen", "ip:port", 1, false, -1, -1, Distrib<SetListen>},
    {"--seconds", "s", 1, false, -1, -1, Distrib<SetSeconds>},
    {"--peer", "ip:port", 1, false, -1, -1, Distrib<AddPeer>},
    {"--keep", "file", 1, false, -1, -1, Distrib<SetKeep>},
    {"--seed-after", "", 0, false, -1, -1, Distrib<SetSeedAfter>},
    {"--timeout", "s", 1, false, -1, -1, Distrib<SetTimeout>},
    {"--deadline", "s", 1, false, -1, -1, Distrib<SetDeadline>},
    {"--no-upload", "", 0, false, -1, -1, Distrib<SetNoUpload>},
    {"--mem-max", "size", 1, false, -1, -1, Distrib<SetMemMax>},
    {"torrent-create", "file torrent", 2, true, -1, -1, TorrentCreateCmd},
    {"seed", "torrent file", 2, true, -1, -1, SeedCmd},
    {"fetch", "wksp torrent seed|-", 3, true, -1, -1, FetchCmd},
};

// The command `word` names; "--opt=value" names "--opt" with its value.
const Command* Find(std::string_view word) {
  std::string_view name = word.substr(0, word.find('='));
  for (const Command& c : kCommands) {
    if (word == c.name) return &c;
    if (name.size() < word.size() && name == c.name && name.starts_with("--") &&
        c.argc == 1) {
      return &c;
    }
  }
  return nullptr;
}

struct Step {
  const Command* cmd;
  std::vector<char*> args;
  Action run;
  bool to_stdout;  // prints, or a checkpoint to stdout
};

struct PlanResult {
  std::vector<Step> steps;
  // The values of "--opt=value" words, which args point into.
  std::vector<std::unique_ptr<std::string>> values;
};

// The command as messages name it; a very long argument (an info text) is
// cut.
std::string Describe(const Command& c, std::span<char* const> args) {
  constexpr size_t kLong = 1024, kShown = 64;  // paths stay whole
  std::string d = c.name;
  for (std::string_view a : args) {
    if (a.size() <= kLong) {
      absl::StrAppendFormat(&d, " %s", a);
    } else {
      absl::StrAppendFormat(&d, " %s...(%u bytes)", a.substr(0, kShown),
                            a.size());
    }
  }
  return d;
}

// Parses the whole line: every command known with its arguments, every
// argument value valid, at most one writer of stdout when a checkpoint goes
// there and one reader of stdin. Nothing runs before this succeeds.
absl::Status Plan(std::span<char* const> words, PlanResult* out) {
  std::vector<Step>& steps = out->steps;
  std::vector<std::unique_ptr<std::string>>& values = out->values;
  Settings settings;
  int stdout_users = 0, stdin_users = 0;
  bool checkpt_to_stdout = false;
  while (!words.empty()) {
    std::string_view word = words[0];
    const Command* cmd = Find(word);
    if (!cmd) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown command '%s' (try 'wksp_ctl --help')", word));
    }
    std::vector<char*> cargs;
    size_t used = 1;
    if (word != cmd->name) {  // --opt=value
      values.push_back(std::make_unique<std::string>(
          word.substr(std::string_view(cmd->name).size() + 1)));
      cargs.push_back(values.back()->data());
    } else {
      size_t have = words.size() - 1;
      if (have < static_cast<size_t>(cmd->argc)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: needs %d argument(s) (%s), got %u", cmd->name,
                            cmd->argc, cmd->args, have));
      }
      cargs.assign(words.begin() + 1, words.begin() + 1 + cmd->argc);
      used += static_cast<size_t>(cmd->argc);
    }
    absl::StatusOr<Action> run = cmd->parse(settings, cargs);
    if (!run.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: %s", Describe(*cmd, cargs), run.status().message()));
    }
    auto is_dash = [&](int i) {
      return i >= 0 && std::string_view(cargs[static_cast<size_t>(i)]) == "-";
    };
    bool to_stdout = cmd->prints || is_dash(cmd->stdout_path);
    checkpt_to_stdout |= is_dash(cmd->stdout_path);
    stdout_users += to_stdout;
    stdin_users += is_dash(cmd->stdin_path);
    if (*run)
      steps.push_back({cmd, std::move(cargs), *std::move(run), to_stdout});
    words = words.subspan(used);
  }
  if (checkpt_to_stdout && stdout_users > 1) {
    return absl::InvalidArgumentError(
        "checkpt to '-' writes the checkpoint to stdout: no other command of "
        "the same run may print to stdout");
  }
  if (stdin_users > 1) {
    return absl::InvalidArgumentError(
        "only one command of a run may read a checkpoint from stdin ('-')");
  }
  return absl::OkStatus();
}

// The exit status of a run stopped by a signal (util/cancel.h); says what
// became of the command in progress.
int Interrupted(const Step& step, const absl::Status& st, bool last) {
  const int signo = CancelSignal();
  const std::string what_cmd = Describe(*step.cmd, step.args);
  if (!st.ok()) {
    absl::FPrintF(stderr, "%swksp_ctl: %s: %s\n", LineStart(stderr), what_cmd,
                  st.message());
  }
  if (wksp_checkpt::IsWorkspaceReset(st)) {
    absl::FPrintF(stderr,
                  "wksp_ctl: interrupted by %s: the workspace was modified and "
                  "then reset to empty (exit status %d)\n",
                  SignalName(signo), int{kExitWkspReset});
    return kExitWkspReset;
  }
  const bool is_restore = step.cmd->parse == Restore ||
                          step.cmd->parse == RestoreNew ||
                          step.cmd->parse == FetchCmd;
  if (st.ok() && last &&
      (step.cmd->parse == SeedCmd || step.cmd->parse == FetchCmd)) {
    // A seed, or a fetch seeding after it completed, serves until stopped:
    // the signal is its normal end (a fetch stopped before it completed
    // failed, st is not OK).
    absl::FPrintF(stderr, "wksp_ctl: %s: seeding stopped by %s (exit status 0)\n",
                  what_cmd, SignalName(signo));
    return kExitOk;
  }
  const char* what = st.ok()      ? "after it completed"
                     : is_restore ? "before the restore modified the workspace"
                                  : "and stopped";
  absl::FPrintF(stderr,
                "wksp_ctl: interrupted by %s %s (%s); no later command ran "
                "(exit status %d)\n",
                SignalName(signo), what, what_cmd, kExitSignalBase + signo);
  return kExitSignalBase + signo;
}

void OnCancelSignal(int signo) { RequestCancel(signo); }

}  // namespace

std::vector<std::string_view> CommandNames() {
  std::vector<std::string_view> names;
  for (const Command& c : kCommands) names.push_back(c.name);
  return names;
}

void InstallCancelHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnCancelSignal;
  sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: blocking calls return EINTR
  sigemptyset(&sa.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaction(signo, &sa, nullptr);
}

int RunCommands(Args argv) {
  wksp::SetLockWaitHook(&ReportLockWait);
  std::vector<char*> words(argv.begin(), argv.end());
  BootFlags boot;
  if (absl::Status st = StripBootFlags(words, &boot); !st.ok()) {
    absl::FPrintF(stderr, "wksp_ctl: %s\n", st.message());
    return kExitUsage;
  }
  ApplyBootFlags(boot);
  if (words.empty()) {
    std::fputs(kHelpText, stderr);
    return kExitUsage;
  }
  PlanResult plan;
  if (absl::Status st = Plan(words, &plan); !st.ok()) {
    absl::FPrintF(stderr, "wksp_ctl: %s\n", st.message());
    return kExitUsage;
  }
  for (const Step& step : plan.steps) {
    absl::Status st = step.run();
    if (CancelRequested()) [[unlikely]]
      return Interrupted(step, st, &step == &plan.steps.back());
    if (st.ok()) continue;
    // A reader of stdout that went away (`query w | head -1`): stop quietly,
    // as a program killed by SIGPIPE would.
    if (step.to_stdout && StatusErrno(st) == EPIPE) return kExitBrokenPipe;
    absl::FPrintF(stderr, "%swksp_ctl: %s: %s\n", LineStart(stderr),
                  Describe(*step.cmd, step.args), st.message());
    if (wksp_checkpt::IsWorkspaceReset(st)) {
      absl::FPrintF(stderr,
                    "wksp_ctl: the workspace was modified and then reset to "
                    "empty (exit status %d)\n",
                    int{kExitWkspReset});
      return kExitWkspReset;
    }
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace wk::apps
