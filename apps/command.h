// What every wksp_ctl command family shares (private to apps:commands): the
// settings in force at a place on the line, a parsed command ready to run,
// one row of the command table, and the helpers commands print and join
// with.
//
// A family file (settings_commands.cc, wksp_commands.cc, alloc_commands.cc,
// query_commands.cc, checkpt_commands.cc, distrib_commands.cc) defines the
// parsers; command_table.cc lists every command in one table; commands.cc
// parses a line against that table and runs it.
#ifndef WKSPKIT_APPS_COMMAND_H_
#define WKSPKIT_APPS_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "apps/distrib_commands.h"  // DistribSettings
#include "apps/progress.h"
#include "wksp/wksp.h"

namespace wk::apps {

using Args = std::span<char* const>;

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
  bool force = false;  // restore/delete a workspace other processes map
  // Incremental checkpoints: the base of later checkpts (--base; empty:
  // full checkpoints), and the deltas the next restore, restore-new,
  // checkpt-verify or checkpt-merge applies after its checkpoint (--delta,
  // in order; that command consumes them).
  std::string base;
  std::vector<std::string> deltas;
  // More outputs of the next checkpt (--tee, in order; it uses them up): one
  // pass writes them all (checkpt_tee.h).
  std::vector<std::string> tees;
  ProgressOptions progress;
  DistribSettings distrib;
  int64_t lock_wait_ns = -1;  // --wait: bound on a lock wait; -1: none
};

// A parsed command, ready to run: every argument was checked when it was
// made. An empty Action (a setting) runs nothing.
using Action = std::function<absl::Status()>;

// Checks a command's arguments against the settings in force (a setting
// changes them) and returns what to run.
using ParseFn = absl::StatusOr<Action> (*)(Settings&, Args);

// What an interruption by a signal means for a command (commands.cc says
// so to the user).
enum class OnSignal {
  kStops,     // the command stopped and undid itself
  kRestores,  // a restore: the workspace is untouched or reset
  kServes,    // serves until stopped: a signal is its normal end
  // a restore (fetch) that may serve after it completed: a signal during
  // the restore is kRestores, after it kServes
  kRestoresThenServes,
};

// A setting changes the commands after it and runs nothing; a command runs.
enum class Kind { kSetting, kCommand };

// One row of the command table (command_table.cc).
struct Command {
  Kind kind;
  const char* name;
  const char* args;  // argument names, for messages
  int argc;
  bool prints;      // writes to stdout
  int stdout_path;  // index of a path argument meaning stdout when "-", or -1
  int stdin_path;   // index of a path argument meaning stdin when "-", or -1
  ParseFn parse;
  OnSignal on_signal = OnSignal::kStops;
};

// Every command and setting, in the order help lists them.
std::span<const Command> CommandTable();

// Writes a report to stdout; a closed stdout is an error, not silence.
absl::Status Print(const std::string& text);

// A workspace name argument, validated.
absl::StatusOr<std::string> Name(std::string_view text);

// A cpu_idx_seq argument on this machine (parse.h: ParseCpuSeqOn): the
// first CPU must exist; later ones that do not get a warning on stderr.
absl::StatusOr<std::vector<int>> CpuSeqArg(std::string_view text);

// A tag argument (nonzero).
absl::StatusOr<uint64_t> TagArg(std::string_view text);

// Joins workspace `name`, warning on stderr if it carries a restore mark.
absl::StatusOr<wksp::Wksp> JoinWarn(const std::string& name);

// The file a region name refers to (the first directory holding it), or
// NotFound naming the directories searched.
absl::StatusOr<std::string> RegionPath(const std::string& name);

// Before `what` (restore, delete) changes workspace `name` under processes
// that map it (its file `path` appears in their /proc/PID/maps; this process
// excluded): FailedPrecondition naming them, or with `force` a warning on
// stderr and OK. The workspace keeps no count of who joined it, so the
// kernel's mappings are the record; a process that joined and left is not
// counted, one that maps it without having joined (a debugger) is.
absl::Status CheckAttached(const std::string& name, const std::string& path,
                           std::string_view what, bool force);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_COMMAND_H_
