// wksp_ctl: the operator's command-line tool for workspaces. Commands run in
// order, left to right; the first failure stops the run with a message naming
// the command and the cause, and a non-zero exit status. The command table is
// in commands.cc; docs/wksp_ctl.md documents every command, its output and
// the exit statuses.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "apps/commands.h"
#include "distrib/distrib.h"
#include "wksp/shmem.h"

int main(int argc, char** argv) {
  // A reader that goes away (`wksp_ctl query w | head -1`) gives an EPIPE
  // error instead of a death mid-write, so a checkpoint file being written
  // is still removed; RunCommands then exits quietly with status 141.
  std::signal(SIGPIPE, SIG_IGN);
  // A write past the file size limit (ulimit -f, systemd's LimitFSIZE=)
  // fails with EFBIG, an error each command reports and cleans up after,
  // instead of SIGXFSZ killing the process mid-write: fetch --keep died so
  // and left an empty .part that the next fetch refused.
  std::signal(SIGXFSZ, SIG_IGN);
  wk::apps::InstallCancelHandlers();
  // The library reads no environment variable and prints nothing; the tool
  // maps these (docs/wksp_ctl.md). --shmem-path, applied later, overrides
  // WKSP_SHMEM_ROOT.
  if (const char* root = std::getenv("WKSP_SHMEM_ROOT"); root && *root) {
    wk::wksp::SetShmemRoot(root);
  }
  if (std::getenv("WKSPKIT_DISTRIB_LOG") != nullptr) {
    wk::distrib::SetAlertLog([](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()),
                   line.data());
    });
  }
  // Under `bazel run` the program starts in its runfiles tree; relative
  // paths mean the directory the user ran bazel from.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
      dir && *dir && chdir(dir) != 0) {
    std::fprintf(stderr, "wksp_ctl: chdir %s (BUILD_WORKING_DIRECTORY): %s\n",
                 dir, std::strerror(errno));
    return wk::apps::kExitFailed;
  }
  return wk::apps::RunCommands(std::span<char* const>(
      argv + 1, static_cast<size_t>(argc > 0 ? argc - 1 : 0)));
}
