// Style v1, the restore (CHECKPOINT_FORMAT.md §3.3). From a seekable file
// every record header is read first, seeking over the data, so a file that
// is bad or does not fit is refused before the workspace is touched; then
// `threads` threads pread the records' data straight into the workspace,
// never through a buffer. From a pipe, records are checked one at a time as they
// arrive, and data the buffer does not hold already is read directly into
// the workspace too.
#include <algorithm>
#include <atomic>
#include <memory>
#include <span>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/stream.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/checkpt/svw.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

// A pipe's read-ahead buffer. From a file, the scan's buffer only ever holds
// headers: a read fills it, so keeping it small keeps the data it pulls in
// (and that pread reads again) to a few bytes per record. It must hold an
// SVW integer (Peek).
constexpr size_t kPipeBufSz = size_t{1} << 20;
constexpr size_t kScanBufSz = 4 * svw::kMaxWidth;

absl::Status TruncatedData() {
  return absl::DataLossError(
      "v1 checkpoint ends early, inside allocation data (truncated, or it "
      "shrank while it was read)");
}

}  // namespace

absl::Status RestoreV1(wksp::Wksp& wksp, int fd, bool seekable,
                       const RestoreOptions& options) {
  const size_t buf_sz = seekable ? kScanBufSz : kPipeBufSz;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(buf_sz);
  // A stream's offsets count from its first byte: the sniff (checkpt.cc)
  // has read the magic.
  uint64_t start = svw::kMaxWidth;
  if (seekable) {
    WK_ASSIGN_OR_RETURN(start, io::Seek(fd, 0, io::Whence::kCur));
  }
  io::BufferedReader r(fd, std::span(buf.get(), buf_sz), start);
  V1Header h;
  WK_RETURN_IF_ERROR(ReadV1Header(r, &h));

  // One record header (tag 0 ends the list), checked against the target.
  auto next = [&](uint64_t count, uint64_t prev_hi,
                  format::Alloc* a) -> absl::StatusOr<bool> {
    WK_ASSIGN_OR_RETURN(bool more, ReadV1Record(r, h, prev_hi, a));
    if (!more) return false;
    if (count >= wksp.part_max()) [[unlikely]] {
      return absl::FailedPreconditionError(absl::StrFormat(
          "checkpoint has more than %u allocations, the target's partition "
          "count",
          wksp.part_max()));
    }
    WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, std::span(a, 1)));
    return true;
  };

  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  if (seekable) {
    // Pre-scan every record header, seeking over the data, so that a bad or
    // ill-fitting file is refused before the workspace is touched.
    WK_ASSIGN_OR_RETURN(uint64_t file_sz, io::FileSize(fd));
    std::vector<format::Alloc> allocs;
    std::vector<uint64_t> data_offs;  // file offset of each record's bytes
    for (uint64_t prev_hi = 0;;) {
      format::Alloc a;
      WK_ASSIGN_OR_RETURN(bool more, next(allocs.size(), prev_hi, &a));
      if (!more) break;
      data_offs.push_back(r.offset());
      WK_RETURN_IF_ERROR(SkipV1Data(r, a, file_sz));
      allocs.push_back(a);
      prev_hi = a.hi;
    }
    // Nothing may follow the end record: a tag turned 0 would otherwise cut
    // the checkpoint short silently.
    if (r.offset() != file_sz) [[unlikely]] {
      return absl::DataLossError(absl::StrFormat(
          "corrupt v1 checkpoint: %u bytes after its end record at offset %u",
          file_sz - r.offset(), r.offset()));
    }
    WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, allocs));
    // The descriptor is left after the end record, as a read would leave
    // it; pread does not move it. Every record's place is known now, so
    // `threads` threads pull records and pread (and populate) in parallel.
    target.Begin();
    for (uint64_t i = 0; i < allocs.size(); ++i) {
      if (absl::Status st = target.Place(i, allocs[i]); !st.ok()) [[unlikely]]
        return target.Fail(st);
    }
    ThreadPool pool(std::max<size_t>(
        1, std::min<size_t>(ResolveThreads(options.threads), allocs.size())));
    std::vector<absl::Status> errs(pool.size());
    std::atomic<size_t> next_rec{0};
    std::atomic<bool> failed{false};
    uint64_t total = 0;
    for (const format::Alloc& a : allocs) total += a.hi - a.lo;
    ProgressMeter meter(options.progress, total);
    pool.ExecAll([&](size_t t) {
      for (size_t i; !failed.load(std::memory_order_relaxed) &&
                     (i = next_rec.fetch_add(1)) < allocs.size();) {
        const format::Alloc& a = allocs[i];
        absl::Status st = target.Prepare(std::span(&a, 1));
        if (st.ok()) {
          uint8_t* const dest = target.Dest(a.lo);
          st = InPieces(a.hi - a.lo, meter, [&](uint64_t o, uint64_t n) {
            return io::PReadExact(fd, dest + o, n, data_offs[i] + o);
          });
          // The file was scanned whole: it shrank since.
          if (io::IsEndOfFile(st)) [[unlikely]]
            st = TruncatedData();
        }
        if (!st.ok()) [[unlikely]] {
          errs[t] = st;
          failed = true;
          return;
        }
      }
    });
    for (const absl::Status& e : errs) {
      if (!e.ok()) [[unlikely]]
        return target.Fail(e);
    }
    meter.Finish();
    // The rebuild lists the allocations again: free the scan's lists first.
    std::vector<format::Alloc>().swap(allocs);
    std::vector<uint64_t>().swap(data_offs);
    return target.Finish();
  }

  ProgressMeter meter(options.progress, 0);  // a stream's total is unknown
  uint64_t count = 0, prev_hi = 0;
  for (;;) {
    format::Alloc a;
    absl::StatusOr<bool> more = next(count, prev_hi, &a);
    if (!more.ok()) [[unlikely]]
      return target.Fail(more.status());
    if (!*more) break;
    target.Begin();
    absl::Status st = target.Place(count, a);
    if (st.ok()) st = target.Prepare(std::span(&a, 1));
    if (st.ok()) {
      uint8_t* const dest = target.Dest(a.lo);
      const uint64_t at = r.offset();
      st = InPieces(a.hi - a.lo, meter, [&](uint64_t o, uint64_t n) {
        return r.ReadDirect(dest + o, n);
      });
      // End of file consumed what there was: r.offset() is the stream's size.
      if (io::IsEndOfFile(st)) [[unlikely]]
        st = V1DataEndsEarly(a, r.offset(), at + (a.hi - a.lo));
    }
    if (!st.ok()) [[unlikely]]
      return target.Fail(st);
    ++count;
    prev_hi = a.hi;
  }
  // As from a file (checked in the pre-scan): a stream must end with the
  // end record, so a path and a pipe of the same bytes agree.
  if (r.Peek(1).ok()) [[unlikely]] {
    return target.Fail(absl::DataLossError(
        "corrupt v1 checkpoint: bytes after its end record"));
  }
  target.Begin();  // an empty checkpoint still replaces every allocation
  meter.Finish();
  return target.Finish();
}

}  // namespace wk::wksp_checkpt::internal
