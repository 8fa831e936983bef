#include "bench/ceiling.h"

#include <fcntl.h>
#include <lz4.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/workload.h"
#include "util/clock.h"
#include "util/thread_pool.h"
#include "util/xxh3.h"

namespace wk::bench {
namespace {

constexpr uint64_t kChunk = 65536;
constexpr int kRounds = 3;  // best of, to measure the ceiling, not the noise

std::mutex mu;
// Which ceiling a cached figure is: each measurement has its own, so two
// ceilings of the same size and thread count never answer for each other.
enum class Kind {
  kMemcpy,
  kLz4Compress,
  kLz4Decompress,
  kXxh3,
  kPread,
  kFileWrite,
  kPipe,
  kCatPipe,
};

std::map<std::pair<Kind, std::pair<uint64_t, size_t>>, double> cache;

// Runs body(thread, lo, hi) over [0, bytes) split into `threads` chunk-
// aligned shares, kRounds times; returns the best bytes per second.
template <typename Body>
double Measure(uint64_t bytes, size_t threads, Body body) {
  ThreadPool pool(threads);
  uint64_t share = (bytes / threads + kChunk - 1) / kChunk * kChunk;
  double best = 0;
  for (int r = 0; r < kRounds; ++r) {
    int64_t t0 = MonotonicNs();
    pool.ExecAll([&](size_t t) {
      uint64_t lo = std::min(bytes, t * share);
      uint64_t hi = std::min(bytes, lo + share);
      body(t, lo, hi);
    });
    double s = static_cast<double>(MonotonicNs() - t0) * 1e-9;
    best = std::max(best, static_cast<double>(bytes) / s);
  }
  return best;
}

template <typename F>
double Cached(Kind kind, uint64_t bytes, size_t threads, F f) {
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_pair(kind, std::make_pair(bytes, threads));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  double v = f();
  cache[key] = v;
  return v;
}

std::vector<uint8_t> Workload(uint64_t bytes) {
  std::vector<uint8_t> v(bytes);
  FillHalfCompressible(v, 0, 1);
  return v;
}

}  // namespace

void ForgetCeilings() {
  std::lock_guard<std::mutex> lock(mu);
  cache.clear();
}

double MemcpyBytesPerSecond(uint64_t bytes, size_t threads) {
  return Cached(Kind::kMemcpy, bytes, threads, [&] {
    std::vector<uint8_t> src(bytes, 1), dst(bytes, 2);
    return Measure(bytes, threads, [&](size_t, uint64_t lo, uint64_t hi) {
      std::memcpy(dst.data() + lo, src.data() + lo, hi - lo);
    });
  });
}

double Lz4CompressBytesPerSecond(uint64_t bytes, size_t threads) {
  return Cached(Kind::kLz4Compress, bytes, threads, [&] {
    std::vector<uint8_t> src = Workload(bytes);
    std::vector<std::vector<char>> dst(threads);
    for (auto& d : dst) d.resize(LZ4_compressBound(kChunk));
    std::vector<LZ4_stream_t*> streams(threads);
    for (auto& s : streams) s = LZ4_createStream();
    double v = Measure(bytes, threads, [&](size_t t, uint64_t lo, uint64_t hi) {
      LZ4_resetStream_fast(streams[t]);
      for (uint64_t o = lo; o < hi; o += kChunk) {
        int n = static_cast<int>(std::min(kChunk, hi - o));
        LZ4_compress_fast_continue(
            streams[t], reinterpret_cast<const char*>(src.data() + o),
            dst[t].data(), n, static_cast<int>(dst[t].size()), 1);
      }
    });
    for (auto* s : streams) LZ4_freeStream(s);
    return v;
  });
}

double Lz4DecompressBytesPerSecond(uint64_t bytes, size_t threads) {
  return Cached(Kind::kLz4Decompress, bytes, threads, [&] {
    std::vector<uint8_t> src = Workload(bytes);
    // Compress each 64 KiB chunk once (streaming within a thread's share),
    // remembering each block, then time decoding them.
    uint64_t share = (bytes / threads + kChunk - 1) / kChunk * kChunk;
    std::vector<std::vector<std::vector<char>>> blocks(threads);
    LZ4_stream_t* stream = LZ4_createStream();
    for (size_t t = 0; t < threads; ++t) {
      uint64_t lo = std::min(bytes, t * share),
               hi = std::min(bytes, lo + share);
      LZ4_resetStream_fast(stream);
      for (uint64_t o = lo; o < hi; o += kChunk) {
        int n = static_cast<int>(std::min(kChunk, hi - o));
        std::vector<char> b(LZ4_compressBound(n));
        int c = LZ4_compress_fast_continue(
            stream, reinterpret_cast<const char*>(src.data() + o), b.data(), n,
            static_cast<int>(b.size()), 1);
        b.resize(c);
        blocks[t].push_back(std::move(b));
      }
    }
    LZ4_freeStream(stream);
    std::vector<uint8_t> dst(bytes);
    return Measure(bytes, threads, [&](size_t t, uint64_t lo, uint64_t hi) {
      LZ4_streamDecode_t dec;
      LZ4_setStreamDecode(&dec, nullptr, 0);
      size_t k = 0;
      for (uint64_t o = lo; o < hi; o += kChunk, ++k) {
        int n = static_cast<int>(std::min(kChunk, hi - o));
        LZ4_decompress_safe_continue(&dec, blocks[t][k].data(),
                                     reinterpret_cast<char*>(dst.data() + o),
                                     static_cast<int>(blocks[t][k].size()), n);
      }
    });
  });
}

double PreadBytesPerSecond(uint64_t bytes, size_t threads) {
  return Cached(Kind::kPread, bytes, threads, [&]() -> double {
    constexpr uint64_t kRead = uint64_t{1} << 20;
    const std::string path =
        "/dev/shm/wkspkit_pread_ceiling." + std::to_string(getpid());
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return 0.0;
    ::unlink(path.c_str());              // the memory goes with the descriptor
    std::vector<uint8_t> dst(bytes, 2);  // touched: pre-faulted
    bool ok = true;
    for (uint64_t o = 0; ok && o < bytes; o += kRead) {
      const uint64_t n = std::min(kRead, bytes - o);
      ok = ::pwrite(fd, dst.data() + o, n, static_cast<off_t>(o)) ==
           static_cast<ssize_t>(n);
    }
    double v = 0;
    if (ok) {
      v = Measure(bytes, threads, [&](size_t, uint64_t lo, uint64_t hi) {
        for (uint64_t o = lo; o < hi;) {
          const ssize_t r = ::pread(fd, dst.data() + o, std::min(kRead, hi - o),
                                    static_cast<off_t>(o));
          if (r <= 0) break;  // cannot happen on tmpfs; never loops forever
          o += static_cast<uint64_t>(r);
        }
      });
    }
    ::close(fd);
    return v;
  });
}

double FileWriteBytesPerSecond(uint64_t bytes) {
  return Cached(Kind::kFileWrite, bytes, 1, [&]() -> double {
    constexpr uint64_t kWrite = uint64_t{1} << 20;
    const std::vector<uint8_t> src = Workload(bytes);
    double best = 0;
    for (int r = 0; r < kRounds; ++r) {
      const std::string path =
          "/dev/shm/wkspkit_write_ceiling." + std::to_string(getpid());
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
      if (fd < 0) return 0.0;
      ::unlink(path.c_str());  // the memory goes with the descriptor
      const int64_t t0 = MonotonicNs();
      bool ok = ::fallocate(fd, 0, 0, static_cast<off_t>(bytes)) == 0;
      for (uint64_t o = 0; ok && o < bytes; o += kWrite) {
        const uint64_t n = std::min(kWrite, bytes - o);
        ok = ::pwrite(fd, src.data() + o, n, static_cast<off_t>(o)) ==
             static_cast<ssize_t>(n);
      }
      const double s = static_cast<double>(MonotonicNs() - t0) * 1e-9;
      ::close(fd);
      if (!ok) return 0.0;
      best = std::max(best, static_cast<double>(bytes) / s);
    }
    return best;
  });
}

}  // namespace wk::bench

namespace wk::bench {

double Xxh3BytesPerSecond(uint64_t bytes, size_t threads) {
  return Cached(Kind::kXxh3, bytes, threads, [&] {
    std::vector<uint8_t> src = Workload(bytes);
    std::vector<XXH128_hash_t> out(threads);
    return Measure(bytes, threads, [&](size_t t, uint64_t lo, uint64_t hi) {
      out[t] = XXH3_128bits(src.data() + lo, hi - lo);
    });
  });
}

}  // namespace wk::bench

namespace wk::bench {

double PipeCopyBytesPerSecond(uint64_t bytes) {
  return Cached(Kind::kPipe, bytes, 1, [&] {
    constexpr size_t kIo = size_t{1} << 20;
    std::vector<uint8_t> src(bytes, 3), dst(kIo);
    double best = 0;
    for (int r = 0; r < kRounds; ++r) {
      int p[2];
      if (::pipe(p) != 0) return 0.0;
      (void)::fcntl(p[1], F_SETPIPE_SZ, static_cast<int>(kIo));
      const int64_t t0 = MonotonicNs();
      std::thread writer([&] {
        for (uint64_t o = 0; o < bytes;) {
          const ssize_t n =
              ::write(p[1], src.data() + o, std::min<uint64_t>(kIo, bytes - o));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          o += static_cast<uint64_t>(n);
        }
        ::close(p[1]);
      });
      for (;;) {
        const ssize_t n = ::read(p[0], dst.data(), kIo);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
      }
      writer.join();
      ::close(p[0]);
      const double s = static_cast<double>(MonotonicNs() - t0) * 1e-9;
      best = std::max(best, static_cast<double>(bytes) / s);
    }
    return best;
  });
}

}  // namespace wk::bench

namespace wk::bench {

double CatPipeBytesPerSecond(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size <= 0) return 0.0;
  const uint64_t bytes = static_cast<uint64_t>(st.st_size);
  // Keyed by size: the benchmarks ask once per file.
  return Cached(Kind::kCatPipe, bytes, 1, [&] {
    // $0 is the path: no quoting of it in the script.
    const char* argv[] = {"sh", "-c", "cat \"$0\" | cat >/dev/null",
                          path.c_str(), nullptr};
    auto run = [&]() -> bool {
      pid_t pid;
      if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr,
                        const_cast<char* const*>(argv), environ) != 0) {
        return false;
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    };
    if (!run()) return 0.0;  // also brings the file into the page cache
    double best = 0;
    for (int r = 0; r < kRounds; ++r) {
      const int64_t t0 = MonotonicNs();
      if (!run()) return 0.0;
      const double s = static_cast<double>(MonotonicNs() - t0) * 1e-9;
      best = std::max(best, static_cast<double>(bytes) / s);
    }
    return best;
  });
}

}  // namespace wk::bench
