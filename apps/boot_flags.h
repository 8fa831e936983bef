// Firedancer's fd_boot flags, so fd_wksp_ctl scripts run unchanged.
//
// fd_wksp_ctl strips these from anywhere on its command line before reading
// its commands (fd_env_strip_cmdline_*), each followed by its value as the
// next word; so does wksp_ctl (also accepting "--flag=value"). The last one
// of a kind wins.
//   --shmem-path DIR   where regions live: normal-page workspaces go in
//                      DIR/.normal when that directory exists (Firedancer's
//                      layout), else in DIR itself (wksp::SetShmemRoot);
//                      it overrides WKSP_SHMEM_ROOT.
//   --log-path, --log-level-logfile, --log-level-stderr, --log-level-flush,
//   --log-level-core, --log-colorize, --log-dedup, --log-backtrace,
//   --log-app, --log-app-id, --log-thread, --log-thread-id, --log-host,
//   --log-host-id, --log-cpu, --log-cpu-id, --log-group, --log-group-id,
//   --log-tid, --log-user, --log-user-id, --tile-cpus
//                      accepted and ignored: wksp_ctl writes no log file and
//                      its messages go to stderr as they always do.
#ifndef WKSPKIT_APPS_BOOT_FLAGS_H_
#define WKSPKIT_APPS_BOOT_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace wk::apps {

struct BootFlags {
  std::string shmem_path;  // empty: not given
};

// Removes every boot flag and its value from `args` and records what they
// say. InvalidArgument for a flag without its value.
absl::Status StripBootFlags(std::vector<char*>& args, BootFlags* flags);

// Applies them to this process (--shmem-path: wksp::SetShmemRoot).
void ApplyBootFlags(const BootFlags& flags);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_BOOT_FLAGS_H_
