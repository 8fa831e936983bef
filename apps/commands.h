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

// Every command and setting RunCommands accepts, as written on the command
// line (for the test that the help text names each one).
std::vector<std::string_view> CommandNames();

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_COMMANDS_H_
