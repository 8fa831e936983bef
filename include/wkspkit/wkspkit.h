/* wkspkit: shared-memory workspaces with parallel, compressed checkpoint and
 * restore. The C API (C11; also valid C++). docs/LIBRARY.md is the guide:
 * install, link, a tour, the process and thread model, the ABI rule.
 *
 * Conventions, for every function below unless its comment says otherwise:
 *   - It returns a wkspkit_err_t: WKSPKIT_OK (0) on success, else the class
 *     of the failure. The message saying what was wrong and what would fix it
 *     is wkspkit_last_error(), kept per thread until this thread's next call
 *     into the library.
 *   - Out parameters are written only on success; on failure they keep what
 *     the caller put there. A failure changes nothing unless the comment
 *     says what it leaves behind.
 *   - No C++ exception leaves the library: out of memory is reported as
 *     WKSPKIT_ERR_RESOURCE_EXHAUSTED, anything unexpected as
 *     WKSPKIT_ERR_INTERNAL.
 *   - Pointers are borrowed for the duration of the call; nothing the caller
 *     passes is kept, except where noted (progress callbacks run during the
 *     call only).
 *   - Option structs are versioned by their first field, struct_size: fill it
 *     with the matching *_opts_init() (or pass NULL for the defaults), then
 *     change fields. A program built against an older header passes a
 *     smaller struct_size and gets the defaults for the fields it lacks.
 *   - The library reads no environment variable, writes nothing to stdout or
 *     stderr, and installs one signal handler, for SIGBUS, stated at
 *     wkspkit_restore() (wkspkit_set_sigbus_guard() opts out).
 *
 * Threads: a workspace handle may be used by any number of threads at once,
 * except wkspkit_leave(), which must be the last call on it. Any number of
 * processes may join the same named workspace; each gets its own handle and
 * its own local addresses, and global addresses (gaddrs) mean the same in
 * all of them and in a checkpoint.
 */
#ifndef WKSPKIT_WKSPKIT_H_
#define WKSPKIT_WKSPKIT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. wkspkit_version() says which library runs.
 * The shared library's SONAME is libwkspkit.so.<MAJOR>; see docs/LIBRARY.md
 * for what changes the major number. */
#define WKSPKIT_VERSION_MAJOR 0
#define WKSPKIT_VERSION_MINOR 9
#define WKSPKIT_VERSION_PATCH 0

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* The class of a failure. Stable: a value never changes meaning and new
 * classes are only ever added (an unknown value is to be treated as
 * WKSPKIT_ERR_INTERNAL). */
typedef enum wkspkit_err {
  WKSPKIT_OK = 0,
  /* A bad argument: NULL where a value is needed, an invalid name, a size of
   * 0 or too large, an alignment that is not a power of two, an unknown
   * style, a descriptor that is not open, a handle that is not a live
   * workspace handle. */
  WKSPKIT_ERR_INVALID_ARGUMENT = 1,
  /* No such workspace, checkpoint file, allocation or hugetlbfs mount. */
  WKSPKIT_ERR_NOT_FOUND = 2,
  /* The workspace name or checkpoint path is taken. */
  WKSPKIT_ERR_ALREADY_EXISTS = 3,
  WKSPKIT_ERR_PERMISSION_DENIED = 4,
  /* Out of space or memory: the workspace has no free partition that fits or
   * no partition slot left; a checkpoint does not fit the target; a file
   * system or /dev/shm is full; out of memory. */
  WKSPKIT_ERR_RESOURCE_EXHAUSTED = 5,
  /* The call is not valid in the current state: a read-only join asked to
   * change something, this thread holds the workspace lock, an allocation
   * of a checkpoint lies outside the target's data region. */
  WKSPKIT_ERR_FAILED_PRECONDITION = 6,
  /* Corrupt or truncated input: a file that is not a checkpoint or is
   * damaged, a workspace flagged corrupt or left marked by an interrupted
   * restore (the message says what to do). */
  WKSPKIT_ERR_DATA_LOSS = 7,
  /* Stopped by wkspkit_request_cancel(). */
  WKSPKIT_ERR_CANCELLED = 8,
  /* The workspace lock is held by another process and could not be taken
   * (given up on, or held in another pid namespace); retry later. */
  WKSPKIT_ERR_BUSY = 9,
  /* The system refused an operation for another reason (an I/O error). */
  WKSPKIT_ERR_IO = 10,
  /* Not supported on this system or build. */
  WKSPKIT_ERR_UNSUPPORTED = 11,
  /* A bug or an unexpected condition; the message says what. */
  WKSPKIT_ERR_INTERNAL = 12
} wkspkit_err_t;

/* A short constant name of `err` ("WKSPKIT_ERR_NOT_FOUND"); "unknown error"
 * for a value this library does not know. Never NULL; never freed. */
const char *wkspkit_err_name(wkspkit_err_t err);

/* The message of this thread's last failed call ("" after a success or
 * before any call). Owned by the library; valid until this thread's next
 * call into the library. Never NULL. At most 2047 bytes: a longer message
 * is cut and ends in "...". */
const char *wkspkit_last_error(void);

/* The code of this thread's last call (WKSPKIT_OK after a success). */
wkspkit_err_t wkspkit_last_error_code(void);

/* Nonzero when this thread's last call was a restore that failed after it
 * had started writing into the workspace, and so reset the workspace to
 * empty (no allocations). Zero after any other call. */
int wkspkit_last_error_wksp_reset(void);

/* "MAJOR.MINOR.PATCH" of the library that runs. Never NULL. */
const char *wkspkit_version(void);

/* ------------------------------------------------------------------------ */
/* Cancellation                                                              */

/* Asks every checkpoint, restore and verification in this process to stop:
 * from now on they fail with WKSPKIT_ERR_CANCELLED at their next read,
 * write or frame, through their ordinary error path (a checkpoint to a path
 * leaves nothing at the path; a restore resets its workspace). Meant for a
 * program's own SIGINT/SIGTERM handler: async-signal-safe (one atomic
 * store). Process-wide and one-way: there is no un-cancel; a process that
 * must go on working afterwards stops single calls through their options'
 * `cancel` flag instead (wkspkit_checkpt_opts_t, wkspkit_restore_opts_t).
 * `signo` > 0 is the signal to report ("interrupted by SIGINT"); the first
 * request wins. */
void wkspkit_request_cancel(int signo);

/* The signal of the first wkspkit_request_cancel(), or 0. */
int wkspkit_cancel_signal(void);

/* ------------------------------------------------------------------------ */
/* Workspaces                                                                */

/* A join of a workspace: its mapping in this process. Opaque. */
typedef struct wkspkit_wksp wkspkit_wksp_t;

/* Sets, for this whole process, the directory that holds named workspaces
 * of normal pages: `dir`, or /dev/shm for NULL or "" (the default). Huge and
 * gigantic pages always live in a hugetlbfs mount of that page size, found
 * in /proc/mounts. A program that wants an environment variable to choose it
 * (wksp_ctl reads WKSP_SHMEM_ROOT) reads it and calls this. Call it before
 * creating, joining or deleting workspaces, not while another thread does;
 * existing joins are unaffected. The directory must exist when used, not
 * now. INVALID_ARGUMENT for a relative path. */
wkspkit_err_t wkspkit_set_shmem_root(const char *dir);

/* Page sizes, in bytes. */
#define WKSPKIT_PAGE_NORMAL ((uint64_t)4096)         /* /dev/shm */
#define WKSPKIT_PAGE_HUGE ((uint64_t)2097152)        /* 2 MiB hugetlbfs */
#define WKSPKIT_PAGE_GIGANTIC ((uint64_t)1073741824) /* 1 GiB hugetlbfs */

/* Longest workspace name. A name is 1 to 39 characters, the first in
 * [A-Za-z0-9], the rest in [A-Za-z0-9_.-]. */
#define WKSPKIT_NAME_MAX 39

typedef struct wkspkit_create_opts {
  uint32_t struct_size; /* sizeof(wkspkit_create_opts_t) */
  uint64_t page_size;   /* WKSPKIT_PAGE_*; default normal */
  uint32_t seed;        /* allocator priorities; default 0 */
  uint32_t mode;        /* exact permission bits of a named one; 0600 */
  int32_t cpu_idx;      /* >= 0: memory near this CPU's NUMA node; -1 */
} wkspkit_create_opts_t;

/* Fills *opts with the defaults above. */
void wkspkit_create_opts_init(wkspkit_create_opts_t *opts);

/* The bytes of memory a workspace with part_max partition slots (each
 * allocation takes one, plus up to two for the free gaps around it) and
 * data_max data bytes takes. INVALID_ARGUMENT when part_max is not in
 * [1, 2^32-1], data_max is 0 or the sum overflows. */
wkspkit_err_t wkspkit_footprint(uint64_t part_max, uint64_t data_max,
                                uint64_t *out_footprint);

/* The largest part_max such that part_max allocations of sz_typical bytes
 * fit in `footprint` bytes; 0 if none fits. Never fails. */
uint64_t wkspkit_part_max_est(uint64_t footprint, uint64_t sz_typical);

/* The largest data_max that fits `footprint` with part_max slots; 0 if
 * none. Never fails. */
uint64_t wkspkit_data_max_est(uint64_t footprint, uint64_t part_max);

/* Creates the named workspace `name` with one free partition covering its
 * data region and joins it read-write; *out receives the handle, which the
 * caller owns and ends with wkspkit_leave(). ALREADY_EXISTS when the name
 * is taken. On failure nothing is left behind (no file, no mapping). The
 * workspace lives until wkspkit_delete() and the last join are gone. */
wkspkit_err_t wkspkit_create(const char *name, uint64_t part_max,
                             uint64_t data_max,
                             const wkspkit_create_opts_t *opts,
                             wkspkit_wksp_t **out);

/* Same, in anonymous shared memory: no name in the file system (`name` must
 * still be valid; it is recorded in checkpoints), shared with children
 * forked afterwards, gone when the last mapping is. opts->mode is
 * ignored. */
wkspkit_err_t wkspkit_create_anonymous(const char *name, uint64_t part_max,
                                       uint64_t data_max,
                                       const wkspkit_create_opts_t *opts,
                                       wkspkit_wksp_t **out);

typedef struct wkspkit_join_opts {
  uint32_t struct_size; /* sizeof(wkspkit_join_opts_t) */
  /* Nonzero: map read-only. Memory and wkspkit_info() can be read; every
   * call that changes the workspace fails with FAILED_PRECONDITION. */
  int read_only;
} wkspkit_join_opts_t;

void wkspkit_join_opts_init(wkspkit_join_opts_t *opts);

/* Joins the existing named workspace `name` (searched under normal, huge,
 * then gigantic pages); *out receives a handle the caller owns. NOT_FOUND
 * when there is none; DATA_LOSS when the region is not a workspace. A
 * workspace left marked by an interrupted restore can be joined (to reset
 * or restore it): see wkspkit_restore_mark(). */
wkspkit_err_t wkspkit_join(const char *name, const wkspkit_join_opts_t *opts,
                           wkspkit_wksp_t **out);

/* Unmaps the workspace from this process and frees the handle; NULL is
 * allowed and does nothing. Every local address of this join becomes
 * invalid; the workspace and other joins are unaffected. The caller must
 * not use `w` afterwards, nor call this while another thread uses it.
 * Nothing to report: the mapping always goes. */
void wkspkit_leave(wkspkit_wksp_t *w);

/* Removes the name of workspace `name` (searched as wkspkit_join does).
 * Existing joins keep working; the memory goes with the last of them.
 * NOT_FOUND when there is no such workspace. */
wkspkit_err_t wkspkit_delete(const char *name);

/* What a workspace is. */
typedef struct wkspkit_info {
  char name[WKSPKIT_NAME_MAX + 1];
  uint32_t seed;      /* changes on reset and restore */
  uint64_t part_max;  /* partition slots */
  uint64_t data_max;  /* bytes of the data region */
  uint64_t gaddr_lo;  /* first gaddr of the data region */
  uint64_t gaddr_hi;  /* one past its last */
  uint64_t footprint; /* bytes mapped */
  uint64_t page_size; /* WKSPKIT_PAGE_* */
  int read_only;      /* this join is read-only */
} wkspkit_info_t;

/* Fills *out. Works on any join (read-only included); takes no lock. */
wkspkit_err_t wkspkit_info(const wkspkit_wksp_t *w, wkspkit_info_t *out);

/* The local address, in this process, of global address `gaddr`; NULL for a
 * NULL handle, gaddr 0 or one outside [gaddr_lo, gaddr_hi] (gaddr_hi is
 * included so that a range [lo, hi) maps to [laddr(lo), laddr(hi))). Takes
 * no lock and sets no error: a translation, not a call that can fail. */
void *wkspkit_laddr(const wkspkit_wksp_t *w, uint64_t gaddr);

/* The inverse: the gaddr of local address `laddr` in this join, or 0 for
 * NULL or an address outside the data region. Sets no error. */
uint64_t wkspkit_gaddr(const wkspkit_wksp_t *w, const void *laddr);

/* Default allocation alignment (align 0). */
#define WKSPKIT_ALIGN_DEFAULT ((uint64_t)4096)

/* Allocates `sz` bytes (> 0) aligned to `align` (0: the default; else a
 * power of two) with tag `tag` (!= 0: tags name what an allocation is for;
 * wkspkit_tag_free frees all of one kind); *out_gaddr receives its global
 * address. The bytes are whatever the workspace held there (a new workspace
 * holds zeros). RESOURCE_EXHAUSTED when no free partition fits or no slot is
 * left; the workspace is then unchanged. */
wkspkit_err_t wkspkit_alloc(wkspkit_wksp_t *w, uint64_t align, uint64_t sz,
                            uint64_t tag, uint64_t *out_gaddr);

/* Frees the allocation containing `gaddr` (any byte of it). NOT_FOUND when
 * none does (e.g. a double free); nothing is changed then. */
wkspkit_err_t wkspkit_free(wkspkit_wksp_t *w, uint64_t gaddr);

/* *out_tag receives the tag of the allocation containing `gaddr`, or 0 when
 * none does (not an error). */
wkspkit_err_t wkspkit_tag(wkspkit_wksp_t *w, uint64_t gaddr, uint64_t *out_tag);

/* One partition: [lo, hi) with its tag (nonzero for an allocation). */
typedef struct wkspkit_partition {
  uint64_t lo, hi, tag;
} wkspkit_partition_t;

/* The allocations whose tag is one of tags[0..tag_cnt), ascending by
 * address: writes the first min(count, out_max) to out[] (out may be NULL
 * when out_max is 0) and the full count to *out_cnt, so a caller can size
 * its array with a first call. One consistent snapshot per call. */
wkspkit_err_t wkspkit_tag_query(wkspkit_wksp_t *w, const uint64_t *tags,
                                size_t tag_cnt, wkspkit_partition_t *out,
                                size_t out_max, size_t *out_cnt);

/* Frees every allocation whose tag is one of tags[0..tag_cnt) in one locked
 * step; *out_freed (may be NULL) receives how many. */
wkspkit_err_t wkspkit_tag_free(wkspkit_wksp_t *w, const uint64_t *tags,
                               size_t tag_cnt, uint64_t *out_freed);

/* Fills every byte of the allocation containing `gaddr` with `c`. NOT_FOUND
 * when none contains it. */
wkspkit_err_t wkspkit_memset(wkspkit_wksp_t *w, uint64_t gaddr, int c);

typedef struct wkspkit_usage {
  uint64_t total_max;           /* part_max */
  uint64_t total_cnt, total_sz; /* partitions, free and used */
  uint64_t free_cnt, free_sz;
  uint64_t used_cnt, used_sz;
  uint64_t tagged_cnt, tagged_sz; /* used, with a tag in the query */
  uint64_t largest_free;          /* bytes of the largest free one */
} wkspkit_usage_t;

/* Partition counts and sizes; tagged_* count the allocations whose tag is
 * one of tags[0..tag_cnt) (tags may be NULL when tag_cnt is 0). */
wkspkit_err_t wkspkit_usage(wkspkit_wksp_t *w, const uint64_t *tags,
                            size_t tag_cnt, wkspkit_usage_t *out);

/* Frees everything: the data region becomes one free partition, priorities
 * come from `seed`, a corrupt flag or restore mark is cleared. */
wkspkit_err_t wkspkit_reset(wkspkit_wksp_t *w, uint32_t seed);

/* A full check of the workspace's metadata; DATA_LOSS saying what is wrong
 * (or naming an interrupted restore). Changes nothing. */
wkspkit_err_t wkspkit_verify(wkspkit_wksp_t *w);

/* Who holds a workspace's lock. Ids are those of the holder's pid
 * namespace. */
typedef struct wkspkit_lock_holder {
  uint32_t tid, pid;
  uint32_t pid_ns;       /* inode of its pid namespace, 0 unknown */
  int same_pid_ns;       /* that namespace is this process's */
  int64_t since_unix_ns; /* when it took the lock */
  /* WKSPKIT_LIVENESS_*: a dead holder's lock is taken over by the next
   * caller, which then verifies and if needed rebuilds the metadata. */
  int liveness;
  char cmd[16]; /* its /proc/PID/comm, "" when not visible */
} wkspkit_lock_holder_t;

#define WKSPKIT_LIVENESS_ALIVE 0
#define WKSPKIT_LIVENESS_DEAD 1
#define WKSPKIT_LIVENESS_UNKNOWN 2 /* another pid namespace: never taken */

/* Without taking the lock: *out_held receives 1 and *out the holder when the
 * lock is held, else 0 (and *out untouched). Works on a read-only join. A
 * snapshot: the holder may change at once. */
wkspkit_err_t wkspkit_lock_holder(const wkspkit_wksp_t *w,
                                  wkspkit_lock_holder_t *out, int *out_held);

/* A restore that started writing into the workspace and has not finished. */
typedef struct wkspkit_restore_mark {
  uint32_t pid; /* the restorer, in its own pid namespace */
  uint32_t pid_ns;
  int same_pid_ns;
  int64_t since_unix_s; /* when it started writing */
  /* 1: the restorer still holds the lock and is working; 0: it died before
   * finishing: the workspace is (or, at the next lock, will be) reset to
   * empty, and allocator calls fail with DATA_LOSS until wkspkit_reset() or
   * a successful restore. */
  int in_progress;
} wkspkit_restore_mark_t;

/* Without taking the lock: *out_marked receives 1 and *out the mark when
 * the workspace carries a restore mark, else 0. Works on a read-only
 * join. */
wkspkit_err_t wkspkit_restore_mark(const wkspkit_wksp_t *w,
                                   wkspkit_restore_mark_t *out,
                                   int *out_marked);

/* ------------------------------------------------------------------------ */
/* Checkpoint and restore                                                    */

/* Called as data moves: `done` bytes of allocation data of `total` (0 when
 * not known in advance: a restore from a pipe). Called from one thread at a
 * time (possibly a worker thread of the library), never concurrently with
 * itself, at least every few MiB per thread and once at the end with
 * done == total when known; `done` never decreases. Should return quickly:
 * the thread that calls it waits. Must not call into this library on the
 * same workspace. */
typedef void (*wkspkit_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Checkpoint styles, byte-compatible with Firedancer's fd_wksp styles. */
#define WKSPKIT_STYLE_DEFAULT 0 /* currently v3 */
#define WKSPKIT_STYLE_V1 1      /* one serial stream */
#define WKSPKIT_STYLE_V2 2      /* parallel frames, raw */
#define WKSPKIT_STYLE_V3 3      /* parallel frames, LZ4 */

/* Longest uinfo text stored; a longer one is refused (INVALID_ARGUMENT). */
#define WKSPKIT_UINFO_MAX 16383

typedef struct wkspkit_checkpt_opts {
  uint32_t struct_size; /* sizeof(wkspkit_checkpt_opts_t) */
  int style;            /* WKSPKIT_STYLE_*; default WKSPKIT_STYLE_DEFAULT */
  uint32_t mode;        /* permission bits of the file; 0600 */
  const char *uinfo;    /* free text stored in the file; NULL: "" */
  uint32_t threads;     /* 0: every CPU this process may use; default 1 */
  /* To a path: fsync the file and its directory before returning OK, so the
   * checkpoint survives a machine crash. Default 1. */
  int durable;
  /* The file becomes a function of the workspace's state, style, mode and
   * uinfo only (wallclock, host and ids fixed), so that hosts holding the
   * same state write identical files. Default 0. */
  int deterministic;
  /* v2/v3: a checksummed seal record after every frame (Firedancer's
   * restore from a path skips them). 0 writes Firedancer's compact layout,
   * e.g. for a stream into Firedancer's stream restore. Default 1. */
  int sealed;
  wkspkit_progress_fn progress; /* optional */
  void *progress_arg;           /* passed to progress */
  /* Sealed v2/v3 to a path: also write PATH.wkspidx, a small index of the
   * state (16 bytes per 64 KiB) that incremental checkpoints against this
   * file read instead of the file. A failure to write it does not fail the
   * checkpoint. Remove it with the checkpoint. Default 1. */
  int index;
  /* Optional: this call's own stop flag. Setting *cancel nonzero (from any
   * thread, with an atomic store such as C11 atomic_store on an atomic_int
   * or __atomic_store_n, or from a signal handler) stops this call only,
   * at its next read, write or frame, as wkspkit_request_cancel() stops
   * every call: CANCELLED, nothing left at the path. Must stay valid until
   * the call returns. NULL (the default): none. */
  const int *cancel;
} wkspkit_checkpt_opts_t;

void wkspkit_checkpt_opts_init(wkspkit_checkpt_opts_t *opts);

/* Writes a checkpoint of every allocation of `w` to the new file `path`,
 * holding the workspace lock throughout (a consistent snapshot; other users
 * wait). The file appears at `path` only complete: ALREADY_EXISTS if
 * something is there (never replaced); on any failure, cancellation or kill
 * nothing is left at `path`. The workspace is never changed. DATA_LOSS for
 * a workspace carrying a restore mark (its checkpoint would hold nothing). */
wkspkit_err_t wkspkit_checkpt(wkspkit_wksp_t *w, const char *path,
                              const wkspkit_checkpt_opts_t *opts);

/* Same, to descriptor `fd` (a pipe, socket or file at its current position)
 * in one pass; the caller keeps owning `fd`. On failure what was written
 * stays written but is never a complete checkpoint (the footer every reader
 * requires comes last). `durable` is ignored: syncing is the caller's. */
wkspkit_err_t wkspkit_checkpt_fd(wkspkit_wksp_t *w, int fd,
                                 const wkspkit_checkpt_opts_t *opts);

typedef struct wkspkit_restore_opts {
  uint32_t struct_size; /* sizeof(wkspkit_restore_opts_t) */
  int set_seed;         /* nonzero: rebuild with `seed`; 0: keep the target's */
  uint32_t seed;
  uint32_t threads; /* 0: every CPU; default 1 */
  wkspkit_progress_fn progress;
  void *progress_arg;
  /* Optional: this call's own stop flag, as wkspkit_checkpt_opts_t.cancel.
   * A restore it stops before writing leaves the workspace untouched; one
   * it stops while writing resets it, like any failure found then. NULL
   * (the default): none. */
  const int *cancel;
} wkspkit_restore_opts_t;

void wkspkit_restore_opts_init(wkspkit_restore_opts_t *opts);

/* Replaces every allocation of `w` with those of the checkpoint at `path`,
 * at the same gaddrs. The target may differ from the source in size and
 * page size; it must hold every allocation in its data region and have the
 * slots for them. Failures found before writing (not a checkpoint, damaged
 * header, does not fit: DATA_LOSS, RESOURCE_EXHAUSTED, FAILED_PRECONDITION)
 * leave `w` untouched; a failure found while writing (a corrupt block, a
 * file truncated meanwhile, a cancellation) resets `w` to empty and
 * wkspkit_last_error_wksp_reset() then says so. A process killed during the
 * restore leaves `w` marked (wkspkit_restore_mark). Nothing is ever written
 * outside the data region of `w`, whatever the file holds.
 *
 * SIGBUS: a v2/v3 file is read through a mapping, and a file truncated
 * meanwhile would raise SIGBUS. So that this is an error rather than a
 * crash, the first restore, verification or preview of such a file in the
 * process installs a process-wide SIGBUS handler that answers faults inside
 * checkpoint mappings and passes every other SIGBUS to the handler installed
 * before it (or the default action). A program that installs its own SIGBUS
 * handler afterwards must chain to the one it replaces, or opt out with
 * wkspkit_set_sigbus_guard(0) before its first restore. */
wkspkit_err_t wkspkit_restore(wkspkit_wksp_t *w, const char *path,
                              const wkspkit_restore_opts_t *opts);

/* Whether restores and verifications of mapped v2/v3 files use the SIGBUS
 * handler described at wkspkit_restore(): nonzero (the default) installs it
 * on first need; 0 keeps the library from installing it (and from relying
 * on one installed before), and a checkpoint file truncated while it is
 * read may then kill the process by SIGBUS. Process-wide; affects reads
 * started afterwards. Never fails. */
void wkspkit_set_sigbus_guard(int enabled);

/* Same, reading descriptor `fd` (a pipe, stdin, a file at its current
 * position) in one pass; the caller keeps owning `fd`. Only the header can
 * be checked before writing starts, so most failures reset `w`. */
wkspkit_err_t wkspkit_restore_fd(wkspkit_wksp_t *w, int fd,
                                 const wkspkit_restore_opts_t *opts);

/* What the first bytes of a checkpoint say: enough to create a workspace to
 * restore it into. */
typedef struct wkspkit_preview {
  int style; /* WKSPKIT_STYLE_V1, _V2 or _V3 */
  uint32_t seed;
  uint64_t part_max;
  uint64_t data_max;
  char name[WKSPKIT_NAME_MAX + 1];
} wkspkit_preview_t;

/* Reads the start of the checkpoint at `path` ("-": stdin). NOT_FOUND for a
 * missing file; DATA_LOSS for one that is not a checkpoint. */
wkspkit_err_t wkspkit_preview(const char *path, wkspkit_preview_t *out);

typedef struct wkspkit_verify_report {
  int style;           /* WKSPKIT_STYLE_V1, _V2 or _V3 */
  int sealed;          /* every frame carried a matching seal */
  uint64_t allocs;     /* allocations */
  uint64_t data_bytes; /* their bytes */
  uint64_t file_bytes; /* checkpoint bytes verified */
} wkspkit_verify_report_t;

/* Reads the whole checkpoint at `path` and checks all that a restore would
 * check short of fitting a target (structure, every range, every seal),
 * with `threads` threads (0: every CPU). OK means a restore into a large
 * enough workspace succeeds, unless the file changes meanwhile. `out` may be
 * NULL. DATA_LOSS naming the first problem otherwise. */
wkspkit_err_t wkspkit_verify_checkpt(const char *path, uint32_t threads,
                                     wkspkit_verify_report_t *out);

/* Same from descriptor `fd`: a regular file at offset 0 as a path, anything
 * else (a pipe) as a stream read once. The caller keeps owning `fd`. */
wkspkit_err_t wkspkit_verify_checkpt_fd(int fd, uint32_t threads,
                                        wkspkit_verify_report_t *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WKSPKIT_WKSPKIT_H_ */
