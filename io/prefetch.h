// Read-ahead on a background thread: a Prefetcher reads a descriptor (a pipe,
// a socket, stdin) into a small ring of blocks while its consumer works on
// earlier bytes, so the read(2) copies of a single-pass restore overlap its
// decoding. Read() hands the bytes over in order, with ReadAtLeast's rules.
//
// Contract: the descriptor is borrowed and must stay open until the
// Prefetcher is destroyed. Memory is blocks * block_size, allocated by the
// constructor. The thread reads until end of file, an error, or destruction;
// it polls so that destruction completes within ~100 ms even while the
// writer end of a pipe stays open and silent, and a cancellation
// (util/cancel.h) ends the stream with Cancelled within ~100 ms even then,
// after the bytes already read. Bytes read ahead but never
// consumed are discarded. One consumer thread at a time.
#ifndef WKSPKIT_IO_PREFETCH_H_
#define WKSPKIT_IO_PREFETCH_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wk::io {

class Prefetcher {
 public:
  explicit Prefetcher(int fd, size_t block_size = size_t{1} << 20,
                      size_t blocks = 8);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Copies at least min and at most max bytes (min <= max) to dst; returns
  // the count. End of file before min: IsEndOfFile error (the bytes there
  // are copied and consumed). A read error of the descriptor is returned
  // once every byte before it was consumed.
  absl::StatusOr<size_t> Read(void* dst, size_t min, size_t max);

 private:
  struct Block {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;  // bytes filled
  };
  void Run();

  const int fd_;
  const size_t block_size_;
  std::vector<Block> ring_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t head_ = 0;    // next block to consume
  uint64_t tail_ = 0;    // next block to fill
  size_t head_pos_ = 0;  // bytes of ring_[head_] already consumed
  bool done_ = false;    // producer finished (EOF or error)
  bool stop_ = false;    // destructor asked the producer to stop
  absl::Status error_;   // producer's read error, after its bytes
  uint64_t consumed_ = 0;
  std::thread thread_;
};

}  // namespace wk::io

#endif  // WKSPKIT_IO_PREFETCH_H_
