// The parsers of every wksp_ctl command and setting, by family (private to
// apps:commands); command_table.cc puts each in the table. A parser checks
// its arguments and returns what to run (command.h).
#ifndef WKSPKIT_APPS_COMMAND_PARSERS_H_
#define WKSPKIT_APPS_COMMAND_PARSERS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "apps/command.h"
#include "apps/distrib_commands.h"

namespace wk::apps {

// settings_commands.cc: settings, which change later commands and run
// nothing, and the commands about wksp_ctl itself.
absl::StatusOr<Action> SetTag(Settings& s, Args a);
absl::StatusOr<Action> SetThreads(Settings& s, Args a);
absl::StatusOr<Action> SetJson(Settings& s, Args a);
absl::StatusOr<Action> SetText(Settings& s, Args a);
absl::StatusOr<Action> SetPartMax(Settings& s, Args a);
absl::StatusOr<Action> SetDurable(Settings& s, Args a);
absl::StatusOr<Action> SetSeal(Settings& s, Args a);
absl::StatusOr<Action> SetDeterministic(Settings& s, Args a);
absl::StatusOr<Action> SetForce(Settings& s, Args a);
absl::StatusOr<Action> SetQuiet(Settings& s, Args a);
absl::StatusOr<Action> SetProgress(Settings& s, Args a);
absl::StatusOr<Action> SetWait(Settings& s, Args a);
// A distribution setting (distrib_commands.h): checked now, nothing to run.
template <absl::Status (*kSet)(DistribSettings&, DistribArgs)>
absl::StatusOr<Action> Distrib(Settings& s, Args a) {
  if (absl::Status st = kSet(s.distrib, a); !st.ok()) return st;
  return Action();
}
absl::StatusOr<Action> Help(Settings& s, Args a);
absl::StatusOr<Action> Version(Settings& s, Args a);
absl::StatusOr<Action> SupportedStyles(Settings& s, Args a);

// wksp_commands.cc: a workspace's lifecycle and upkeep.
absl::StatusOr<Action> New(Settings& s, Args a);
absl::StatusOr<Action> Delete(Settings& s, Args a);
absl::StatusOr<Action> Check(Settings& s, Args a);
absl::StatusOr<Action> Verify(Settings& s, Args a);
absl::StatusOr<Action> Rebuild(Settings& s, Args a);
absl::StatusOr<Action> Reset(Settings& s, Args a);

// alloc_commands.cc: allocations and their memory.
absl::StatusOr<Action> Alloc(Settings& s, Args a);
absl::StatusOr<Action> Free(Settings& s, Args a);
absl::StatusOr<Action> TagFree(Settings& s, Args a);
absl::StatusOr<Action> Memset(Settings& s, Args a);

// query_commands.cc: reports on workspaces; change nothing.
absl::StatusOr<Action> List(Settings& s, Args a);
absl::StatusOr<Action> Info(Settings& s, Args a);
absl::StatusOr<Action> TagQuery(Settings& s, Args a);
absl::StatusOr<Action> UsageCmd(Settings& s, Args a);
absl::StatusOr<Action> Query(Settings& s, Args a);

// checkpt_commands.cc: checkpoints, written, read and restored.
absl::StatusOr<Action> Checkpt(Settings& s, Args a);
// --tee PATH: one more output of the next checkpt.
absl::StatusOr<Action> AddTee(Settings& s, Args a);
absl::StatusOr<Action> CheckptQuery(Settings& s, Args a);
absl::StatusOr<Action> CheckptVerify(Settings& s, Args a);
absl::StatusOr<Action> Restore(Settings& s, Args a);
absl::StatusOr<Action> RestoreNew(Settings& s, Args a);

// incr_commands.cc: incremental checkpoints (deltas and chains).
absl::StatusOr<Action> SetBase(Settings& s, Args a);
absl::StatusOr<Action> AddDelta(Settings& s, Args a);
absl::StatusOr<Action> Apply(Settings& s, Args a);
absl::StatusOr<Action> CheckptMerge(Settings& s, Args a);
// checkpt-query of a delta: its description (verbose >= 1 adds its
// allocation bytes and file size).
absl::Status QueryDelta(const std::string& path, int verbose, bool json);
// checkpt-verify of a delta, or of the chain `path` then `deltas`.
absl::Status VerifyDeltaOrChain(const std::string& path,
                                const std::vector<std::string>& deltas,
                                const Settings& set);

// distrib_commands.cc: shipping checkpoints between hosts.
absl::StatusOr<Action> TorrentCreateCmd(Settings& s, Args a);
absl::StatusOr<Action> TorrentV1Cmd(Settings& s, Args a);
absl::StatusOr<Action> SeedCmd(Settings& s, Args a);
absl::StatusOr<Action> FetchCmd(Settings& s, Args a);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_COMMAND_PARSERS_H_
