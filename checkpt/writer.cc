// Checkpoint writer: RAW frames copied verbatim, LZ4 frames compressed chunk
// by chunk from the gather ring (spec 1.4), in streaming or mmio mode.
#include <lz4.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "checkpt/internal.h"
#include "io/fd.h"

namespace wk::checkpt {

using internal::BadState;
using internal::Inval;

namespace {

// The object's state: outside a frame, failed, finished, or inside a frame
// of the style with that number.
constexpr int kNotInFrame = 0;
constexpr int kFailed = -1;
constexpr int kFinished = -2;
constexpr int kInRaw = static_cast<int>(FrameStyle::kRaw);
constexpr int kInLz4 = static_cast<int>(FrameStyle::kLz4);
constexpr uint64_t kBlockCapMax = (uint64_t{1} << 24) - 1;  // fits the header

struct Lz4StreamDeleter {
  void operator()(LZ4_stream_t* s) const { LZ4_freeStream(s); }
};

}  // namespace

struct WriterState {
  bool mmio = false;
  int fd = -1;
  uint8_t* mem = nullptr;  // wbuf (streaming) or region (mmio)
  uint64_t mem_sz = 0;
  int style = kNotInFrame;  // or kRaw/kLz4 in a frame, kFailed, kFinished
  absl::Status failure;     // why it failed, for Finish()
  uint64_t off = 0;         // bytes in the region / handed to the fd
  uint64_t used = 0;        // streaming: bytes pending in wbuf
  uint64_t gcursor = 0;     // gather ring cursor
  std::unique_ptr<LZ4_stream_t, Lz4StreamDeleter> lz4;
  std::unique_ptr<uint8_t[]> gbuf;     // gather ring, kGbufSz
  std::unique_ptr<uint8_t[]> scratch;  // mmio: chunks near the region's end
  Writer::SinkFn sink;                 // sink mode: replaces writes to fd
  internal::DataCounter counter;       // SetCount
  Writer::DataTap tap;                 // SetDataTap

  // Hands n bytes to the fd or the sink.
  absl::Status Emit(const uint8_t* p, uint64_t n) {
    return sink ? sink(std::span<const uint8_t>(p, n))
                : io::WriteExact(fd, p, n);
  }

  // Records the first error; the object refuses everything afterwards.
  absl::Status Fail(absl::Status s) {
    style = kFailed;
    failure = s;
    return s;
  }

  absl::Status Flush() {
    if (!used) return absl::OkStatus();
    absl::Status s = Emit(mem, used);
    if (!s.ok()) [[unlikely]] {
      return Fail(internal::IoError(
          s, absl::StrFormat("write at checkpoint offset %d", off)));
    }
    off += used;
    used = 0;
    return absl::OkStatus();
  }

  absl::Status RegionFull(uint64_t need) {
    return Fail(internal::Error(
        ErrorClass::kIo, absl::StatusCode::kResourceExhausted,
        absl::StrFormat("region full: %d more bytes needed at offset %d of a "
                        "%d-byte region",
                        need, off, mem_sz)));
  }

  absl::Status Raw(const uint8_t* buf, uint64_t sz);
  absl::Status RawCounted(const uint8_t* buf, uint64_t sz);
  absl::Status Lz4(const uint8_t* buf, uint64_t sz, bool counted,
                   bool tapped);
  absl::Status Buf(const void* buf, uint64_t sz, uint64_t max, const char* what,
                   bool data);
};

absl::Status WriterState::Raw(const uint8_t* buf, uint64_t sz) {
  if (mmio) {
    if (sz > mem_sz - off) [[unlikely]]
      return RegionFull(sz);
    std::memcpy(mem + off, buf, sz);
    off += sz;
    return absl::OkStatus();
  }
  // Buffers of 64 KiB or more skip the copy into wbuf: one more write(2)
  // costs less than copying them.
  const uint64_t direct_min = std::min(internal::kDirectMin, mem_sz);
  if (sz < direct_min && sz <= mem_sz - used) {
    std::memcpy(mem + used, buf, sz);
    used += sz;
    return absl::OkStatus();
  }
  if (absl::Status s = Flush(); !s.ok()) [[unlikely]]
    return s;
  if (sz < direct_min) {
    std::memcpy(mem, buf, sz);
    used = sz;
    return absl::OkStatus();
  }
  // Large buffers go straight from the caller's memory to the fd.
  absl::Status s = Emit(buf, sz);
  if (!s.ok()) [[unlikely]] {
    return Fail(internal::IoError(
        s, absl::StrFormat("write at checkpoint offset %d", off)));
  }
  off += sz;
  return absl::OkStatus();
}

// A counted or tapped data buffer: in pieces of at most kCountStep, each
// counted and tapped once written.
absl::Status WriterState::RawCounted(const uint8_t* buf, uint64_t sz) {
  for (uint64_t done = 0; done < sz;) {
    const uint64_t piece = std::min(sz - done, kCountStep);
    if (absl::Status s = Raw(buf + done, piece); !s.ok()) [[unlikely]]
      return s;
    counter.Add(piece);
    if (tap) tap(std::span<const uint8_t>(buf + done, piece));
    done += piece;
  }
  return absl::OkStatus();
}

absl::Status WriterState::Lz4(const uint8_t* buf, uint64_t sz, bool counted,
                              bool tapped) {
  LZ4_stream_t* stream = lz4.get();
  uint8_t* ring = gbuf.get();
  do {
    const uint64_t u = std::min(sz, kChunkUszMax);
    // Every chunk (u <= 64 KiB) is compressed from its copy in the ring; the
    // ring's contiguity pattern shapes LZ4's dictionary, hence the bytes.
    uint64_t cursor = gcursor;
    if (kGbufSz - cursor < u) cursor = 0;
    std::memcpy(ring + cursor, buf, u);
    gcursor = cursor + u;

    uint8_t* dst;
    uint64_t cap;
    bool via_scratch = false;
    if (mmio) {
      const uint64_t rem = mem_sz - off;
      if (rem >= ChunkCszMax(u)) {
        dst = mem + off;
        cap = std::min(rem - 3, kBlockCapMax);
      } else {
        // LZ4's output checks are conservative: give it a full bound and
        // copy in if the result fits, so "fits" never depends on it.
        if (!scratch) scratch.reset(new uint8_t[ChunkCszMax(kChunkUszMax)]);
        dst = scratch.get();
        cap = internal::BlockCszMax(u);
        via_scratch = true;
      }
    } else {
      if (mem_sz - used < ChunkCszMax(u)) {
        if (absl::Status s = Flush(); !s.ok()) [[unlikely]]
          return s;
      }
      dst = mem + used;
      cap = std::min(mem_sz - used - 3, kBlockCapMax);
    }

    const int c = LZ4_compress_fast_continue(
        stream, reinterpret_cast<const char*>(ring + cursor),
        reinterpret_cast<char*>(dst + 3), static_cast<int>(u),
        static_cast<int>(cap), 1);
    if (c <= 0 || static_cast<uint64_t>(c) > cap) [[unlikely]] {
      return Fail(internal::Error(
          ErrorClass::kComp, absl::StatusCode::kInternal,
          absl::StrFormat("LZ4_compress_fast_continue failed (%d) on a "
                          "%d-byte chunk",
                          c, u)));
    }
    dst[0] = static_cast<uint8_t>(c);
    dst[1] = static_cast<uint8_t>(c >> 8);
    dst[2] = static_cast<uint8_t>(c >> 16);
    const uint64_t csz = static_cast<uint64_t>(c) + 3;
    if (mmio) {
      if (via_scratch) {
        if (csz > mem_sz - off) [[unlikely]]
          return RegionFull(csz);
        std::memcpy(mem + off, dst, csz);
      }
      off += csz;
    } else {
      used += csz;
    }
    if (counted) counter.Add(u);
    // The chunk's copy in the ring is in cache: tap it from there.
    if (tapped) tap(std::span<const uint8_t>(ring + cursor, u));
    buf += u;
    sz -= u;
  } while (sz);
  return absl::OkStatus();
}

absl::Status WriterState::Buf(const void* buf, uint64_t sz, uint64_t max,
                              const char* what, bool data) {
  if (style != kInRaw && style != kInLz4) [[unlikely]] {
    if (style == kFailed) return BadState("writer failed earlier");
    return Fail(BadState(absl::StrFormat("%s outside a frame", what)));
  }
  if (!sz) return absl::OkStatus();
  if (sz > max) [[unlikely]] {
    return Fail(Inval(absl::StrFormat("%s of %d bytes exceeds the %d maximum",
                                      what, sz, max)));
  }
  if (!buf) [[unlikely]] {
    return Fail(
        Inval(absl::StrFormat("%s: null buffer of %d bytes", what, sz)));
  }
  const uint8_t* p = static_cast<const uint8_t*>(buf);
  const bool counted = data && counter.on();
  const bool tapped = data && tap;
  if (style == kInLz4) return Lz4(p, sz, counted, tapped);
  return counted || tapped ? RawCounted(p, sz) : Raw(p, sz);
}

namespace {

absl::StatusOr<std::unique_ptr<WriterState>> NewState(Lz4StreamState start) {
  if (start.current_offset > 0x80000000u) [[unlikely]] {
    return Inval(absl::StrFormat("impossible LZ4 stream state %d",
                                 start.current_offset));
  }
  auto s = std::make_unique<WriterState>();
  s->lz4.reset(LZ4_createStream());
  if (!s->lz4) [[unlikely]] {
    return internal::Error(ErrorClass::kComp,
                           absl::StatusCode::kResourceExhausted,
                           "LZ4_createStream failed");
  }
  internal::PrimeLz4State(s->lz4.get(), start);
  return s;
}

}  // namespace

namespace {

// State for the two modes that stage bytes in the caller's wbuf.
absl::StatusOr<std::unique_ptr<WriterState>> NewBufferedState(
    std::span<uint8_t> wbuf, Lz4StreamState lz4_start) {
  if (wbuf.size() < kWbufMin) [[unlikely]] {
    return Inval(absl::StrFormat("write buffer of %d bytes; at least %d needed",
                                 wbuf.size(), kWbufMin));
  }
  auto s = NewState(lz4_start);
  if (!s.ok()) [[unlikely]]
    return s.status();
  (*s)->mem = wbuf.data();
  (*s)->mem_sz = wbuf.size();
  return s;
}

}  // namespace

absl::StatusOr<Writer> Writer::Stream(int fd, std::span<uint8_t> wbuf,
                                      Lz4StreamState lz4_start) {
  if (fd < 0) [[unlikely]]
    return Inval(absl::StrFormat("bad fd %d", fd));
  auto s = NewBufferedState(wbuf, lz4_start);
  if (!s.ok()) [[unlikely]]
    return s.status();
  (*s)->fd = fd;
  return Writer(std::move(*s));
}

absl::StatusOr<Writer> Writer::Sink(SinkFn sink, std::span<uint8_t> wbuf,
                                    Lz4StreamState lz4_start) {
  if (!sink) [[unlikely]]
    return Inval("empty sink");
  auto s = NewBufferedState(wbuf, lz4_start);
  if (!s.ok()) [[unlikely]]
    return s.status();
  (*s)->sink = std::move(sink);
  return Writer(std::move(*s));
}

absl::StatusOr<Writer> Writer::Mmio(std::span<uint8_t> region,
                                    Lz4StreamState lz4_start) {
  if (!region.data() && !region.empty()) [[unlikely]] {
    return Inval("null region with a non-zero size");
  }
  auto s = NewState(lz4_start);
  if (!s.ok()) [[unlikely]]
    return s.status();
  (*s)->mmio = true;
  (*s)->mem = region.data();
  (*s)->mem_sz = region.size();
  return Writer(std::move(*s));
}

Writer::Writer(std::unique_ptr<WriterState> s) : s_(std::move(s)) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() = default;

absl::StatusOr<uint64_t> Writer::Open(FrameStyle style) {
  if (!s_) [[unlikely]]
    return BadState("moved-from writer");
  WriterState& w = *s_;
  if (w.style != kNotInFrame) [[unlikely]] {
    if (w.style == kFailed) return BadState("writer failed earlier");
    if (w.style == kFinished) return BadState("writer finished");
    return w.Fail(BadState("open inside a frame"));
  }
  if (style == FrameStyle::kDefault) style = FrameStyle::kRaw;
  if (style == FrameStyle::kLz4) {
    LZ4_resetStream_fast(w.lz4.get());
    if (!w.gbuf) w.gbuf.reset(new uint8_t[kGbufSz]);
    w.gcursor = 0;
  } else if (style != FrameStyle::kRaw) [[unlikely]] {
    return w.Fail(
        internal::Error(ErrorClass::kUnsup, absl::StatusCode::kUnimplemented,
                        absl::StrFormat("frame style %d not supported",
                                        static_cast<int>(style))));
  }
  w.style = static_cast<int>(style);
  return w.off;
}

absl::StatusOr<uint64_t> Writer::Close() {
  if (!s_) [[unlikely]]
    return BadState("moved-from writer");
  WriterState& w = *s_;
  if (!in_frame()) [[unlikely]] {
    if (w.style == kFailed) return BadState("writer failed earlier");
    if (w.style == kFinished) return BadState("writer finished");
    return w.Fail(BadState("close outside a frame"));
  }
  if (!w.mmio) {
    if (absl::Status s = w.Flush(); !s.ok()) [[unlikely]]
      return s;
  }
  w.counter.Flush();
  w.style = kNotInFrame;
  return w.off;
}

absl::Status Writer::Meta(const void* buf, uint64_t sz) {
  if (!s_) [[unlikely]]
    return BadState("moved-from writer");
  return s_->Buf(buf, sz, kMetaMax, "meta", false);
}

absl::Status Writer::Data(const void* buf, uint64_t sz) {
  if (!s_) [[unlikely]]
    return BadState("moved-from writer");
  return s_->Buf(buf, sz, UINT64_MAX, "data", true);
}

absl::StatusOr<uint64_t> Writer::Finish() {
  if (!s_) [[unlikely]]
    return BadState("moved-from writer");
  WriterState& w = *s_;
  if (w.style == kFinished) return BadState("writer finished");
  if (w.style == kFailed) {
    w.style = kFinished;
    w.gbuf.reset();
    w.scratch.reset();
    return w.failure;
  }
  const bool open = in_frame();
  w.style = kFinished;
  w.gbuf.reset();
  w.scratch.reset();
  if (open) [[unlikely]] {
    w.failure = BadState("finished inside a frame; the frame is incomplete");
    return w.failure;
  }
  return w.off;
}

void Writer::SetCount(CountFn count) {
  if (!s_) return;
  s_->counter.Set(std::move(count));
}

void Writer::SetDataTap(DataTap tap) {
  if (!s_) return;
  s_->tap = std::move(tap);
}

bool Writer::can_open() const { return s_ && s_->style == kNotInFrame; }
bool Writer::in_frame() const {
  return s_ && (s_->style == kInRaw || s_->style == kInLz4);
}
bool Writer::failed() const { return s_ && s_->style == kFailed; }
bool Writer::is_mmio() const { return s_ && s_->mmio; }
int Writer::fd() const { return s_ ? s_->fd : -1; }
std::span<uint8_t> Writer::wbuf() const {
  if (!s_ || s_->mmio) return {};
  return {s_->mem, s_->mem_sz};
}
std::span<uint8_t> Writer::region() const {
  if (!s_ || !s_->mmio) return {};
  return {s_->mem, s_->mem_sz};
}
uint64_t Writer::offset() const { return s_ ? s_->off + s_->used : 0; }
Lz4StreamState Writer::lz4_state() const {
  return s_ ? internal::GetLz4State(s_->lz4.get()) : Lz4StreamState{};
}

}  // namespace wk::checkpt
