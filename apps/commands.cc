// The command table and runner of wksp_ctl (see commands.h).
#include "apps/commands.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "apps/progress.h"
#include "util/bits.h"
#include "util/cancel.h"
#include "util/status.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/name.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::apps {
namespace {

using Args = std::span<char* const>;

// Typical allocation size `new` sizes the partition slots for.
constexpr uint64_t kTypicalAllocSz = 64 * 1024;

struct Settings {
  uint64_t tag = 1;
  size_t threads = 0;
  bool json = false;
  uint64_t part_max = 0;  // 0: estimate from the footprint
  bool durable = true;
};

// Marks a status as a usage error (exit status 2).
constexpr char kUsagePayload[] = "wksp_ctl/usage";
absl::Status UsageError(absl::Status st) {
  st.SetPayload(kUsagePayload, absl::Cord("1"));
  return st;
}
bool IsUsageError(const absl::Status& st) {
  return st.GetPayload(kUsagePayload).has_value();
}

// Argument parsing that yields usage errors.
#define WK_ARG(lhs, expr)                                                 \
  WK_ASSIGN_OR_RETURN_IMPL_(WK_STATUS_CONCAT_(arg_, __LINE__), lhs,       \
                            ([&]() -> decltype(expr) {                    \
                              auto r = (expr);                            \
                              if (!r.ok()) return UsageError(r.status()); \
                              return r;                                   \
                            }()))

absl::StatusOr<std::string> Name(std::string_view text) {
  WK_RETURN_IF_ERROR(wksp::ValidateName(text));
  return std::string(text);
}

absl::StatusOr<wksp::Wksp> JoinArg(std::string_view text) {
  WK_ARG(std::string name, Name(text));
  return wksp::Wksp::Join(name);
}

absl::StatusOr<uint64_t> TagArg(std::string_view text) {
  return ParseRange(text, "tag", 1, UINT64_MAX);
}

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

// ---- commands
// ----------------------------------------------------------------

absl::Status Help(Settings&, Args) { return Print(kHelpText); }

absl::Status SetTag(Settings& s, Args a) {
  WK_ARG(s.tag, TagArg(a[0]));
  return absl::OkStatus();
}

absl::Status SetThreads(Settings& s, Args a) {
  WK_ARG(uint64_t n, ParseRange(a[0], "thread count", 0, 4096));
  s.threads = n;
  return absl::OkStatus();
}

absl::Status SetJson(Settings& s, Args) {
  s.json = true;
  return absl::OkStatus();
}

absl::Status SetText(Settings& s, Args) {
  s.json = false;
  return absl::OkStatus();
}

absl::Status SetPartMax(Settings& s, Args a) {
  WK_ARG(s.part_max, ParseRange(a[0], "part_max", 0, UINT32_MAX));
  return absl::OkStatus();
}

absl::Status SetDurable(Settings& s, Args a) {
  std::string_view v = a[0];
  if (v != "yes" && v != "no") {
    return UsageError(absl::InvalidArgumentError(
        absl::StrFormat("bad --durable \"%s\": must be yes or no", v)));
  }
  s.durable = v == "yes";
  return absl::OkStatus();
}

absl::Status SupportedStyles(Settings&, Args) {
  std::string out;
  for (wksp_checkpt::Style style : wksp_checkpt::kStyles) {
    absl::StrAppendFormat(&out, "%s%d", out.empty() ? "" : " ",
                          wksp_checkpt::StyleNumber(style));
  }
  return Print(out + "\n");
}

absl::Status New(Settings& s, Args a) {
  WK_ARG(std::string name, Name(a[0]));
  WK_ARG(wksp::PageSize page_size, ParsePageSizeArg(a[2]));
  WK_ARG(std::vector<int> cpus, ParseCpuSeq(a[3]));
  WK_ARG(mode_t mode, ParseMode(a[4]));
  const uint64_t page = static_cast<uint64_t>(page_size);
  uint64_t bytes;
  if (HasSizeSuffix(a[1])) {
    WK_ARG(bytes, ParseSize(a[1], "page_cnt"));
  } else {
    WK_ARG(uint64_t pages, ParseU64(a[1], "page_cnt"));
    if (!MulChecked(pages, page, &bytes)) {
      return UsageError(absl::InvalidArgumentError(
          absl::StrFormat("page_cnt %u of %s pages overflows", pages,
                          wksp::PageSizeName(page_size))));
    }
  }
  uint64_t footprint;
  if (bytes == 0 || !AlignUpChecked(bytes, page, &footprint)) {
    return UsageError(absl::InvalidArgumentError(
        absl::StrFormat("bad page_cnt \"%s\": must give a nonzero size "
                        "below 2^64",
                        a[1])));
  }
  uint64_t part_max = s.part_max
                          ? s.part_max
                          : wksp::Wksp::PartMaxEst(footprint, kTypicalAllocSz);
  uint64_t data_max = wksp::Wksp::DataMaxEst(footprint, part_max);
  if (part_max == 0 || data_max == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%u bytes is too small for a workspace with %s partition slots",
        footprint,
        part_max ? absl::StrFormat("%u", part_max) : std::string("any")));
  }
  wksp::CreateOptions opt;
  opt.page_size = page_size;
  opt.mode = mode;
  opt.cpu_idx = cpus.front();
  return wksp::Wksp::Create(name, part_max, data_max, opt).status();
}

absl::Status Delete(Settings&, Args a) {
  WK_ARG(std::string name, Name(a[0]));
  return wksp::Wksp::Delete(name);
}

absl::Status Alloc(Settings& s, Args a) {
  WK_ARG(uint64_t align, ParseU64(a[1], "align"));
  if (align && !IsPow2(align)) {
    return UsageError(absl::InvalidArgumentError(absl::StrFormat(
        "bad align \"%s\": must be 0 or a power of two", a[1])));
  }
  WK_ARG(uint64_t sz, ParseSize(a[2], "sz"));
  if (sz == 0) {
    return UsageError(absl::InvalidArgumentError("bad sz \"0\": must be >= 1"));
  }
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t gaddr, w.Alloc(align, sz, s.tag));
  return Print(FormatGaddr(w.name(), gaddr) + "\n");
}

absl::Status Info(Settings&, Args a) {
  WK_ARG(uint64_t tag, TagArg(a[1]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  uint64_t tags[] = {tag};
  WK_ASSIGN_OR_RETURN(std::vector<wksp::PartitionInfo> parts, w.TagQuery(tags));
  if (parts.empty()) return Print("- 0\n");
  return Print(absl::StrFormat("%s %u\n", FormatGaddr(w.name(), parts[0].lo),
                               parts[0].hi - parts[0].lo));
}

absl::Status Free(Settings&, Args a) {
  WK_ARG(GaddrRef ref, ParseGaddr(a[0]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(ref.name));
  return w.Free(ref.gaddr);
}

absl::Status TagQuery(Settings&, Args a) {
  WK_ARG(GaddrRef ref, ParseGaddr(a[0]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(ref.name));
  WK_ASSIGN_OR_RETURN(uint64_t tag, w.Tag(ref.gaddr));
  return Print(absl::StrFormat("%u\n", tag));
}

absl::Status TagFree(Settings&, Args a) {
  WK_ARG(uint64_t tag, TagArg(a[1]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  uint64_t tags[] = {tag};
  return w.TagFree(tags).status();
}

absl::Status Memset(Settings&, Args a) {
  WK_ARG(GaddrRef ref, ParseGaddr(a[0]));
  WK_ARG(uint64_t c, ParseRange(a[1], "byte", 0, 255));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, wksp::Wksp::Join(ref.name));
  return w.Memset(ref.gaddr, static_cast<int>(c));
}

absl::Status Check(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  return w.Check();
}

absl::Status Verify(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  return w.Verify();
}

absl::Status Rebuild(Settings&, Args a) {
  WK_ARG(std::optional<uint32_t> seed, ParseSeed(a[1]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  return w.Rebuild(seed.value_or(w.seed()));
}

absl::Status Reset(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  return w.Reset(w.seed());
}

absl::Status Usage(Settings& s, Args a) {
  WK_ARG(uint64_t tag, TagArg(a[1]));
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  uint64_t tags[] = {tag};
  WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage(tags));
  return Print(s.json ? UsageJson(w.name(), tag, u)
                      : UsageText(w.name(), tag, u));
}

absl::Status Query(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
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
  return Print(s.json ? QueryJson(sum) : QueryText(sum));
}

absl::Status Checkpt(Settings& s, Args a) {
  std::string path = a[1];
  WK_ARG(mode_t mode, ParseMode(a[2]));
  WK_ARG(uint64_t number, ParseRange(a[3], "style", 0, INT32_MAX));
  std::optional<wksp_checkpt::Style> style =
      wksp_checkpt::StyleFromNumber(number);
  if (!style) {
    return UsageError(absl::InvalidArgumentError(absl::StrFormat(
        "style %u is not supported by this build (see supported-styles)",
        number)));
  }
  if (path == "-" && isatty(STDOUT_FILENO) == 1) {
    return absl::FailedPreconditionError(
        "refusing to write a checkpoint to a terminal (redirect stdout)");
  }
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
  Progress progress(absl::StrFormat("checkpt %s", w.name()), stderr);
  wksp_checkpt::CheckptOptions opt;
  opt.style = *style;
  opt.mode = mode;
  opt.uinfo = a[4];
  opt.threads = s.threads;
  opt.durable = s.durable;
  opt.progress = progress.Callback();
  absl::Status st = path == "-" ? wksp_checkpt::CheckptFd(w, STDOUT_FILENO, opt)
                                : wksp_checkpt::Checkpt(w, path, opt);
  WK_RETURN_IF_ERROR(st);
  progress.Finish(u.used_sz);
  return absl::OkStatus();
}

absl::Status CheckptQuery(Settings& s, Args a) {
  std::string path = a[0];
  WK_ARG(uint64_t verbose, ParseRange(a[1], "verbose", 0, 4));
  if (!s.json) {
    // PrintCheckpt writes as it reads; flush so a failure's partial report
    // comes out before the error message.
    absl::Status st =
        wksp_checkpt::PrintCheckpt(path, static_cast<int>(verbose), stdout);
    WK_RETURN_IF_ERROR(Print(""));
    return st;
  }
  WK_ASSIGN_OR_RETURN(wksp_checkpt::Preview p,
                      wksp_checkpt::PreviewCheckpt(path));
  std::optional<std::vector<wksp::PartitionInfo>> allocs;
  if (verbose >= 3) {
    WK_ASSIGN_OR_RETURN(allocs, wksp_checkpt::CheckptAllocations(path));
  }
  return Print(CheckptJson(path, static_cast<int>(verbose), p,
                           allocs ? &*allocs : nullptr, verbose >= 4));
}

absl::Status Restore(Settings& s, Args a) {
  std::string path = a[1];
  WK_ARG(std::optional<uint32_t> seed, ParseSeed(a[2]));
  if (path == "-" && isatty(STDIN_FILENO) == 1) {
    return absl::FailedPreconditionError(
        "refusing to read a checkpoint from a terminal (redirect stdin)");
  }
  WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinArg(a[0]));
  Progress progress(absl::StrFormat("restore %s", w.name()), stderr);
  wksp_checkpt::RestoreOptions opt;
  opt.seed = seed;
  opt.threads = s.threads;
  opt.progress = progress.Callback();
  absl::Status st = path == "-" ? wksp_checkpt::RestoreFd(w, STDIN_FILENO, opt)
                                : wksp_checkpt::Restore(w, path, opt);
  WK_RETURN_IF_ERROR(st);
  WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
  progress.Finish(u.used_sz);
  return absl::OkStatus();
}

// ---- the table
// ---------------------------------------------------------------

struct Command {
  const char* name;
  const char* args;  // argument names, for messages
  int argc;
  bool prints;  // writes to stdout
  absl::Status (*run)(Settings&, Args);
};

constexpr Command kCommands[] = {
    {"help", "", 0, true, Help},
    {"tag", "val", 1, false, SetTag},
    {"--threads", "n", 1, false, SetThreads},
    {"--json", "", 0, false, SetJson},
    {"--text", "", 0, false, SetText},
    {"--part-max", "n", 1, false, SetPartMax},
    {"--durable", "yes|no", 1, false, SetDurable},
    {"supported-styles", "", 0, true, SupportedStyles},
    {"new", "wksp page_cnt page_sz cpu_idx_seq mode", 5, false, New},
    {"delete", "wksp", 1, false, Delete},
    {"alloc", "wksp align sz", 3, true, Alloc},
    {"info", "wksp tag", 2, true, Info},
    {"free", "wksp_gaddr", 1, false, Free},
    {"tag-query", "wksp_gaddr", 1, true, TagQuery},
    {"tag-free", "wksp tag", 2, false, TagFree},
    {"memset", "wksp_gaddr c", 2, false, Memset},
    {"check", "wksp", 1, false, Check},
    {"verify", "wksp", 1, false, Verify},
    {"rebuild", "wksp seed|-", 2, false, Rebuild},
    {"reset", "wksp", 1, false, Reset},
    {"usage", "wksp tag", 2, true, Usage},
    {"query", "wksp", 1, true, Query},
    {"checkpt", "wksp path mode style info", 5, false, Checkpt},
    {"checkpt-query", "path verbose", 2, true, CheckptQuery},
    {"restore", "wksp path seed|-", 3, false, Restore},
};

const Command* Find(std::string_view name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

struct Step {
  const Command* cmd;
  Args args;
};

// The whole line's shape, before anything runs.
absl::StatusOr<std::vector<Step>> Plan(Args args) {
  std::vector<Step> steps;
  int stdout_users = 0;
  bool checkpt_to_stdout = false;
  while (!args.empty()) {
    const Command* cmd = Find(args[0]);
    if (!cmd) {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown command '%s' (try 'help')", args[0]));
    }
    size_t have = args.size() - 1;
    if (have < static_cast<size_t>(cmd->argc)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: needs %d argument(s) (%s), got %u", cmd->name,
                          cmd->argc, cmd->args, have));
    }
    Args cargs = args.subspan(1, static_cast<size_t>(cmd->argc));
    bool to_stdout = cmd->run == Checkpt && std::string_view(cargs[1]) == "-";
    checkpt_to_stdout |= to_stdout;
    stdout_users += cmd->prints || to_stdout;
    steps.push_back({cmd, cargs});
    args = args.subspan(1 + static_cast<size_t>(cmd->argc));
  }
  if (checkpt_to_stdout && stdout_users > 1) {
    return absl::InvalidArgumentError(
        "checkpt to '-' writes the checkpoint to stdout: no other command of "
        "the same run may print to stdout");
  }
  return steps;
}

std::string Describe(const Step& s) {
  std::string d = s.cmd->name;
  for (char* a : s.args) absl::StrAppend(&d, " ", a);
  return d;
}

// The exit status of a run stopped by a signal (util/cancel.h); says what
// became of the command in progress.
int Interrupted(const Step& step, const absl::Status& st) {
  const int signo = CancelSignal();
  if (!st.ok()) {
    absl::FPrintF(stderr, "wksp_ctl: %s: %s\n", Describe(step), st.message());
  }
  if (wksp_checkpt::IsWorkspaceReset(st)) {
    absl::FPrintF(stderr,
                  "wksp_ctl: interrupted by %s: the workspace was modified and "
                  "then reset to empty (exit status %d)\n",
                  SignalName(signo), int{kExitWkspReset});
    return kExitWkspReset;
  }
  const char* what = st.ok() ? "after it completed"
                     : step.cmd->run == Restore
                         ? "before the restore modified the workspace"
                         : "and stopped";
  absl::FPrintF(stderr,
                "wksp_ctl: interrupted by %s %s (%s); no later command ran "
                "(exit status %d)\n",
                SignalName(signo), what, Describe(step),
                kExitSignalBase + signo);
  return kExitSignalBase + signo;
}

void OnCancelSignal(int signo) { RequestCancel(signo); }

}  // namespace

void InstallCancelHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnCancelSignal;
  sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: blocking calls return EINTR
  sigemptyset(&sa.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaction(signo, &sa, nullptr);
}

int RunCommands(Args args) {
  if (args.empty()) {
    std::fputs(kHelpText, stderr);
    return kExitUsage;
  }
  absl::StatusOr<std::vector<Step>> plan = Plan(args);
  if (!plan.ok()) {
    absl::FPrintF(stderr, "wksp_ctl: %s\n", plan.status().message());
    return kExitUsage;
  }
  Settings settings;
  for (const Step& step : *plan) {
    absl::Status st = step.cmd->run(settings, step.args);
    if (CancelRequested()) [[unlikely]]
      return Interrupted(step, st);
    if (st.ok()) continue;
    absl::FPrintF(stderr, "wksp_ctl: %s: %s\n", Describe(step), st.message());
    if (IsUsageError(st)) return kExitUsage;
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
