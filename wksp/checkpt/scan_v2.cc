#include "wksp/checkpt/scan_v2.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/frames.h"
#include "wksp/checkpt/internal.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr uint64_t kMinFileSz = format::kHeaderSz + format::kFooterSz;

uint64_t SealSz(const V2Scan& scan) { return scan.sealed ? seal::kSealSz : 0; }

// The seal at `at` must cover [off, off + sz) of `file` and match its bytes.
absl::Status CheckSealAt(std::span<const uint8_t> file, uint64_t at,
                         uint64_t off, uint64_t sz, std::string_view where) {
  if (at > file.size() || file.size() - at < seal::kSealSz ||
      off > file.size() || sz > file.size() - off) [[unlikely]] {
    return Bad(absl::StrFormat("%s: no room for its seal", where));
  }
  seal::Seal found;
  WK_RETURN_IF_ERROR(
      seal::Decode(file.subspan(at, seal::kSealSz), where, &found));
  return seal::Check(found, seal::Of(file.subspan(off, sz), off), where);
}

// The footer, at the file's end: the counts, and where the volumes frame is
// (after the info frame, which ended at info_end).
absl::Status ScanFooter(checkpt::Reader& r, std::span<const uint8_t> file,
                        const Sniffed& sniffed, uint64_t info_end,
                        const wksp::Wksp* target, V2Scan* out) {
  const uint64_t n = file.size();
  WK_RETURN_IF_ERROR(r.Seek(n - format::kFooterSz));
  WK_RETURN_IF_ERROR(
      ReadFooter(r, out->header, sniffed.header_bytes, &out->footer));
  const format::Footer& f = out->footer;
  if (f.checkpt_sz != n) [[unlikely]] {
    return Bad(
        absl::StrFormat("footer says %u bytes, file has %u", f.checkpt_sz, n));
  }
  if (out->sealed) {
    const uint64_t ftr = n - format::kFooterSz;
    if (ftr < info_end + 2 * seal::kSealSz) [[unlikely]]
      return Bad("file too small for a sealed checkpoint");
    WK_RETURN_IF_ERROR(CheckSealAt(file, ftr - seal::kSealSz, ftr,
                                   format::kFooterSz, "footer"));
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
  // Every allocation takes at least its command and one data byte: 25
  // bytes RAW, two 4-byte chunks LZ4. A count the file cannot hold is
  // refused before anything is sized by it, so the scan's records (24
  // bytes each, twice: file and address order) stay within 6 x the size of
  // a v3 file, 2 x that of a v2 one.
  const uint64_t min_per_alloc =
      out->header.frame_style_compressed == checkpt::FrameStyle::kRaw
          ? format::kCmdSz + 1
          : 8;
  if (f.alloc_cnt > n / min_per_alloc) [[unlikely]] {
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
  uint64_t first = 0;    // where the oldest volume's first frame must start
  uint64_t seal_sz = 0;  // of each seal record (0: unsealed)
  // Appendices may not start below (ScanV2Layout); nonzero also means the
  // cgroup frames' bytes, seals included, may not be here yet.
  uint64_t trailer_lo = 0;
};

absl::Status OutsideTrailer(std::string_view what) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "the checkpoint's %s is not within its last bytes, where a partial "
      "reader expects it",
      what));
}

// The cgroups of the volume whose appendix is at `app`, appended to tasks.
// Returns the previous volume's appendix offset (0: none).
absl::StatusOr<uint64_t> ScanVolume(checkpt::Reader& r,
                                    std::span<const uint8_t> file,
                                    checkpt::FrameStyle fs, uint64_t app,
                                    VolumeWalk& walk,
                                    std::vector<CgroupTask>& tasks) {
  if (app <= walk.lo || app >= walk.hi) [[unlikely]]
    return Bad("appendix offset out of range");
  if (app < walk.trailer_lo) [[unlikely]]
    return OutsideTrailer("appendix");
  WK_RETURN_IF_ERROR(r.Seek(app));
  WK_ASSIGN_OR_RETURN(CommandFrame f, OpenCommandFrame(r, fs, "appendix"));
  Appendix ap;
  WK_ASSIGN_OR_RETURN(uint64_t app_end, ReadAppendix(r, f.first, &ap));
  // Frames lie back to back (Firedancer's writer leaves no gap; ours leaves
  // room for exactly one seal), so no byte of the file goes unchecked.
  if (app_end + walk.seal_sz != walk.hi) [[unlikely]]
    return Bad("appendix does not end where the next frame starts");
  if (walk.seal_sz) {
    WK_RETURN_IF_ERROR(
        CheckSealAt(file, app_end, app, app_end - app, "appendix"));
  }
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
    if (vt[i].next - vt[i].off <= walk.seal_sz) [[unlikely]]
      return Bad("cgroup frame too small for its seal");
    vt[i].end = vt[i].next - walk.seal_sz;
    if (walk.seal_sz && walk.trailer_lo == 0) {
      // Its range is checked now, before any workspace is touched; its
      // digest when its bytes are read. (A layout-only scan leaves both to
      // the reader of the frame: CheckCgroupSealRange.)
      seal::Seal& sl = vt[i].seal;
      WK_RETURN_IF_ERROR(
          seal::Decode(file.subspan(vt[i].end, seal::kSealSz), "cgroup", &sl));
      if (sl.off != vt[i].off || sl.sz != vt[i].end - vt[i].off) [[unlikely]]
        return Bad("a cgroup's seal covers another range than its frame");
    }
  }
  if (ap.prev == 0 && (g ? vt[0].off : app) != walk.first) [[unlikely]]
    return Bad("the first frame after the info frame is not where it ends");
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
absl::Status ScanVolumes(checkpt::Reader& r, std::span<const uint8_t> file,
                         uint64_t info_end, uint64_t trailer_lo, V2Scan* out) {
  const uint64_t file_sz = file.size();
  const uint64_t seal_sz = SealSz(*out);
  const checkpt::FrameStyle fs = out->header.frame_style_compressed;
  const format::Footer& ftr = out->footer;
  if (ftr.frame_off < trailer_lo) [[unlikely]]
    return OutsideTrailer("volumes frame");
  WK_RETURN_IF_ERROR(r.Seek(ftr.frame_off));
  WK_ASSIGN_OR_RETURN(CommandFrame f, OpenCommandFrame(r, fs, "volumes"));
  uint64_t app = 0;
  WK_ASSIGN_OR_RETURN(uint64_t vol_end, ReadVolumes(r, f.first, &app));
  if (vol_end + 2 * seal_sz != file_sz - format::kFooterSz) [[unlikely]]
    return Bad("volumes frame does not end where the footer starts");
  if (seal_sz) {
    WK_RETURN_IF_ERROR(CheckSealAt(file, vol_end, ftr.frame_off,
                                   vol_end - ftr.frame_off, "volumes"));
  }
  VolumeWalk walk{.hi = ftr.frame_off,
                  .rem = ftr.alloc_cnt,
                  .info_end = info_end,
                  .first = info_end + seal_sz,
                  .seal_sz = seal_sz,
                  .trailer_lo = trailer_lo};
  uint64_t volumes = 0;
  for (; app != 0; ++volumes) {
    if (volumes == ftr.volume_cnt) [[unlikely]]
      return Bad("more volumes than the footer counts");
    WK_ASSIGN_OR_RETURN(app, ScanVolume(r, file, fs, app, walk, out->tasks));
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
      uint64_t raw = format::kCmdSz;  // the data command
      errs[t] = r.ok() ? ReadCgroupOf(*r, out->header, tasks[k],
                                      [&](uint64_t j, const format::Alloc& a) {
                                        allocs[j] = a;
                                        raw += format::kCmdSz + (a.hi - a.lo);
                                        return absl::OkStatus();
                                      })
                       : r.status();
      // A RAW frame's size follows from its commands: one whose data would
      // overrun (or fall short of) its frame is refused before any
      // workspace is touched.
      const CgroupTask& task = tasks[k];
      if (errs[t].ok() &&
          out->header.frame_style_compressed == checkpt::FrameStyle::kRaw &&
          raw != task.end - task.off) [[unlikely]] {
        errs[t] = Bad(absl::StrFormat(
            "cgroup at offset %u: its commands describe %u bytes, its frame "
            "holds %u",
            task.off, raw, task.end - task.off));
      }
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

absl::Status VerifyCgroupSeal(std::span<const uint8_t> file,
                              const CgroupTask& task) {
  if (task.end == task.next) return absl::OkStatus();  // unsealed
  return seal::Check(
      task.seal,
      seal::Of(file.subspan(task.off, task.end - task.off), task.off),
      "cgroup");
}

absl::Status ReadAllCgroups(std::span<const uint8_t> file, size_t thread_cnt,
                            const V2Scan& scan) {
  const std::vector<CgroupTask>& tasks = scan.tasks;
  const size_t threads =
      std::max<size_t>(1, std::min(thread_cnt, tasks.size()));
  ThreadPool pool(threads);
  std::atomic<size_t> next{0};
  std::vector<absl::Status> errs(threads);
  pool.ExecAll([&](size_t t) {
    // Meta pieces of at most kMetaMax bytes decode exactly as one Data of
    // the whole allocation would (§1.5), into a small scratch buffer.
    std::vector<uint8_t> scratch(checkpt::kMetaMax);
    seal::Hasher hasher;
    for (size_t k; errs[t].ok() && (k = next.fetch_add(1)) < tasks.size();) {
      const CgroupTask& task = tasks[k];
      absl::Status& st = errs[t];
      absl::StatusOr<checkpt::Reader> r = checkpt::Reader::Mmio(file);
      if (!r.ok()) {
        st = r.status();
        break;
      }
      hasher.Reset();
      r->SetTap([&hasher](std::span<const uint8_t> b) { hasher.Update(b); });
      std::vector<uint64_t> sizes;
      st = ReadCgroupOf(*r, scan.header, task,
                        [&](uint64_t, const format::Alloc& a) {
                          sizes.push_back(a.hi - a.lo);
                          return absl::OkStatus();
                        });
      for (uint64_t sz : sizes) {
        for (uint64_t left = sz; st.ok() && left;) {
          const uint64_t piece = std::min(left, checkpt::kMetaMax);
          st = r->Meta(scratch.data(), piece);
          left -= piece;
        }
      }
      absl::StatusOr<uint64_t> end =
          st.ok() ? r->Close() : absl::StatusOr<uint64_t>(st);
      if (!end.ok()) {
        st = At(end.status(), absl::StrFormat("cgroup at offset %u", task.off));
      } else if (*end != task.end) {
        st = Bad(absl::StrFormat(
            "cgroup at offset %u does not end where the next frame starts",
            task.off));
      } else if (scan.sealed) {
        st = seal::Check(task.seal, hasher.Finish(task.off), "cgroup");
      }
    }
  });
  for (const auto& e : errs) WK_RETURN_IF_ERROR(e);
  return absl::OkStatus();
}

namespace {

// The seal right after the info frame covers the header and the info
// frame: hashed from the sniff's header bytes (the ones decoded) and the
// info frame's bytes in the file.
absl::Status CheckHeadSeal(std::span<const uint8_t> file,
                           const Sniffed& sniffed, uint64_t info_end) {
  if (info_end > file.size() || file.size() - info_end < seal::kSealSz)
      [[unlikely]] {
    return Bad("header and info frames: no room for its seal");
  }
  seal::Seal found;
  WK_RETURN_IF_ERROR(seal::Decode(file.subspan(info_end, seal::kSealSz),
                                  "header and info frames", &found));
  seal::Hasher h;
  h.Update(sniffed.header_bytes);
  h.Update(file.subspan(format::kHeaderSz, info_end - format::kHeaderSz));
  return seal::Check(found, h.Finish(0), "header and info frames");
}

// Header (the sniff's) and info (and whether the file is sealed); the rest
// of the layout unless info_only.
absl::Status ScanHead(std::span<const uint8_t> file, const Sniffed& sniffed,
                      const wksp::Wksp* target, bool info_only,
                      uint64_t trailer_lo, V2Scan* out, uint64_t* info_end) {
  if (sniffed.style == Style::kV1) [[unlikely]]
    return Bad("a v1 checkpoint where a v2/v3 one was expected");
  if (file.size() <= kMinFileSz) [[unlikely]]
    return Bad("file too small");
  out->header = sniffed.header;
  WK_ASSIGN_OR_RETURN(checkpt::Reader r, checkpt::Reader::Mmio(file));
  WK_RETURN_IF_ERROR(r.Seek(format::kHeaderSz));
  WK_ASSIGN_OR_RETURN(
      *info_end, ReadInfo(r, out->header.frame_style_compressed, &out->info));
  // A seal right after the info frame makes the file sealed; any other byte
  // there must start the next frame.
  out->sealed =
      *info_end < file.size() && seal::HasMagic(file.subspan(*info_end));
  if (out->sealed) WK_RETURN_IF_ERROR(CheckHeadSeal(file, sniffed, *info_end));
  if (info_only) return absl::OkStatus();
  absl::Status st = ScanFooter(r, file, sniffed, *info_end, target, out);
  if (st.code() == absl::StatusCode::kDataLoss) [[unlikely]] {
    // No valid footer at the end: most often a truncated file. Read from the
    // start, the file says where it ends early and how much it needs
    // (checkpt::ErrorClass kIo: the input ended); other faults keep the
    // footer's verdict.
    absl::Status walked = WalkV2Bytes(file, out->header);
    if (!walked.ok() && checkpt::ClassOf(walked) == checkpt::ErrorClass::kIo &&
        walked.code() == absl::StatusCode::kDataLoss) {
      return walked;
    }
  }
  WK_RETURN_IF_ERROR(st);
  return ScanVolumes(r, file, *info_end, trailer_lo, out);
}

}  // namespace

absl::Status ScanV2(std::span<const uint8_t> file, const Sniffed& sniffed,
                    size_t threads, const wksp::Wksp* target, bool info_only,
                    V2Scan* out) {
  uint64_t info_end = 0;
  WK_RETURN_IF_ERROR(
      ScanHead(file, sniffed, target, info_only, 0, out, &info_end));
  if (info_only) return absl::OkStatus();
  WK_RETURN_IF_ERROR(ScanCgroups(file, threads, out));
  return CheckAllocationsFit(*out, target);
}

absl::Status ScanV2(std::span<const uint8_t> file, size_t threads,
                    const wksp::Wksp* target, bool info_only, V2Scan* out) {
  WK_ASSIGN_OR_RETURN(Sniffed sniffed, SniffBytes(file));
  return ScanV2(file, sniffed, threads, target, info_only, out);
}

absl::Status ScanV2Layout(std::span<const uint8_t> file,
                          const Sniffed& sniffed, const wksp::Wksp* target,
                          uint64_t trailer_lo, V2Scan* out,
                          uint64_t* info_end) {
  return ScanHead(file, sniffed, target, false, trailer_lo, out, info_end);
}

absl::Status ScanV2Layout(std::span<const uint8_t> file,
                          const wksp::Wksp* target, uint64_t trailer_lo,
                          V2Scan* out, uint64_t* info_end) {
  WK_ASSIGN_OR_RETURN(Sniffed sniffed, SniffBytes(file));
  return ScanV2Layout(file, sniffed, target, trailer_lo, out, info_end);
}

absl::Status CheckCgroupSealRange(std::span<const uint8_t> file,
                                  CgroupTask& task) {
  if (task.end == task.next) return absl::OkStatus();  // unsealed
  WK_RETURN_IF_ERROR(seal::Decode(file.subspan(task.end, seal::kSealSz),
                                  "cgroup", &task.seal));
  if (task.seal.off != task.off || task.seal.sz != task.end - task.off)
      [[unlikely]]
    return Bad("a cgroup's seal covers another range than its frame");
  return absl::OkStatus();
}

}  // namespace wk::wksp_checkpt::internal
