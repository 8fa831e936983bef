// wksp_ctl: the operator's command-line tool for workspaces. Commands run in
// order, left to right; the first failure stops the run with a message naming
// the command and the cause, and a non-zero exit status. The command table is
// in commands.cc; docs/wksp_ctl.md documents every command, its output and
// the exit statuses.
#include <csignal>

#include "apps/commands.h"

int main(int argc, char** argv) {
  // A reader that goes away (`wksp_ctl checkpt w - ... | head -c1`) must give
  // an EPIPE error message and status 1, not a silent death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  wk::apps::InstallCancelHandlers();
  return wk::apps::RunCommands(std::span<char* const>(
      argv + 1, static_cast<size_t>(argc > 0 ? argc - 1 : 0)));
}
