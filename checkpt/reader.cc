// Checkpoint reader: RAW frames copied out, LZ4 frames decoded chunk by chunk,
// every chunk validated, from a memory region or a descriptor.
//
// LZ4 history. A chunk's back-references reach at most 65535 bytes back in the
// frame's logical stream, so decoding needs the last min(64 KiB, frame so far)
// bytes contiguous somewhere (LZ4_decompress_safe_usingDict; right before the
// destination is LZ4's fast "prefix" case). The reader keeps one invariant:
// that history is the tail of one contiguous segment ending at hist_end, which
// lies either in the scatter ring or in a data buffer of this frame (the
// caller leaves those alone until Close). A data chunk is decoded straight
// into the caller's memory when the result keeps the invariant: it continues
// the history segment in memory, or it alone is a full history (a 64 KiB chunk
// or the frame's first). Other chunks (meta buffers, whose memory is free on
// return, and small data buffers) are decoded in the ring right after the
// history, which is first copied to the ring's start if it is elsewhere or the
// ring has no room, and then copied out.
#include <lz4.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "checkpt/checkpt.h"
#include "checkpt/internal.h"
#include "io/fd.h"
#include "util/cancel.h"
#include "util/fault.h"
#include "util/status.h"

namespace wk::checkpt {

using internal::BadState;
using internal::Corrupt;
using internal::Inval;
using internal::Truncated;

namespace {

// The object's state: outside a frame, failed, finished, or inside a frame
// of the style with that number.
constexpr int kNotInFrame = 0;
constexpr int kFailed = -1;
constexpr int kFinished = -2;
constexpr int kInRaw = static_cast<int>(FrameStyle::kRaw);
constexpr int kInLz4 = static_cast<int>(FrameStyle::kLz4);
// Large RAW copies are tapped in pieces of this size, which stay in cache.
constexpr uint64_t kTapPiece = uint64_t{256} << 10;

}  // namespace

struct ReaderState {
  bool mmio = false;
  bool seekable = false;
  int fd = -1;
  const uint8_t* region = nullptr;
  uint64_t sz = 0;  // region size, file size, or kSizeUnknown
  uint8_t* rbuf = nullptr;
  uint64_t rbuf_sz = 0;
  uint64_t lo = 0, ready = 0;  // rbuf[lo, lo+ready) holds bytes at off...
  uint64_t off = 0;            // offset of the next byte to consume
  uint64_t ahead_end = kSizeUnknown;  // SetReadAheadEnd (seekable fd only)
  int style = kNotInFrame;
  absl::Status failure;

  // LZ4 frame state (see the file comment).
  std::unique_ptr<uint8_t[]> sbuf;  // scatter ring, kGbufSz
  uint64_t scursor = 0;             // end of the ring's newest chunk
  const uint8_t* hist_end = nullptr;
  uint64_t hist_len = 0;  // contiguous history bytes ending at hist_end
  uint64_t pos = 0;       // logical bytes decoded in this frame

  absl::Status Fail(absl::Status s) {
    style = kFailed;
    failure = s;
    return s;
  }

  // A read of `need` bytes at offset `at` failed with `s`.
  absl::Status ReadFailed(const absl::Status& s, uint64_t at, uint64_t need) {
    if (io::IsEndOfFile(s)) {
      if (sz != kSizeUnknown) {
        return Fail(Truncated(absl::StrFormat(
            "checkpoint ends early: has %d bytes, needs at least %d", sz,
            at + need)));
      }
      // A stream's length is not known: it ended somewhere in the read.
      return Fail(Truncated(absl::StrFormat(
          "checkpoint ends early: has fewer than %d bytes (it ends after "
          "offset %d), needs at least %d",
          at + need, at, at + need)));
    }
    return Fail(internal::IoError(
        s, absl::StrFormat("read at checkpoint offset %d", at)));
  }

  void Consume(uint64_t n) {
    lo += n;
    ready -= n;
    off += n;
    if (!ready) lo = 0;
  }

  absl::Status Fill(uint64_t n);
  absl::Status Raw(uint8_t* dst, uint64_t n, bool counted);
  absl::Status NextBlock(uint64_t u, const uint8_t** src, uint64_t* c);
  absl::Status Lz4(uint8_t* dst, uint64_t n, bool meta);
  absl::Status Buf(void* buf, uint64_t n, uint64_t max, bool meta);

  Reader::SourceFn source;        // source mode: replaces reads from fd
  Reader::TapFn tap;              // sees every consumed input byte (SetTap)
  internal::DataCounter counter;  // SetCount
  // How much of a large RAW copy of `left` bytes to move at once: with a
  // tap, pieces that stay in cache; counted, pieces that keep the count
  // moving.
  uint64_t Piece(uint64_t left, bool counted) const {
    if (tap) left = std::min(left, kTapPiece);
    if (counted) left = std::min(left, kCountStep);
    return left;
  }
  void Tap(const uint8_t* p, uint64_t n) {
    if (tap && n) tap(std::span<const uint8_t>(p, n));
  }
  absl::StatusOr<size_t> ReadSome(uint8_t* p, uint64_t min, uint64_t max) {
    return source ? source(p, min, max) : io::ReadAtLeast(fd, p, min, max);
  }
};

// Makes n (<= rbuf_sz) bytes available at rbuf + lo.
absl::Status ReaderState::Fill(uint64_t n) {
  if (ready >= n) return absl::OkStatus();
  if (lo + n > rbuf_sz) {
    std::memmove(rbuf, rbuf + lo, ready);
    lo = 0;
  }
  uint8_t* p = rbuf + lo + ready;
  const uint64_t space = rbuf_sz - lo - ready;
  const uint64_t need = n - ready;
  const uint64_t at = off + ready;
  if (seekable) {
    const uint64_t avail = at < sz ? sz - at : 0;
    if (avail < need) [[unlikely]] {
      return Fail(Truncated(absl::StrFormat(
          "checkpoint ends early: has %d bytes, needs %d (%d at offset %d)",
          sz, off + n, n, off)));
    }
    // Whatever the read-ahead end says, at least what this read needs.
    const uint64_t ahead = ahead_end > at ? std::min(ahead_end - at, avail) : 0;
    const uint64_t want = std::min(space, std::max(need, ahead));
    absl::Status s = io::PReadExact(fd, p, want, at);
    if (!s.ok()) [[unlikely]]
      return ReadFailed(s, at, need);
    ready += want;
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> got = ReadSome(p, need, space);
  if (!got.ok()) [[unlikely]]
    return ReadFailed(got.status(), at, need);
  ready += *got;
  return absl::OkStatus();
}

absl::Status ReaderState::Raw(uint8_t* dst, uint64_t n, bool counted) {
  if (mmio) {
    if (n > sz - off) [[unlikely]] {
      return Fail(Truncated(absl::StrFormat(
          "checkpoint ends early: has %d bytes, needs %d (%d at offset %d)",
          sz, off + n, n, off)));
    }
    for (uint64_t done = 0; done < n;) {
      const uint64_t piece = Piece(n - done, counted);
      std::memcpy(dst + done, region + off, piece);
      Tap(region + off, piece);
      if (counted) counter.Add(piece);
      off += piece;
      done += piece;
    }
    return absl::OkStatus();
  }
  const uint64_t take = std::min(ready, n);
  std::memcpy(dst, rbuf + lo, take);
  Tap(rbuf + lo, take);
  Consume(take);
  if (counted) counter.Add(take);
  dst += take;
  n -= take;
  if (!n) return absl::OkStatus();
  // Reads of 64 KiB or more land in the caller's memory without a copy.
  if (n < std::min(rbuf_sz / 2, internal::kDirectMin)) {
    if (absl::Status s = Fill(n); !s.ok()) [[unlikely]]
      return s;
    std::memcpy(dst, rbuf + lo, n);
    Tap(rbuf + lo, n);
    Consume(n);
    if (counted) counter.Add(n);
    return absl::OkStatus();
  }
  // Large reads go straight into the caller's memory (the buffer is empty).
  if (seekable && (off > sz || n > sz - off)) [[unlikely]] {
    return Fail(Truncated(absl::StrFormat(
        "checkpoint ends early: has %d bytes, needs %d (%d at offset %d)",
          sz, off + n, n, off)));
  }
  for (uint64_t done = 0; done < n;) {
    const uint64_t piece = Piece(n - done, counted);
    absl::Status s = seekable ? io::PReadExact(fd, dst + done, piece, off)
                              : ReadSome(dst + done, piece, piece).status();
    if (!s.ok()) [[unlikely]]
      return ReadFailed(s, off, piece);
    Tap(dst + done, piece);
    if (counted) counter.Add(piece);
    off += piece;
    done += piece;
  }
  return absl::OkStatus();
}

// Locates the next chunk's block (u uncompressed bytes) and validates its
// size; the caller consumes 3 + *c bytes once it is decoded.
absl::Status ReaderState::NextBlock(uint64_t u, const uint8_t** src,
                                    uint64_t* c) {
  const uint8_t* h;
  if (mmio) {
    if (sz - off < 3) [[unlikely]] {
      return Fail(Truncated(absl::StrFormat(
          "checkpoint ends early, inside a chunk header: has %d bytes, needs "
          "%d",
          sz, off + 3)));
    }
    h = region + off;
  } else {
    if (absl::Status s = Fill(3); !s.ok()) [[unlikely]]
      return s;
    h = rbuf + lo;
  }
  const uint64_t csz =
      uint64_t{h[0]} | uint64_t{h[1]} << 8 | uint64_t{h[2]} << 16;
  if (csz < 1 || csz > internal::BlockCszMax(u)) [[unlikely]] {
    return Fail(Corrupt(absl::StrFormat(
        "corrupt chunk header at offset %d: block of %d bytes for a %d-byte "
        "chunk (at most %d)",
        off, csz, u, internal::BlockCszMax(u))));
  }
  if (mmio) {
    if (sz - off - 3 < csz) [[unlikely]] {
      return Fail(Truncated(absl::StrFormat(
          "checkpoint ends early, inside the %d-byte block at offset %d: has "
          "%d bytes, needs %d",
          csz, off, sz, off + 3 + csz)));
    }
    *src = region + off + 3;
  } else {
    if (absl::Status s = Fill(3 + csz); !s.ok()) [[unlikely]]
      return s;
    *src = rbuf + lo + 3;
  }
  *c = csz;
  return absl::OkStatus();
}

absl::Status ReaderState::Lz4(uint8_t* dst, uint64_t n, bool meta) {
  uint8_t* const ring = sbuf.get();
  do {
    const uint64_t u = std::min(n, kChunkUszMax);
    const uint8_t* src;
    uint64_t c;
    if (absl::Status s = NextBlock(u, &src, &c); !s.ok()) [[unlikely]] {
      return s;
    }
    const uint64_t need = std::min(pos, kChunkUszMax);
    const bool alone = u >= std::min(pos + u, kChunkUszMax);
    uint8_t* out;
    if (!meta && (alone || hist_end == dst)) {
      out = dst;
    } else if (alone) {
      out = ring + (kGbufSz - scursor < u ? 0 : scursor);
    } else if (hist_end == ring + scursor && kGbufSz - scursor >= u) {
      out = ring + scursor;
    } else {
      std::memmove(ring, hist_end - need, need);
      hist_end = ring + need;
      hist_len = need;
      out = ring + need;
    }
    const int r =
        need == 0
            ? LZ4_decompress_safe(reinterpret_cast<const char*>(src),
                                  reinterpret_cast<char*>(out),
                                  static_cast<int>(c), static_cast<int>(u))
            : LZ4_decompress_safe_usingDict(
                  reinterpret_cast<const char*>(src),
                  reinterpret_cast<char*>(out), static_cast<int>(c),
                  static_cast<int>(u),
                  reinterpret_cast<const char*>(hist_end - need),
                  static_cast<int>(need));
    if (r != static_cast<int>(u)) [[unlikely]] {
      return Fail(Corrupt(absl::StrFormat(
          "corrupt LZ4 block at offset %d: decoded %d of %d bytes", off, r,
          u)));
    }
    if (!meta) counter.Add(u);
    hist_len = hist_end == out ? hist_len + u : u;
    hist_end = out + u;
    pos += u;
    if (out != dst) {
      std::memcpy(dst, out, u);
      scursor = static_cast<uint64_t>(out + u - ring);
    }
    Tap(src - 3, 3 + c);
    if (mmio) {
      off += 3 + c;
    } else {
      Consume(3 + c);
    }
    dst += u;
    n -= u;
  } while (n);
  return absl::OkStatus();
}

absl::Status ReaderState::Buf(void* buf, uint64_t n, uint64_t max, bool meta) {
  const char* what = meta ? "meta" : "data";
  if (style != kInRaw && style != kInLz4) [[unlikely]] {
    if (style == kFailed) return BadState("reader failed earlier");
    return Fail(BadState(absl::StrFormat("%s outside a frame", what)));
  }
  if (!n) return absl::OkStatus();
  if (n > max) [[unlikely]] {
    return Fail(Inval(absl::StrFormat("%s of %d bytes exceeds the %d maximum",
                                      what, n, max)));
  }
  if (!buf) [[unlikely]] {
    return Fail(Inval(absl::StrFormat("%s: null buffer of %d bytes", what, n)));
  }
  uint8_t* p = static_cast<uint8_t*>(buf);
  return style == kInRaw ? Raw(p, n, !meta && counter.on()) : Lz4(p, n, meta);
}

namespace {

// State for the two modes that read ahead into the caller's rbuf.
absl::StatusOr<std::unique_ptr<ReaderState>> NewBufferedState(
    std::span<uint8_t> rbuf) {
  if (rbuf.size() < kRbufMin) [[unlikely]] {
    return Inval(absl::StrFormat("read buffer of %d bytes; at least %d needed",
                                 rbuf.size(), kRbufMin));
  }
  auto s = std::make_unique<ReaderState>();
  s->rbuf = rbuf.data();
  s->rbuf_sz = rbuf.size();
  s->sz = kSizeUnknown;
  return s;
}

}  // namespace

absl::StatusOr<Reader> Reader::Stream(int fd, std::span<uint8_t> rbuf) {
  if (fd < 0) [[unlikely]]
    return Inval(absl::StrFormat("bad fd %d", fd));
  absl::StatusOr<std::unique_ptr<ReaderState>> st = NewBufferedState(rbuf);
  if (!st.ok()) [[unlikely]]
    return st.status();
  std::unique_ptr<ReaderState> s = std::move(*st);
  s->fd = fd;
  if (io::IsSeekable(fd)) {
    absl::StatusOr<uint64_t> size = io::FileSize(fd);
    absl::StatusOr<uint64_t> at = io::Seek(fd, 0, io::Whence::kCur);
    // Seekable but not a plain file (e.g. a character device): read it as a
    // stream.
    if (size.ok() && at.ok()) {
      if (*size > static_cast<uint64_t>(LLONG_MAX) || *at > *size)
          [[unlikely]] {
        return Inval(absl::StrFormat(
            "fd %d: position %d outside its %d-byte file", fd, *at, *size));
      }
      s->seekable = true;
      s->sz = *size;
      s->off = *at;
    }
  }
  return Reader(std::move(s));
}

absl::StatusOr<Reader> Reader::Source(SourceFn source,
                                      std::span<uint8_t> rbuf,
                                      uint64_t first_offset,
                                      uint64_t total_size) {
  if (!source) [[unlikely]]
    return Inval("empty source");
  absl::StatusOr<std::unique_ptr<ReaderState>> s = NewBufferedState(rbuf);
  if (!s.ok()) [[unlikely]]
    return s.status();
  (*s)->source = std::move(source);
  (*s)->off = first_offset;
  if (total_size != 0) (*s)->sz = total_size;
  return Reader(std::move(*s));
}

absl::StatusOr<Reader> Reader::Mmio(std::span<const uint8_t> region) {
  if (!region.data() && !region.empty()) [[unlikely]] {
    return Inval("null region with a non-zero size");
  }
  if (region.size() > static_cast<uint64_t>(LLONG_MAX)) [[unlikely]] {
    return Inval("region too large");
  }
  auto s = std::make_unique<ReaderState>();
  s->mmio = true;
  s->seekable = true;
  s->region = region.data();
  s->sz = region.size();
  return Reader(std::move(s));
}

Reader::Reader(std::unique_ptr<ReaderState> s) : s_(std::move(s)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

absl::StatusOr<uint64_t> Reader::Open(FrameStyle style) {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  ReaderState& r = *s_;
  if (r.style != kNotInFrame) [[unlikely]] {
    if (r.style == kFailed) return BadState("reader failed earlier");
    if (r.style == kFinished) return BadState("reader finished");
    return r.Fail(BadState("open inside a frame"));
  }
  // Between frames: where a reader over memory, which makes no system call,
  // sees a test fault and a cancellation (util/cancel.h).
  if (int err = FaultPoint(FaultEvent::kFrame); err != 0) [[unlikely]]
    return r.Fail(ErrnoError(err, "read", "checkpoint frame"));
  if (absl::Status st = CheckCancel(); !st.ok()) [[unlikely]]
    return r.Fail(st);
  if (style == FrameStyle::kDefault) style = FrameStyle::kRaw;
  if (style == FrameStyle::kLz4) {
    if (!r.sbuf) r.sbuf.reset(new uint8_t[kGbufSz]);
    r.scursor = 0;
    r.hist_end = nullptr;
    r.hist_len = 0;
    r.pos = 0;
  } else if (style != FrameStyle::kRaw) [[unlikely]] {
    return r.Fail(
        internal::Error(ErrorClass::kUnsup, absl::StatusCode::kUnimplemented,
                        absl::StrFormat("frame style %d not supported",
                                        static_cast<int>(style))));
  }
  r.style = static_cast<int>(style);
  return r.off;
}

absl::StatusOr<uint64_t> Reader::Close() {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  ReaderState& r = *s_;
  if (!in_frame()) [[unlikely]] {
    if (r.style == kFailed) return BadState("reader failed earlier");
    if (r.style == kFinished) return BadState("reader finished");
    return r.Fail(BadState("close outside a frame"));
  }
  r.counter.Flush();
  r.style = kNotInFrame;
  r.hist_end = nullptr;
  return r.off;
}

absl::Status Reader::Meta(void* buf, uint64_t sz) {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  return s_->Buf(buf, sz, kMetaMax, true);
}

absl::Status Reader::Data(void* buf, uint64_t sz) {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  return s_->Buf(buf, sz, UINT64_MAX, false);
}

absl::Status Reader::Seek(uint64_t off) {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  ReaderState& r = *s_;
  if (r.style != kNotInFrame) [[unlikely]] {
    if (r.style == kFailed) return BadState("reader failed earlier");
    if (r.style == kFinished) return BadState("reader finished");
    return r.Fail(BadState("seek inside a frame"));
  }
  if (!r.seekable) [[unlikely]] {
    return r.Fail(BadState("seek on a reader over an unseekable descriptor"));
  }
  if (off > r.sz) [[unlikely]] {
    return r.Fail(Inval(absl::StrFormat(
        "seek to offset %d past the end of a %d-byte checkpoint", off, r.sz)));
  }
  r.off = off;
  r.lo = 0;
  r.ready = 0;
  return absl::OkStatus();
}

void Reader::SetTap(TapFn tap) {
  if (s_) s_->tap = std::move(tap);
}

void Reader::SetCount(CountFn count) {
  if (!s_) return;
  s_->counter.Set(std::move(count));
}

void Reader::SetReadAheadEnd(uint64_t end) {
  if (s_) s_->ahead_end = end;
}

absl::StatusOr<std::span<const uint8_t>> Reader::Peek(uint64_t n) {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  ReaderState& r = *s_;
  if (r.style != kNotInFrame) [[unlikely]] {
    if (r.style == kFailed) return BadState("reader failed earlier");
    if (r.style == kFinished) return BadState("reader finished");
    return r.Fail(BadState("peek inside a frame"));
  }
  if (r.mmio) {
    if (r.off > r.sz || n > r.sz - r.off) [[unlikely]] {
      return r.Fail(Truncated(absl::StrFormat(
          "checkpoint ends early: has %d bytes, needs %d (%d at offset %d)",
          r.sz, r.off + n, n, r.off)));
    }
    return std::span<const uint8_t>(r.region + r.off, n);
  }
  if (n > r.rbuf_sz) [[unlikely]] {
    return r.Fail(Inval(absl::StrFormat(
        "peek of %d bytes exceeds the %d-byte read buffer", n, r.rbuf_sz)));
  }
  if (absl::Status st = r.Fill(n); !st.ok()) [[unlikely]]
    return st;
  return std::span<const uint8_t>(r.rbuf + r.lo, n);
}

absl::StatusOr<uint64_t> Reader::Finish() {
  if (!s_) [[unlikely]]
    return BadState("moved-from reader");
  ReaderState& r = *s_;
  if (r.style == kFinished) return BadState("reader finished");
  const bool failed = r.style == kFailed;
  const bool open = in_frame();
  r.style = kFinished;
  r.sbuf.reset();
  r.lo = r.ready = 0;
  if (failed) return r.failure;
  if (open) [[unlikely]] {
    r.failure = BadState("finished inside a frame");
    return r.failure;
  }
  return r.off;
}

bool Reader::can_open() const { return s_ && s_->style == kNotInFrame; }
bool Reader::in_frame() const {
  return s_ && (s_->style == kInRaw || s_->style == kInLz4);
}
bool Reader::failed() const { return s_ && s_->style == kFailed; }
bool Reader::is_mmio() const { return s_ && s_->mmio; }
bool Reader::seekable() const { return s_ && s_->seekable; }
uint64_t Reader::size() const { return s_ ? s_->sz : 0; }
uint64_t Reader::offset() const { return s_ ? s_->off : 0; }
int Reader::fd() const { return s_ ? s_->fd : -1; }
std::span<uint8_t> Reader::rbuf() const {
  if (!s_ || s_->mmio) return {};
  return {s_->rbuf, s_->rbuf_sz};
}
std::span<const uint8_t> Reader::region() const {
  if (!s_ || !s_->mmio) return {};
  return {s_->region, s_->sz};
}

}  // namespace wk::checkpt
