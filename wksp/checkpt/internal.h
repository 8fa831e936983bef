// Private to wksp/checkpt: the entry points of each style, called by
// checkpt.cc with the workspace locked, and the little every style shares.
#ifndef WKSPKIT_WKSP_CHECKPT_INTERNAL_H_
#define WKSPKIT_WKSP_CHECKPT_INTERNAL_H_

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "checkpt/checkpt.h"
#include "io/populate.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt {

// The numbers a file of this style stores (Preview::stored_style,
// stored_frame_style): its style (1 or 2) and its frame_style_compressed (0
// for v1, which has no frames; the checkpt::FrameStyle of its frames
// otherwise). kDefault counts as kDefaultStyle.
int StoredStyle(Style style);
int StoredFrameStyle(Style style);

// What names the temporary of a checkpoint to a path where O_TMPFILE is not
// available: ".<base>.wkspckpt-tmp.<pid>.<n>" beside it (wksp_checkpt.h).
inline constexpr char kCheckptTempTag[] = "wkspckpt-tmp";

}  // namespace wk::wksp_checkpt

namespace wk::wksp_checkpt::internal {

// The progress of one checkpoint or restore (ProgressFn), fed by any number
// of threads: each Writer/Reader's count hook (Hook), at least every
// checkpt::kCountStep bytes of allocation data, or a v1 loop (InPieces),
// every kV1ProgressStep; inside allocations too. Every Add reports the newest total to the
// ProgressFn; a thread that finds another one reporting skips, its bytes
// shown by the next report. Reports never go backwards. Cost: one relaxed
// add and a try-lock per MiB.
class ProgressMeter {
 public:
  ProgressMeter(const ProgressFn& fn, uint64_t total) : fn_(fn), total_(total) {}
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  bool on() const { return static_cast<bool>(fn_); }
  void Add(uint64_t n) {
    if (!fn_) return;
    done_.fetch_add(n, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    // Loaded under the lock: no report sees less than an earlier one.
    if (lock.owns_lock()) fn_(done_.load(std::memory_order_relaxed), total_);
  }
  // A count hook for one Writer or Reader (empty without a ProgressFn).
  checkpt::CountFn Hook() {
    if (!fn_) return {};
    return [this](uint64_t n) { Add(n); };
  }
  // The last report: done == total when the total is known.
  void Finish() {
    if (fn_) fn_(total_ ? total_ : done_.load(), total_);
  }

 private:
  const ProgressFn& fn_;
  const uint64_t total_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
};

// v1's progress step. Its streams go through 1 MiB buffers, which pieces
// of 4 MiB bypass (1 MiB pieces were copied through them: an extra memcpy
// pass, docs/PERFORMANCE.md).
inline constexpr uint64_t kV1ProgressStep = uint64_t{4} << 20;

// Moves n bytes of allocation data as move(offset, length) over pieces of
// at most kV1ProgressStep bytes (one piece without progress), adding each
// to `meter`: v1, which has no frame layer to count them.
template <typename Move>
absl::Status InPieces(uint64_t n, ProgressMeter& meter, Move move) {
  if (!meter.on()) return move(uint64_t{0}, n);
  for (uint64_t off = 0; off < n;) {
    const uint64_t len = std::min(n - off, kV1ProgressStep);
    if (absl::Status st = move(off, len); !st.ok()) [[unlikely]]
      return st;
    meter.Add(len);
    off += len;
  }
  return absl::OkStatus();
}

// The one rule for pre-faulting workspace memory a checkpoint will read
// (kRead) or a restore will write (kWrite): each thread calls it for the
// gaddr range [lo, hi) it is about to copy, just before copying, so the
// faults are taken in one system call per range and in parallel over the
// threads. It acts only on 4 KiB-page mappings, where a process that mapped
// the workspace anew (wksp_ctl) would otherwise take a fault per page, and
// only on a range whose first or last page is not mapped yet: huge-page
// mappings fault per 2 MiB or 1 GiB and gain nothing, and populating what
// is mapped already is a page-table walk that costs ~8% of a restore
// (bench/wksp_ctl_bench.cc, populate_ms). Failure (no memory left for the
// pages, which a store would meet as SIGBUS) is an error naming the range.
absl::Status Prefault(const wksp::Wksp& wksp, uint64_t lo, uint64_t hi,
                      io::PopulateFor what);

// Where, when and by whom a checkpoint is being made (the info record;
// info.cc), or the fixed values of a deterministic checkpoint.
format::Info MakeInfo(const std::string& path, const CheckptOptions& options);

// The error of a read from a file that shrank meanwhile (an io::ShrinkGuard
// saw a page vanish, or a pread came up short): every reader gives this one.
absl::Status FileShrank();

// Whether the file at fd is now shorter than the `scanned` bytes a reader
// mapped: a read of the zeros past the new end inside its last page meets no
// SIGBUS, so a guard alone does not see every cut.
bool ShorterThan(int fd, uint64_t scanned);

// Called by every reader of a mapped v2/v3 file once its scan is done and
// before it reads the frames' data: the test fault point
// FaultEvent::kScanned (util/fault.h), where tests truncate the file.
// Returns the error a fault injects, else OK.
absl::Status AfterScan();

// A thread count option: 0 means every CPU this process may use.
size_t ResolveThreads(size_t threads);

// The frame style of a v2/v3 checkpoint of this style (kV2 RAW, else LZ4).
checkpt::FrameStyle FrameStyleOf(Style style);

// Writes a checkpoint of `allocs` (the workspace's, ascending lo) to fd.
absl::Status WriteV1(const wksp::Wksp& wksp,
                     std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd,
                     const CheckptOptions& options);
// `digests` not empty: also the chunk digests of the state written (its
// index, §9.1: ChunkCount(allocs) of them, in index order), computed from
// the bytes as the writer takes them in, with no second pass.
absl::Status WriteV2(const wksp::Wksp& wksp,
                     std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd, bool seekable,
                     const CheckptOptions& options,
                     std::span<ChunkDigest> digests = {});

// Restores into wksp. RestoreV1: fd is just past the v1 magic (read and
// checked). RestoreV2File: fd is a regular file holding the checkpoint from
// offset 0 (it is mapped), whose header `sniffed` read and decoded (the
// scan takes it from there, sniff.h). RestoreV2Stream: the first kHeaderSz
// bytes, `header_bytes`, were read from fd and decoded into `h`.
absl::Status RestoreV1(wksp::Wksp& wksp, int fd, bool seekable,
                       const RestoreOptions& options);
struct Sniffed;  // sniff.h
absl::Status RestoreV2File(wksp::Wksp& wksp, int fd, const Sniffed& sniffed,
                           const RestoreOptions& options);
absl::Status RestoreV2Stream(wksp::Wksp& wksp, int fd, const format::Header& h,
                             std::span<const uint8_t> header_bytes,
                             const RestoreOptions& options);

// Restore's style dispatch on fd (at offset 0, unread), with the lock
// already held: for callers that do more under the same lock (a chain).
absl::Status RestoreLocked(wksp::Wksp& wksp, int fd, bool mappable,
                           const RestoreOptions& options);

// Checkpt with options.base set: writes a delta (delta_write.cc).
absl::Status WriteDelta(wksp::Wksp& wksp, const std::string& path,
                        const CheckptOptions& options);

// What a walk of a v2/v3 stream found.
struct StreamSummary {
  bool sealed = false;
  uint64_t allocs = 0, data_bytes = 0, file_bytes = 0;
};
// RestoreV2Stream's walk; with wksp null it only reads and checks the
// stream (checkpt-verify), decoding allocation data into a scratch buffer.
absl::Status WalkV2Stream(wksp::Wksp* wksp, int fd, const format::Header& h,
                          std::span<const uint8_t> header_bytes,
                          const RestoreOptions& options,
                          StreamSummary* summary);
// The same walk (verify only) over a whole mapped file, header included:
// why a file whose layout cannot be scanned from its footer fails when read
// from the start, e.g. where a truncated file ends and what it needs.
absl::Status WalkV2Bytes(std::span<const uint8_t> file,
                         const format::Header& h);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_INTERNAL_H_
