// Styles v2 and v3, restored from a file (CHECKPOINT_FORMAT.md §4.8): the
// file is scanned and checked in full (scan_v2.h) before the workspace is
// touched, then `threads` threads restore its cgroups, pulling them from a
// shared counter.
//
// Two ways in. The scan reads through a mapping: it touches only metadata
// (header, trailer, each cgroup's commands), scattered over the file, which
// a mapping reads without a system call per piece; an io::ShrinkGuard turns
// a page past a shrunk file's end into zeros instead of a SIGBUS. The
// restore reads with pread (checkpt::Reader over the fd, one per thread):
// RAW data goes straight from the page cache into the workspace, in large
// pieces at the offsets the scan checked, and LZ4 blocks are read ahead in
// large pieces into the thread's buffer and decoded into the workspace.
// Copying out of a mapping instead pays a page-table walk and a fault-around
// per page of the file: measured on tmpfs, mmap + memcpy reaches about 2/3
// of pread into pre-faulted memory. A file that shrinks under the preads
// gives short reads, never a SIGBUS: either way the restore fails with
// FileShrank() and a reset workspace.
#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/shrink_guard.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/frames.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/seal.h"
#include "wksp/checkpt/sniff.h"

namespace wk::wksp_checkpt::internal {
namespace {

// Each thread's read buffer: commands, allocations too small to be read
// straight into the workspace, and LZ4 blocks, which are read ahead this
// much at a time (within their frame).
constexpr uint64_t kReadBufSz = uint64_t{1} << 20;
// Allocations are read in pieces of at most this many bytes. A multiple of
// the LZ4 chunk size, so an LZ4 allocation read in pieces decodes exactly
// as one Data() of all of it would (§1.5).
constexpr uint64_t kPieceSz = uint64_t{1} << 20;
static_assert(kPieceSz % checkpt::kChunkUszMax == 0);

// Restores one cgroup whose allocations the scan found and the target holds
// already; returns its bytes. The file may have changed since the scan: its
// commands must say the same again. Sealed, the frame's bytes are hashed as
// they are read (r's tap feeds `hasher`, a piece at a time while the bytes
// are in cache) and must match its seal: a mismatch fails the restore,
// which resets the workspace.
absl::StatusOr<uint64_t> RestoreCgroup(checkpt::Reader& r, seal::Hasher& hasher,
                                       const V2Scan& scan,
                                       const CgroupTask& task,
                                       const RestoreTarget& target) {
  const bool raw =
      scan.header.frame_style_compressed == checkpt::FrameStyle::kRaw;
  // Read ahead no further than the frame (LZ4) or its commands (RAW: the
  // data goes to the workspace directly; scan_v2.cc checked the frame's
  // size against its commands).
  r.SetReadAheadEnd(raw ? task.off + (task.cnt + 1) * format::kCmdSz
                        : task.end);
  hasher.Reset();
  const format::Alloc* want = scan.allocs.data() + task.slot;
  WK_RETURN_IF_ERROR(ReadCgroupOf(
      r, scan.header, task, [want](uint64_t j, const format::Alloc& a) {
        if (!(a == want[j])) [[unlikely]]
          return Bad("checkpoint changed during the restore");
        return absl::OkStatus();
      }));
  WK_RETURN_IF_ERROR(target.Prepare({want, task.cnt}));
  uint64_t bytes = 0;
  for (uint64_t j = 0; j < task.cnt; ++j) {
    uint8_t* const dst = target.Dest(want[j].lo);
    const uint64_t sz = want[j].hi - want[j].lo;
    for (uint64_t done = 0; done < sz;) {
      const uint64_t piece = std::min(sz - done, kPieceSz);
      WK_RETURN_IF_ERROR(r.Data(dst + done, piece));
      done += piece;
    }
    bytes += sz;
  }
  WK_ASSIGN_OR_RETURN(uint64_t end, r.Close());
  if (end != task.end) [[unlikely]]
    return Bad("cgroup frame does not end where the next frame starts");
  if (scan.sealed) {
    WK_RETURN_IF_ERROR(
        seal::Check(task.seal, hasher.Finish(task.off), "cgroup"));
  }
  return bytes;
}

}  // namespace

absl::Status RestoreV2File(wksp::Wksp& wksp, int fd, const Sniffed& sniffed,
                           const RestoreOptions& options) {
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(fd));
  const std::span<const uint8_t> file = map.span();
  // A file cut short under the scan reads as zeros past its new end instead
  // of killing the process; checked after the scan.
  io::ShrinkGuard shrink(file);
  const size_t threads = ResolveThreads(options.threads);
  V2Scan scan;
  absl::Status scanned = ScanV2(file, sniffed, threads, &wksp, false, &scan);
  if (scanned.ok()) scanned = AfterScan();
  if (shrink.shrank()) [[unlikely]]
    return FileShrank();
  WK_RETURN_IF_ERROR(scanned);

  // Everything checkable was checked: restore.
  const std::vector<CgroupTask>& tasks = scan.tasks;
  const std::vector<format::Alloc>& allocs = scan.allocs;
  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  target.Begin();
  for (uint64_t i = 0; i < allocs.size(); ++i) {
    if (absl::Status st = target.Place(i, allocs[i]); !st.ok()) [[unlikely]] {
      return target.Fail(st);
    }
  }
  uint64_t total = 0;
  for (const auto& a : allocs) total += a.hi - a.lo;
  ThreadPool pool(std::max<size_t>(1, std::min(threads, tasks.size())));
  std::vector<absl::Status> errs(pool.size());
  std::atomic<size_t> next{0};
  ProgressMeter meter(options.progress, total);
  pool.ExecAll([&](size_t t) {
    std::unique_ptr<uint8_t[]> rbuf(new uint8_t[kReadBufSz]);
    // Positional reads: the threads share fd, whose position never moves.
    absl::StatusOr<checkpt::Reader> r =
        checkpt::Reader::Stream(fd, {rbuf.get(), kReadBufSz});
    if (r.ok() && !r->seekable()) [[unlikely]]
      r = absl::FailedPreconditionError("the checkpoint file is not seekable");
    if (!r.ok()) [[unlikely]] {
      errs[t] = r.status();
      return;
    }
    r->SetCount(meter.Hook());  // moves inside large allocations too
    seal::Hasher hasher;
    if (scan.sealed) {
      r->SetTap([&hasher](std::span<const uint8_t> b) { hasher.Update(b); });
    }
    for (size_t k; (k = next.fetch_add(1)) < tasks.size();) {
      absl::StatusOr<uint64_t> bytes =
          RestoreCgroup(*r, hasher, scan, tasks[k], target);
      if (!bytes.ok()) [[unlikely]] {
        errs[t] = At(bytes.status(),
                     absl::StrFormat("cgroup at offset %u", tasks[k].off));
        return;
      }
    }
  });
  for (const auto& e : errs) {
    if (!e.ok()) [[unlikely]] {
      // Whatever a worker said, a file now shorter than scanned explains it
      // (a short pread reads as "checkpoint ends early").
      if (ShorterThan(fd, file.size())) return target.Fail(FileShrank());
      return target.Fail(e);
    }
  }
  meter.Finish();
  return target.Finish();
}

}  // namespace wk::wksp_checkpt::internal
