// RangeRestore (restore_ranges.h): the layout comes from the v2 scan's
// layout pass (scan_v2.h ScanV2Layout), each cgroup from the same reader the
// file restore uses (ReadCgroupOf), its allocations written by RestoreTarget.
#include "wksp/checkpt/restore_ranges.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "util/status.h"
#include "wksp/checkpt/delta_apply.h"
#include "wksp/checkpt/delta_format.h"
#include "wksp/checkpt/frames.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/seal.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt {
namespace {

constexpr uint64_t kHeadSz = uint64_t{128} << 10;
constexpr uint64_t kTailSz = uint64_t{64} << 10;

}  // namespace

uint64_t RangeHeadSize(uint64_t file_sz) { return std::min(file_sz, kHeadSz); }
uint64_t RangeTailSize(uint64_t file_sz) { return std::min(file_sz, kTailSz); }

std::vector<ByteRange> RangeLayout(std::span<const uint8_t> head,
                                   uint64_t file_sz) {
  std::vector<ByteRange> v = {
      {0, RangeHeadSize(file_sz)},
      {file_sz - RangeTailSize(file_sz), file_sz}};
  namespace delta = internal::delta;
  delta::Header h;
  if (!delta::IsDelta(head) || !delta::DecodeHeader(head, &h).ok()) return v;
  absl::StatusOr<delta::MetaLayout> m = delta::LayoutOf(h, file_sz);
  if (!m.ok()) return v;
  v.push_back({0, m->data_off});
  v.push_back({m->trailer_off, file_sz});
  return v;
}

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
  // A delta: its metadata and the plan of its writes (applier points
  // into delta).
  std::unique_ptr<internal::delta::DeltaFile> delta;
  std::optional<internal::DeltaApplier> applier;
  absl::Status placed;  // PlaceTable's, set once under `begun`
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
  if (internal::delta::IsDelta(file)) {
    WK_RETURN_IF_ERROR(OpenDelta(*s));
    return std::unique_ptr<RangeRestore>(new RangeRestore(std::move(s)));
  }
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

absl::Status RangeRestore::OpenDelta(State& s) {
  namespace delta = internal::delta;
  WK_ASSIGN_OR_RETURN(delta::DeltaFile d,
                      delta::OpenDelta(s.file, "being downloaded"));
  s.delta = std::make_unique<delta::DeltaFile>(std::move(d));
  WK_ASSIGN_OR_RETURN(internal::ChunkIndex cur,
                      internal::CheckBase(s.wksp, *s.delta,
                                          s.options.threads, "the workspace"));
  WK_ASSIGN_OR_RETURN(internal::DeltaApplier a,
                      internal::DeltaApplier::Plan(s.wksp, *s.delta, cur,
                                                   /*cur_mapped=*/true));
  s.applier.emplace(std::move(a));
  for (const delta::GroupEntry& g : s.delta->groups) {
    s.frames.push_back({g.off, g.off + g.sz});
  }
  return absl::OkStatus();
}

absl::Status RangeRestore::RestoreGroup(size_t k) {
  State& s = *s_;
  if (k >= s.frames.size()) [[unlikely]]
    return absl::InvalidArgumentError("no such group");
  std::call_once(s.begun, [&] { s.placed = s.applier->PlaceTable(s.target); });
  WK_RETURN_IF_ERROR(s.placed);
  uint64_t bytes = 0;
  const Frame& f = s.frames[k];
  WK_RETURN_IF_ERROR(s.applier->WriteGroup(
      s.target, k, s.file.subspan(f.off, f.end - f.off), &bytes));
  if (s.options.progress) {
    std::lock_guard<std::mutex> g(s.progress_mu);
    s.done += bytes;
    s.options.progress(s.done, 0);
  }
  return absl::OkStatus();
}

const std::vector<RangeRestore::Frame>& RangeRestore::frames() const {
  return s_->frames;
}

uint64_t RangeRestore::alloc_cnt() const {
  return s_->delta ? s_->delta->header.alloc_cnt : s_->scan.footer.alloc_cnt;
}

absl::Status RangeRestore::RestoreFrame(size_t k) {
  State& s = *s_;
  if (s.delta) return RestoreGroup(k);
  if (k >= s.scan.tasks.size()) [[unlikely]]
    return absl::InvalidArgumentError("no such cgroup frame");
  // A copy: the seal decoded here belongs to this call (frames may be
  // restored concurrently, each once).
  internal::CgroupTask task = s.scan.tasks[k];
  if (s.scan.sealed) {
    WK_RETURN_IF_ERROR(internal::CheckCgroupSealRange(s.file, task));
  }
  // The reader sees no byte past the frame's end: a frame that claims more
  // fails cleanly instead of reading bytes that may not have arrived.
  WK_ASSIGN_OR_RETURN(checkpt::Reader r,
                      checkpt::Reader::Mmio(s.file.first(task.end)));
  seal::Hasher hasher;
  if (s.scan.sealed) {
    r.SetTap([&hasher](std::span<const uint8_t> b) { hasher.Update(b); });
  }
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
  absl::StatusOr<uint64_t> end = r.Close();
  WK_RETURN_IF_ERROR(internal::At(
      end.status(), absl::StrFormat("cgroup at offset %u", task.off)));
  if (*end != task.end) [[unlikely]] {
    return internal::Bad(absl::StrFormat(
        "cgroup at offset %u does not end where the next frame starts",
        task.off));
  }
  if (s.scan.sealed) {
    WK_RETURN_IF_ERROR(
        seal::Check(task.seal, hasher.Finish(task.off), "cgroup"));
  }
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
  // An empty checkpoint (or a delta without groups) still replaces every
  // allocation.
  if (s.delta) {
    std::call_once(s.begun,
                   [&] { s.placed = s.applier->PlaceTable(s.target); });
    if (!s.placed.ok()) [[unlikely]]
      return s.target.Fail(s.placed);
  } else {
    std::call_once(s.begun, [&] { s.target.Begin(); });
  }
  return s.target.Finish();
}

absl::Status RangeRestore::Fail(const absl::Status& cause) {
  s_->ended = true;
  return s_->target.Fail(cause);
}

}  // namespace wk::wksp_checkpt
