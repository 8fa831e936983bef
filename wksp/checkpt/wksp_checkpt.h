// Workspace checkpoint and restore, styles v1, v2 and v3, byte-compatible
// with Firedancer's (docs/CHECKPOINT_FORMAT.md): preview and print too.
//
// Checkpoint. Writes every allocation (gaddr range, tag, bytes) and a record
// of where and when it was made. The workspace lock is held throughout, so
// the file is a consistent snapshot; other users of the workspace wait.
//   v1: one serial stream of variable-width integers and raw bytes.
//   v2: frames (header, info, cgroups, appendix, volumes, footer) laid out so
//       that any number of threads can write and restore them; RAW frames.
//   v3: v2 with LZ4 frames (stored as style 2, frame_style_compressed 2).
// The cgroup frames of v2 and v3 are identical whatever thread count wrote
// them. To a path, the file is written unnamed in the path's directory
// (O_TMPFILE; where unsupported, a temporary named
// ".<base>.wkspckpt-tmp.<pid>.<n>") and appears at the path, with exactly
// `mode`, only once complete (io/pending_file.h): an existing file is never
// replaced (AlreadyExists, checked first and again at the end), a failure,
// a cancellation (util/cancel.h) or a kill at any instant leaves nothing at
// the path. With `durable` the file and its directory are fsynced before
// Checkpt returns OK, so the checkpoint survives a crash of the machine.
// To a descriptor (pipe, socket, stdout, or a file at its current position)
// the checkpoint is written in a single pass; on failure what was written
// stays written (the caller owns the descriptor) but it is never a complete
// checkpoint: the footer, which every reader requires, is written last.
//
// Restore. Replaces every allocation of the target workspace with those of
// the checkpoint, at the same global addresses, then rebuilds the target's
// metadata with the given seed (default: the target's current seed). The
// target may differ from the source in size, page size and placement: it
// must hold every allocation in its data region and have enough partition
// slots (one per allocation and one per free gap between them).
//   - Whatever can be checked before the workspace is modified is checked
//     first (header, footer, appendix, counts, every range, the fit): such
//     a failure leaves the workspace untouched.
//   - A failure found after the workspace was modified (a corrupt LZ4 block,
//     a truncated stream read from a pipe) resets the workspace to empty;
//     IsWorkspaceReset(status) is then true.
//   - Nothing is ever written outside the target's data region and no input
//     can make the process crash or allocate without bound.
// A v2/v3 file is scanned through a mapping (metadata only), then
// `threads` threads pulling cgroups from a shared queue pread each frame's
// data straight into the workspace. A file truncated or rewritten during
// the restore fails it (reset if the workspace was touched), never SIGBUS.
//
// SIGBUS. Reading a mapped file past an end that moved raises SIGBUS. So
// that a truncated checkpoint is an error rather than a crash, Restore,
// VerifyCheckpt and DescribeCheckpt/PrintCheckpt/CheckptAllocations of a
// v2/v3 file install, on first use, a process-wide SIGBUS handler
// (io/shrink_guard.h) that answers faults inside the checkpoint's mapping
// and passes every other SIGBUS to the handler installed before it (or the
// default action). A program that installs its own SIGBUS handler later
// must chain to the previous one, or opt out with SetSigbusGuard(false)
// before its first restore: a file truncated while it is read may then kill
// the process by SIGBUS.
// Descriptors (pipes, stdin) are read in a
// single pass, with a read-ahead thread; there only the header and info can
// be checked before the first allocation is written, so most failures of a
// stream restore reset the workspace. A v1 file (seekable) is pre-scanned,
// then its records are read by `threads` threads (positional reads).
//
// Thread counts: 0 means every CPU this process may use. Any count may
// write a checkpoint that any other count restores.
//
// Memory: bounded whatever the workspace size. A v3 checkpoint with several
// threads buffers up to one cgroup frame per thread so frames can be
// compressed ahead of their turn (at most 64 MiB per thread, 512 MiB in
// all); other paths use a few MiB. A restore holds per allocation in the
// checkpoint at most 56 bytes from a v2/v3 file (the scan's 24-byte
// record, then its sorted copy for the fit check or the final rebuild's
// list of 28), 64 from a v1 file (records and their file offsets, in lists
// that grow as the pre-scan finds them, freed before the rebuild) and
// 32 from a stream (the rebuild's list; records of the cgroup at hand
// otherwise), plus 4 bytes per partition slot of the target during the
// rebuild (restore_memory_test measures it). A file's claimed count is
// checked first: never more than the target's part_max, and never more
// records than 6 x the file's size, however many allocations it claims.
#ifndef WKSPKIT_WKSP_CHECKPT_WKSP_CHECKPT_H_
#define WKSPKIT_WKSP_CHECKPT_WKSP_CHECKPT_H_

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {

// Reports progress: bytes of allocation data done so far, of `total` (0 when
// not known in advance: a restore from a pipe or other stream). Called as
// the data moves, inside large allocations too: by each thread at least
// every checkpt::kCountStep (1 MiB; v1: 4 MiB) of data it moved, and at the
// end of each frame; and once at the end with done == total (when known). `done` never
// decreases. Called from one thread at a time, possibly a worker thread,
// never concurrently with itself; a worker that finds another one reporting
// skips its report, so the callback should return quickly (it holds up
// only the thread that calls it).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// Checkpoint styles as callers ask for them, numbered as on the command line
// (wksp_ctl checkpt). A file stores v3 as style 2 with LZ4 frames; v1 and v2
// as themselves (Preview shows the stored numbers).
enum class Style : int { kDefault = 0, kV1 = 1, kV2 = 2, kV3 = 3 };

// What kDefault writes.
inline constexpr Style kDefaultStyle = Style::kV3;

// Every style this build writes and reads, in number order (LZ4 is always
// built in).
inline constexpr Style kStyles[] = {Style::kDefault, Style::kV1, Style::kV2,
                                    Style::kV3};
bool StyleIsSupported(Style style);

// The style numbered `number`, or nullopt when none is.
std::optional<Style> StyleFromNumber(uint64_t number);
int StyleNumber(Style style);

// The longest info text (CheckptOptions::uinfo) a checkpoint stores, in
// bytes; a longer one is cut to this (callers should refuse it instead).
inline constexpr size_t kUinfoMaxLen = 16383;

struct CheckptOptions {
  Style style = Style::kDefault;
  mode_t mode = 0600;   // permission bits of a created file
  std::string uinfo;    // free text stored in the checkpoint
  size_t threads = 1;   // 0 = all CPUs
  ProgressFn progress;  // optional
  // Checkpt to a path: fsync the file and its directory before publishing
  // it (docs/wksp_ctl.md, --durable). Descriptors are the caller's to sync.
  bool durable = true;
  // The whole file becomes a function of the workspace's state (name, seed,
  // part_max, data_max, allocations) and of style, mode and uinfo, so that
  // hosts holding the same state write byte-identical files (to share them,
  // docs/DISTRIBUTION.md). The run-dependent info fields take the fixed
  // values kDeterministic* below: wallclock and every id 0, the strings as
  // listed, path kDeterministicPath whatever path is written; binfo names the
  // LZ4 library version for v3 (its compressed bytes depend on it) and
  // nothing build-dependent otherwise.
  bool deterministic = false;
  // v2/v3: a seal record (range + XXH3-128 checksum) after every frame, in
  // the gaps Firedancer's restore from a path skips (CHECKPOINT_FORMAT.md
  // §4.10). false writes Firedancer's exact compact layout, e.g. for a
  // stream piped into Firedancer, whose stream restore takes no gaps. v1
  // ignores it.
  bool sealed = true;
  // Sealed v2/v3 to a path: also write the chunk-digest index of the state
  // written in the sidecar PATH.wkspidx (CHECKPOINT_FORMAT.md §9.2), so that
  // deltas against this file read it instead of the file. Its digests are
  // computed from the bytes as the writer takes them in (no second pass
  // over the workspace); the file's bytes are the same with or without it. A failure to write the
  // sidecar does not fail the checkpoint (a base without one is read once).
  bool index = true;
  // Non-empty: write a delta (incremental checkpoint, §9) against the
  // checkpoint at this path (a full checkpoint, or a delta): the complete
  // allocation table and index of the state, and only the 64 KiB chunks
  // whose digest the base's index does not have. Styles v2 (RAW) and v3
  // (LZ4, default); always sealed and deterministic (no time, host or path
  // is stored); to a path only. `uinfo` and `deterministic` do not apply.
  std::string base;
};

// The info fields of a deterministic checkpoint (CheckptOptions).
inline constexpr char kDeterministicApp[] = "wkspkit";
inline constexpr char kDeterministicLogStr[] =
    "-";  // thread host cpu group user
inline constexpr char kDeterministicPath[] = "-";

struct RestoreOptions {
  std::optional<uint32_t> seed;  // none: keep the target's current seed
  size_t threads = 1;            // 0 = all CPUs
  ProgressFn progress;           // optional
};

// Whether readers of mapped checkpoints install and use the SIGBUS handler
// described above (default true). Affects readers started afterwards.
void SetSigbusGuard(bool enabled);

absl::Status Checkpt(wksp::Wksp& wksp, const std::string& path,
                     const CheckptOptions& options);
absl::Status CheckptFd(wksp::Wksp& wksp, int fd, const CheckptOptions& options);

absl::Status Restore(wksp::Wksp& wksp, const std::string& path,
                     const RestoreOptions& options);
absl::Status RestoreFd(wksp::Wksp& wksp, int fd, const RestoreOptions& options);

// True for a restore failure that happened after the workspace was modified:
// the workspace was then reset to empty (no allocations).
bool IsWorkspaceReset(const absl::Status& status);

// What the first bytes of a checkpoint say (CHECKPOINT_FORMAT.md §5).
struct Preview {
  Style style = Style::kV1;  // kV1, kV2 or kV3, as the file says
  // The numbers the file stores, which checkpt-query prints as Firedancer
  // does: its style (1 or 2; v3 is 2) and frame_style_compressed (0 for v1,
  // which has no frames; 1 RAW, 2 LZ4).
  int stored_style = 1;
  int stored_frame_style = 0;
  uint32_t seed = 0;
  uint64_t part_max = 0;
  uint64_t data_max = 0;
  std::string name;
};

// Queries below take a path; "-" means stdin, and a path that is not a
// regular file (a pipe, /dev/stdin) is read once, in a single pass, into an
// anonymous memory file: its first 1 MiB for Preview and verbose 0-2, the
// whole stream for verbose 3-4 (memory: the checkpoint's size). Errors
// name `path` as given.

// Reads at most the first 165 bytes of `path`. Not a checkpoint: DataLoss.
absl::StatusOr<Preview> PreviewCheckpt(const std::string& path);

// Everything checkpt-query reports about a checkpoint, as values.
struct CheckptDescription {
  Preview preview;
  // Verbose >= 1: the info record, where, when and by whom it was made.
  bool has_info = false;
  uint64_t magic = 0;
  int64_t wallclock = 0;  // ns since the epoch
  uint64_t app_id = 0, thread_id = 0, host_id = 0, cpu_id = 0, group_id = 0,
           tid = 0, user_id = 0;
  std::string app, thread, host, cpu, group, user;
  // Verbose >= 2: the build and user info; mode and path (v2/v3 only).
  uint64_t mode = 0;
  std::string path, binfo, uinfo;
  // Verbose >= 3: every allocation, ascending by gaddr; for v2/v3 the file
  // size and its cgroup and volume counts.
  bool has_allocs = false;
  std::vector<wksp::PartitionInfo> allocs;
  uint64_t file_sz = 0, cgroups = 0, volumes = 0;
  bool sealed = false;  // v2/v3: every frame carries a seal record
};

// Fills *d with what `verbose` (0..4) shows: 0 the preview; 1 adds the info
// record; 2 the build and user info; 3 and 4 the allocations (reading the
// whole file and checking its structure). On failure *d keeps what was read
// before it (the preview, when the name is not empty).
absl::Status DescribeCheckpt(const std::string& path, int verbose,
                             CheckptDescription* d);

// checkpt-query's text: at verbose 0-2 the same bytes Firedancer's
// fd_wksp_ctl checkpt-query prints for the same file (including its style 2
// for v3 files, which store style 2 with frame_style_compressed 2);
// verbose 3 adds a usage summary (allocations, bytes, cgroups), 4 one line
// per allocation.
std::string CheckptText(const std::string& path, int verbose,
                        const CheckptDescription& d);

// DescribeCheckpt then CheckptText to `out`; after a failure, what was read.
absl::Status PrintCheckpt(const std::string& path, int verbose, FILE* out);

// The allocations stored in the checkpoint at `path`, ascending by gaddr.
// Reads the whole file and checks its structure, as PrintCheckpt does at
// verbose 3 (for tools that want the list as data, e.g. JSON output).
absl::StatusOr<std::vector<wksp::PartitionInfo>> CheckptAllocations(
    const std::string& path);

// Verification without a workspace (checkpt-verify). Reads the whole
// checkpoint and checks everything a restore would check before and while
// writing allocations, short of fitting a target: the structure, every
// command's range, and, in a sealed v2/v3 file, every frame's seal
// (CHECKPOINT_FORMAT.md §4.10). A sealed file from a path is verified by
// hashing its frames as stored, with `threads` threads (no decoding: the
// seals were computed over exactly those bytes); an unsealed one, and any
// stream, has its LZ4 blocks decoded too. OK means a restore into a large
// enough workspace succeeds, unless the file changes meanwhile.
struct VerifyOptions {
  size_t threads = 1;  // 0 = all CPUs
};
struct VerifyReport {
  Style style = Style::kV1;
  bool sealed = false;      // every frame carried a matching seal
  uint64_t allocs = 0;      // allocations
  uint64_t data_bytes = 0;  // their bytes
  uint64_t file_bytes = 0;  // checkpoint bytes verified
};
absl::StatusOr<VerifyReport> VerifyCheckpt(const std::string& path,
                                           const VerifyOptions& options);
// From a descriptor: a regular file at offset 0 as a path; anything else
// (a pipe, stdin) as a stream, read once.
absl::StatusOr<VerifyReport> VerifyCheckptFd(int fd,
                                             const VerifyOptions& options);

// Incremental checkpoints (CHECKPOINT_FORMAT.md §9). A delta is written by
// Checkpt with CheckptOptions::base. A chain is a full checkpoint followed
// by deltas, each made against the state before it.

// True when the file at `path` starts with a delta checkpoint's magic.
bool IsDeltaCheckpt(const std::string& path);

// Updates `wksp` in place to the state the delta at `delta_path` holds. The
// workspace must hold the delta's base state, checked first (`threads`
// threads): where its allocation table is already the delta's, by hashing
// every chunk the delta keeps (the chunks it replaces whole are not read,
// so a difference only there is accepted and the result is still exactly
// the delta's state); anywhere else by hashing the whole workspace and
// comparing its state id with the delta's base id (CHECKPOINT_FORMAT.md
// §9.4). Either way the apply changes nothing but the chunks the delta
// replaces. A mismatch is FailedPrecondition and, like every failure found
// before writing (a corrupt delta, a table that does not fit), leaves the
// workspace untouched. Then only the changed chunks are written, under the
// restore mark (wksp.h): a failure while
// writing resets the workspace (IsWorkspaceReset), a kill leaves it marked,
// as for any restore. The seed is options.seed, else the workspace's.
absl::Status ApplyDelta(wksp::Wksp& wksp, const std::string& delta_path,
                        const RestoreOptions& options);

// Restores a chain: chain[0] a full checkpoint of any style, then deltas in
// the order they were made. The deltas' links (each one's base id is the
// state id of the one before) are checked before the workspace is touched;
// after restoring chain[0] the workspace is hashed once and must be the first
// delta's base (else it is reset). Failures as Restore's. One path: Restore.
absl::Status RestoreChain(wksp::Wksp& wksp,
                          const std::vector<std::string>& chain,
                          const RestoreOptions& options);

// Compacts a chain into one full checkpoint at `out`, written with
// `options` (base must be empty): byte-identical to Checkpt of the same state
// with the same options when they are deterministic. Restores the chain into
// a scratch anonymous workspace of the last delta's name, geometry and seed
// (memory: the state's allocations).
absl::Status MergeChain(const std::vector<std::string>& chain,
                        const std::string& out, const CheckptOptions& options);

// What a delta says about itself (checkpt-query).
struct DeltaDescription {
  Style style = Style::kV3;  // kV2: chunks stored as is; kV3: LZ4 blocks
  std::string name;
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0;
  uint64_t allocs = 0;         // allocations of the state
  uint64_t alloc_bytes = 0;    // their bytes
  uint64_t chunks = 0;         // 64 KiB chunks of the state
  uint64_t changed = 0;        // chunks stored
  uint64_t changed_bytes = 0;  // their bytes (uncompressed)
  uint64_t groups = 0;
  uint64_t file_bytes = 0;
  std::string base_id, state_id;  // 32 hex digits each
};
// Reads and checks the delta's header, index and trailer (not its chunks).
absl::StatusOr<DeltaDescription> DescribeDelta(const std::string& path);
// Checks everything, every stored chunk decoded and checked against its
// digest, with `threads` threads (checkpt-verify of a delta).
absl::StatusOr<DeltaDescription> VerifyDelta(const std::string& path,
                                             const VerifyOptions& options);

// The state id (32 hex digits) of the checkpoint at `path`: a delta's own,
// or a full checkpoint's from its index (the sidecar, else the file read
// once, as a base is).
absl::StatusOr<std::string> CheckptStateId(const std::string& path,
                                           size_t threads);

// Checks a chain without a workspace: every delta as VerifyDelta, and each
// link (one line per file in *lines: its path, state id and base id, and
// whether the link holds). chain[0] may be a full checkpoint or a delta.
absl::Status VerifyChain(const std::vector<std::string>& chain,
                         const VerifyOptions& options,
                         std::vector<std::string>* lines);

}  // namespace wk::wksp_checkpt

#endif  // WKSPKIT_WKSP_CHECKPT_WKSP_CHECKPT_H_
