// Throughput of the io package against the plain system calls it wraps:
// buffered streams vs write(2)/read(2) with the same chunk sizes, and copying
// out of a file mapping vs memcpy between heap buffers. Files live in
// /dev/shm (tmpfs) so the disk does not dominate, and are removed at the end
// of each benchmark. Run: bazel run -c opt //io:io_bench
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/stream.h"

namespace wk::io {
namespace {

constexpr size_t kStreamBytes = size_t{8} << 20;  // per iteration
constexpr size_t kStreamBuffer = size_t{64} << 10;
constexpr size_t kCopyBytes = size_t{256} << 20;

// A scratch file in /dev/shm, unlinked when the benchmark is done.
class ScratchFile {
 public:
  explicit ScratchFile(const char* stem) {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = absl::StrFormat("%s/wk_io_bench_%s.%d", dir, stem,
                            static_cast<int>(::getpid()));
    ::unlink(path_.c_str());
    auto fd = CreateExclusive(path_, 0600);
    if (!fd.ok()) Die(fd.status());
    fd_ = std::move(*fd);
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

  void Rewind() const {
    auto pos = Seek(fd_.get(), 0, Whence::kSet);
    if (!pos.ok()) Die(pos.status());
  }
  void Fill(size_t n) const {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 7);
    Check(PWriteExact(fd_.get(), data.data(), n, 0));
  }

  static void Check(const absl::Status& s) {
    if (!s.ok()) Die(s);
  }
  [[noreturn]] static void Die(const absl::Status& s) {
    std::fprintf(stderr, "io_bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }

 private:
  std::string path_;
  Fd fd_;
};

void StreamArgs(benchmark::internal::Benchmark* b) {
  b->Arg(64)->Arg(4096)->Arg(1 << 20)->ArgName("chunk");
}

void BM_WriteBuffered(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  ScratchFile file("wbuf");
  std::vector<uint8_t> src(chunk, 0x5a);
  std::vector<uint8_t> buf(kStreamBuffer);
  for (auto _ : state) {
    file.Rewind();
    BufferedWriter w(file.fd(), buf);
    for (size_t done = 0; done < kStreamBytes; done += chunk) {
      ScratchFile::Check(w.Write(src.data(), chunk));
    }
    ScratchFile::Check(w.Flush());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kStreamBytes));
}
BENCHMARK(BM_WriteBuffered)->Apply(StreamArgs);

void BM_WritePlain(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  ScratchFile file("wplain");
  std::vector<uint8_t> src(chunk, 0x5a);
  for (auto _ : state) {
    file.Rewind();
    for (size_t done = 0; done < kStreamBytes; done += chunk) {
      ScratchFile::Check(WriteExact(file.fd(), src.data(), chunk));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kStreamBytes));
}
BENCHMARK(BM_WritePlain)->Apply(StreamArgs);

void BM_ReadBuffered(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  ScratchFile file("rbuf");
  file.Fill(kStreamBytes);
  std::vector<uint8_t> dst(chunk);
  std::vector<uint8_t> buf(kStreamBuffer);
  for (auto _ : state) {
    file.Rewind();
    BufferedReader r(file.fd(), buf);
    for (size_t done = 0; done < kStreamBytes; done += chunk) {
      ScratchFile::Check(r.Read(dst.data(), chunk));
      benchmark::DoNotOptimize(dst.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kStreamBytes));
}
BENCHMARK(BM_ReadBuffered)->Apply(StreamArgs);

void BM_ReadPlain(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  ScratchFile file("rplain");
  file.Fill(kStreamBytes);
  std::vector<uint8_t> dst(chunk);
  for (auto _ : state) {
    file.Rewind();
    for (size_t done = 0; done < kStreamBytes; done += chunk) {
      ScratchFile::Check(ReadExact(file.fd(), dst.data(), chunk));
      benchmark::DoNotOptimize(dst.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kStreamBytes));
}
BENCHMARK(BM_ReadPlain)->Apply(StreamArgs);

// Copy out of a mapping made once (pages already faulted in after the first
// iteration) versus the same-size copy between two heap buffers.
void BM_CopyFromMapping(benchmark::State& state) {
  ScratchFile file("map");
  file.Fill(kCopyBytes);
  auto m = MapFileReadOnly(file.fd());
  if (!m.ok()) ScratchFile::Die(m.status());
  std::vector<uint8_t> dst(kCopyBytes);
  for (auto _ : state) {
    std::memcpy(dst.data(), m->data(), kCopyBytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kCopyBytes));
}
BENCHMARK(BM_CopyFromMapping)->Unit(benchmark::kMillisecond);

// Map, copy, unmap each iteration: includes mmap and the page faults.
void BM_MapCopyUnmap(benchmark::State& state) {
  ScratchFile file("mapeach");
  file.Fill(kCopyBytes);
  std::vector<uint8_t> dst(kCopyBytes);
  for (auto _ : state) {
    auto m = MapFileReadOnly(file.fd());
    if (!m.ok()) ScratchFile::Die(m.status());
    std::memcpy(dst.data(), m->data(), kCopyBytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kCopyBytes));
}
BENCHMARK(BM_MapCopyUnmap)->Unit(benchmark::kMillisecond);

// Same as above with MADV_SEQUENTIAL|WILLNEED first (fault-around hints).
void BM_MapAdviseCopyUnmap(benchmark::State& state) {
  ScratchFile file("mapadv");
  file.Fill(kCopyBytes);
  std::vector<uint8_t> dst(kCopyBytes);
  for (auto _ : state) {
    auto m = MapFileReadOnly(file.fd());
    if (!m.ok()) ScratchFile::Die(m.status());
    ScratchFile::Check(m->Advise(Advice::kSequential));
    ScratchFile::Check(m->Advise(Advice::kWillNeed));
    std::memcpy(dst.data(), m->data(), kCopyBytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kCopyBytes));
}
BENCHMARK(BM_MapAdviseCopyUnmap)->Unit(benchmark::kMillisecond);

void BM_CopyHeapToHeap(benchmark::State& state) {
  std::vector<uint8_t> src(kCopyBytes);
  for (size_t i = 0; i < kCopyBytes; ++i) src[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> dst(kCopyBytes);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), kCopyBytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kCopyBytes));
}
BENCHMARK(BM_CopyHeapToHeap)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wk::io
