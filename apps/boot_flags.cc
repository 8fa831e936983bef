// Firedancer boot flags (see boot_flags.h).
#include "apps/boot_flags.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string_view>

#include "absl/strings/str_format.h"
#include "wksp/shmem.h"

namespace wk::apps {
namespace {

constexpr std::string_view kShmemPath = "--shmem-path";
// Accepted and ignored (boot_flags.h says why).
constexpr std::string_view kIgnored[] = {
    "--log-path",        "--log-level-logfile", "--log-level-stderr",
    "--log-level-flush", "--log-level-core",    "--log-colorize",
    "--log-dedup",       "--log-backtrace",     "--log-app",
    "--log-app-id",      "--log-thread",        "--log-thread-id",
    "--log-host",        "--log-host-id",       "--log-cpu",
    "--log-cpu-id",      "--log-group",         "--log-group-id",
    "--log-tid",         "--log-user",          "--log-user-id",
    "--tile-cpus"};

bool IsBootFlag(std::string_view flag) {
  if (flag == kShmemPath) return true;
  for (std::string_view f : kIgnored) {
    if (flag == f) return true;
  }
  return false;
}

}  // namespace

absl::Status StripBootFlags(std::vector<char*>& args, BootFlags* flags) {
  std::vector<char*> kept;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    size_t eq = word.find('=');
    std::string_view flag = word.substr(0, eq);
    if (!flag.starts_with("--") || !IsBootFlag(flag)) {
      kept.push_back(args[i]);
      continue;
    }
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = word.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s needs a value (Firedancer boot flag)", flag));
    }
    if (flag == kShmemPath) flags->shmem_path = std::string(value);
  }
  args = std::move(kept);
  return absl::OkStatus();
}

void ApplyBootFlags(const BootFlags& flags) {
  if (flags.shmem_path.empty()) return;
  std::string dir = flags.shmem_path;
  std::string fd_layout = dir + "/.normal";
  struct stat st;
  if (stat(fd_layout.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    dir = fd_layout;
  }
  wksp::SetShmemRoot(dir);
}

}  // namespace wk::apps
