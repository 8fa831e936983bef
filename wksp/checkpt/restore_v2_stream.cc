// Styles v2 and v3, restored from a stream (a pipe, stdin, a file read from
// the middle) in a single pass (CHECKPOINT_FORMAT.md §4.8). Only the header
// and the info frame can be checked before the first allocation is written;
// after that every frame is checked as it arrives against those before it,
// and a failure resets the workspace. Memory stays bounded whatever the
// stream holds: one cgroup's commands and one volume's cgroup list.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "io/prefetch.h"
#include "util/status.h"
#include "wksp/checkpt/frames.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr size_t kRbufSz = size_t{8} << 20;

// The frames after the info frame, read and restored one at a time.
class StreamRestore {
 public:
  // `r` reads the stream from reader offset r0, the file offset kHeaderSz.
  StreamRestore(wksp::Wksp& wksp, const format::Header& h,
                std::span<const uint8_t> header_bytes, checkpt::Reader& r,
                uint64_t r0, const RestoreOptions& options)
      : wksp_(wksp),
        h_(h),
        header_bytes_(header_bytes),
        r_(r),
        r0_(r0),
        options_(options),
        src_(wksp::LimitsOf(h.part_max, h.data_max)),
        target_(wksp, options.seed.value_or(wksp.seed())) {}

  absl::Status Run() {
    for (bool end = false; !end;) {
      absl::StatusOr<CommandFrame> f =
          OpenCommandFrame(r_, h_.frame_style_compressed, "frame");
      absl::Status st = f.status();
      if (st.ok() && f->first.IsAppendix()) {
        st = Appendix(*f);
      } else if (st.ok() && f->first.IsVolumes()) {
        st = VolumesAndFooter(*f);
        end = true;
      } else if (st.ok()) {
        st = Cgroup(*f);
      }
      if (!st.ok()) [[unlikely]]
        return target_.Fail(st);
    }
    target_.Begin();  // an empty checkpoint still replaces every allocation
    return target_.Finish();
  }

 private:
  uint64_t FileOffset(uint64_t reader_off) const {
    return reader_off - r0_ + format::kHeaderSz;
  }

  // A cgroup: its commands, checked before its data is written.
  absl::Status Cgroup(const CommandFrame& f) {
    // An appendix lists at most kCgroupMax cgroups: more cannot be valid,
    // and remembering them would let an endless stream grow memory.
    if (vol_offs_.size() == format::kCgroupMax) [[unlikely]]
      return Bad("more cgroups than an appendix can list");
    metas_.clear();
    WK_RETURN_IF_ERROR(ReadCgroupCommands(
        r_, f.first, src_, [&](const format::Alloc& a) -> absl::Status {
          if (slots_ + metas_.size() >= wksp_.part_max()) [[unlikely]] {
            return absl::FailedPreconditionError(absl::StrFormat(
                "checkpoint has more allocations than the target's %u "
                "partitions",
                wksp_.part_max()));
          }
          WK_RETURN_IF_ERROR(wksp::CheckFit(wksp_, std::span(&a, 1)));
          metas_.push_back(a);
          return absl::OkStatus();
        }));
    target_.Begin();
    for (const format::Alloc& a : metas_) {
      absl::Status st = target_.Place(slots_, a);
      if (st.ok()) st = r_.Data(target_.Dest(a.lo), a.hi - a.lo);
      WK_RETURN_IF_ERROR(At(st, "cgroup data"));
      ++slots_;
      done_ += a.hi - a.lo;
    }
    WK_RETURN_IF_ERROR(At(r_.Close().status(), "cgroup data"));
    vol_offs_.push_back(FileOffset(f.off));
    vol_cnts_.push_back(metas_.size());
    ++cgroups_;
    if (options_.progress) options_.progress(done_, 0);
    return absl::OkStatus();
  }

  // An appendix must list exactly the cgroups read since the last one.
  absl::Status Appendix(const CommandFrame& f) {
    internal::Appendix ap;
    WK_RETURN_IF_ERROR(ReadAppendix(r_, f.first, &ap).status());
    if (ap.prev != last_app_ || ap.offs != vol_offs_ || ap.cnts != vol_cnts_)
        [[unlikely]] {
      return Bad("appendix disagrees with the frames read");
    }
    last_app_ = FileOffset(f.off);
    ++volumes_;
    vol_offs_.clear();
    vol_cnts_.clear();
    return absl::OkStatus();
  }

  // The volumes frame must name the last appendix, and the footer after it
  // must count what was read.
  absl::Status VolumesAndFooter(const CommandFrame& f) {
    uint64_t last_app = 0;
    WK_ASSIGN_OR_RETURN(uint64_t vol_end, ReadVolumes(r_, f.first, &last_app));
    if (last_app != last_app_ || !vol_offs_.empty()) [[unlikely]]
      return Bad("volumes frame disagrees with the appendices");
    format::Footer ftr;
    WK_RETURN_IF_ERROR(ReadFooter(r_, h_, header_bytes_, &ftr));
    if (ftr.checkpt_sz != FileOffset(vol_end) + format::kFooterSz ||
        ftr.alloc_cnt != slots_ || ftr.cgroup_cnt != cgroups_ ||
        ftr.volume_cnt != volumes_ || ftr.frame_off != FileOffset(f.off))
        [[unlikely]] {
      return Bad("footer disagrees with the frames read");
    }
    return absl::OkStatus();
  }

  wksp::Wksp& wksp_;
  const format::Header& h_;
  const std::span<const uint8_t> header_bytes_;
  checkpt::Reader& r_;
  const uint64_t r0_;
  const RestoreOptions& options_;
  const wksp::Limits src_;
  RestoreTarget target_;
  uint64_t slots_ = 0, cgroups_ = 0, volumes_ = 0, last_app_ = 0, done_ = 0;
  std::vector<uint64_t> vol_offs_, vol_cnts_;  // of the current volume
  std::vector<format::Alloc> metas_;           // of the current cgroup
};

}  // namespace

absl::Status RestoreV2Stream(wksp::Wksp& wksp, int fd, const format::Header& h,
                             std::span<const uint8_t> header_bytes,
                             const RestoreOptions& options) {
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
  // The caller read the header frame (to tell the style): the reader starts
  // at the info frame, file offset kHeaderSz.
  const uint64_t r0 = r.offset();
  format::Info info;
  WK_RETURN_IF_ERROR(ReadInfo(r, h.frame_style_compressed, &info).status());
  return StreamRestore(wksp, h, header_bytes, r, r0, options).Run();
}

}  // namespace wk::wksp_checkpt::internal
