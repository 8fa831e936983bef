// Style v1, the restore (CHECKPOINT_FORMAT.md §3.3). From a seekable file
// every record header is read first, so a file that is bad or does not fit
// is refused before the workspace is touched; from a pipe, records are
// checked one at a time as they arrive.
#include <memory>
#include <span>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/stream.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr size_t kBufSz = size_t{1} << 20;

}  // namespace

absl::Status RestoreV1(wksp::Wksp& wksp, int fd, bool seekable,
                       const RestoreOptions& options) {
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  uint64_t start = 0;
  if (seekable) {
    WK_ASSIGN_OR_RETURN(start, io::Seek(fd, 0, io::Whence::kCur));
  }
  io::BufferedReader r(fd, std::span(buf.get(), kBufSz), start);
  V1Header h;
  WK_RETURN_IF_ERROR(ReadV1Header(r, &h));
  const uint64_t records = r.offset();

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

  uint64_t total = 0;  // known from the pre-scan of a file
  if (seekable) {
    // Pre-scan every record header, skipping the data, so that a bad or
    // ill-fitting file is refused before the workspace is touched.
    WK_ASSIGN_OR_RETURN(uint64_t file_sz, io::FileSize(fd));
    std::vector<format::Alloc> allocs;
    for (uint64_t prev_hi = 0;;) {
      format::Alloc a;
      WK_ASSIGN_OR_RETURN(bool more, next(allocs.size(), prev_hi, &a));
      if (!more) break;
      WK_RETURN_IF_ERROR(SkipV1Data(r, a, file_sz));
      allocs.push_back(a);
      prev_hi = a.hi;
      total += a.hi - a.lo;
    }
    // Nothing may follow the end record: a tag turned 0 would otherwise cut
    // the checkpoint short silently.
    if (r.offset() != file_sz) [[unlikely]] {
      return absl::DataLossError(absl::StrFormat(
          "corrupt v1 checkpoint: %u bytes after its end record at offset %u",
          file_sz - r.offset(), r.offset()));
    }
    WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, allocs));
    WK_RETURN_IF_ERROR(r.Seek(records));
  }

  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  ProgressMeter meter(options.progress, total);
  uint64_t count = 0, prev_hi = 0;
  for (;;) {
    format::Alloc a;
    absl::StatusOr<bool> more = next(count, prev_hi, &a);
    if (!more.ok()) [[unlikely]]
      return target.Fail(more.status());
    if (!*more) break;
    target.Begin();
    if (absl::Status st = target.Place(count, a); !st.ok()) [[unlikely]] {
      return target.Fail(st);
    }
    uint8_t* const dest = target.Dest(a.lo);
    absl::Status st = InPieces(a.hi - a.lo, meter, [&](uint64_t o, uint64_t n) {
      return r.Read(dest + o, n);
    });
    if (!st.ok()) [[unlikely]] {
      return target.Fail(
          io::IsEndOfFile(st)
              ? absl::DataLossError("corrupt v1 checkpoint: truncated inside "
                                    "allocation data")
              : st);
    }
    ++count;
    prev_hi = a.hi;
  }
  // As from a file (checked in the pre-scan): a stream must end with the
  // end record, so a path and a pipe of the same bytes agree.
  if (!seekable && r.Peek(1).ok()) [[unlikely]] {
    return target.Fail(absl::DataLossError(
        "corrupt v1 checkpoint: bytes after its end record"));
  }
  target.Begin();  // an empty checkpoint still replaces every allocation
  meter.Finish();
  return target.Finish();
}

}  // namespace wk::wksp_checkpt::internal
