// wksp_ctl's help text; docs/wksp_ctl.md has the long form.
#include "apps/commands.h"

namespace wk::apps {

const char kShortUsage[] =
    "usage: wksp_ctl [SETTING...] CMD [ARGS...] [[SETTING...] CMD [ARGS...]] "
    "...\n"
    "Try 'wksp_ctl --help' for the commands and settings.\n";

const char kHelpText[] =
    R"HELP(usage: wksp_ctl [SETTING...] CMD [ARGS...] [[SETTING...] CMD [ARGS...]] ...

Runs the commands left to right and stops at the first one that fails. The
whole line is parsed first: an unknown command, a bad argument or a setting
with no command after it anywhere runs nothing (exit status 2). `--` ends
the settings: after it every word is a command or an argument.
Workspace names (1-39 chars: [A-Za-z0-9] then [A-Za-z0-9_.-]) refer to named
workspaces in $WKSP_SHMEM_ROOT (default /dev/shm) or in a hugetlbfs mount.
An address is written NAME:GADDR. Numbers are read as C (and fd_wksp_ctl)
read them: decimal, 0x hex or 0-prefixed octal (010 is 8); sizes may end in
K, M, G or T (powers of 1024), and sizes are printed in the same units
(KiB, MiB, GiB). Relative paths are relative to the directory
wksp_ctl was started from (under `bazel run`, the directory bazel ran in).

Settings (apply to the commands after them):
  tag VAL            tag for later allocations (default 1, must be nonzero)
  --threads N        threads for later checkpt/restore (default 0 = all CPUs)
  --json | --text    output of later commands that print a result: one JSON
                     object per line (docs/wksp_ctl.schema.json) or text
  --part-max N       partition slots for later `new` (default 0 = estimate)
  --durable yes|no   fsync later checkpoints to a path (and their directory)
                     before they appear there (default yes)
  --force            later restore, delete and fetch proceed (with a
                     warning) when other processes map the workspace;
                     without it they refuse
  -q | --quiet       no progress bar or summary line from checkpt/restore
  --progress auto|always|never|numeric
                     progress on stderr: a bar when stderr is a terminal
                     (auto), always, never, or numeric: one number a line
                     (percent done, or bytes when the total is unknown), as
                     `pv -n` prints, and no summary line
  --wait SECONDS     later commands wait at most SECONDS for a workspace
                     lock, then fail (exit 7); default: while the holder lives
  --seal yes|no      later v2/v3 checkpts carry a checksum after every frame
                     (default yes); no writes Firedancer's exact layout, for
                     its stream restore
  --deterministic    later checkpts are a function of the workspace state
                     and options only (fixed info fields), so hosts holding
                     the same state write byte-identical files
  --base PATH|-      later checkpts write a delta against the checkpoint
                     at PATH (a full one or a delta); - = full again
  --delta PATH       add a delta to the chain of the next restore,
                     restore-new, checkpt-verify or checkpt-merge (repeat,
                     in the order they were made)
  --tee PATH         the next checkpt also writes PATH (repeat): one pass,
                     identical outputs; a failed output is named, exit 1
  --listen IP:PORT   address later seed/fetch listen on (port 0 = any;
                     default seed 0.0.0.0:6881, fetch 0.0.0.0:0)
  --tcp-congestion NAME
                     TCP congestion control of later seeds' and fetches'
                     peer connections (e.g. cubic; default: the system's)
  --peer IP:PORT     add a peer for later fetches (repeat for each peer)
  --timeout S        later fetches fail when no new piece arrived for S
                     seconds (default 60)
  --deadline S       later fetches fail when not done within S seconds
                     (default 0 = no bound; seeding after is not counted)
  --no-upload        later fetches never upload (default: they serve the
                     pieces they hold, kept file or memory, while fetching)
  --keep FILE        later fetches also keep the downloaded file at FILE
  --seed-after       later fetches (with --keep) go on seeding afterwards;
                     SIGINT/SIGTERM then ends them with exit status 0
  --seconds S        seed / --seed-after for S seconds (default 0 = until
                     SIGINT or SIGTERM)
  --tracker URL      later seeds and fetches announce to this tracker too
                     (repeat for each; http://HOST:PORT/announce, udp://)
  --hybrid           later torrent-create makes v1+v2 hybrid torrents, for
                     clients that read only v1 (aria2c 1.37 and later;
                     1.36.0's hybrid info-hashes are wrong)
  --v1-only          later torrent-create makes v1-only torrents (BEP 3),
                     the companion for clients that cannot read a hybrid
                     (Debian 12's aria2c 1.36.0); our fetch refuses them
  --companion TORRENT
                     later seeds also serve TORRENT, another torrent of the
                     same file (its v1-only companion), on the same port
                     (repeat for each)
  --mem-max SIZE     bytes a later fetch without --keep holds at once
                     (default 256M; at least one cgroup frame is allowed)
Firedancer's boot flags (--shmem-path DIR, --log-path X, --log-level-* N,
...) are accepted anywhere; see docs/wksp_ctl.md.

Commands:
  help | --help | -h print this text
  --version          print the version
  supported-styles   print the checkpoint styles this build supports
  list               every workspace: name, page size, size, used, lock
                     holder, restore mark, attached processes
  new WKSP PAGE_CNT PAGE_SZ CPU_IDX_SEQ MODE
                     create WKSP. PAGE_CNT: a page count, or a byte size with
                     a suffix (64M), rounded up to whole pages. PAGE_SZ:
                     normal|huge|gigantic (or 4K|2M|1G, or 4096|2097152|
                     1073741824). CPU_IDX_SEQ: e.g. 0, 0-3,8 or 0-6/2;
                     memory goes near the first CPU's NUMA node, which
                     must exist on this machine (later ones that do not
                     get a warning). MODE: octal
                     permissions. Slots are sized for 64 KiB allocations
                     unless --part-max says otherwise.
  delete WKSP        remove WKSP's name (joined processes keep it); refuses
                     a file that is not a workspace, and one that other
                     processes map unless --force
  alloc WKSP ALIGN SZ
                     allocate SZ bytes (ALIGN 0 = 4096, else a power of two)
                     with the current tag; prints WKSP:GADDR
  info WKSP TAG      print "WKSP:GADDR SZ" of the lowest allocation with TAG,
                     or "- 0" if there is none
  free WKSP:GADDR    free the allocation holding that byte
  tag-query WKSP:GADDR
                     print the tag of the allocation holding that byte (0 if
                     none)
  tag-free WKSP TAG  free every allocation with TAG
  memset WKSP:GADDR C
                     fill the allocation holding that byte with byte C
  check WKSP         recover from a process that died holding the lock
  verify WKSP        check all metadata; fails naming the first problem
  rebuild WKSP SEED|-
                     rebuild the metadata from the partition records
  reset WKSP         free every allocation
  usage WKSP TAG     print bytes and partitions: total, used, free, with TAG
  query WKSP         print the geometry, usage and every partition
  checkpt WKSP PATH MODE STYLE INFO
                     write a checkpoint of WKSP to PATH (must not exist;
                     created with octal MODE; "-" = stdout). PATH appears
                     only complete: a failed, interrupted or killed checkpt
                     leaves nothing there. STYLE: 0 default
                     (= 3), 1 v1 serial, 2 v2 parallel, 3 v3 parallel + LZ4.
                     INFO: free text stored in the file (at most 16383 bytes).
  checkpt-query PATH VERBOSE
                     describe a checkpoint ("-" = stdin); VERBOSE 0..4 (0-2
                     as fd_wksp_ctl prints them, 3 adds the usage summary,
                     4 one line per allocation)
  checkpt-verify PATH|-
                     check a checkpoint ("-" = stdin) without a workspace:
                     structure, every seal, every LZ4 block; in parallel
                     with --threads
  restore WKSP PATH SEED|-
                     replace WKSP's allocations with the checkpoint's ("-" =
                     stdin); SEED "-" keeps WKSP's seed. Refuses a workspace
                     other processes map unless --force
  restore-new WKSP PATH SEED|- PAGE_SZ CPU_IDX_SEQ MODE
                     create WKSP with the checkpoint's own geometry on
                     PAGE_SZ pages and restore into it; SEED "-" = the
                     checkpoint's seed
  apply WKSP DELTA   update WKSP in place to DELTA's state, writing only
                     the changed chunks; refused (WKSP untouched) unless
                     WKSP is exactly in DELTA's base state
  checkpt-merge BASE OUT MODE STYLE INFO
                     write the state of the chain BASE, --delta ... as one
                     full checkpoint at OUT (as checkpt would write it)
  torrent-create FILE TORRENT
                     write the BitTorrent v2 torrent of FILE (deterministic:
                     identical files give identical torrents); prints the
                     info-hash (--hybrid: then the v1 one; --v1-only: the
                     v1 one)
  torrent-v1 HYBRID TORRENT
                     write the v1-only companion of the hybrid torrent
                     HYBRID from its SHA-1 piece hashes, without the file
                     (the bytes --v1-only torrent-create gives); prints its
                     info-hash
  seed TORRENT FILE  check FILE against TORRENT (and each --companion),
                     then serve it; prints "seeding IP:PORT INFO_HASH" (then
                     the companions' info-hashes) once serving
  fetch WKSP TORRENT SEED|-
                     download TORRENT's checkpoint from the --peer peers and
                     restore it into WKSP while it downloads (see
                     docs/DISTRIBUTION.md)

checkpt and restore report progress on stderr: a bar on a terminal (one bar
per terminal: in `checkpt - | restore -` one side draws), and a summary line
"checkpt WKSP: BYTES bytes in S s (R GB/s)", with the file size (and for v3
its share of the data) after a checkpt to a file, and, for a 4 KiB-page
workspace whose first page touches took much of the time, what to do.
With PATH "-" for checkpt, no other command of that run may print to stdout.

Exit status: 0 all commands succeeded; 1 a command failed (other reasons);
2 usage error (unknown command, missing or malformed argument);
3 restore failed (or was interrupted) after modifying the workspace, which
is now empty; 4 not found; 5 permission denied; 6 out of space or memory; 7 lock
held (--wait ran out, or the holder waits for us) or timed out; 8 corrupt or
truncated data (checkpoint, workspace); 128+N interrupted by signal N
(SIGHUP 129, SIGINT 130, SIGTERM 143), also while waiting for a lock: the
command in progress was undone (no checkpoint file left, or the workspace
not modified) and nothing after it ran; a second signal kills.
141 stdout was closed by its reader (nothing printed, as for SIGPIPE).
)HELP";

}  // namespace wk::apps
