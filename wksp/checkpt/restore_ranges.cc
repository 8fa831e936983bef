// RangeRestore (restore_ranges.h): the layout comes from the v2 scan's
// layout pass (scan_v2.h ScanV2Layout), each cgroup from the same reader the
// file restore uses (ReadCgroupOf), its allocations written by RestoreTarget.
#include "wksp/checkpt/restore_ranges.h"

#include <algorithm>
#include <mutex>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "util/status.h"
#include "wksp/checkpt/frames.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace {

constexpr uint64_t kHeadSz = uint64_t{128} << 10;
constexpr uint64_t kTailSz = uint64_t{64} << 10;

}  // namespace

uint64_t RangeHeadSize(uint64_t file_sz) { return std::min(file_sz, kHeadSz); }
uint64_t RangeTailSize(uint64_t file_sz) { return std::min(file_sz, kTailSz); }

struct RangeRestore::State {
  State(wksp::Wksp& w, wksp::LockGuard l, std::span<const uint8_t> f,
        const RestoreOptions& o)
      : wksp(w),
        lock(std::move(l)),
        file(f),
        options(o),
        target(w, o.seed.value_or(w.seed())) {}

  wksp::Wksp& wksp;
  wksp::LockGuard lock;
  std::span<const uint8_t> file;
  RestoreOptions options;
  internal::V2Scan scan;  // layout only: no allocs
  std::vector<Frame> frames;
  internal::RestoreTarget target;
  std::once_flag begun;
  std::mutex progress_mu;
  uint64_t done = 0;  // guarded by progress_mu
  bool ended = false;
};

RangeRestore::RangeRestore(std::unique_ptr<State> s) : s_(std::move(s)) {}

RangeRestore::~RangeRestore() {
  if (s_ && !s_->ended) (void)Fail(absl::AbortedError("restore abandoned"));
}

absl::StatusOr<std::unique_ptr<RangeRestore>> RangeRestore::Open(
    wksp::Wksp& wksp, std::span<const uint8_t> file,
    const RestoreOptions& options) {
  if (wksp.read_only()) [[unlikely]] {
    return absl::FailedPreconditionError(
        "restore needs a read-write join of the workspace");
  }
  WK_ASSIGN_OR_RETURN(wksp::LockGuard lock, wksp.Lock());
  auto s = std::make_unique<State>(wksp, std::move(lock), file, options);
  uint64_t info_end = 0;
  const uint64_t trailer_lo = file.size() - RangeTailSize(file.size());
  WK_RETURN_IF_ERROR(
      internal::ScanV2Layout(file, &wksp, trailer_lo, &s->scan, &info_end));
  if (info_end > RangeHeadSize(file.size())) [[unlikely]]
    return internal::Bad("info frame larger than any valid one");
  for (const internal::CgroupTask& t : s->scan.tasks) {
    s->frames.push_back({t.off, t.next});
  }
  return std::unique_ptr<RangeRestore>(new RangeRestore(std::move(s)));
}

const std::vector<RangeRestore::Frame>& RangeRestore::frames() const {
  return s_->frames;
}

uint64_t RangeRestore::alloc_cnt() const { return s_->scan.footer.alloc_cnt; }

absl::Status RangeRestore::RestoreFrame(size_t k) {
  State& s = *s_;
  if (k >= s.scan.tasks.size()) [[unlikely]]
    return absl::InvalidArgumentError("no such cgroup frame");
  const internal::CgroupTask& task = s.scan.tasks[k];
  // The reader sees no byte past the frame's end: a frame that claims more
  // fails cleanly instead of reading bytes that may not have arrived.
  WK_ASSIGN_OR_RETURN(checkpt::Reader r,
                      checkpt::Reader::Mmio(s.file.first(task.next)));
  std::vector<format::Alloc> metas;
  metas.reserve(task.cnt);
  WK_RETURN_IF_ERROR(internal::ReadCgroupOf(
      r, s.scan.header, task, [&](uint64_t, const format::Alloc& a) {
        WK_RETURN_IF_ERROR(wksp::CheckFit(s.wksp, std::span(&a, 1)));
        metas.push_back(a);
        return absl::OkStatus();
      }));
  std::call_once(s.begun, [&] { s.target.Begin(); });
  uint64_t bytes = 0;
  for (uint64_t j = 0; j < metas.size(); ++j) {
    const format::Alloc& a = metas[j];
    WK_RETURN_IF_ERROR(s.target.Place(task.slot + j, a));
    WK_RETURN_IF_ERROR(
        internal::At(r.Data(s.target.Dest(a.lo), a.hi - a.lo),
                     absl::StrFormat("cgroup at offset %u", task.off)));
    bytes += a.hi - a.lo;
  }
  WK_RETURN_IF_ERROR(internal::At(
      r.Close().status(), absl::StrFormat("cgroup at offset %u", task.off)));
  if (s.options.progress) {
    std::lock_guard<std::mutex> g(s.progress_mu);
    s.done += bytes;
    s.options.progress(s.done, 0);
  }
  return absl::OkStatus();
}

absl::Status RangeRestore::Finish() {
  State& s = *s_;
  s.ended = true;
  // An empty checkpoint still replaces every allocation.
  std::call_once(s.begun, [&] { s.target.Begin(); });
  return s.target.Finish();
}

absl::Status RangeRestore::Fail(const absl::Status& cause) {
  s_->ended = true;
  return s_->target.Fail(cause);
}

}  // namespace wk::wksp_checkpt
