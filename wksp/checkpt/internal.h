// Private to wksp/checkpt: the entry points of each style, called by
// checkpt.cc with the workspace locked, and the little every style shares.
#ifndef WKSPKIT_WKSP_CHECKPT_INTERNAL_H_
#define WKSPKIT_WKSP_CHECKPT_INTERNAL_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "checkpt/checkpt.h"
#include "io/populate.h"
#include "wksp/checkpt/format.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::internal {

// v1 reports progress every this many bytes of allocation data.
inline constexpr uint64_t kProgressStep = uint64_t{64} << 20;

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

// A thread count option: 0 means every CPU this process may use.
size_t ResolveThreads(size_t threads);

// The frame style of a v2/v3 checkpoint of this style (kV2 RAW, else LZ4).
checkpt::FrameStyle FrameStyleOf(Style style);

// Writes a checkpoint of `allocs` (the workspace's, ascending lo) to fd.
absl::Status WriteV1(const wksp::Wksp& wksp,
                     std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd,
                     const CheckptOptions& options);
absl::Status WriteV2(const wksp::Wksp& wksp,
                     std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd, bool seekable,
                     const CheckptOptions& options);

// Restores into wksp. RestoreV1: fd is just past the v1 magic (read and
// checked). RestoreV2File: fd is a regular file holding the checkpoint from
// offset 0 (it is mapped). RestoreV2Stream: the first kHeaderSz bytes,
// `header_bytes`, were read from fd and decoded into `h`.
absl::Status RestoreV1(wksp::Wksp& wksp, int fd, bool seekable,
                       const RestoreOptions& options);
absl::Status RestoreV2File(wksp::Wksp& wksp, int fd,
                           const RestoreOptions& options);
absl::Status RestoreV2Stream(wksp::Wksp& wksp, int fd, const format::Header& h,
                             std::span<const uint8_t> header_bytes,
                             const RestoreOptions& options);

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

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_INTERNAL_H_
