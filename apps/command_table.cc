// The command table: every command and setting wksp_ctl accepts, in one
// list. A new command gets a row here, a parser in its family's file
// (command_parsers.h), and a description in help.cc and docs/wksp_ctl.md.
#include <span>

#include "apps/command.h"
#include "apps/command_parsers.h"

namespace wk::apps {
namespace {

constexpr Kind kSetting = Kind::kSetting;
constexpr Kind kCommand = Kind::kCommand;
constexpr OnSignal kRestores = OnSignal::kRestores;
constexpr OnSignal kServes = OnSignal::kServes;
constexpr OnSignal kRestoresThenServes = OnSignal::kRestoresThenServes;

// setting or command, name, argument names, argument count, prints to stdout,
// index of a path argument meaning stdout when "-" (or -1), the same for stdin,
// parser, what a signal means for it.
constexpr Command kCommands[] = {
    {kCommand, "help", "", 0, true, -1, -1, Help},
    {kCommand, "--help", "", 0, true, -1, -1, Help},
    {kCommand, "-h", "", 0, true, -1, -1, Help},
    {kCommand, "--version", "", 0, true, -1, -1, Version},
    // Settings: change the commands after them.
    {kSetting, "tag", "val", 1, false, -1, -1, SetTag},
    {kSetting, "--threads", "n", 1, false, -1, -1, SetThreads},
    {kSetting, "--json", "", 0, false, -1, -1, SetJson},
    {kSetting, "--text", "", 0, false, -1, -1, SetText},
    {kSetting, "--part-max", "n", 1, false, -1, -1, SetPartMax},
    {kSetting, "--durable", "yes|no", 1, false, -1, -1, SetDurable},
    {kSetting, "--seal", "yes|no", 1, false, -1, -1, SetSeal},
    {kSetting, "--deterministic", "", 0, false, -1, -1, SetDeterministic},
    {kSetting, "--force", "", 0, false, -1, -1, SetForce},
    {kSetting, "-q", "", 0, false, -1, -1, SetQuiet},
    {kSetting, "--quiet", "", 0, false, -1, -1, SetQuiet},
    {kSetting, "--progress", "auto|always|never|numeric", 1, false, -1, -1,
     SetProgress},
    {kSetting, "--wait", "seconds", 1, false, -1, -1, SetWait},
    // Distribution settings (distrib_commands.h).
    {kSetting, "--listen", "ip:port", 1, false, -1, -1, Distrib<SetListen>},
    {kSetting, "--tcp-congestion", "name", 1, false, -1, -1,
     Distrib<SetTcpCongestion>},
    {kSetting, "--seconds", "s", 1, false, -1, -1, Distrib<SetSeconds>},
    {kSetting, "--peer", "ip:port", 1, false, -1, -1, Distrib<AddPeer>},
    {kSetting, "--keep", "file", 1, false, -1, -1, Distrib<SetKeep>},
    {kSetting, "--seed-after", "", 0, false, -1, -1, Distrib<SetSeedAfter>},
    {kSetting, "--timeout", "s", 1, false, -1, -1, Distrib<SetTimeout>},
    {kSetting, "--deadline", "s", 1, false, -1, -1, Distrib<SetDeadline>},
    {kSetting, "--no-upload", "", 0, false, -1, -1, Distrib<SetNoUpload>},
    {kSetting, "--tracker", "url", 1, false, -1, -1, Distrib<AddTracker>},
    {kSetting, "--hybrid", "", 0, false, -1, -1, Distrib<SetHybrid>},
    {kSetting, "--v1-only", "", 0, false, -1, -1, Distrib<SetV1Only>},
    {kSetting, "--companion", "torrent", 1, false, -1, -1,
     Distrib<AddCompanion>},
    {kSetting, "--mem-max", "size", 1, false, -1, -1, Distrib<SetMemMax>},
    // Incremental checkpoint settings (incr_commands.cc).
    {kSetting, "--base", "path|-", 1, false, -1, -1, SetBase},
    {kSetting, "--delta", "path", 1, false, -1, -1, AddDelta},
    {kSetting, "--tee", "path", 1, false, -1, -1, AddTee},
    // Commands.
    {kCommand, "supported-styles", "", 0, true, -1, -1, SupportedStyles},
    {kCommand, "list", "", 0, true, -1, -1, List},
    {kCommand, "new", "wksp page_cnt page_sz cpu_idx_seq mode", 5, false, -1,
     -1, New},
    {kCommand, "delete", "wksp", 1, false, -1, -1, Delete},
    {kCommand, "alloc", "wksp align sz", 3, true, -1, -1, Alloc},
    {kCommand, "info", "wksp tag", 2, true, -1, -1, Info},
    {kCommand, "free", "wksp:gaddr", 1, false, -1, -1, Free},
    {kCommand, "tag-query", "wksp:gaddr", 1, true, -1, -1, TagQuery},
    {kCommand, "tag-free", "wksp tag", 2, false, -1, -1, TagFree},
    {kCommand, "memset", "wksp:gaddr c", 2, false, -1, -1, Memset},
    {kCommand, "check", "wksp", 1, false, -1, -1, Check},
    {kCommand, "verify", "wksp", 1, false, -1, -1, Verify},
    {kCommand, "rebuild", "wksp seed|-", 2, false, -1, -1, Rebuild},
    {kCommand, "reset", "wksp", 1, false, -1, -1, Reset},
    {kCommand, "usage", "wksp tag", 2, true, -1, -1, UsageCmd},
    {kCommand, "query", "wksp", 1, true, -1, -1, Query},
    {kCommand, "checkpt", "wksp path mode style info", 5, false, 1, -1,
     Checkpt},
    {kCommand, "checkpt-query", "path verbose", 2, true, -1, 0, CheckptQuery},
    {kCommand, "checkpt-verify", "path", 1, true, -1, 0, CheckptVerify},
    {kCommand, "restore", "wksp path seed|-", 3, false, -1, 1, Restore,
     kRestores},
    {kCommand, "restore-new", "wksp path seed|- page_sz cpu_idx_seq mode", 6,
     false, -1, -1, RestoreNew, kRestores},
    {kCommand, "apply", "wksp delta", 2, false, -1, -1, Apply, kRestores},
    {kCommand, "checkpt-merge", "base out mode style info", 5, false, -1, -1,
     CheckptMerge},
    {kCommand, "torrent-create", "file torrent", 2, true, -1, -1,
     TorrentCreateCmd},
    {kCommand, "torrent-v1", "hybrid torrent", 2, true, -1, -1, TorrentV1Cmd},
    {kCommand, "seed", "torrent file", 2, true, -1, -1, SeedCmd, kServes},
    {kCommand, "fetch", "wksp torrent seed|-", 3, true, -1, -1, FetchCmd,
     kRestoresThenServes},
};

}  // namespace

std::span<const Command> CommandTable() { return kCommands; }

}  // namespace wk::apps
