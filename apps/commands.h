// wksp_ctl's command language: a list of commands, each with a fixed number
// of arguments, run left to right; the first failure stops the run.
//
// RunCommands first strips Firedancer's boot flags (boot_flags.h), then
// parses the whole line: every command known with enough arguments, every
// argument value valid, at most one user of stdout when a checkpoint goes to
// stdout and one reader of stdin. If any of that fails nothing runs (exit
// status 2). Settings (tag, --threads, --json, --text, --part-max, -q,
// --progress) change how the commands after them behave. See
// docs/wksp_ctl.md.
#ifndef WKSPKIT_APPS_COMMANDS_H_
#define WKSPKIT_APPS_COMMANDS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apps/exit_status.h"

namespace wk::apps {

// Exit statuses: apps/exit_status.h.

// Makes SIGINT, SIGTERM and SIGHUP request cancellation (util/cancel.h)
// instead of killing: the command in progress fails with Cancelled and
// RunCommands exits 128+N. The handlers are one-shot (SA_RESETHAND), so a
// second signal kills as usual; no SA_RESTART, so a blocking read returns.
void InstallCancelHandlers();

// Runs the commands in `args` (argv without the program name); messages go
// to stderr, reports to stdout. Returns the exit status.
int RunCommands(std::span<char* const> args);

// The help text (also printed by `help`).
extern const char kHelpText[];

// What wksp_ctl without arguments prints (to stderr, exit status 2): the
// synopsis and "try --help".
extern const char kShortUsage[];

// Every command and setting RunCommands accepts, as written on the command
// line (for the test that the help text names each one).
std::vector<std::string_view> CommandNames();

// A command or setting as the documentation writes it: name, argument
// names ("" for none) and whether it is a setting (apps:docs_test checks
// that --help, the man page and docs/wksp_ctl.md show each).
struct CommandSynopsis {
  std::string_view name, args;
  bool setting;
};
std::vector<CommandSynopsis> CommandSynopses();

// The bash completion script, generated from the command table
// (apps/wksp_ctl.bash-completion holds its output).
std::string BashCompletion();

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_COMMANDS_H_
