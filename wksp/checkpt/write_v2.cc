// Styles v2 and v3 (§4): the writer. Frames are produced by up to `threads`
// threads at once: the header and info frames, each cgroup frame and the
// trailer (appendix, volumes, footer) are segments of an OrderedOutput.
// Every segment gets its own checkpt::Writer primed with the LZ4 state that a
// single sequential writer would have at that point, so the bytes do not
// depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "wksp/checkpt/chunk_index.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/ordered_output.h"
#include "wksp/checkpt/seal.h"

namespace wk::wksp_checkpt::internal {
namespace {

// Per-thread write buffer. With several threads an LZ4 cgroup frame is
// compressed into it while earlier frames are still going out, so it is
// sized to hold a whole frame when it can, within a bound on the total.
constexpr size_t kWbufMinSz = size_t{1} << 20;
constexpr size_t kWbufMaxSz = size_t{64} << 20;
constexpr size_t kWbufTotalMax = size_t{512} << 20;

size_t WbufSize(const std::vector<uint64_t>& raw_sz, checkpt::FrameStyle fs,
                size_t threads) {
  if (fs != checkpt::FrameStyle::kLz4 || threads == 1) return kWbufMinSz;
  uint64_t biggest = 0;
  for (uint64_t s : raw_sz) biggest = std::max(biggest, s);
  // LZ4's worst case grows a chunk by 1/255 plus its 3-byte header.
  uint64_t want = biggest + biggest / 255 + (biggest / 65536 + 1) * 19;
  size_t cap =
      std::max(kWbufMinSz, std::min(kWbufMaxSz, kWbufTotalMax / threads));
  return static_cast<size_t>(std::clamp<uint64_t>(want, kWbufMinSz, cap));
}

// A thread's write buffer. Large ones (v3 with several threads: up to 64 MiB
// each, new for every checkpoint) are mapped on transparent huge pages
// where the kernel allows: on the development VM each first touch of a
// 4 KiB page costs ~6 us, ~0.1 s per 64 MiB buffer and checkpoint, and a
// 2 MiB page pays it once (docs/PERFORMANCE.md, "First touch").
class WriteBuffer {
 public:
  static absl::StatusOr<WriteBuffer> Make(size_t sz) {
    WriteBuffer b;
    b.sz_ = sz;
    if (sz < kHugeMin) {
      b.heap_ = std::make_unique_for_overwrite<uint8_t[]>(sz);
      b.data_ = b.heap_.get();
      return b;
    }
    // Whole 2 MiB pages, so that the kernel can place and fill them so.
    const size_t len = (sz + kHugeMin - 1) / kHugeMin * kHugeMin;
    WK_ASSIGN_OR_RETURN(b.map_, io::MapAnonymousPrivate(len));
    (void)b.map_.Advise(io::Advice::kHugePage);  // a hint: may be refused
    b.data_ = b.map_.mutable_span().data();
    return b;
  }
  std::span<uint8_t> span() const { return {data_, sz_}; }

 private:
  static constexpr size_t kHugeMin = size_t{2} << 20;
  std::unique_ptr<uint8_t[]> heap_;
  io::Mapping map_;
  uint8_t* data_ = nullptr;
  size_t sz_ = 0;
};

struct Plan {
  checkpt::FrameStyle fs;  // of every frame but header and footer
  bool sealed = true;      // a seal record after each frame (§4.10)
  uint8_t header[format::kHeaderSz];
  uint8_t info[format::kInfoSz];
  std::string strings;
  std::vector<std::vector<uint32_t>> lists;  // cgroup -> indices into allocs
  // LZ4 state before each segment's first LZ4 frame opens.
  std::vector<checkpt::Lz4StreamState> state;
  // Sizes of each segment as RAW frames (exact for v2, for progress in v3).
  std::vector<uint64_t> raw_sz;
};

Plan MakePlan(const wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
              const format::Info& info, checkpt::FrameStyle fs, bool sealed) {
  Plan p;
  p.fs = fs;
  p.sealed = sealed;
  // Seals: one after the info frame, one after each cgroup, three in the
  // trailer (appendix, volumes, footer).
  const uint64_t seal_sz = sealed ? seal::kSealSz : 0;
  const bool lz4 = fs == checkpt::FrameStyle::kLz4;
  format::Header h;
  h.frame_style_compressed = fs;
  h.name = wksp.name();
  h.seed = wksp.seed();
  h.part_max = wksp.part_max();
  h.data_max = wksp.data_max();
  format::EncodeHeader(h, p.header);
  format::EncodeInfo(info, p.info, &p.strings);
  p.lists = format::AssignCgroups(allocs);
  const size_t g = p.lists.size();

  // Replay the buffer sizes of every LZ4 frame in file order.
  checkpt::Lz4StateModel model;
  auto frame = [&](std::initializer_list<uint64_t> sizes) {
    model.OpenLz4Frame();
    for (uint64_t s : sizes) model.AddBuffer(s);
  };
  p.state.push_back(model.state());
  p.raw_sz.push_back(format::kHeaderSz + format::kInfoSz + p.strings.size() +
                     seal_sz);
  if (lz4) frame({format::kInfoSz, p.strings.size()});
  for (const auto& list : p.lists) {
    p.state.push_back(model.state());
    uint64_t raw = format::kCmdSz * (list.size() + 1) + seal_sz;
    if (lz4) {
      model.OpenLz4Frame();
      for (size_t i = 0; i <= list.size(); ++i) model.AddBuffer(format::kCmdSz);
    }
    for (uint32_t i : list) {
      uint64_t sz = allocs[i].hi - allocs[i].lo;
      raw += sz;
      if (lz4) model.AddBuffer(sz);
    }
    p.raw_sz.push_back(raw);
  }
  p.state.push_back(model.state());
  p.raw_sz.push_back(format::kCmdSz + 16 * g + format::kCmdSz +
                     format::kFooterSz + 3 * seal_sz);
  return p;
}

// Runs the open/buffers/close of one frame on w.
template <typename Body>
absl::StatusOr<uint64_t> Frame(checkpt::Writer& w, checkpt::FrameStyle style,
                               Body body) {
  WK_RETURN_IF_ERROR(w.Open(style).status());
  WK_RETURN_IF_ERROR(body());
  return w.Close();
}

// The seal records of one segment: hashes the bytes its frames emit between
// Start and Write (fed by the segment's sink), then writes their seal as a
// RAW frame of its own, which is not hashed. Does nothing when unsealed.
class SegmentSeal {
 public:
  explicit SegmentSeal(bool sealed) : sealed_(sealed) {}
  bool sealed() const { return sealed_; }
  void Start() {
    if (!sealed_) return;
    hasher_.Reset();
    on_ = true;
  }
  void Feed(std::span<const uint8_t> b) {
    if (on_) hasher_.Update(b);
  }
  // The bytes fed since Start began at checkpoint offset `off`.
  absl::Status Write(checkpt::Writer& w, uint64_t off) {
    if (!sealed_) return absl::OkStatus();
    on_ = false;
    return WriteSeal(w, hasher_.Finish(off));
  }
  static absl::Status WriteSeal(checkpt::Writer& w, const seal::Seal& s) {
    uint8_t b[seal::kSealSz];
    seal::Encode(s, b);
    WK_RETURN_IF_ERROR(w.Open(checkpt::FrameStyle::kRaw).status());
    WK_RETURN_IF_ERROR(w.Meta(b, sizeof(b)));
    return w.Close().status();
  }

 private:
  const bool sealed_;
  bool on_ = false;
  seal::Hasher hasher_;
};

uint64_t Total(std::span<const format::Alloc> allocs) {
  uint64_t total = 0;
  for (const auto& a : allocs) total += a.hi - a.lo;
  return total;
}

absl::Status Cmd(checkpt::Writer& w, uint64_t a, uint64_t b, uint64_t c) {
  uint8_t buf[format::kCmdSz];
  format::EncodeCmd({a, b, c}, buf);
  return w.Meta(buf, sizeof(buf));
}

// Writes the segments of one checkpoint: segment 0 holds the header and
// info frames, 1..g the cgroup frames, g+1 the trailer (appendix, volumes,
// footer). Segment() may run on several threads at once.
class V2Writer {
 public:
  V2Writer(const wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
           const Plan& plan, OrderedOutput& out, const CheckptOptions& options,
           size_t threads, std::span<ChunkDigest> digests)
      : hash_first_(threads > 1),
        wksp_(wksp),
        allocs_(allocs),
        plan_(plan),
        out_(out),
        g_(plan.lists.size()),
        meter_(options.progress, Total(allocs)),
        digests_(digests) {
    if (digests_.empty()) return;
    // Where each allocation's digests start (index order is allocs order).
    first_chunk_.resize(allocs.size());
    uint64_t c = 0;
    for (size_t i = 0; i < allocs.size(); ++i) {
      first_chunk_[i] = c;
      c += ChunkCount(allocs[i].hi - allocs[i].lo);
    }
  }

  size_t segments() const { return g_ + 2; }
  // The last progress report, once every segment is out.
  void Finish() { meter_.Finish(); }

  absl::Status Segment(size_t k, std::span<uint8_t> wbuf) {
    // The trailer points at every cgroup and its footer tells a reader the
    // file is complete: it waits until every cgroup is written (positional
    // mode too), so no footer ever precedes the frames it describes.
    if (k == segments() - 1) WK_RETURN_IF_ERROR(out_.WaitTurn(k));
    SegmentSeal sealer(plan_.sealed);
    WK_ASSIGN_OR_RETURN(checkpt::Writer w,
                        checkpt::Writer::Sink(
                            [this, k, &sealer](std::span<const uint8_t> b) {
                              return SealAndWrite(k, sealer, b);
                            },
                            wbuf, plan_.state[k]));
    // Allocation data is counted as it is compressed or copied (cgroups
    // only hold any), so progress moves inside large allocations.
    w.SetCount(meter_.Hook());
    if (k == 0) {
      WK_RETURN_IF_ERROR(Head(w, sealer));
    } else if (k <= g_) {
      WK_RETURN_IF_ERROR(Cgroup(w, sealer, k));
    } else {
      WK_RETURN_IF_ERROR(Trailer(w, sealer, out_.SegmentOffset(k)));
    }
    return w.Finish().status();
  }

 private:
  // Sealed, a large span (RAW allocation data, handed over straight from the
  // workspace) is hashed and written piece by piece, in the order that
  // measured faster (v2, 1 GiB, docs/PERFORMANCE.md). With one thread, each
  // 1 MiB piece is written, then hashed (3.23 against 2.99 GB/s the other
  // way round): the copy into new tmpfs pages is bound by its stores, so
  // warming its source first gains it little. With several, each 256 KiB
  // piece is hashed, then written (3.9 against 3.8): writes into one file
  // serialize on its inode lock, and a copy whose source is in cache holds
  // the lock for less, while the hashing overlaps the other threads' writes.
  absl::Status SealAndWrite(size_t k, SegmentSeal& sealer,
                            std::span<const uint8_t> b) {
    if (!sealer.sealed()) return out_.Write(k, b);
    const size_t piece_max = hash_first_ ? size_t{256} << 10 : size_t{1} << 20;
    while (!b.empty()) {
      const std::span<const uint8_t> piece =
          b.first(std::min(b.size(), piece_max));
      if (hash_first_) sealer.Feed(piece);
      WK_RETURN_IF_ERROR(out_.Write(k, piece));
      if (!hash_first_) sealer.Feed(piece);
      b = b.subspan(piece.size());
    }
    return absl::OkStatus();
  }

  // The header and info frames, under one seal.
  absl::Status Head(checkpt::Writer& w, SegmentSeal& sealer) {
    sealer.Start();
    WK_RETURN_IF_ERROR(Frame(w, checkpt::FrameStyle::kRaw, [&] {
                         return w.Meta(plan_.header, sizeof(plan_.header));
                       }).status());
    WK_RETURN_IF_ERROR(
        Frame(w, plan_.fs, [&] {
          WK_RETURN_IF_ERROR(w.Meta(plan_.info, sizeof(plan_.info)));
          return w.Meta(plan_.strings.data(), plan_.strings.size());
        }).status());
    return sealer.Write(w, 0);
  }

  absl::Status Cgroup(checkpt::Writer& w, SegmentSeal& sealer, size_t k) {
    const std::vector<uint32_t>& list = plan_.lists[k - 1];
    // The index's digests, from the bytes as the writer takes them in (in
    // cache: compressed from its ring, or just written). Each allocation is
    // in one cgroup, so each digest has one writer whatever the threads.
    std::optional<ChunkDigester> dg;
    if (!digests_.empty()) {
      dg.emplace();
      w.SetDataTap([&dg](std::span<const uint8_t> b) { dg->Feed(b); });
    }
    sealer.Start();
    WK_RETURN_IF_ERROR(
        Frame(w, plan_.fs, [&]() -> absl::Status {
          for (uint32_t i : list) {
            const auto& a = allocs_[i];
            WK_RETURN_IF_ERROR(Cmd(w, a.tag, a.lo, a.hi));
          }
          WK_RETURN_IF_ERROR(Cmd(w, 0, format::kMax, format::kMax));
          for (uint32_t i : list) {
            WK_RETURN_IF_ERROR(Prefault(wksp_, allocs_[i].lo, allocs_[i].hi,
                                        io::PopulateFor::kRead));
          }
          for (uint32_t i : list) {
            const auto& a = allocs_[i];
            if (dg) dg->Begin(&digests_[first_chunk_[i]]);
            WK_RETURN_IF_ERROR(w.Data(wksp_.laddr(a.lo), a.hi - a.lo));
            // Data() took every byte in before returning (LZ4 compresses,
            // RAW writes or copies into the buffer).
            if (dg && dg->End() != ChunkCount(a.hi - a.lo)) [[unlikely]] {
              return absl::InternalError(
                  "chunk digests do not cover the allocation written");
            }
          }
          return absl::OkStatus();
        }).status());
    // The frame's bytes went out (Close flushes them), so its turn came and
    // its offset is known in either mode.
    return sealer.Write(w, out_.SegmentOffset(k));
  }

  // The trailer starts at seg_off. Every cgroup's offset is known by now:
  // their turns have passed (sequential) or they were planned (positional).
  // Sealed, each of its frames is followed by its seal, and the footer is
  // preceded by its own (nothing may follow the footer).
  absl::Status Trailer(checkpt::Writer& w, SegmentSeal& sealer,
                       uint64_t seg_off) {
    std::vector<uint8_t> offs(8 * g_), cnts(8 * g_);
    for (size_t i = 0; i < g_; ++i) {
      format::StoreU64(offs.data() + 8 * i, out_.SegmentOffset(i + 1));
      format::StoreU64(cnts.data() + 8 * i, plan_.lists[i].size());
    }
    sealer.Start();
    WK_RETURN_IF_ERROR(Frame(w, plan_.fs, [&] {
                         WK_RETURN_IF_ERROR(Cmd(w, 0, g_, 0));
                         WK_RETURN_IF_ERROR(w.Meta(offs.data(), offs.size()));
                         return w.Meta(cnts.data(), cnts.size());
                       }).status());
    WK_RETURN_IF_ERROR(sealer.Write(w, seg_off));
    const uint64_t vol_off = seg_off + w.offset();
    sealer.Start();
    WK_RETURN_IF_ERROR(Frame(w, plan_.fs, [&] {
                         return Cmd(w, 0, format::kMax, seg_off);
                       }).status());
    WK_RETURN_IF_ERROR(sealer.Write(w, vol_off));
    const uint64_t ftr_off =
        seg_off + w.offset() + (sealer.sealed() ? seal::kSealSz : 0);
    format::Footer f;
    f.alloc_cnt = allocs_.size();
    f.cgroup_cnt = g_;
    f.volume_cnt = 1;
    f.frame_off = vol_off;
    f.checkpt_sz = ftr_off + format::kFooterSz;
    f.data_max = wksp_.data_max();
    f.part_max = wksp_.part_max();
    f.seed = wksp_.seed();
    std::memcpy(f.name, plan_.header + format::kHeaderNameOff,
                wksp::kNameFieldSz);
    f.frame_style_compressed = plan_.fs;
    uint8_t fb[format::kFooterSz];
    format::EncodeFooter(f, fb);
    if (sealer.sealed()) {
      WK_RETURN_IF_ERROR(
          SegmentSeal::WriteSeal(w, seal::Of(std::span(fb), ftr_off)));
    }
    return Frame(w, checkpt::FrameStyle::kRaw,
                 [&] { return w.Meta(fb, sizeof(fb)); })
        .status();
  }

  const bool hash_first_;  // sealed: hash each piece before writing it
  const wksp::Wksp& wksp_;
  const std::span<const format::Alloc> allocs_;
  const Plan& plan_;
  OrderedOutput& out_;
  const size_t g_;
  ProgressMeter meter_;
  const std::span<ChunkDigest> digests_;  // empty: no index
  std::vector<uint64_t> first_chunk_;     // per allocation, into digests_
};

// RAW frames to a seekable file: every offset is known now, so segments go
// out in parallel at their final place. Otherwise in order.
absl::StatusOr<std::unique_ptr<OrderedOutput>> MakeOutput(int fd, bool seekable,
                                                          const Plan& plan) {
  const size_t segments = plan.raw_sz.size();
  if (plan.fs != checkpt::FrameStyle::kRaw || !seekable) {
    return std::make_unique<OrderedOutput>(fd, segments);
  }
  WK_ASSIGN_OR_RETURN(uint64_t base, io::Seek(fd, 0, io::Whence::kCur));
  std::vector<uint64_t> offs(segments + 1, 0);
  for (size_t k = 0; k < segments; ++k) offs[k + 1] = offs[k] + plan.raw_sz[k];
  // Reserving the whole file first fails early on a full disk, and on tmpfs
  // makes the writes that follow faster (3.4 vs 2.5 GB/s measured).
  WK_RETURN_IF_ERROR(io::Fallocate(fd, base, offs[segments]));
  return std::make_unique<OrderedOutput>(fd, base, offs);
}

}  // namespace

absl::Status WriteV2(const wksp::Wksp& wksp,
                     std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd, bool seekable,
                     const CheckptOptions& options,
                     std::span<ChunkDigest> digests) {
  const Plan plan =
      MakePlan(wksp, allocs, info, FrameStyleOf(options.style), options.sealed);
  WK_ASSIGN_OR_RETURN(std::unique_ptr<OrderedOutput> out,
                      MakeOutput(fd, seekable, plan));
  const size_t threads =
      std::min(ResolveThreads(options.threads), plan.raw_sz.size());
  if (!digests.empty() && digests.size() != ChunkCount(allocs)) [[unlikely]]
    return absl::InternalError("WriteV2: digests sized for another table");
  V2Writer writer(wksp, allocs, plan, *out, options, threads, digests);
  const size_t segments = writer.segments();
  std::atomic<size_t> next{0};
  ThreadPool pool(threads);
  const size_t wbuf_sz = WbufSize(plan.raw_sz, plan.fs, threads);
  pool.ExecAll([&](size_t) {
    absl::StatusOr<WriteBuffer> wbuf = WriteBuffer::Make(wbuf_sz);
    if (!wbuf.ok()) [[unlikely]] {
      out->Fail(wbuf.status());
      return;
    }
    for (size_t k; (k = next.fetch_add(1)) < segments;) {
      absl::Status st = writer.Segment(k, wbuf->span());
      if (!st.ok()) [[unlikely]]
        out->Fail(st);
      out->Done(k);
    }
  });
  WK_RETURN_IF_ERROR(out->status());
  if (out->positional()) {
    // pwrite left the position alone: leave it after the checkpoint, as a
    // sequential write would.
    WK_RETURN_IF_ERROR(
        io::Seek(fd, static_cast<int64_t>(out->End()), io::Whence::kSet)
            .status());
  }
  writer.Finish();
  return absl::OkStatus();
}

}  // namespace wk::wksp_checkpt::internal
