#include "wksp/checkpt/scan_v2.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/frames.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr uint64_t kMinFileSz = format::kHeaderSz + format::kFooterSz;

// The footer, at the file's end: the counts, and where the volumes frame is
// (after the info frame, which ended at info_end).
absl::Status ScanFooter(checkpt::Reader& r, std::span<const uint8_t> file,
                        uint64_t info_end, const wksp::Wksp* target,
                        V2Scan* out) {
  const uint64_t n = file.size();
  WK_RETURN_IF_ERROR(r.Seek(n - format::kFooterSz));
  WK_RETURN_IF_ERROR(
      ReadFooter(r, out->header, file.first(format::kHeaderSz), &out->footer));
  const format::Footer& f = out->footer;
  if (f.checkpt_sz != n) [[unlikely]] {
    return Bad(
        absl::StrFormat("footer says %u bytes, file has %u", f.checkpt_sz, n));
  }
  if (f.frame_off < info_end || f.frame_off >= n - format::kFooterSz)
      [[unlikely]] {
    return Bad("volumes frame offset out of range");
  }
  if (target && f.alloc_cnt > target->part_max()) [[unlikely]] {
    return absl::FailedPreconditionError(absl::StrFormat(
        "checkpoint has %u allocations, more than the target's %u partitions",
        f.alloc_cnt, target->part_max()));
  }
  if (f.alloc_cnt > out->header.part_max) [[unlikely]] {
    return Bad("more allocations than the checkpoint's partitions");
  }
  // Every allocation takes at least a 4-byte chunk (LZ4) or a 24-byte
  // command (RAW): a count the file cannot hold is refused before anything
  // is sized by it.
  if (f.alloc_cnt > n / 4) [[unlikely]] {
    return Bad("more allocations than the file can hold");
  }
  return absl::OkStatus();
}

// Where the scan of the appendices stands, newest volume first.
struct VolumeWalk {
  uint64_t lo = format::kHeaderSz;  // frames of older volumes start above
  uint64_t hi = 0;                  // the current volume's frames end below
  uint64_t rem = 0;                 // allocations not yet given a cgroup
  uint64_t info_end = 0;
  uint64_t trailer_lo = 0;  // appendices may not start below
};

absl::Status OutsideTrailer(std::string_view what) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "the checkpoint's %s is not within its last bytes, where a partial "
      "reader expects it",
      what));
}

// The cgroups of the volume whose appendix is at `app`, appended to tasks.
// Returns the previous volume's appendix offset (0: none).
absl::StatusOr<uint64_t> ScanVolume(checkpt::Reader& r, checkpt::FrameStyle fs,
                                    uint64_t app, VolumeWalk& walk,
                                    std::vector<CgroupTask>& tasks) {
  if (app <= walk.lo || app >= walk.hi) [[unlikely]]
    return Bad("appendix offset out of range");
  if (app < walk.trailer_lo) [[unlikely]]
    return OutsideTrailer("appendix");
  WK_RETURN_IF_ERROR(r.Seek(app));
  WK_ASSIGN_OR_RETURN(CommandFrame f, OpenCommandFrame(r, fs, "appendix"));
  Appendix ap;
  WK_ASSIGN_OR_RETURN(uint64_t app_end, ReadAppendix(r, f.first, &ap));
  if (app_end > walk.hi) [[unlikely]]
    return Bad("appendix overruns the next frame");
  const uint64_t g = ap.offs.size();
  std::vector<CgroupTask> vt(g);
  uint64_t floor = std::max({ap.prev, walk.lo, walk.info_end - 1});
  for (uint64_t i = 0; i < g; ++i) {
    vt[i].off = ap.offs[i];
    vt[i].cnt = ap.cnts[i];
    vt[i].next = i + 1 < g ? ap.offs[i + 1] : app;
    if (vt[i].off <= floor || vt[i].off >= vt[i].next) [[unlikely]] {
      return Bad("cgroup offsets not increasing inside their volume");
    }
    floor = vt[i].off;
  }
  // Counts are consumed from the last cgroup backwards.
  for (uint64_t i = g; i-- > 0;) {
    if (vt[i].cnt > walk.rem) [[unlikely]]
      return Bad("cgroup counts exceed the total");
    walk.rem -= vt[i].cnt;
    vt[i].slot = walk.rem;
  }
  tasks.insert(tasks.end(), vt.begin(), vt.end());
  walk.hi = g ? vt[0].off : app;
  return ap.prev;
}

// The volumes frame, then each volume's appendix, newest first: every
// cgroup's place and count, into out->tasks.
absl::Status ScanVolumes(checkpt::Reader& r, uint64_t file_sz,
                         uint64_t info_end, uint64_t trailer_lo, V2Scan* out) {
  const checkpt::FrameStyle fs = out->header.frame_style_compressed;
  const format::Footer& ftr = out->footer;
  if (ftr.frame_off < trailer_lo) [[unlikely]]
    return OutsideTrailer("volumes frame");
  WK_RETURN_IF_ERROR(r.Seek(ftr.frame_off));
  WK_ASSIGN_OR_RETURN(CommandFrame f, OpenCommandFrame(r, fs, "volumes"));
  uint64_t app = 0;
  WK_ASSIGN_OR_RETURN(uint64_t vol_end, ReadVolumes(r, f.first, &app));
  if (vol_end > file_sz - format::kFooterSz) [[unlikely]]
    return Bad("volumes frame overlaps the footer");
  VolumeWalk walk{.hi = ftr.frame_off,
                  .rem = ftr.alloc_cnt,
                  .info_end = info_end,
                  .trailer_lo = trailer_lo};
  uint64_t volumes = 0;
  for (; app != 0; ++volumes) {
    if (volumes == ftr.volume_cnt) [[unlikely]]
      return Bad("more volumes than the footer counts");
    WK_ASSIGN_OR_RETURN(app, ScanVolume(r, fs, app, walk, out->tasks));
  }
  if (walk.rem != 0 || volumes != ftr.volume_cnt ||
      out->tasks.size() != ftr.cgroup_cnt) [[unlikely]] {
    return Bad("footer counts disagree with the appendices");
  }
  return absl::OkStatus();
}

// Every cgroup's commands, by up to `threads` threads pulling cgroups from a
// shared counter, into out->allocs.
absl::Status ScanCgroups(std::span<const uint8_t> file, size_t thread_cnt,
                         V2Scan* out) {
  const std::vector<CgroupTask>& tasks = out->tasks;
  const size_t threads =
      std::max<size_t>(1, std::min(thread_cnt, tasks.size()));
  out->allocs.assign(out->footer.alloc_cnt, {});
  ThreadPool pool(threads);
  std::atomic<size_t> next{0};
  std::vector<absl::Status> errs(threads);
  pool.ExecAll([&](size_t t) {
    for (size_t k; errs[t].ok() && (k = next.fetch_add(1)) < tasks.size();) {
      // A fresh reader per cgroup: a failed one is abandoned half-read.
      absl::StatusOr<checkpt::Reader> r = checkpt::Reader::Mmio(file);
      format::Alloc* allocs = out->allocs.data() + tasks[k].slot;
      errs[t] =
          r.ok() ? ReadCgroupOf(*r, out->header, tasks[k],
                                [allocs](uint64_t j, const format::Alloc& a) {
                                  allocs[j] = a;
                                  return absl::OkStatus();
                                })
                 : r.status();
    }
  });
  for (const auto& e : errs) WK_RETURN_IF_ERROR(e);
  return absl::OkStatus();
}

// The allocations, in address order, must fit the target, or else the
// workspace they were taken from.
absl::Status CheckAllocationsFit(const V2Scan& scan, const wksp::Wksp* target) {
  std::vector<format::Alloc> sorted = scan.allocs;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.lo < b.lo; });
  if (target) return wksp::CheckFit(*target, sorted);
  return Annotate(
      wksp::CheckFit(
          sorted, wksp::LimitsOf(scan.header.part_max, scan.header.data_max)),
      "corrupt v2/v3 checkpoint: its allocations do not fit its workspace");
}

}  // namespace

absl::Status ReadCgroupOf(
    checkpt::Reader& r, const format::Header& h, const CgroupTask& task,
    absl::FunctionRef<absl::Status(uint64_t j, const format::Alloc&)> each) {
  WK_RETURN_IF_ERROR(r.Seek(task.off));
  WK_ASSIGN_OR_RETURN(
      CommandFrame f,
      OpenCommandFrame(r, h.frame_style_compressed, "cgroup commands"));
  uint64_t j = 0;
  WK_RETURN_IF_ERROR(ReadCgroupCommands(
      r, f.first, wksp::LimitsOf(h.part_max, h.data_max),
      [&](const format::Alloc& a) {
        if (j == task.cnt) [[unlikely]] {
          return Bad(absl::StrFormat(
              "cgroup at %u holds more than the %u allocations its appendix "
              "counts",
              task.off, task.cnt));
        }
        return each(j++, a);
      }));
  if (j != task.cnt) [[unlikely]] {
    return Bad(absl::StrFormat(
        "cgroup at %u holds %u allocations, its appendix counts %u", task.off,
        j, task.cnt));
  }
  return absl::OkStatus();
}

namespace {

// Header and info; the rest of the layout unless info_only.
absl::Status ScanHead(std::span<const uint8_t> file, const wksp::Wksp* target,
                      bool info_only, uint64_t trailer_lo, V2Scan* out,
                      uint64_t* info_end) {
  if (file.size() <= kMinFileSz) [[unlikely]]
    return Bad("file too small");
  WK_RETURN_IF_ERROR(format::DecodeHeader(file, &out->header));
  WK_ASSIGN_OR_RETURN(checkpt::Reader r, checkpt::Reader::Mmio(file));
  WK_RETURN_IF_ERROR(r.Seek(format::kHeaderSz));
  WK_ASSIGN_OR_RETURN(
      *info_end, ReadInfo(r, out->header.frame_style_compressed, &out->info));
  if (info_only) return absl::OkStatus();
  WK_RETURN_IF_ERROR(ScanFooter(r, file, *info_end, target, out));
  return ScanVolumes(r, file.size(), *info_end, trailer_lo, out);
}

}  // namespace

absl::Status ScanV2(std::span<const uint8_t> file, size_t threads,
                    const wksp::Wksp* target, bool info_only, V2Scan* out) {
  uint64_t info_end = 0;
  WK_RETURN_IF_ERROR(ScanHead(file, target, info_only, 0, out, &info_end));
  if (info_only) return absl::OkStatus();
  WK_RETURN_IF_ERROR(ScanCgroups(file, threads, out));
  return CheckAllocationsFit(*out, target);
}

absl::Status ScanV2Layout(std::span<const uint8_t> file,
                          const wksp::Wksp* target, uint64_t trailer_lo,
                          V2Scan* out, uint64_t* info_end) {
  return ScanHead(file, target, false, trailer_lo, out, info_end);
}

}  // namespace wk::wksp_checkpt::internal
