// wksp_ctl: the operator's command-line tool for workspaces. Commands run in
// order, left to right; the first failure stops the run with a message naming
// the command and the cause, and a non-zero exit status. See
// docs/wksp_ctl.md for every command, its output and the exit statuses.
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace wk::apps {
namespace {

constexpr char kHelp[] = R"(usage: wksp_ctl CMD [ARGS...] [CMD [ARGS...]] ...

Runs each command in turn; stops at the first one that fails.

  help
      Print this text.
  supported-styles
      Print the checkpoint styles this build can write and read
      (0 = default, 1 = v1, 2 = v2 parallel, 3 = v3 parallel + LZ4).
)";

struct Command {
  const char* name;
  int argc;  // arguments after the command name
  absl::Status (*run)(std::span<char* const> args);
};

absl::Status Help(std::span<char* const>) {
  std::fputs(kHelp, stdout);
  return absl::OkStatus();
}

absl::Status SupportedStyles(std::span<char* const>) {
  // LZ4 is a hard dependency of this build, so every style is available.
  std::puts("0 1 2 3");
  return absl::OkStatus();
}

constexpr Command kCommands[] = {
    {"help", 0, Help},
    {"supported-styles", 0, SupportedStyles},
};

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return 1;
  }
  std::span<char* const> args(argv + 1, static_cast<size_t>(argc - 1));
  while (!args.empty()) {
    std::string_view name = args[0];
    const Command* cmd = nullptr;
    for (const Command& c : kCommands) {
      if (name == c.name) cmd = &c;
    }
    if (!cmd) {
      std::fprintf(stderr, "wksp_ctl: unknown command '%s' (try 'help')\n",
                   args[0]);
      return 1;
    }
    if (args.size() - 1 < static_cast<size_t>(cmd->argc)) {
      std::fprintf(stderr, "wksp_ctl: %s: needs %d argument(s), got %zu\n",
                   cmd->name, cmd->argc, args.size() - 1);
      return 1;
    }
    absl::Status status = cmd->run(args.subspan(1, cmd->argc));
    if (!status.ok()) {
      std::fprintf(stderr, "wksp_ctl: %s: %s\n", cmd->name,
                   std::string(status.message()).c_str());
      return 1;
    }
    args = args.subspan(1 + cmd->argc);
  }
  return 0;
}

}  // namespace
}  // namespace wk::apps

int main(int argc, char** argv) { return wk::apps::Main(argc, argv); }
