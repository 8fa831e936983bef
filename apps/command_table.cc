// The command table: every command and setting wksp_ctl accepts, in one
// list. A new command gets a row here, a parser in its family's file
// (command_parsers.h), and a description in help.cc and docs/wksp_ctl.md.
#include <span>

#include "apps/command.h"
#include "apps/command_parsers.h"

namespace wk::apps {
namespace {

constexpr OnSignal kRestores = OnSignal::kRestores;
constexpr OnSignal kServes = OnSignal::kServes;

// name, argument names, argument count, prints to stdout, index of a path
// argument meaning stdout when "-" (or -1), the same for stdin, parser,
// what a signal means for it.
constexpr Command kCommands[] = {
    {"help", "", 0, true, -1, -1, Help},
    {"--help", "", 0, true, -1, -1, Help},
    {"-h", "", 0, true, -1, -1, Help},
    {"--version", "", 0, true, -1, -1, Version},
    {"tag", "val", 1, false, -1, -1, SetTag},
    {"--threads", "n", 1, false, -1, -1, SetThreads},
    {"--json", "", 0, false, -1, -1, SetJson},
    {"--text", "", 0, false, -1, -1, SetText},
    {"--part-max", "n", 1, false, -1, -1, SetPartMax},
    {"--durable", "yes|no", 1, false, -1, -1, SetDurable},
    {"--seal", "yes|no", 1, false, -1, -1, SetSeal},
    {"-q", "", 0, false, -1, -1, SetQuiet},
    {"--quiet", "", 0, false, -1, -1, SetQuiet},
    {"--progress", "auto|always|never", 1, false, -1, -1, SetProgress},
    {"--wait", "seconds", 1, false, -1, -1, SetWait},
    {"supported-styles", "", 0, true, -1, -1, SupportedStyles},
    {"list", "", 0, true, -1, -1, List},
    {"new", "wksp page_cnt page_sz cpu_idx_seq mode", 5, false, -1, -1, New},
    {"delete", "wksp", 1, false, -1, -1, Delete},
    {"alloc", "wksp align sz", 3, true, -1, -1, Alloc},
    {"info", "wksp tag", 2, true, -1, -1, Info},
    {"free", "wksp_gaddr", 1, false, -1, -1, Free},
    {"tag-query", "wksp_gaddr", 1, true, -1, -1, TagQuery},
    {"tag-free", "wksp tag", 2, false, -1, -1, TagFree},
    {"memset", "wksp_gaddr c", 2, false, -1, -1, Memset},
    {"check", "wksp", 1, false, -1, -1, Check},
    {"verify", "wksp", 1, false, -1, -1, Verify},
    {"rebuild", "wksp seed|-", 2, false, -1, -1, Rebuild},
    {"reset", "wksp", 1, false, -1, -1, Reset},
    {"usage", "wksp tag", 2, true, -1, -1, UsageCmd},
    {"query", "wksp", 1, true, -1, -1, Query},
    {"checkpt", "wksp path mode style info", 5, false, 1, -1, Checkpt},
    {"checkpt-query", "path verbose", 2, true, -1, 0, CheckptQuery},
    {"checkpt-verify", "path|-", 1, true, -1, 0, CheckptVerify},
    {"restore", "wksp path seed|-", 3, false, -1, 1, Restore, kRestores},
    {"restore-new", "wksp path seed|- page_sz cpu_idx_seq mode", 6, false, -1,
     -1, RestoreNew, kRestores},
    {"--deterministic", "", 0, false, -1, -1, SetDeterministic},
    // Distribution (distrib_commands.h).
    {"--listen", "ip:port", 1, false, -1, -1, Distrib<SetListen>},
    {"--seconds", "s", 1, false, -1, -1, Distrib<SetSeconds>},
    {"--peer", "ip:port", 1, false, -1, -1, Distrib<AddPeer>},
    {"--keep", "file", 1, false, -1, -1, Distrib<SetKeep>},
    {"--seed-after", "", 0, false, -1, -1, Distrib<SetSeedAfter>},
    {"--timeout", "s", 1, false, -1, -1, Distrib<SetTimeout>},
    {"--mem-max", "size", 1, false, -1, -1, Distrib<SetMemMax>},
    {"torrent-create", "file torrent", 2, true, -1, -1, TorrentCreateCmd},
    {"seed", "torrent file", 2, true, -1, -1, SeedCmd, kServes},
    {"fetch", "wksp torrent seed|-", 3, true, -1, -1, FetchCmd, kRestores},
};

}  // namespace

std::span<const Command> CommandTable() { return kCommands; }

}  // namespace wk::apps
