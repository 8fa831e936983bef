// Styles v2 and v3 (§4.8): restore from a memory-mapped file (validated in
// full, then restored in parallel) or from a stream (single pass).
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/prefetch.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/internal.h"
#include "wksp/geometry.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr uint64_t kMinFileSz = format::kHeaderSz + format::kFooterSz;
constexpr size_t kRbufSz = size_t{8} << 20;

void PopulateRead(std::span<const uint8_t> range) {
#ifdef MADV_POPULATE_READ
  uintptr_t lo = reinterpret_cast<uintptr_t>(range.data()) & ~uintptr_t{4095};
  uintptr_t hi = reinterpret_cast<uintptr_t>(range.data() + range.size());
  (void)madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_READ);
#else
  (void)range;
#endif
}

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(
      absl::StrFormat("corrupt v2/v3 checkpoint: %s", what));
}

// Annotates a failure of the frame layer (which names the I/O or LZ4
// problem) with where in the checkpoint it happened.
absl::Status At(const absl::Status& st, std::string_view where) {
  return Annotate(st, absl::StrFormat("corrupt v2/v3 checkpoint (%s)", where));
}

absl::StatusOr<format::Cmd> ReadCmd(checkpt::Reader& r) {
  uint8_t b[format::kCmdSz];
  WK_RETURN_IF_ERROR(r.Meta(b, sizeof(b)));
  return format::DecodeCmd(b);
}

// Reads a cgroup frame's meta commands into allocs[0, cnt) and its data
// command, checking each range. Leaves the frame open.
absl::Status ReadCgroupMeta(checkpt::Reader& r, int fsc, const CgroupTask& t,
                            const wksp::Limits& src, format::Alloc* allocs) {
  WK_RETURN_IF_ERROR(r.Seek(t.off));
  WK_RETURN_IF_ERROR(r.Open(fsc).status());
  for (uint64_t j = 0; j < t.cnt; ++j) {
    WK_ASSIGN_OR_RETURN(format::Cmd c, ReadCmd(r));
    if (!c.IsMeta()) [[unlikely]] {
      return Bad(absl::StrFormat(
          "cgroup at %u: command %u is not an allocation", t.off, j));
    }
    format::Alloc a{c.b, c.c, c.a};
    WK_RETURN_IF_ERROR(format::CheckInSource(a, src));
    allocs[j] = a;
  }
  WK_ASSIGN_OR_RETURN(format::Cmd d, ReadCmd(r));
  if (!d.IsData()) [[unlikely]] {
    return Bad(absl::StrFormat("cgroup at %u: data command missing", t.off));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ScanV2(std::span<const uint8_t> file, size_t thread_cnt,
                    const wksp::Wksp* target, bool info_only, V2Scan* out) {
  const uint64_t n = file.size();
  if (n <= kMinFileSz) [[unlikely]]
    return Bad("file too small");
  format::Header& h = out->header;
  WK_RETURN_IF_ERROR(format::DecodeHeader(file, &h));
  const int fsc = h.frame_style_compressed;
  const wksp::Limits src = wksp::LimitsOf(h.part_max, h.data_max);

  WK_ASSIGN_OR_RETURN(checkpt::Reader r, checkpt::Reader::Mmio(file));
  // Info frame: only its structure matters for a restore.
  uint64_t info_end;
  {
    WK_RETURN_IF_ERROR(r.Seek(format::kHeaderSz));
    WK_RETURN_IF_ERROR(r.Open(fsc).status());
    uint8_t ib[format::kInfoSz];
    WK_RETURN_IF_ERROR(At(r.Meta(ib, sizeof(ib)), "info frame"));
    uint64_t ssz = 0;
    WK_RETURN_IF_ERROR(format::DecodeInfoStruct(ib, &out->info, &ssz));
    std::vector<uint8_t> strings(ssz);
    WK_RETURN_IF_ERROR(At(r.Meta(strings.data(), ssz), "info strings"));
    WK_RETURN_IF_ERROR(format::DecodeInfoStrings(strings, &out->info));
    WK_ASSIGN_OR_RETURN(info_end, r.Close());
  }
  if (info_only) return absl::OkStatus();

  out->footer = format::DecodeFooter(file.data() + n - format::kFooterSz);
  const format::Footer& ftr = out->footer;
  WK_RETURN_IF_ERROR(format::CheckFooterMatchesHeader(ftr, h, file.data()));
  if (ftr.checkpt_sz != n) [[unlikely]] {
    return Bad(absl::StrFormat("footer says %u bytes, file has %u",
                               ftr.checkpt_sz, n));
  }
  const uint64_t v = ftr.frame_off;
  if (v < info_end || v >= n - format::kFooterSz) [[unlikely]] {
    return Bad("volumes frame offset out of range");
  }
  if (target && ftr.alloc_cnt > target->part_max()) [[unlikely]] {
    return absl::FailedPreconditionError(absl::StrFormat(
        "checkpoint has %u allocations, more than the target's %u partitions",
        ftr.alloc_cnt, target->part_max()));
  }
  if (ftr.alloc_cnt > h.part_max) [[unlikely]] {
    return Bad("more allocations than the checkpoint's partitions");
  }
  // Every allocation takes at least a 4-byte chunk (LZ4) or a 24-byte
  // command (RAW): a count the file cannot hold is refused before anything
  // is sized by it.
  if (ftr.alloc_cnt > n / 4) [[unlikely]] {
    return Bad("more allocations than the file can hold");
  }

  // Volumes, then each volume's appendix, newest first.
  auto frame_err = [](const absl::Status& st, const char* where) {
    return At(st, where);
  };
  WK_RETURN_IF_ERROR(r.Seek(v));
  WK_RETURN_IF_ERROR(frame_err(r.Open(fsc).status(), "volumes"));
  absl::StatusOr<format::Cmd> vol = ReadCmd(r);
  if (!vol.ok()) [[unlikely]]
    return frame_err(vol.status(), "volumes");
  if (!vol->IsVolumes()) [[unlikely]]
    return Bad("volumes command missing");
  absl::StatusOr<uint64_t> vol_end = r.Close();
  if (!vol_end.ok()) [[unlikely]]
    return frame_err(vol_end.status(), "volumes");
  if (*vol_end > n - format::kFooterSz) [[unlikely]] {
    return Bad("volumes frame overlaps the footer");
  }

  std::vector<CgroupTask>& tasks = out->tasks;
  uint64_t app = vol->c, lo = format::kHeaderSz, hi = v, rem = ftr.alloc_cnt;
  uint64_t volumes = 0;
  while (app != 0) {
    if (volumes == ftr.volume_cnt) [[unlikely]] {
      return Bad("more volumes than the footer counts");
    }
    if (app <= lo || app >= hi) [[unlikely]]
      return Bad("appendix offset out of range");
    WK_RETURN_IF_ERROR(r.Seek(app));
    WK_RETURN_IF_ERROR(frame_err(r.Open(fsc).status(), "appendix"));
    absl::StatusOr<format::Cmd> ac = ReadCmd(r);
    if (!ac.ok()) [[unlikely]]
      return frame_err(ac.status(), "appendix");
    if (!ac->IsAppendix() || ac->b > format::kCgroupMax) [[unlikely]] {
      return Bad("bad appendix command");
    }
    const uint64_t g = ac->b, prev = ac->c;
    std::vector<uint8_t> offs(8 * g), cnts(8 * g);
    WK_RETURN_IF_ERROR(frame_err(r.Meta(offs.data(), offs.size()), "appendix"));
    WK_RETURN_IF_ERROR(frame_err(r.Meta(cnts.data(), cnts.size()), "appendix"));
    absl::StatusOr<uint64_t> app_end = r.Close();
    if (!app_end.ok()) [[unlikely]]
      return frame_err(app_end.status(), "appendix");
    if (*app_end > hi) [[unlikely]]
      return Bad("appendix overruns the next frame");

    std::vector<CgroupTask> vt(g);
    for (uint64_t i = 0; i < g; ++i) {
      vt[i].off = format::LoadU64(offs.data() + 8 * i);
      vt[i].cnt = format::LoadU64(cnts.data() + 8 * i);
    }
    uint64_t floor = std::max(std::max(prev, lo), info_end - 1);
    for (uint64_t i = 0; i < g; ++i) {
      uint64_t limit = i + 1 < g ? vt[i + 1].off : app;
      if (vt[i].off <= floor || vt[i].off >= limit) [[unlikely]] {
        return Bad("cgroup offsets not increasing inside their volume");
      }
      floor = vt[i].off;
      vt[i].next = limit;
    }
    // Counts are consumed from the last cgroup backwards.
    for (uint64_t i = g; i-- > 0;) {
      if (vt[i].cnt > rem) [[unlikely]]
        return Bad("cgroup counts exceed the total");
      rem -= vt[i].cnt;
      vt[i].slot = rem;
    }
    tasks.insert(tasks.end(), vt.begin(), vt.end());
    ++volumes;
    hi = g ? vt[0].off : app;
    app = prev;
  }
  if (rem != 0 || volumes != ftr.volume_cnt || tasks.size() != ftr.cgroup_cnt)
      [[unlikely]] {
    return Bad("footer counts disagree with the appendices");
  }

  // Read and check every allocation's command before touching anything.
  const size_t threads =
      std::max<size_t>(1, std::min(thread_cnt, tasks.size()));
  std::vector<format::Alloc>& allocs = out->allocs;
  allocs.assign(ftr.alloc_cnt, {});
  ThreadPool pool(threads);
  std::atomic<size_t> next{0};
  std::vector<absl::Status> errs(threads);
  pool.ExecAll([&](size_t t) {
    absl::StatusOr<checkpt::Reader> tr = checkpt::Reader::Mmio(file);
    if (!tr.ok()) [[unlikely]] {
      errs[t] = tr.status();
      return;
    }
    for (size_t k; errs[t].ok() && (k = next.fetch_add(1)) < tasks.size();) {
      const CgroupTask& task = tasks[k];
      errs[t] = ReadCgroupMeta(*tr, fsc, task, src, allocs.data() + task.slot);
      if (!errs[t].ok()) errs[t] = At(errs[t], "cgroup commands");
      // The frame is abandoned half-read: a fresh reader for the next one.
      tr = checkpt::Reader::Mmio(file);
    }
  });
  for (const auto& e : errs) WK_RETURN_IF_ERROR(e);
  {
    std::vector<format::Alloc> sorted = allocs;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.lo < b.lo; });
    // In a target, or else in the workspace they came from.
    WK_RETURN_IF_ERROR(target ? wksp::CheckFit(*target, sorted)
                              : Annotate(wksp::CheckFit(sorted, src),
                                         "corrupt v2/v3 checkpoint"));
  }
  return absl::OkStatus();
}

absl::Status RestoreV2File(wksp::Wksp& wksp, int fd,
                           const RestoreOptions& options) {
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(fd));
  const std::span<const uint8_t> file = map.span();
  (void)map.Advise(io::Advice::kSequential);
  const size_t threads = ResolveThreads(options.threads);
  V2Scan scan;
  WK_RETURN_IF_ERROR(ScanV2(file, threads, &wksp, false, &scan));
  const int fsc = scan.header.frame_style_compressed;
  const wksp::Limits src =
      wksp::LimitsOf(scan.header.part_max, scan.header.data_max);
  const std::vector<CgroupTask>& tasks = scan.tasks;
  const std::vector<format::Alloc>& allocs = scan.allocs;
  ThreadPool pool(std::max<size_t>(1, std::min(threads, tasks.size())));
  std::vector<absl::Status> errs(pool.size());
  std::atomic<size_t> next{0};

  // Everything checkable was checked: restore.
  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  target.Begin();
  for (uint64_t i = 0; i < allocs.size(); ++i) {
    if (absl::Status st = target.Place(i, allocs[i]); !st.ok()) [[unlikely]] {
      return target.Fail(st);
    }
  }
  uint64_t total = 0;
  for (const auto& a : allocs) total += a.hi - a.lo;
  std::atomic<uint64_t> done{0};
  pool.ExecAll([&](size_t t) {
    errs[t] = absl::OkStatus();
    absl::StatusOr<checkpt::Reader> tr = checkpt::Reader::Mmio(file);
    if (!tr.ok()) [[unlikely]] {
      errs[t] = tr.status();
      return;
    }
    std::vector<format::Alloc> scratch;
    for (size_t k; errs[t].ok() && (k = next.fetch_add(1)) < tasks.size();) {
      const CgroupTask& task = tasks[k];
      // Map the frame's pages in one call before reading them (best effort,
      // Linux 5.14+). Reading through the mapping measured ~8% faster than
      // pread into the workspace; populating first is about even with the
      // kernel's own fault-around, and never slower.
      PopulateRead(file.subspan(task.off, task.next - task.off));
      scratch.resize(task.cnt);
      errs[t] = ReadCgroupMeta(*tr, fsc, task, src, scratch.data());
      uint64_t bytes = 0;
      for (uint64_t j = 0; errs[t].ok() && j < task.cnt; ++j) {
        const format::Alloc& a = allocs[task.slot + j];
        // The file may have changed since the check: if so, stop.
        if (scratch[j].lo != a.lo || scratch[j].hi != a.hi ||
            scratch[j].tag != a.tag) [[unlikely]] {
          errs[t] = Bad("checkpoint changed during the restore");
          break;
        }
        errs[t] = tr->Data(target.Dest(a.lo), a.hi - a.lo);
        bytes += a.hi - a.lo;
      }
      if (errs[t].ok()) {
        absl::StatusOr<uint64_t> end = tr->Close();
        if (!end.ok()) {
          errs[t] = end.status();
        } else if (*end > task.next) [[unlikely]] {
          errs[t] = Bad("cgroup frame overruns the next frame");
        }
      }
      if (!errs[t].ok()) {
        errs[t] = At(errs[t], absl::StrFormat("cgroup at offset %u", task.off));
        break;
      }
      uint64_t d = done.fetch_add(bytes) + bytes;
      if (options.progress && t == 0) options.progress(d, total);
    }
  });
  for (const auto& e : errs) {
    if (!e.ok()) [[unlikely]]
      return target.Fail(e);
  }
  if (options.progress) options.progress(total, total);
  return target.Finish();
}

absl::Status RestoreV2Stream(wksp::Wksp& wksp, int fd,
                             std::span<const uint8_t> header,
                             const RestoreOptions& options) {
  // The caller read the header frame already (to tell the style); the frame
  // reader's offsets therefore start at kHeaderSz.
  format::Header h;
  WK_RETURN_IF_ERROR(format::DecodeHeader(header, &h));
  const int fsc = h.frame_style_compressed;
  const wksp::Limits src = wksp::LimitsOf(h.part_max, h.data_max);
  const uint64_t base = format::kHeaderSz;

  // A read-ahead thread overlaps the read(2) copies with decoding (measured
  // on a pipe: RAW 1.7 -> 2.1 GB/s, LZ4 4.4 -> 5.3 GB/s).
  io::Prefetcher prefetch(fd);
  auto rbuf = std::make_unique_for_overwrite<uint8_t[]>(kRbufSz);
  WK_ASSIGN_OR_RETURN(checkpt::Reader r,
                      checkpt::Reader::Source(
                          [&prefetch](uint8_t* dst, size_t min, size_t max) {
                            return prefetch.Read(dst, min, max);
                          },
                          std::span(rbuf.get(), kRbufSz)));
  const uint64_t r0 = r.offset();  // fd position of the info frame
  auto abs_off = [&](uint64_t reader_off) { return reader_off - r0 + base; };

  {
    WK_RETURN_IF_ERROR(At(r.Open(fsc).status(), "info frame"));
    uint8_t ib[format::kInfoSz];
    WK_RETURN_IF_ERROR(At(r.Meta(ib, sizeof(ib)), "info frame"));
    format::Info info;
    uint64_t ssz = 0;
    WK_RETURN_IF_ERROR(format::DecodeInfoStruct(ib, &info, &ssz));
    std::vector<uint8_t> strings(ssz);
    WK_RETURN_IF_ERROR(At(r.Meta(strings.data(), ssz), "info strings"));
    WK_RETURN_IF_ERROR(format::DecodeInfoStrings(strings, &info));
    WK_RETURN_IF_ERROR(At(r.Close().status(), "info frame"));
  }

  // From here on the workspace may be modified: every failure resets it.
  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  auto fail = [&](const absl::Status& st, std::string_view where) {
    return target.Fail(At(st, where));
  };
  uint64_t slots = 0, last_app = 0, volumes = 0, cgroups = 0, done = 0;
  std::vector<uint64_t> vol_offs, vol_cnts;  // cgroups of the current volume
  std::vector<format::Alloc> metas;
  for (;;) {
    absl::StatusOr<uint64_t> off = r.Open(fsc);
    if (!off.ok()) [[unlikely]]
      return fail(off.status(), "frame open");
    absl::StatusOr<format::Cmd> c = ReadCmd(r);
    if (!c.ok()) [[unlikely]]
      return fail(c.status(), "frame command");
    const uint64_t frame_off = abs_off(*off);

    if (c->IsAppendix()) {
      const uint64_t g = c->b;
      if (g != vol_offs.size() || c->c != last_app) [[unlikely]] {
        return target.Fail(Bad("appendix disagrees with the frames read"));
      }
      std::vector<uint8_t> offs(8 * g), cnts(8 * g);
      absl::Status st = r.Meta(offs.data(), offs.size());
      if (st.ok()) st = r.Meta(cnts.data(), cnts.size());
      if (!st.ok()) [[unlikely]]
        return fail(st, "appendix");
      for (uint64_t i = 0; i < g; ++i) {
        if (format::LoadU64(offs.data() + 8 * i) != vol_offs[i] ||
            format::LoadU64(cnts.data() + 8 * i) != vol_cnts[i]) [[unlikely]] {
          return target.Fail(Bad("appendix disagrees with the frames read"));
        }
      }
      if (absl::Status cs = r.Close().status(); !cs.ok()) [[unlikely]] {
        return fail(cs, "appendix");
      }
      last_app = frame_off;
      ++volumes;
      vol_offs.clear();
      vol_cnts.clear();
      continue;
    }
    if (c->IsVolumes()) {
      if (c->c != last_app || !vol_offs.empty()) [[unlikely]] {
        return target.Fail(Bad("volumes frame disagrees with the appendices"));
      }
      absl::StatusOr<uint64_t> vend = r.Close();
      if (!vend.ok()) [[unlikely]]
        return fail(vend.status(), "volumes");
      uint8_t fb[format::kFooterSz];
      absl::Status st = r.Open(format::kFrameRaw).status();
      if (st.ok()) st = r.Meta(fb, sizeof(fb));
      if (st.ok()) st = r.Close().status();
      if (!st.ok()) [[unlikely]]
        return fail(st, "footer");
      format::Footer f = format::DecodeFooter(fb);
      if (absl::Status fs =
              format::CheckFooterMatchesHeader(f, h, header.data());
          !fs.ok()) [[unlikely]] {
        return target.Fail(fs);
      }
      if (f.checkpt_sz != abs_off(*vend) + format::kFooterSz ||
          f.alloc_cnt != slots || f.cgroup_cnt != cgroups ||
          f.volume_cnt != volumes || f.frame_off != frame_off) [[unlikely]] {
        return target.Fail(Bad("footer disagrees with the frames read"));
      }
      break;
    }

    // A cgroup: its allocation commands (if any), then the data command.
    // An appendix lists at most kCgroupMax of them: more cannot be valid,
    // and remembering them would let an endless stream grow memory.
    if (vol_offs.size() == format::kCgroupMax) [[unlikely]] {
      return target.Fail(Bad("more cgroups than an appendix can list"));
    }
    metas.clear();
    for (format::Cmd m = *c; !m.IsData();) {
      if (!m.IsMeta()) [[unlikely]] {
        return target.Fail(Bad("unexpected command in a cgroup frame"));
      }
      format::Alloc a{m.b, m.c, m.a};
      if (absl::Status rs = format::CheckInSource(a, src); !rs.ok())
          [[unlikely]] {
        return target.Fail(rs);
      }
      if (slots + metas.size() >= wksp.part_max()) [[unlikely]] {
        return target.Fail(absl::FailedPreconditionError(absl::StrFormat(
            "checkpoint has more allocations than the target's %u partitions",
            wksp.part_max())));
      }
      if (absl::Status rs = wksp::CheckFit(wksp, std::span(&a, 1)); !rs.ok())
          [[unlikely]] {
        return target.Fail(rs);
      }
      metas.push_back(a);
      absl::StatusOr<format::Cmd> nc = ReadCmd(r);
      if (!nc.ok()) [[unlikely]]
        return fail(nc.status(), "cgroup commands");
      m = *nc;
    }
    target.Begin();
    for (const auto& a : metas) {
      absl::Status st = target.Place(slots, a);
      if (st.ok()) st = r.Data(target.Dest(a.lo), a.hi - a.lo);
      if (!st.ok()) [[unlikely]]
        return fail(st, "cgroup data");
      ++slots;
      done += a.hi - a.lo;
    }
    if (absl::Status cs = r.Close().status(); !cs.ok()) [[unlikely]] {
      return fail(cs, "cgroup data");
    }
    vol_offs.push_back(frame_off);
    vol_cnts.push_back(metas.size());
    ++cgroups;
    if (options.progress) options.progress(done, 0);
  }
  target.Begin();  // an empty checkpoint still replaces every allocation
  return target.Finish();
}

}  // namespace wk::wksp_checkpt::internal
