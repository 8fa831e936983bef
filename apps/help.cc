// wksp_ctl's help text; docs/wksp_ctl.md has the long form.
#include "apps/commands.h"

namespace wk::apps {

const char kHelpText[] =
    R"HELP(usage: wksp_ctl CMD [ARGS...] [CMD [ARGS...]] ...

Runs the commands left to right and stops at the first one that fails.
Workspace names (1-39 chars: [A-Za-z0-9] then [A-Za-z0-9_.-]) refer to named
workspaces in $WKSP_SHMEM_ROOT (default /dev/shm) or in a hugetlbfs mount.
An address is written NAME:GADDR (GADDR decimal or 0x hex). Numbers are
decimal or 0x hex; sizes may end in K, M, G or T (powers of 1024).

Settings (apply to the commands after them):
  tag VAL            tag for later allocations (default 1, must be nonzero)
  --threads N        threads for later checkpt/restore (default 0 = all CPUs)
  --json | --text    output of later query, usage, checkpt-query (default text)
  --part-max N       partition slots for later `new` (default 0 = estimate)
  --deterministic    later checkpts are a function of the workspace state
                     and options only (fixed info fields), so hosts holding
                     the same state write byte-identical files
  --listen IP:PORT   address later seed/fetch listen on (port 0 = any;
                     default seed 0.0.0.0:6881, fetch 0.0.0.0:0)
  --peer IP:PORT     add a peer for later fetches (repeat for each peer)
  --timeout S        later fetches fail after S seconds (default 60)
  --keep FILE        later fetches also keep the downloaded file at FILE
  --seed-after       later fetches (with --keep) go on seeding afterwards
  --seconds S        seed / --seed-after for S seconds (default 0 = until
                     SIGINT or SIGTERM)
  --mem-max SIZE     bytes a later fetch without --keep holds at once
                     (default 256M; at least one cgroup frame is allowed)

Commands:
  help               print this text
  supported-styles   print the checkpoint styles this build supports
  new WKSP PAGE_CNT PAGE_SZ CPU_IDX_SEQ MODE
                     create WKSP. PAGE_CNT: a page count, or a byte size with
                     a suffix (64M), rounded up to whole pages. PAGE_SZ:
                     normal|huge|gigantic (or 4K|2M|1G). CPU_IDX_SEQ: e.g.
                     0 or 0-3,8; memory goes near the first CPU's NUMA node.
                     MODE: octal permissions. Slots are sized for 64 KiB
                     allocations unless --part-max says otherwise.
  delete WKSP        remove WKSP's name (joined processes keep it)
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
                     created with octal MODE; "-" = stdout). STYLE: 0 default
                     (= 3), 1 v1 serial, 2 v2 parallel, 3 v3 parallel + LZ4.
                     INFO: free text stored in the file.
  checkpt-query PATH VERBOSE
                     describe a checkpoint; VERBOSE 0..4 (3 adds the usage
                     summary, 4 one line per allocation)
  restore WKSP PATH SEED|-
                     replace WKSP's allocations with the checkpoint's ("-" =
                     stdin); SEED "-" keeps WKSP's seed
  torrent-create FILE TORRENT
                     write the BitTorrent v2 torrent of FILE (deterministic:
                     identical files give identical torrents); prints the
                     info-hash
  seed TORRENT FILE  check FILE against TORRENT, then serve it; prints
                     "seeding IP:PORT INFO_HASH" once serving
  fetch WKSP TORRENT SEED|-
                     download TORRENT's checkpoint from the --peer peers and
                     restore it into WKSP while it downloads (see
                     docs/DISTRIBUTION.md)

checkpt and restore report progress on stderr: a bar on a terminal, and a
summary line "checkpt WKSP: BYTES bytes in S s (R GB/s)".
With PATH "-" for checkpt, no other command of that run may print to stdout.

Exit status: 0 all commands succeeded; 1 a command failed; 2 usage error
(unknown command, missing or malformed argument; nothing after it ran);
3 restore failed after modifying the workspace, which is now empty.
)HELP";

}  // namespace wk::apps
