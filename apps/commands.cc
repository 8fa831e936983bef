// wksp_ctl's runner (see commands.h): parses a whole line against the
// command table (command_table.cc), then runs it left to right.
#include "apps/commands.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "apps/boot_flags.h"
#include "apps/command.h"
#include "apps/output.h"
#include "apps/pipe_peer.h"
#include "distrib/distrib.h"
#include "util/cancel.h"
#include "util/status.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::apps {
namespace {

// Tells the user whom a command waits for (after about a second, then every
// ten) and keeps waiting, unless the holder is waiting for this very process
// through a pipe: then neither could ever finish, so it gives up.
absl::Status OnLockWait(const wksp::LockWait& wait) {
  const std::string holder = wksp::DescribeLockHolder(wait.holder);
  if (wait.holder.same_pid_ns) {
    const std::string end =
        PipeSharedWith(static_cast<pid_t>(wait.holder.pid));
    if (!end.empty()) {
      return absl::UnavailableError(absl::StrFormat(
          "the holder %s the pipe on this command's %s, so it waits for this "
          "command while this command waits for the lock: a workspace "
          "streamed into itself (e.g. `wksp_ctl checkpt %s - | wksp_ctl "
          "restore %s - -`) can never finish; checkpoint to a file, then "
          "restore from the file",
          end == "stdin" ? "writes into" : "reads from", end, wait.wksp_name,
          wait.wksp_name));
    }
  }
  absl::FPrintF(stderr,
                "%swksp_ctl: waiting for the workspace lock of %s held by %s "
                "(waited %.0f s so far)\n",
                LineStart(stderr), wait.wksp_name, holder,
                static_cast<double>(wait.waited_ns) * 1e-9);
  return absl::OkStatus();
}

// The command `word` names; "--opt=value" names "--opt" with its value.
const Command* Find(std::string_view word) {
  std::string_view name = word.substr(0, word.find('='));
  for (const Command& c : CommandTable()) {
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
  bool to_stdout;        // prints, or a checkpoint to stdout
  int64_t lock_wait_ns;  // --wait in force (wksp::SetLockWaitLimit)
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
  bool settings_ended = false;               // after "--": commands only
  const Command* pending_setting = nullptr;  // no command after it yet
  while (!words.empty()) {
    std::string_view word = words[0];
    if (word == "--" && !settings_ended) {
      settings_ended = true;
      words = words.subspan(1);
      continue;
    }
    const Command* cmd = Find(word);
    if (!cmd) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown command '%s' (try 'wksp_ctl --help')", word));
    }
    if (cmd->kind == Kind::kSetting && settings_ended) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "setting '%s' after '--', which ends the settings (put it before "
          "'--')",
          word));
    }
    pending_setting = cmd->kind == Kind::kSetting ? cmd : nullptr;
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
    if (*run) {
      steps.push_back({cmd, std::move(cargs), *std::move(run), to_stdout,
                       settings.lock_wait_ns});
    }
    words = words.subspan(used);
  }
  if (pending_setting) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "setting '%s' has no command after it; a setting changes the commands "
        "after it (e.g. `wksp_ctl %s query w`, not `wksp_ctl query w %s`)",
        pending_setting->name, pending_setting->name, pending_setting->name));
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
  const bool is_restore =
      step.cmd->on_signal == OnSignal::kRestores ||
      step.cmd->on_signal == OnSignal::kRestoresThenServes;
  if (st.ok() && last &&
      (step.cmd->on_signal == OnSignal::kServes ||
       step.cmd->on_signal == OnSignal::kRestoresThenServes)) {
    // A seed, or a fetch seeding after it completed, serves until stopped:
    // the signal is its normal end (a fetch stopped before it completed
    // failed: st is not OK). With commands after it, the signal still
    // stopped the run (below).
    absl::FPrintF(stderr,
                  "wksp_ctl: %s: seeding stopped by %s (exit status 0)\n",
                  what_cmd, SignalName(signo));
    return kExitOk;
  }
  const char* what = st.ok() ? "after it completed"
                     : distrib::FetchLeftRestored(st)
                         ? "after the restore completed"
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
  for (const Command& c : CommandTable()) names.push_back(c.name);
  return names;
}

std::vector<CommandSynopsis> CommandSynopses() {
  std::vector<CommandSynopsis> out;
  for (const Command& c : CommandTable()) {
    out.push_back({c.name, c.args, c.kind == Kind::kSetting});
  }
  return out;
}

void InstallCancelHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnCancelSignal;
  sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: blocking calls return EINTR
  sigemptyset(&sa.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaction(signo, &sa, nullptr);
}

int RunCommands(Args argv) {
  wksp::SetLockWaitHook(&OnLockWait);
  std::vector<char*> words(argv.begin(), argv.end());
  BootFlags boot;
  if (absl::Status st = StripBootFlags(words, &boot); !st.ok()) {
    absl::FPrintF(stderr, "wksp_ctl: %s\n", st.message());
    return kExitUsage;
  }
  ApplyBootFlags(boot);
  if (words.empty()) {
    std::fputs(kShortUsage, stderr);
    return kExitUsage;
  }
  PlanResult plan;
  if (absl::Status st = Plan(words, &plan); !st.ok()) {
    absl::FPrintF(stderr, "wksp_ctl: %s\n", st.message());
    return kExitUsage;
  }
  for (const Step& step : plan.steps) {
    wksp::SetLockWaitLimit(step.lock_wait_ns);
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
    return ExitStatusOf(st);
  }
  return kExitOk;
}

}  // namespace wk::apps
