#include "io/stream.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/status.h"

namespace wk::io {
namespace {

absl::Status EmptyBufferError(int fd) {
  return absl::InvalidArgumentError(
      absl::StrFormat("stream on %s: empty buffer", FdName(fd)));
}

}  // namespace

// --- BufferedWriter ----------------------------------------------------------

BufferedWriter::BufferedWriter(int fd, std::span<uint8_t> buffer)
    : fd_(fd), buffer_(buffer) {
  if (buffer_.empty()) [[unlikely]]
    status_ = EmptyBufferError(fd);
}

absl::Status BufferedWriter::Fail(absl::Status status) {
  status_ = status;
  return status;
}

absl::Status BufferedWriter::Flush() {
  if (!status_.ok()) [[unlikely]]
    return status_;
  prepared_ = 0;
  if (used_ == 0) return absl::OkStatus();
  absl::Status s = WriteExact(fd_, buffer_.data(), used_);
  if (!s.ok()) [[unlikely]]
    return Fail(std::move(s));
  flushed_ += used_;
  used_ = 0;
  return absl::OkStatus();
}

absl::Status BufferedWriter::Write(const void* data, size_t n) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  prepared_ = 0;
  const auto* src = static_cast<const uint8_t*>(data);
  const size_t free = buffer_.size() - used_;
  if (n <= free) {
    if (n) std::memcpy(buffer_.data() + used_, src, n);
    used_ += n;
    return absl::OkStatus();
  }
  if (n >= buffer_.size()) {
    // Copying would only cost time: write the buffered bytes, then the data
    // itself from the caller's memory.
    WK_RETURN_IF_ERROR(Flush());
    absl::Status s = WriteExact(fd_, src, n);
    if (!s.ok()) [[unlikely]]
      return Fail(std::move(s));
    flushed_ += n;
    return absl::OkStatus();
  }
  // Top the buffer up so write(2) always sees whole buffers.
  std::memcpy(buffer_.data() + used_, src, free);
  used_ = buffer_.size();
  WK_RETURN_IF_ERROR(Flush());
  std::memcpy(buffer_.data(), src + free, n - free);
  used_ = n - free;
  return absl::OkStatus();
}

absl::StatusOr<std::span<uint8_t>> BufferedWriter::Prepare(size_t min) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  if (min > buffer_.size()) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("prepare on %s: %u bytes asked, buffer holds %u",
                        FdName(fd_), min, buffer_.size()));
  }
  if (buffer_.size() - used_ < min) WK_RETURN_IF_ERROR(Flush());
  prepared_ = buffer_.size() - used_;
  return buffer_.subspan(used_);
}

absl::Status BufferedWriter::Commit(size_t n) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  if (n > prepared_) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "commit on %s: %u bytes, only %u prepared", FdName(fd_), n, prepared_));
  }
  used_ += n;
  prepared_ = 0;
  return absl::OkStatus();
}

// --- BufferedReader ----------------------------------------------------------

BufferedReader::BufferedReader(int fd, std::span<uint8_t> buffer,
                               uint64_t offset)
    : fd_(fd), buffer_(buffer), offset_(offset) {
  if (buffer_.empty()) [[unlikely]]
    status_ = EmptyBufferError(fd);
}

absl::Status BufferedReader::Fail(absl::Status status) {
  status_ = status;
  return status;
}

size_t BufferedReader::TakeBuffered(uint8_t* dst, size_t n) {
  n = std::min(n, end_ - begin_);
  if (n) std::memcpy(dst, buffer_.data() + begin_, n);
  begin_ += n;
  offset_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
  return n;
}

absl::Status BufferedReader::Fill(size_t min) {
  if (begin_ + min > buffer_.size()) {
    // Not enough room behind the unread bytes: move them to the front.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ - begin_ < min) {
    auto got =
        io::ReadAtLeast(fd_, buffer_.data() + end_, 0, buffer_.size() - end_);
    if (!got.ok()) [[unlikely]]
      return Fail(got.status());
    if (*got == 0) [[unlikely]] {
      return EndOfFileError(FdName(fd_), end_ - begin_, min);
    }
    end_ += *got;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::span<const uint8_t>> BufferedReader::Peek(size_t min) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  if (min > buffer_.size()) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("peek on %s: %u bytes asked, buffer holds %u",
                        FdName(fd_), min, buffer_.size()));
  }
  if (end_ - begin_ < min) WK_RETURN_IF_ERROR(Fill(min));
  return std::span<const uint8_t>(buffer_.data() + begin_, end_ - begin_);
}

absl::Status BufferedReader::Consume(size_t n) {
  if (n > end_ - begin_) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("consume on %s: %u bytes, only %u buffered",
                        FdName(fd_), n, end_ - begin_));
  }
  begin_ += n;
  offset_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<size_t> BufferedReader::ReadAtLeast(void* dst, size_t min,
                                                   size_t max) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  if (min > max) [[unlikely]] {
    return absl::InvalidArgumentError(
        absl::StrFormat("read %s: min %u > max %u", FdName(fd_), min, max));
  }
  auto* out = static_cast<uint8_t*>(dst);
  size_t got = TakeBuffered(out, max);
  // Like io::ReadAtLeast, min == 0 with nothing at hand makes one read.
  bool one_read = min == 0 && got == 0 && max > 0;
  while (got < min || one_read) {
    one_read = false;
    const size_t room = max - got;
    size_t n;
    if (room >= buffer_.size()) {
      // Large request: read straight into the caller's memory.
      auto r = io::ReadAtLeast(fd_, out + got, 0, room);
      if (!r.ok()) [[unlikely]]
        return Fail(r.status());
      n = *r;
      got += n;
      offset_ += n;
    } else {
      // The buffer is empty here (TakeBuffered drained it or got == max).
      auto r = io::ReadAtLeast(fd_, buffer_.data(), 0, buffer_.size());
      if (!r.ok()) [[unlikely]]
        return Fail(r.status());
      n = *r;
      begin_ = 0;
      end_ = n;
      got += TakeBuffered(out + got, room);
    }
    if (n == 0) {
      if (got < min) [[unlikely]]
        return EndOfFileError(FdName(fd_), got, min);
      break;
    }
  }
  return got;
}

absl::Status BufferedReader::Read(void* dst, size_t n) {
  if (n == 0) return status_;
  return ReadAtLeast(dst, n, n).status();
}

absl::Status BufferedReader::ReadDirect(void* dst, size_t n) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  auto* out = static_cast<uint8_t*>(dst);
  size_t got = TakeBuffered(out, n);
  while (got < n) {
    // One read(2) at a time, so the count is known at end of file.
    auto r = io::ReadAtLeast(fd_, out + got, 0, n - got);
    if (!r.ok()) [[unlikely]]
      return Fail(r.status());
    if (*r == 0) [[unlikely]]
      return EndOfFileError(FdName(fd_), got, n);
    got += *r;
    offset_ += *r;
  }
  return absl::OkStatus();
}

absl::Status BufferedReader::SkipBySeek(uint64_t n) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  if (n <= end_ - begin_) return Consume(static_cast<size_t>(n));
  uint64_t to;
  if (__builtin_add_overflow(offset_, n, &to) ||
      to > static_cast<uint64_t>(INT64_MAX)) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "skip on %s: %u bytes from offset %u out of range", FdName(fd_), n,
        offset_));
  }
  // The descriptor stands after the buffered bytes: seek over the rest.
  const uint64_t rest = n - (end_ - begin_);
  WK_RETURN_IF_ERROR(
      io::Seek(fd_, static_cast<int64_t>(rest), Whence::kCur).status());
  begin_ = end_ = 0;
  offset_ = to;
  return absl::OkStatus();
}

absl::Status BufferedReader::Skip(uint64_t n) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  uint64_t done = 0;
  while (done < n) {
    if (begin_ == end_) {
      auto r = io::ReadAtLeast(fd_, buffer_.data(), 0, buffer_.size());
      if (!r.ok()) [[unlikely]]
        return Fail(r.status());
      if (*r == 0) [[unlikely]]
        return EndOfFileError(FdName(fd_), done, n);
      begin_ = 0;
      end_ = *r;
    }
    size_t take =
        static_cast<size_t>(std::min<uint64_t>(n - done, end_ - begin_));
    begin_ += take;
    offset_ += take;
    done += take;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  return absl::OkStatus();
}

absl::Status BufferedReader::Seek(uint64_t offset) {
  if (!status_.ok()) [[unlikely]]
    return status_;
  if (offset > static_cast<uint64_t>(INT64_MAX)) [[unlikely]] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "seek %s: offset %u out of range", FdName(fd_), offset));
  }
  // A failed seek changes nothing, so it does not fail the stream.
  WK_RETURN_IF_ERROR(
      io::Seek(fd_, static_cast<int64_t>(offset), Whence::kSet).status());
  begin_ = end_ = 0;
  offset_ = offset;
  return absl::OkStatus();
}

}  // namespace wk::io
