// Styles v2 and v3, restored from a stream (a pipe, stdin, a file read from
// the middle) in a single pass (CHECKPOINT_FORMAT.md §4.8). Only the header
// and the info frame can be checked before the first allocation is written;
// after that every frame is checked as it arrives against those before it,
// and a failure resets the workspace. Memory stays bounded whatever the
// stream holds: one cgroup's commands and one volume's cgroup list.
// Sealed streams (§4.10) are verified as they go: each frame's bytes are
// hashed as they are read and checked against the seal that follows it.
// Without a workspace the same walk verifies a stream (checkpt-verify -).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "io/fd.h"
#include "io/prefetch.h"
#include "util/status.h"
#include "wksp/checkpt/frames.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/restore_target.h"
#include "wksp/checkpt/seal.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr size_t kRbufSz = size_t{8} << 20;

// The frames after the info frame, read and restored (or, without a
// workspace, only read) one at a time.
class StreamRestore {
 public:
  // `r` reads the stream from reader offset r0, the file offset kHeaderSz;
  // `hasher` is fed every byte r consumes (its tap) and holds the header
  // and info frames' bytes so far. wksp null: verify only.
  StreamRestore(wksp::Wksp* wksp, const format::Header& h,
                std::span<const uint8_t> header_bytes, checkpt::Reader& r,
                uint64_t r0, seal::Hasher& hasher,
                const RestoreOptions& options)
      : wksp_(wksp),
        h_(h),
        header_bytes_(header_bytes),
        r_(r),
        r0_(r0),
        hasher_(hasher),
        src_(wksp::LimitsOf(h.part_max, h.data_max)),
        part_max_(wksp ? wksp->part_max() : h.part_max) {
    if (wksp) target_.emplace(*wksp, options.seed.value_or(wksp->seed()));
  }

  absl::Status Run(StreamSummary* summary) {
    absl::Status st = Walk();
    if (!st.ok()) [[unlikely]]
      return target_ ? target_->Fail(st) : st;
    if (summary) {
      *summary = {.sealed = sealed_,
                  .allocs = slots_,
                  .data_bytes = done_,
                  .file_bytes = end_};
    }
    if (!target_) return absl::OkStatus();
    target_->Begin();  // an empty checkpoint still replaces every allocation
    return target_->Finish();
  }

 private:
  uint64_t FileOffset(uint64_t reader_off) const {
    return reader_off - r0_ + format::kHeaderSz;
  }

  absl::Status Walk() {
    // The header and info frames are sealed together; a seal right after
    // them makes the stream sealed.
    WK_ASSIGN_OR_RETURN(std::span<const uint8_t> next, r_.Peek(seal::kSealSz));
    sealed_ = seal::HasMagic(next);
    WK_RETURN_IF_ERROR(CheckSeal(0, "header and info frames"));
    for (bool end = false; !end;) {
      hasher_.Reset();
      absl::StatusOr<CommandFrame> f =
          OpenCommandFrame(r_, h_.frame_style_compressed, "frame");
      WK_RETURN_IF_ERROR(f.status());
      if (f->first.IsAppendix()) {
        WK_RETURN_IF_ERROR(Appendix(*f));
        WK_RETURN_IF_ERROR(CheckSeal(FileOffset(f->off), "appendix"));
      } else if (f->first.IsVolumes()) {
        WK_RETURN_IF_ERROR(VolumesAndFooter(*f));
        end = true;
      } else {
        WK_RETURN_IF_ERROR(Cgroup(*f));
        WK_RETURN_IF_ERROR(CheckSeal(FileOffset(f->off), "cgroup"));
      }
    }
    return absl::OkStatus();
  }

  // Sealed: the seal that follows must cover what hasher_ was fed since its
  // reset, which began at file offset `off`.
  absl::Status CheckSeal(uint64_t off, std::string_view where) {
    if (!sealed_) return absl::OkStatus();
    const seal::Seal computed = hasher_.Finish(off);
    uint8_t b[seal::kSealSz];
    WK_RETURN_IF_ERROR(ReadRaw(b, sizeof(b), where));
    seal::Seal found;
    WK_RETURN_IF_ERROR(seal::Decode(b, where, &found));
    return seal::Check(found, computed, where);
  }

  // Bytes outside every frame (a seal), read as a RAW frame of their own.
  absl::Status ReadRaw(uint8_t* b, size_t n, std::string_view where) {
    absl::Status st = r_.Open(checkpt::FrameStyle::kRaw).status();
    if (st.ok()) st = r_.Meta(b, n);
    if (st.ok()) st = r_.Close().status();
    return At(st, where);
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
          if (slots_ + metas_.size() >= part_max_) [[unlikely]] {
            return absl::FailedPreconditionError(absl::StrFormat(
                "checkpoint has more allocations than the %s's %u "
                "partitions",
                wksp_ ? "target" : "checkpoint", part_max_));
          }
          if (wksp_)
            WK_RETURN_IF_ERROR(wksp::CheckFit(*wksp_, std::span(&a, 1)));
          metas_.push_back(a);
          return absl::OkStatus();
        }));
    if (target_) {
      target_->Begin();
      WK_RETURN_IF_ERROR(At(target_->Prepare(metas_), "cgroup data"));
    }
    for (const format::Alloc& a : metas_) {
      absl::Status st;
      if (target_) {
        st = target_->Place(slots_, a);
        if (st.ok()) st = r_.Data(target_->Dest(a.lo), a.hi - a.lo);
      } else {
        st = Skip(a.hi - a.lo);
      }
      WK_RETURN_IF_ERROR(At(st, "cgroup data"));
      ++slots_;
      done_ += a.hi - a.lo;
    }
    WK_RETURN_IF_ERROR(At(r_.Close().status(), "cgroup data"));
    vol_offs_.push_back(FileOffset(f.off));
    vol_cnts_.push_back(metas_.size());
    ++cgroups_;
    return absl::OkStatus();
  }

  // Reads (decodes) sz bytes of allocation data into a scratch buffer: Meta
  // pieces of at most kMetaMax bytes decode as one Data would (§1.5).
  absl::Status Skip(uint64_t sz) {
    if (scratch_.empty()) scratch_.resize(checkpt::kMetaMax);
    for (uint64_t left = sz; left;) {
      const uint64_t piece = std::min(left, checkpt::kMetaMax);
      WK_RETURN_IF_ERROR(r_.Meta(scratch_.data(), piece));
      left -= piece;
    }
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
  // must count what was read. Sealed, the volumes frame's seal follows it,
  // then the footer's own seal, then the footer.
  absl::Status VolumesAndFooter(const CommandFrame& f) {
    uint64_t last_app = 0;
    WK_ASSIGN_OR_RETURN(uint64_t vol_end, ReadVolumes(r_, f.first, &last_app));
    if (last_app != last_app_ || !vol_offs_.empty()) [[unlikely]]
      return Bad("volumes frame disagrees with the appendices");
    WK_RETURN_IF_ERROR(CheckSeal(FileOffset(f.off), "volumes"));
    uint8_t ftr_seal[seal::kSealSz];
    if (sealed_)
      WK_RETURN_IF_ERROR(ReadRaw(ftr_seal, sizeof(ftr_seal), "footer"));
    const uint64_t ftr_off = FileOffset(r_.offset());
    hasher_.Reset();
    format::Footer ftr;
    WK_RETURN_IF_ERROR(ReadFooter(r_, h_, header_bytes_, &ftr));
    if (sealed_) {
      seal::Seal found;
      WK_RETURN_IF_ERROR(seal::Decode(ftr_seal, "footer", &found));
      WK_RETURN_IF_ERROR(seal::Check(found, hasher_.Finish(ftr_off), "footer"));
    }
    const uint64_t seals = sealed_ ? 2 * seal::kSealSz : 0;
    if (ftr.checkpt_sz != FileOffset(vol_end) + seals + format::kFooterSz ||
        ftr.alloc_cnt != slots_ || ftr.cgroup_cnt != cgroups_ ||
        ftr.volume_cnt != volumes_ || ftr.frame_off != FileOffset(f.off))
        [[unlikely]] {
      return Bad("footer disagrees with the frames read");
    }
    end_ = ftr.checkpt_sz;
    // As from a path, where the footer ends the file: a stream must end
    // with it, so a path and a pipe of the same bytes agree.
    if (r_.Peek(1).ok()) [[unlikely]]
      return Bad("bytes after the footer");
    return absl::OkStatus();
  }

  wksp::Wksp* const wksp_;
  const format::Header& h_;
  const std::span<const uint8_t> header_bytes_;
  checkpt::Reader& r_;
  const uint64_t r0_;
  seal::Hasher& hasher_;
  const wksp::Limits src_;
  const uint64_t part_max_;
  std::optional<RestoreTarget> target_;
  bool sealed_ = false;
  uint64_t slots_ = 0, cgroups_ = 0, volumes_ = 0, last_app_ = 0, done_ = 0;
  uint64_t end_ = 0;
  std::vector<uint64_t> vol_offs_, vol_cnts_;  // of the current volume
  std::vector<format::Alloc> metas_;           // of the current cgroup
  std::vector<uint8_t> scratch_;               // verify only
};

}  // namespace

namespace {

// The walk over bytes from `source`, which start at file offset kHeaderSz.
// total_size: the file's size when known, else 0.
absl::Status WalkV2Source(wksp::Wksp* wksp, checkpt::Reader::SourceFn source,
                          uint64_t total_size, const format::Header& h,
                          std::span<const uint8_t> header_bytes,
                          const RestoreOptions& options,
                          StreamSummary* summary) {
  auto rbuf = std::make_unique_for_overwrite<uint8_t[]>(kRbufSz);
  WK_ASSIGN_OR_RETURN(
      checkpt::Reader r,
      checkpt::Reader::Source(std::move(source), std::span(rbuf.get(), kRbufSz),
                              format::kHeaderSz, total_size));
  // Every byte read is hashed (cheap next to reading it); unsealed streams
  // just ignore the result.
  seal::Hasher hasher;
  hasher.Update(header_bytes);
  r.SetTap([&hasher](std::span<const uint8_t> b) { hasher.Update(b); });
  // Allocation data is counted as it is decoded or copied, so progress
  // moves inside large allocations (total unknown: a stream).
  ProgressMeter meter(options.progress, 0);
  r.SetCount(meter.Hook());
  // The caller read the header frame (to tell the style): the reader starts
  // at the info frame, file offset kHeaderSz.
  const uint64_t r0 = r.offset();
  format::Info info;
  WK_RETURN_IF_ERROR(ReadInfo(r, h.frame_style_compressed, &info).status());
  return StreamRestore(wksp, h, header_bytes, r, r0, hasher, options)
      .Run(summary);
}

}  // namespace

absl::Status WalkV2Stream(wksp::Wksp* wksp, int fd, const format::Header& h,
                          std::span<const uint8_t> header_bytes,
                          const RestoreOptions& options,
                          StreamSummary* summary) {
  // A read-ahead thread overlaps the read(2) copies with decoding (measured
  // on a pipe: RAW 1.7 -> 2.1 GB/s, LZ4 4.4 -> 5.3 GB/s).
  io::Prefetcher prefetch(fd);
  // A redirected file's size, for a truncation message (0: a pipe).
  uint64_t total_size = 0;
  if (io::IsRegularFile(fd)) total_size = io::FileSize(fd).value_or(0);
  return WalkV2Source(
      wksp,
      [&prefetch](uint8_t* dst, size_t min, size_t max) {
        return prefetch.Read(dst, min, max);
      },
      total_size, h, header_bytes, options, summary);
}

absl::Status WalkV2Bytes(std::span<const uint8_t> file,
                         const format::Header& h) {
  if (file.size() < format::kHeaderSz) [[unlikely]]
    return Bad("file too small");
  uint64_t pos = format::kHeaderSz;
  auto from_file = [file, &pos](uint8_t* dst, size_t min,
                                size_t max) -> absl::StatusOr<size_t> {
    const size_t n = std::min<uint64_t>(max, file.size() - pos);
    std::memcpy(dst, file.data() + pos, n);
    pos += n;
    if (n < min) return io::EndOfFileError("checkpoint", n, min);
    return n;
  };
  return WalkV2Source(nullptr, from_file, file.size(), h,
                      file.first(format::kHeaderSz), RestoreOptions{}, nullptr);
}

absl::Status RestoreV2Stream(wksp::Wksp& wksp, int fd, const format::Header& h,
                             std::span<const uint8_t> header_bytes,
                             const RestoreOptions& options) {
  return WalkV2Stream(&wksp, fd, h, header_bytes, options, nullptr);
}

}  // namespace wk::wksp_checkpt::internal
