// Buffered byte streams over a descriptor, using a buffer the caller owns, so
// no call allocates. Both classes borrow the descriptor and the buffer: each
// must outlive the stream, and neither is closed or freed by it. Neither class
// is thread safe; one thread uses a stream at a time.
//
// BufferedWriter keeps written bytes in the buffer until it is full (or the
// caller calls Flush); writes at least as large as the buffer go straight to
// the descriptor after the buffered bytes. The destructor does NOT flush
// (it could not report an error): call Flush() and check it. After any
// write(2) failure the writer is failed for good: it is unknown how much of
// the buffer reached the descriptor, so every later call returns that error.
//
// BufferedReader reads ahead into the buffer; reads at least as large as the
// buffer bypass it and land directly in the caller's memory. Read errors from
// the descriptor are sticky the same way. Reaching end of file early is not:
// it reports an IsEndOfFile error (see io/fd.h), and Peek leaves its bytes
// buffered, so a caller may still look at or consume what was there.
#ifndef WKSPKIT_IO_STREAM_H_
#define WKSPKIT_IO_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wk::io {

class BufferedWriter {
 public:
  // `buffer` must not be empty (an empty one makes every call fail with
  // InvalidArgument). Bytes go to fd at its current position.
  BufferedWriter(int fd, std::span<uint8_t> buffer);
  BufferedWriter(const BufferedWriter&) = delete;
  BufferedWriter& operator=(const BufferedWriter&) = delete;

  // Appends n bytes; may write to fd. On failure the stream is failed.
  absl::Status Write(const void* data, size_t n);
  absl::Status Write(std::span<const uint8_t> data) {
    return Write(data.data(), data.size());
  }

  // Writes every buffered byte to fd.
  absl::Status Flush();

  // Zero-copy appends: returns the free space of the buffer, at least `min`
  // bytes (flushing first when less is free). min must be <= capacity().
  // Fill a prefix of it and Commit(that many); a later call on the writer
  // other than Commit invalidates the span.
  absl::StatusOr<std::span<uint8_t>> Prepare(size_t min);
  // Makes n bytes of the span from the last Prepare part of the stream.
  // n larger than that span's size: InvalidArgument, nothing committed.
  absl::Status Commit(size_t n);

  // Bytes accepted so far (written to fd or buffered).
  uint64_t bytes_written() const { return flushed_ + used_; }
  size_t buffered() const { return used_; }
  size_t capacity() const { return buffer_.size(); }
  // OK, or the error that failed the stream.
  const absl::Status& status() const { return status_; }
  int fd() const { return fd_; }

 private:
  absl::Status Fail(absl::Status status);

  int fd_;
  std::span<uint8_t> buffer_;
  size_t used_ = 0;       // buffer_[0, used_) waits for write(2)
  size_t prepared_ = 0;   // end of the last Prepare span (Commit limit)
  uint64_t flushed_ = 0;  // bytes handed to write(2) successfully
  absl::Status status_;
};

class BufferedReader {
 public:
  // `buffer` must not be empty (an empty one makes every call fail with
  // InvalidArgument). `offset` is the descriptor's current position; offset()
  // counts on from it (it is only bookkeeping unless Seek is used).
  BufferedReader(int fd, std::span<uint8_t> buffer, uint64_t offset = 0);
  BufferedReader(const BufferedReader&) = delete;
  BufferedReader& operator=(const BufferedReader&) = delete;

  // Reads exactly n bytes into dst. End of file first: IsEndOfFile error,
  // with whatever was there copied to dst and consumed (the stream is then
  // at end of file).
  absl::Status Read(void* dst, size_t n);

  // Reads at least `min` and at most `max` bytes into dst (min <= max) and
  // returns the count; waits on the descriptor only while fewer than min are
  // available. End of file before min: IsEndOfFile error, the bytes there
  // copied and consumed as for Read.
  absl::StatusOr<size_t> ReadAtLeast(void* dst, size_t min, size_t max);

  // Returns every buffered byte, at least `min` of them (reading more when
  // fewer are buffered). min must be <= capacity(). End of file first:
  // IsEndOfFile error, the bytes there stay buffered. The span is valid
  // until the next non-const call; Consume what was used.
  absl::StatusOr<std::span<const uint8_t>> Peek(size_t min);

  // Drops n bytes from the front of the buffer; n must be <= buffered()
  // (InvalidArgument otherwise, nothing consumed).
  absl::Status Consume(size_t n);

  // Reads exactly n bytes into dst like Read, but never through the buffer:
  // what is buffered already is copied, the rest is read from the descriptor
  // straight into dst however few bytes it is, so a large record costs no
  // copy and reads nothing ahead of it. End of file first: as for Read.
  absl::Status ReadDirect(void* dst, size_t n);

  // Reads and drops n bytes (through the buffer, on any descriptor). End of
  // file first: IsEndOfFile error, everything up to it consumed. To jump
  // ahead on a seekable descriptor without reading, use SkipBySeek or Seek.
  absl::Status Skip(uint64_t n);

  // Drops n bytes without reading them: the buffered ones are consumed and
  // the descriptor seeks over the rest (no system call when all n are
  // buffered). Unseekable (and n > buffered()): FailedPrecondition "not
  // seekable", nothing consumed. Seeking past the end of the file is not
  // checked here: the next read reports end of file.
  absl::Status SkipBySeek(uint64_t n);

  // Moves to absolute `offset` on a seekable descriptor and discards the
  // buffer. Unseekable: FailedPrecondition "not seekable".
  absl::Status Seek(uint64_t offset);

  // Offset of the next byte Read/Peek would return.
  uint64_t offset() const { return offset_; }
  size_t buffered() const { return end_ - begin_; }
  size_t capacity() const { return buffer_.size(); }
  const absl::Status& status() const { return status_; }
  int fd() const { return fd_; }

 private:
  // Makes at least min bytes buffered (min <= capacity), compacting first
  // when the tail has no room. End of file first: IsEndOfFile error.
  absl::Status Fill(size_t min);
  // Copies min(n, buffered()) bytes to dst and consumes them.
  size_t TakeBuffered(uint8_t* dst, size_t n);
  absl::Status Fail(absl::Status status);

  int fd_;
  std::span<uint8_t> buffer_;
  size_t begin_ = 0;  // buffer_[begin_, end_) is read ahead, not consumed
  size_t end_ = 0;
  uint64_t offset_;
  absl::Status status_;
};

}  // namespace wk::io

#endif  // WKSPKIT_IO_STREAM_H_
