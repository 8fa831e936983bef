// checkpt-verify (wksp_checkpt.h VerifyCheckpt): every style, from a file or
// a stream, without a workspace.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/populate.h"
#include "io/shrink_guard.h"
#include "io/stream.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/sniff.h"
#include "wksp/checkpt/wksp_checkpt.h"

namespace wk::wksp_checkpt {
namespace {

uint64_t DataBytes(std::span<const format::Alloc> allocs) {
  uint64_t n = 0;
  for (const auto& a : allocs) n += a.hi - a.lo;
  return n;
}

// A sealed file's cgroups: each frame hashed where it lies, by `threads`
// threads pulling cgroups from a shared counter, its pages populated first
// (best effort: fewer faults than touching them one by one). Hashing
// through the mapping beat pread into a cache-sized buffer: on a tmpfs with
// 2 MiB folios (huge=always) 10.9 vs 4.9 GB/s on one thread, at XXH3's own
// speed; on /dev/shm's 4 KiB pages 3.1 vs 3.4, where the kernel's per-page
// cost bounds both (docs/PERFORMANCE.md).
absl::Status VerifySeals(std::span<const uint8_t> file, size_t thread_cnt,
                         const internal::V2Scan& scan) {
  const std::vector<internal::CgroupTask>& tasks = scan.tasks;
  const size_t threads =
      std::max<size_t>(1, std::min(thread_cnt, tasks.size()));
  ThreadPool pool(threads);
  std::atomic<size_t> next{0};
  std::vector<absl::Status> errs(threads);
  pool.ExecAll([&](size_t t) {
    for (size_t k; errs[t].ok() && (k = next.fetch_add(1)) < tasks.size();) {
      const internal::CgroupTask& task = tasks[k];
      (void)io::Populate(file.subspan(task.off, task.next - task.off),
                         io::PopulateFor::kRead);
      errs[t] = internal::VerifyCgroupSeal(file, task);
    }
  });
  for (const auto& e : errs) WK_RETURN_IF_ERROR(e);
  return absl::OkStatus();
}

// Reads through a mapping under an io::ShrinkGuard: a file truncated while
// it is verified fails with FileShrank(), never SIGBUS.
absl::StatusOr<VerifyReport> VerifyV2File(int fd,
                                          const internal::Sniffed& sniffed,
                                          size_t threads) {
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(fd));
  const std::span<const uint8_t> file = map.span();
  (void)map.Advise(io::Advice::kSequential);
  io::ShrinkGuard shrink(file);
  internal::V2Scan scan;
  absl::Status st =
      internal::ScanV2(file, sniffed, threads, nullptr, false, &scan);
  if (st.ok()) st = internal::AfterScan();
  if (st.ok() && scan.sealed) {
    st = VerifySeals(file, threads, scan);
  } else if (st.ok()) {
    st = internal::ReadAllCgroups(file, threads, scan);
  }
  // Whatever the reads said, a cut file explains it.
  if (shrink.shrank() ||
      (!st.ok() && internal::ShorterThan(fd, file.size()))) [[unlikely]] {
    return internal::FileShrank();
  }
  WK_RETURN_IF_ERROR(st);
  VerifyReport rep;
  rep.style = scan.header.frame_style_compressed == checkpt::FrameStyle::kLz4
                  ? Style::kV3
                  : Style::kV2;
  rep.sealed = scan.sealed;
  rep.allocs = scan.allocs.size();
  rep.data_bytes = DataBytes(scan.allocs);
  rep.file_bytes = file.size();
  return rep;
}

// v1 has no frames to seal: its structure is checked and every record's
// data read; a file must end right after the end record.
absl::StatusOr<VerifyReport> VerifyV1(int fd, bool seekable) {
  constexpr size_t kBufSz = size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  io::BufferedReader r(fd, std::span(buf.get(), kBufSz), svw::kMaxWidth);
  internal::V1Header h;
  WK_RETURN_IF_ERROR(internal::ReadV1Header(r, &h));
  uint64_t file_sz = 0;
  if (seekable) {
    WK_ASSIGN_OR_RETURN(file_sz, io::FileSize(fd));
  }
  VerifyReport rep;
  rep.style = Style::kV1;
  for (uint64_t prev_hi = 0;;) {
    format::Alloc a;
    WK_ASSIGN_OR_RETURN(bool more, internal::ReadV1Record(r, h, prev_hi, &a));
    if (!more) break;
    if (++rep.allocs > h.part_max) [[unlikely]]
      return absl::DataLossError(
          "corrupt v1 checkpoint: more allocations than its partitions");
    if (seekable) {
      WK_RETURN_IF_ERROR(internal::SkipV1Data(r, a, file_sz));
    } else {
      const uint64_t at = r.offset();
      absl::Status st = r.Skip(a.hi - a.lo);
      // End of file consumed what there was: r.offset() is the stream's size.
      if (io::IsEndOfFile(st)) [[unlikely]]
        return internal::V1DataEndsEarly(a, r.offset(), at + (a.hi - a.lo));
      WK_RETURN_IF_ERROR(st);
    }
    rep.data_bytes += a.hi - a.lo;
    prev_hi = a.hi;
  }
  rep.file_bytes = r.offset();
  if (!seekable && r.Peek(1).ok()) [[unlikely]] {
    return absl::DataLossError(
        "corrupt v1 checkpoint: bytes after its end record");
  }
  if (seekable && r.offset() != file_sz) [[unlikely]] {
    return absl::DataLossError(absl::StrFormat(
        "corrupt v1 checkpoint: %u bytes after its end record at offset %u",
        file_sz - r.offset(), r.offset()));
  }
  return rep;
}

absl::StatusOr<VerifyReport> Verify(int fd, bool mappable,
                                    const VerifyOptions& options) {
  const size_t threads = internal::ResolveThreads(options.threads);
  WK_ASSIGN_OR_RETURN(internal::Sniffed sniffed, internal::SniffFd(fd));
  if (sniffed.style == Style::kV1) return VerifyV1(fd, mappable);
  const format::Header& h = sniffed.header;
  if (mappable) return VerifyV2File(fd, sniffed, threads);
  internal::StreamSummary sum;
  WK_RETURN_IF_ERROR(
      internal::WalkV2Stream(nullptr, fd, h, sniffed.header_bytes,
                             RestoreOptions{}, &sum));
  VerifyReport rep;
  rep.style = sniffed.style;
  rep.sealed = sum.sealed;
  rep.allocs = sum.allocs;
  rep.data_bytes = sum.data_bytes;
  rep.file_bytes = sum.file_bytes;
  return rep;
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyCheckpt(const std::string& path,
                                           const VerifyOptions& options) {
  absl::StatusOr<io::Fd> fd = io::OpenRead(path);
  if (!fd.ok()) [[unlikely]]
    return Annotate(fd.status(), "checkpt-verify");
  absl::StatusOr<VerifyReport> r =
      Verify(fd->get(), io::IsRegularFile(fd->get()), options);
  if (!r.ok()) return Annotate(r.status(), absl::StrFormat("verify %s", path));
  return r;
}

absl::StatusOr<VerifyReport> VerifyCheckptFd(int fd,
                                             const VerifyOptions& options) {
  absl::StatusOr<uint64_t> pos = io::Seek(fd, 0, io::Whence::kCur);
  const bool mappable = io::IsRegularFile(fd) && pos.ok() && *pos == 0;
  absl::StatusOr<VerifyReport> r = Verify(fd, mappable, options);
  if (!r.ok()) {
    return Annotate(r.status(), "verify from " + io::FdName(fd));
  }
  return r;
}

}  // namespace wk::wksp_checkpt
