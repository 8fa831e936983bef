// Checkpoint stream layer, byte-compatible with Firedancer's fd_checkpt /
// fd_restore (spec: CHECKPOINT_FORMAT.md section 1).
//
// A checkpoint is a sequence of frames laid back to back. A frame holds a
// sequence of buffers encoded in the frame's style: RAW stores them verbatim,
// LZ4 cuts them into chunks of at most 64 KiB, each a 3-byte little-endian
// compressed size followed by one LZ4 block, with LZ4 history running across
// the whole frame. Frames carry no header, length or style: the reader must
// know each frame's style and the exact sequence of buffer sizes. Frames are
// independent, so different frames can be restored by different threads (each
// with its own Reader) and, with Lz4StreamState, written by different threads.
//
// Ownership: a Writer or Reader never owns the descriptor, the caller's
// write/read buffer or the memory region it was created over; it only uses
// them until Finish() or destruction. The caller keeps them alive that long and
// closes/unmaps them afterwards. Each object owns its LZ4 state and a 192 KiB
// ring (allocated at the first LZ4 frame).
//
// Buffer lifetimes: Meta() takes at most kMetaMax bytes and is done with the
// caller's memory on return. Data() takes any size, but the memory must stay
// allocated and unchanged (writer) or untouched by anything else (reader) until
// the frame closes: the reader decodes LZ4 straight into data buffers and uses
// earlier ones as compression history.
//
// Errors: every method returns absl::Status(Or). The error class (INVAL,
// UNSUP, IO, COMP as in Firedancer) travels as a payload: ClassOf(status).
// After any error the object is failed: it refuses new frames and further
// buffers, Finish() reports the failure, and nothing was written outside the
// caller's buffers/region. Objects are not thread-safe; use one per thread.
#ifndef WKSPKIT_CHECKPT_CHECKPT_H_
#define WKSPKIT_CHECKPT_CHECKPT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wk::checkpt {

// Largest buffer Meta() accepts (writer and reader).
inline constexpr uint64_t kMetaMax = 65536;
// Largest uncompressed LZ4 chunk.
inline constexpr uint64_t kChunkUszMax = 65536;
// Bound on an encoded chunk of u uncompressed bytes, 3-byte header included.
constexpr uint64_t ChunkCszMax(uint64_t u) { return u + u / 255 + 19; }
// Smallest streaming write / read buffer.
inline constexpr uint64_t kWbufMin = 69632;
inline constexpr uint64_t kRbufMin = 69632;
// Size of the writer's gather ring and the reader's scatter ring.
inline constexpr uint64_t kGbufSz = 196608;
// Reader::size() of a reader over a pipe.
inline constexpr uint64_t kSizeUnknown = UINT64_MAX;
// A counted Writer or Reader (SetCount) reports data bytes at least this
// often, and moves large RAW buffers in pieces of at most this size.
inline constexpr uint64_t kCountStep = uint64_t{1} << 20;

// Progress hook of a Writer or Reader (SetCount): called with the number of
// Data() bytes moved since its previous call. Meta bytes are not counted.
using CountFn = std::function<void(uint64_t bytes)>;

// Frame styles, with the numbers files store (e.g. a workspace checkpoint's
// frame_style_compressed). kDefault means kRaw.
enum class FrameStyle : int { kDefault = 0, kRaw = 1, kLz4 = 2 };

// True for the styles this build can write and read (kRaw, kLz4; kDefault
// counts as kRaw). Any other value (a number read from a file) is not.
bool FrameStyleIsSupported(FrameStyle style);

// Firedancer's error classes, with its numeric codes.
enum class ErrorClass : int {
  kOk = 0,
  kInval = -1,  // bad arguments or state (InvalidArgument/FailedPrecondition)
  kUnsup = -2,  // frame style not supported (Unimplemented)
  kIo = -3,     // read/write failure, short file, region full
  kComp = -4,   // compressor error or corrupt chunk (DataLoss)
};

// The class of a status returned by this package; kOk for OK. Errors that did
// not come from this package count as kIo.
ErrorClass ClassOf(const absl::Status& status);
// Short name ("INVAL") and strerror-like description of a class.
const char* ErrorClassName(ErrorClass c);
const char* Describe(ErrorClass c);

// The part of an LZ4 stream's state that carries over from one LZ4 frame to
// the next (LZ4's stream index, "currentOffset"). The bytes of an LZ4 frame
// depend on it, so a writer that starts at a frame in the middle of a
// checkpoint must start from the state a sequential writer would have there.
// It depends only on the sizes of the buffers in earlier LZ4 frames, never on
// their contents: see Lz4StateModel.
struct Lz4StreamState {
  uint32_t current_offset = 0;  // 0: pristine, as a fresh writer
  friend bool operator==(const Lz4StreamState&,
                         const Lz4StreamState&) = default;
};

// Predicts Lz4StreamState from buffer sizes alone, as LZ4 1.9.x/1.10 evolve
// it: at each LZ4 frame open the table is cleared if the index passed 2^30,
// else the index skips 64 KiB (unless 0); each chunk advances it by its size
// (with LZ4's rebase near 2^31). RAW frames leave it alone.
class Lz4StateModel {
 public:
  explicit Lz4StateModel(Lz4StreamState start = {}) : state_(start) {}
  void OpenLz4Frame();
  // One buffer of sz bytes in the open LZ4 frame (0 changes nothing).
  void AddBuffer(uint64_t sz);
  Lz4StreamState state() const { return state_; }

 private:
  Lz4StreamState state_;
};

struct WriterState;
struct ReaderState;

// Writes a checkpoint. Offsets count from where the writer started (0).
// Streaming mode and mmio mode give identical bytes.
class Writer {
 public:
  // Streaming mode: writes to `fd` at its current position through `wbuf`
  // (at least kWbufMin bytes). Bytes of a frame reach the fd by Close() at the
  // latest; RAW buffers of 64 KiB or more are written from the caller's
  // memory directly. `lz4_start`: see Lz4StreamState (default: a fresh stream).
  static absl::StatusOr<Writer> Stream(int fd, std::span<uint8_t> wbuf,
                                       Lz4StreamState lz4_start = {});
  // Sink mode: as streaming mode, but every write(2) the writer would make
  // becomes a call sink(bytes) instead, in order; a failed call fails the
  // writer with its status. The span points into wbuf or, for a RAW buffer
  // of 64 KiB or more, into the caller's Data() buffer; either way it is
  // only valid during the call. Lets a caller route each frame's bytes
  // (e.g. to put frames written by several threads in order).
  using SinkFn = std::function<absl::Status(std::span<const uint8_t>)>;
  static absl::StatusOr<Writer> Sink(SinkFn sink, std::span<uint8_t> wbuf,
                                     Lz4StreamState lz4_start = {});
  // Mmio mode: writes into `region` from its first byte; a frame that does
  // not fit fails with kIo (ResourceExhausted).
  static absl::StatusOr<Writer> Mmio(std::span<uint8_t> region,
                                     Lz4StreamState lz4_start = {});

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();

  // Opens a frame of `style` (kDefault = kRaw); returns its offset.
  absl::StatusOr<uint64_t> Open(FrameStyle style = FrameStyle::kDefault);
  // Closes the frame (flushing it in streaming mode); returns the offset one
  // past its end, which is the next frame's offset.
  absl::StatusOr<uint64_t> Close();
  // Appends a buffer of at most kMetaMax bytes; `buf` is free on return.
  absl::Status Meta(const void* buf, uint64_t sz);
  // Appends a buffer of any size; `buf` must stay unchanged until Close().
  absl::Status Data(const void* buf, uint64_t sz);
  // Ends the writer; returns the checkpoint size, or the error that failed it
  // (also when called inside a frame). The fd, wbuf and region stay the
  // caller's; the object refuses everything afterwards.
  absl::StatusOr<uint64_t> Finish();

  // From now on `count` is called as Data() bytes are taken in (copied,
  // compressed or written): whenever kCountStep or more are uncounted, so
  // also inside one large buffer, and at Close() for the rest. RAW buffers
  // then go out in pieces of at most kCountStep bytes (more write(2) or
  // sink calls; the same bytes). An empty function removes it.
  void SetCount(CountFn count);

  // From now on `tap` is called with the Data() bytes as they are taken in,
  // in order, in pieces (LZ4: each chunk of at most kChunkUszMax, from the
  // writer's own copy; RAW: pieces of at most kCountStep, once written):
  // a caller can digest what it writes while the bytes are in cache
  // instead of reading them again. The bytes written do not change. An
  // empty function removes it.
  using DataTap = std::function<void(std::span<const uint8_t>)>;
  void SetDataTap(DataTap tap);

  bool can_open() const;  // not failed, not finished, not in a frame
  bool in_frame() const;
  bool failed() const;
  bool is_mmio() const;
  int fd() const;                     // -1 in mmio mode
  std::span<uint8_t> wbuf() const;    // empty in mmio mode
  std::span<uint8_t> region() const;  // empty in streaming mode
  uint64_t offset() const;            // bytes emitted so far
  Lz4StreamState lz4_state() const;   // as of now

 private:
  explicit Writer(std::unique_ptr<WriterState> s);
  std::unique_ptr<WriterState> s_;
};

// Restores a checkpoint. Offsets are absolute file offsets (seekable fd), from
// the region start (mmio), or from the fd position at creation (pipe).
class Reader {
 public:
  // Streaming mode through `rbuf` (at least kRbufMin bytes). On a seekable fd
  // the reader starts at the fd's current position and uses positional reads
  // (the fd's position never moves), so threads may each create a reader over
  // one shared fd. On a pipe it reads sequentially, possibly past the end of
  // the checkpoint.
  static absl::StatusOr<Reader> Stream(int fd, std::span<uint8_t> rbuf);
  // Source mode: as streaming mode over a pipe, but bytes come from
  // source(dst, min, max), which has io::ReadAtLeast's contract (at least min
  // bytes, at most max, IsEndOfFile error when the input ends first); e.g. a
  // read-ahead thread (io/prefetch.h). Offsets count from first_offset (the
  // file offset of the source's first byte, so messages name file offsets);
  // total_size, when known (0: not), is the whole input's size, which a
  // truncation message then names.
  using SourceFn = std::function<absl::StatusOr<size_t>(
      uint8_t* dst, size_t min, size_t max)>;
  static absl::StatusOr<Reader> Source(SourceFn source,
                                       std::span<uint8_t> rbuf,
                                       uint64_t first_offset = 0,
                                       uint64_t total_size = 0);
  // Mmio mode over `region`.
  static absl::StatusOr<Reader> Mmio(std::span<const uint8_t> region);

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  // Opens a frame of `style` at the current offset; returns that offset.
  absl::StatusOr<uint64_t> Open(FrameStyle style = FrameStyle::kDefault);
  // Closes the frame; returns the offset one past the bytes it consumed.
  absl::StatusOr<uint64_t> Close();
  // Reads back a buffer written with size sz (Meta: sz <= kMetaMax, buf free
  // on return; Data: any sz, buf must be left alone until Close()). Meta and
  // Data may be mixed freely; only the sizes must match the writer's.
  absl::Status Meta(void* buf, uint64_t sz);
  absl::Status Data(void* buf, uint64_t sz);
  // Moves to `off` (<= size()) outside a frame; mmio or seekable fd only.
  absl::Status Seek(uint64_t off);
  // Ends the reader; returns the offset reached, or the error that failed it
  // (also when called inside a frame).
  absl::StatusOr<uint64_t> Finish();

  // From now on every input byte the reader consumes (chunk headers and
  // blocks, RAW bytes: exactly the frames' bytes, in order, each once) is
  // also passed to tap, e.g. to hash frames as they are read; an empty
  // function removes it. The span is valid only during the call. Bytes the
  // reader buffers ahead are tapped only when consumed.
  using TapFn = std::function<void(std::span<const uint8_t>)>;
  void SetTap(TapFn tap);
  // From now on `count` is called as Data() bytes are filled in (copied or
  // decoded): whenever kCountStep or more are uncounted, so also inside one
  // large buffer, and at Close() for the rest. Large RAW buffers are then
  // read in pieces of at most kCountStep bytes. An empty function removes
  // it.
  void SetCount(CountFn count);
  // Streaming over a seekable fd: buffered reads (meta buffers, data buffers
  // too small to be read straight into the caller's memory, LZ4 blocks) fill
  // the read buffer no further than offset `end`, unless a read needs more.
  // A caller about to read one frame passes its end, so no read fetches
  // bytes of the next frame (which another thread may be reading); the end
  // of a frame's commands keeps a RAW frame's data out of the buffer. Stays
  // until changed; kSizeUnknown (the default) fills the buffer. Any other
  // mode ignores it.
  void SetReadAheadEnd(uint64_t end);
  // Outside a frame: the next n bytes without consuming them (streaming
  // modes: n at most the read buffer's size). Fewer than n bytes left fails
  // the reader, as a read would. Valid until the next call on the reader.
  absl::StatusOr<std::span<const uint8_t>> Peek(uint64_t n);

  bool can_open() const;
  bool in_frame() const;
  bool failed() const;
  bool is_mmio() const;
  bool seekable() const;
  // Region size (mmio), file size at creation (seekable fd), kSizeUnknown.
  uint64_t size() const;
  uint64_t offset() const;
  int fd() const;                           // -1 in mmio mode
  std::span<uint8_t> rbuf() const;          // empty in mmio mode
  std::span<const uint8_t> region() const;  // empty in streaming mode

 private:
  explicit Reader(std::unique_ptr<ReaderState> s);
  std::unique_ptr<ReaderState> s_;
};

}  // namespace wk::checkpt

#endif  // WKSPKIT_CHECKPT_CHECKPT_H_
