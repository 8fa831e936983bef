#include "io/stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/fd.h"
#include "io/test_util.h"
#include "util/status.h"

namespace wk::io {
namespace {

using ::testing::HasSubstr;
using testing::kOddPieces;
using testing::Pattern;
using testing::Pipe;
using testing::TempPath;
using testing::WriteFile;
using testing::WriteSlowly;

std::string ReadWholeFile(const std::string& path) {
  auto fd = OpenRead(path);
  if (!fd.ok()) return "<open failed>";
  auto size = FileSize(fd->get());
  std::string s(*size, '\0');
  if (!ReadExact(fd->get(), s.data(), s.size()).ok()) return "<read failed>";
  return s;
}

uint64_t Position(int fd) { return *Seek(fd, 0, Whence::kCur); }

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// --- BufferedWriter ----------------------------------------------------------

TEST(BufferedWriterTest, MixedSizesArriveInOrder) {
  TempPath path("w_mixed");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::vector<uint8_t> buf(64);
  BufferedWriter w(fd->get(), buf);
  const std::string data = Pattern(2000);
  size_t off = 0;
  for (size_t n : {0, 1, 7, 63, 64, 65, 200, 1, 500, 63, 1036}) {
    ASSERT_LE(off + n, data.size());
    ASSERT_TRUE(w.Write(data.data() + off, n).ok());
    off += n;
    EXPECT_EQ(w.bytes_written(), off);
    // What is not buffered is in the file already.
    EXPECT_EQ(Position(fd->get()) + w.buffered(), off);
  }
  ASSERT_EQ(off, data.size());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.buffered(), 0u);
  EXPECT_EQ(ReadWholeFile(path.path()), data);
}

TEST(BufferedWriterTest, SmallWritesWaitForFlush) {
  TempPath path("w_small");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(16);
  BufferedWriter w(fd->get(), buf);
  ASSERT_TRUE(w.Write(Bytes("hello")).ok());
  EXPECT_EQ(*FileSize(fd->get()), 0u);
  EXPECT_EQ(w.buffered(), 5u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(ReadWholeFile(path.path()), "hello");
  ASSERT_TRUE(w.Flush().ok());  // nothing buffered: no-op
  EXPECT_EQ(*FileSize(fd->get()), 5u);
}

TEST(BufferedWriterTest, LargeWritesBypassTheBuffer) {
  TempPath path("w_large");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(4096, 0xAA);
  BufferedWriter w(fd->get(), buf);
  const std::string data = Pattern(100'000);
  ASSERT_TRUE(w.Write(Bytes(data)).ok());
  EXPECT_EQ(w.buffered(), 0u);
  EXPECT_EQ(*FileSize(fd->get()), data.size());
  // Never copied through the buffer.
  EXPECT_TRUE(
      std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0xAA; }));
  // After some buffered bytes, those go first.
  ASSERT_TRUE(w.Write(Bytes("ab")).ok());
  ASSERT_TRUE(w.Write(Bytes(data)).ok());
  EXPECT_EQ(w.buffered(), 0u);
  EXPECT_EQ(ReadWholeFile(path.path()), data + "ab" + data);
}

TEST(BufferedWriterTest, PrepareAndCommit) {
  TempPath path("w_prepare");
  auto fd = CreateExclusive(path.path(), 0600);
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(32);
  BufferedWriter w(fd->get(), buf);
  auto span = w.Prepare(4);
  ASSERT_TRUE(span.ok()) << span.status();
  ASSERT_EQ(span->size(), 32u);
  EXPECT_EQ(span->data(), buf.data());  // the caller's own memory
  std::memcpy(span->data(), "abcd", 4);
  ASSERT_TRUE(w.Commit(4).ok());
  EXPECT_EQ(w.bytes_written(), 4u);
  // Only 28 free: asking for 30 flushes the first 4 bytes.
  span = w.Prepare(30);
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(*FileSize(fd->get()), 4u);
  ASSERT_EQ(span->size(), 32u);
  std::memcpy(span->data(), "efg", 3);
  ASSERT_TRUE(w.Commit(3).ok());
  // Commit is once per Prepare and within its span.
  EXPECT_EQ(w.Commit(1).code(), absl::StatusCode::kInvalidArgument);
  span = w.Prepare(1);
  ASSERT_TRUE(span.ok());
  absl::Status too_many = w.Commit(span->size() + 1);
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_many.message(), HasSubstr(FdName(fd->get())));
  EXPECT_EQ(w.bytes_written(), 7u);
  // More than the buffer can ever hold.
  auto big = w.Prepare(33);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(w.status().ok());  // a caller mistake does not fail the stream
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(ReadWholeFile(path.path()), "abcdefg");
}

TEST(BufferedWriterTest, ErrorsAreSticky) {
  auto fd = OpenReadWrite("/dev/full");
  if (!fd.ok()) GTEST_SKIP() << "no /dev/full here: " << fd.status();
  std::vector<uint8_t> buf(16);
  BufferedWriter w(fd->get(), buf);
  ASSERT_TRUE(w.Write(Bytes("buffered")).ok());
  absl::Status s = w.Flush();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(s.message(), HasSubstr("write " + FdName(fd->get())));
  EXPECT_EQ(w.status(), s);
  EXPECT_EQ(w.Write(Bytes("x")), s);
  EXPECT_EQ(w.Prepare(1).status(), s);
  EXPECT_EQ(w.Commit(0), s);
  EXPECT_EQ(w.Flush(), s);
}

TEST(BufferedWriterTest, EmptyBufferIsRejected) {
  Pipe pipe;
  BufferedWriter w(pipe.write_end.get(), {});
  EXPECT_EQ(w.Write(Bytes("x")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr("empty buffer"));
  BufferedReader r(pipe.read_end.get(), {});
  EXPECT_EQ(r.Peek(0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BufferedWriterTest, ThroughAPipeWithShortReads) {
  Pipe pipe;
  ASSERT_GE(::fcntl(pipe.write_end.get(), F_SETPIPE_SZ, 4096), 0);
  const std::string data = Pattern(300'000, 5);
  std::string got;
  std::thread reader([&] {
    std::vector<char> tmp(70'000);
    for (int i = 0;; ++i) {
      auto n = ReadAtLeast(pipe.read_end.get(), tmp.data(), 0,
                           kOddPieces[i % std::size(kOddPieces)]);
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
      got.append(tmp.data(), *n);
    }
  });
  std::vector<uint8_t> buf(1000);
  BufferedWriter w(pipe.write_end.get(), buf);
  size_t off = 0;
  for (int i = 0; off < data.size(); ++i) {
    size_t n = std::min(kOddPieces[(i + 3) % std::size(kOddPieces)],
                        data.size() - off);
    ASSERT_TRUE(w.Write(data.data() + off, n).ok());
    off += n;
  }
  ASSERT_TRUE(w.Flush().ok());
  ASSERT_TRUE(pipe.write_end.Close().ok());
  reader.join();
  EXPECT_EQ(got, data);
}

// --- BufferedReader ----------------------------------------------------------

TEST(BufferedReaderTest, PipeWithShortReads) {
  Pipe pipe;
  const std::string data = Pattern(400'000, 9);
  absl::Status write_status;
  std::thread writer(
      [&](Fd fd) { write_status = WriteSlowly(std::move(fd), data); },
      std::move(pipe.write_end));
  std::vector<uint8_t> buf(5000);
  BufferedReader r(pipe.read_end.get(), buf);
  std::string got;
  std::vector<char> tmp(20'000);
  for (int i = 0; got.size() < data.size(); ++i) {
    size_t left = data.size() - got.size();
    switch (i % 4) {
      case 0: {  // exact read, sometimes larger than the buffer
        size_t n =
            std::min(left, kOddPieces[i % std::size(kOddPieces)] % 12'000);
        ASSERT_TRUE(r.Read(tmp.data(), n).ok());
        got.append(tmp.data(), n);
        break;
      }
      case 1: {  // peek + consume part of it
        size_t min = std::min<size_t>(left, 3000);
        auto span = r.Peek(min);
        ASSERT_TRUE(span.ok()) << span.status();
        ASSERT_GE(span->size(), min);
        size_t take = std::min<size_t>(span->size(), 2500);
        got.append(reinterpret_cast<const char*>(span->data()), take);
        ASSERT_TRUE(r.Consume(take).ok());
        break;
      }
      case 2: {  // skip, then record what the skipped bytes should be
        size_t n = std::min<size_t>(left, 777);
        ASSERT_TRUE(r.Skip(n).ok());
        got.append(data, got.size(), n);
        break;
      }
      default: {
        auto n = r.ReadAtLeast(tmp.data(), std::min<size_t>(left, 10), 9000);
        ASSERT_TRUE(n.ok()) << n.status();
        got.append(tmp.data(), *n);
        break;
      }
    }
    ASSERT_EQ(r.offset(), got.size());
  }
  writer.join();
  EXPECT_TRUE(write_status.ok()) << write_status;
  EXPECT_EQ(got, data);
  char c;
  EXPECT_TRUE(IsEndOfFile(r.Read(&c, 1)));
}

TEST(BufferedReaderTest, LargeReadsBypassTheBuffer) {
  TempPath path("r_large");
  const std::string data = Pattern(1 << 20);
  ASSERT_TRUE(WriteFile(path.path(), data));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(4096, 0xAA);
  BufferedReader r(fd->get(), buf);
  std::string got(100'000, '\0');
  ASSERT_TRUE(r.Read(got.data(), got.size()).ok());
  EXPECT_EQ(got, data.substr(0, got.size()));
  // Straight into `got`: the buffer was never written, nothing read ahead.
  EXPECT_TRUE(
      std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0xAA; }));
  EXPECT_EQ(Position(fd->get()), 100'000u);
  EXPECT_EQ(r.buffered(), 0u);

  // A small read fills the buffer; a large one takes those bytes first and
  // reads the rest directly, leaving the descriptor exactly after it.
  char small[10];
  ASSERT_TRUE(r.Read(small, sizeof(small)).ok());
  EXPECT_EQ(Position(fd->get()), 100'000u + buf.size());
  ASSERT_TRUE(r.Read(got.data(), got.size()).ok());
  EXPECT_EQ(got, data.substr(100'010, got.size()));
  EXPECT_EQ(Position(fd->get()), 200'010u);
  EXPECT_EQ(r.offset(), 200'010u);
}

TEST(BufferedReaderTest, EndOfFile) {
  TempPath path("r_eof");
  ASSERT_TRUE(WriteFile(path.path(), "0123456789"));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(16);
  BufferedReader r(fd->get(), buf);
  // Peek past EOF keeps the bytes.
  auto span = r.Peek(12);
  EXPECT_TRUE(IsEndOfFile(span.status())) << span.status();
  EXPECT_THAT(span.status().message(), HasSubstr(FdName(fd->get())));
  span = r.Peek(5);
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(span->size(), 10u);
  EXPECT_EQ(r.offset(), 0u);
  // Read past EOF copies and consumes what was there.
  char out[20] = {};
  absl::Status s = r.Read(out, 3);
  ASSERT_TRUE(s.ok());
  s = r.Read(out, 20);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("7 of 20"));
  EXPECT_EQ(std::string(out, 7), "3456789");
  EXPECT_EQ(r.offset(), 10u);
  EXPECT_TRUE(r.status().ok());  // end of file is not sticky
  // At EOF: min 0 gives 0, skipping anything is EOF.
  auto n = r.ReadAtLeast(out, 0, 5);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(IsEndOfFile(r.Skip(1)));
  EXPECT_TRUE(r.Skip(0).ok());
}

TEST(BufferedReaderTest, ReadAtLeastBounds) {
  TempPath path("r_ral");
  ASSERT_TRUE(WriteFile(path.path(), Pattern(100)));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(32);
  BufferedReader r(fd->get(), buf);
  char out[100];
  // Min 1 with an empty buffer reads once into the buffer; max caps the copy.
  auto n = r.ReadAtLeast(out, 1, 10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  EXPECT_EQ(r.buffered(), 22u);
  // What is buffered is enough for min: no read, returns up to max of it.
  n = r.ReadAtLeast(out, 5, 50);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 22u);
  EXPECT_EQ(std::string(out, 22), Pattern(22, 10));
  // EOF after min: returns the rest.
  n = r.ReadAtLeast(out, 60, 100);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 68u);
  EXPECT_EQ(std::string(out, 68), Pattern(68, 32));
  EXPECT_EQ(r.ReadAtLeast(out, 3, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BufferedReaderTest, PeekConsumeLimits) {
  Pipe pipe;
  ASSERT_TRUE(WriteExact(pipe.write_end.get(), "abcdef", 6).ok());
  std::vector<uint8_t> buf(8);
  BufferedReader r(pipe.read_end.get(), buf);
  EXPECT_EQ(r.Peek(9).status().code(), absl::StatusCode::kInvalidArgument);
  auto span = r.Peek(2);
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(span->size(), 6u);
  EXPECT_EQ(r.Consume(7).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.buffered(), 6u);
  ASSERT_TRUE(r.Consume(5).ok());
  // 1 left at the end of the buffer; peeking 8 compacts and reads more.
  ASSERT_TRUE(WriteExact(pipe.write_end.get(), "ghijklmn", 8).ok());
  span = r.Peek(8);
  ASSERT_TRUE(span.ok()) << span.status();
  ASSERT_EQ(span->size(), 8u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(span->data()), 8),
            "fghijklm");
  EXPECT_EQ(r.offset(), 5u);
}

TEST(BufferedReaderTest, SeekDiscardsTheBuffer) {
  TempPath path("r_seek");
  const std::string data = Pattern(10'000);
  ASSERT_TRUE(WriteFile(path.path(), data));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(256);
  BufferedReader r(fd->get(), buf);
  char out[50];
  ASSERT_TRUE(r.Read(out, 50).ok());
  ASSERT_TRUE(r.Seek(7000).ok());
  EXPECT_EQ(r.offset(), 7000u);
  EXPECT_EQ(r.buffered(), 0u);
  ASSERT_TRUE(r.Read(out, 50).ok());
  EXPECT_EQ(std::string(out, 50), data.substr(7000, 50));
  ASSERT_TRUE(r.Seek(3).ok());
  ASSERT_TRUE(r.Read(out, 5).ok());
  EXPECT_EQ(std::string(out, 5), data.substr(3, 5));
  EXPECT_EQ(r.offset(), 8u);
  EXPECT_EQ(r.Seek(uint64_t{1} << 63).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BufferedReaderTest, ReadDirectNeverFillsTheBuffer) {
  TempPath path("r_direct");
  const std::string data = Pattern(20'000);
  ASSERT_TRUE(WriteFile(path.path(), data));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(256);
  BufferedReader r(fd->get(), buf);
  char small[10];
  ASSERT_TRUE(r.Read(small, sizeof(small)).ok());  // buffers 256
  ASSERT_EQ(r.buffered(), 246u);
  // 1000 bytes, more than is buffered but less than the buffer is large:
  // Read would refill the buffer; ReadDirect copies the 246 and reads the
  // rest straight into dst, leaving the descriptor just after them.
  const std::vector<uint8_t> before = buf;
  std::string got(1000, '\0');
  ASSERT_TRUE(r.ReadDirect(got.data(), got.size()).ok());
  EXPECT_EQ(got, data.substr(10, 1000));
  EXPECT_EQ(buf, before);  // the buffer was not refilled
  EXPECT_EQ(Position(fd->get()), 1010u);
  EXPECT_EQ(r.offset(), 1010u);
  EXPECT_EQ(r.buffered(), 0u);
  // Fewer bytes than are buffered come from the buffer alone.
  ASSERT_TRUE(r.Read(small, sizeof(small)).ok());
  ASSERT_TRUE(r.ReadDirect(got.data(), 100).ok());
  EXPECT_EQ(got.substr(0, 100), data.substr(1020, 100));
  EXPECT_EQ(Position(fd->get()), 1010u + buf.size());
  EXPECT_EQ(r.offset(), 1120u);
  // End of file first: what was there is copied and consumed, not sticky.
  ASSERT_TRUE(r.Seek(19'990).ok());
  absl::Status s = r.ReadDirect(got.data(), 30);
  EXPECT_TRUE(IsEndOfFile(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("10 of 30"));
  EXPECT_EQ(got.substr(0, 10), data.substr(19'990, 10));
  EXPECT_EQ(r.offset(), 20'000u);
  EXPECT_TRUE(r.status().ok());
}

TEST(BufferedReaderTest, ReadDirectThroughAPipeWithShortReads) {
  Pipe pipe;
  const std::string data = Pattern(300'000, 5);
  absl::Status write_status;
  std::thread writer(
      [&](Fd fd) { write_status = WriteSlowly(std::move(fd), data); },
      std::move(pipe.write_end));
  std::vector<uint8_t> buf(4096);
  BufferedReader r(pipe.read_end.get(), buf);
  std::string got;
  std::vector<char> tmp(40'000);
  for (int i = 0; got.size() < data.size(); ++i) {
    const size_t n = std::min(data.size() - got.size(),
                              kOddPieces[i % std::size(kOddPieces)] % 40'000);
    // Alternate with small buffered reads so part of each request is
    // buffered already.
    absl::Status st = i % 2 ? r.ReadDirect(tmp.data(), n) : r.Read(tmp.data(), n);
    ASSERT_TRUE(st.ok()) << st;
    got.append(tmp.data(), n);
    ASSERT_EQ(r.offset(), got.size());
  }
  writer.join();
  EXPECT_TRUE(write_status.ok()) << write_status;
  EXPECT_EQ(got, data);
  char c;
  EXPECT_TRUE(IsEndOfFile(r.ReadDirect(&c, 1)));
}

TEST(BufferedReaderTest, SkipBySeekReadsNothingSkipped) {
  TempPath path("r_skipseek");
  const std::string data = Pattern(10'000);
  ASSERT_TRUE(WriteFile(path.path(), data));
  auto fd = OpenRead(path.path());
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(64);
  BufferedReader r(fd->get(), buf);
  char out[8];
  ASSERT_TRUE(r.Read(out, 8).ok());  // buffers 64
  // Within the buffer: consumed, no system call (the descriptor stays put).
  ASSERT_TRUE(r.SkipBySeek(20).ok());
  EXPECT_EQ(r.offset(), 28u);
  EXPECT_EQ(r.buffered(), 36u);
  EXPECT_EQ(Position(fd->get()), 64u);
  // Past it: the descriptor jumps, the skipped bytes are never read.
  ASSERT_TRUE(r.SkipBySeek(5000).ok());
  EXPECT_EQ(r.offset(), 5028u);
  EXPECT_EQ(r.buffered(), 0u);
  EXPECT_EQ(Position(fd->get()), 5028u);
  ASSERT_TRUE(r.Read(out, 8).ok());
  EXPECT_EQ(std::string(out, 8), data.substr(5028, 8));
  // Past the end: the next read says end of file.
  ASSERT_TRUE(r.SkipBySeek(100'000).ok());
  EXPECT_TRUE(IsEndOfFile(r.Read(out, 1)));
  EXPECT_EQ(r.SkipBySeek(uint64_t{1} << 63).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BufferedReaderTest, SkipBySeekOnPipeSkipsOnlyWhatIsBuffered) {
  Pipe pipe;
  ASSERT_TRUE(WriteExact(pipe.write_end.get(), "abcdef", 6).ok());
  std::vector<uint8_t> buf(8);
  BufferedReader r(pipe.read_end.get(), buf);
  ASSERT_TRUE(r.Peek(6).ok());
  ASSERT_TRUE(r.SkipBySeek(2).ok());
  absl::Status s = r.SkipBySeek(5);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("not seekable"));
  EXPECT_EQ(r.offset(), 2u);  // nothing consumed
  char out[4];
  ASSERT_TRUE(r.Read(out, 4).ok());
  EXPECT_EQ(std::string(out, 4), "cdef");
}

TEST(BufferedReaderTest, SeekOnPipeFailsButStreamGoesOn) {
  Pipe pipe;
  ASSERT_TRUE(WriteExact(pipe.write_end.get(), "xyz", 3).ok());
  std::vector<uint8_t> buf(8);
  BufferedReader r(pipe.read_end.get(), buf);
  absl::Status s = r.Seek(1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("not seekable"));
  EXPECT_TRUE(r.status().ok());
  char out[3];
  ASSERT_TRUE(r.Read(out, 3).ok());
  EXPECT_EQ(std::string(out, 3), "xyz");
}

TEST(BufferedReaderTest, ReadErrorsAreSticky) {
  Pipe pipe;
  std::vector<uint8_t> buf(8);
  // Reading a pipe's write end fails with EBADF.
  BufferedReader r(pipe.write_end.get(), buf, 100);
  char c;
  absl::Status s = r.Read(&c, 1);
  EXPECT_EQ(StatusErrno(s), EBADF) << s;
  EXPECT_THAT(s.message(), HasSubstr("read " + FdName(pipe.write_end.get())));
  EXPECT_EQ(r.status(), s);
  EXPECT_EQ(r.Peek(1).status(), s);
  EXPECT_EQ(r.Skip(1), s);
  EXPECT_EQ(r.offset(), 100u);
}

}  // namespace
}  // namespace wk::io
