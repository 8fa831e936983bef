#include "io/prefetch.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/fd.h"
#include "util/cancel.h"
#include "util/status.h"

namespace wk::io {

Prefetcher::Prefetcher(int fd, size_t block_size, size_t blocks)
    : fd_(fd), block_size_(std::max<size_t>(block_size, 1)) {
  ring_.resize(std::max<size_t>(blocks, 2));
  for (auto& b : ring_)
    b.data = std::make_unique_for_overwrite<uint8_t[]>(block_size_);
  if (fd < 0) [[unlikely]] {  // poll(2) would ignore it and wait forever
    error_ = ErrnoError(EBADF, "read", FdName(fd));
    done_ = true;
  }
  // The reads run for the call that made us: its cancel flag goes along.
  thread_ = std::thread([this, flag = CallCancelFlag()] {
    ScopedCallCancel scope(flag);
    Run();
  });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Prefetcher::Run() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
  }
  for (;;) {
    Block* b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || tail_ - head_ < ring_.size(); });
      if (stop_) return;
      b = &ring_[tail_ % ring_.size()];
    }
    // Only this thread touches blocks in [tail_, head_ + ring size).
    size_t got = 0;
    absl::Status err;
    bool eof = false;
    while (got < block_size_) {
      struct pollfd p = {fd_, POLLIN, 0};
      int r = ::poll(&p, 1, 100);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        // A silent pipe must not hold off a cancellation (util/cancel.h).
        if (err = CheckCancel(); !err.ok()) break;
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        if (got) break;  // publish what arrived rather than wait for more
        continue;
      }
      absl::StatusOr<size_t> n =
          ReadAtLeast(fd_, b->data.get() + got, 0, block_size_ - got);
      if (!n.ok()) {
        err = n.status();
        break;
      }
      if (*n == 0) {
        eof = true;
        break;
      }
      got += *n;
    }
    std::lock_guard<std::mutex> lock(mu_);
    b->size = got;
    if (got) ++tail_;
    if (!err.ok() || eof) {
      error_ = err;
      done_ = true;
    }
    cv_.notify_all();
    if (done_) return;
  }
}

absl::StatusOr<size_t> Prefetcher::Read(void* dst, size_t min, size_t max) {
  if (min > max) [[unlikely]] {
    return absl::InvalidArgumentError("prefetch read: min > max");
  }
  auto* out = static_cast<uint8_t*>(dst);
  size_t copied = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (copied < min || (copied == 0 && max > 0)) {
    cv_.wait(lock, [&] { return head_ != tail_ || done_; });
    if (head_ == tail_) {  // done and drained
      if (!error_.ok()) return error_;
      if (copied < min) return EndOfFileError("prefetched stream", copied, min);
      break;
    }
    Block& b = ring_[head_ % ring_.size()];
    size_t n = std::min(b.size - head_pos_, max - copied);
    // Copy without the lock: the producer never touches a filled block.
    lock.unlock();
    std::memcpy(out + copied, b.data.get() + head_pos_, n);
    lock.lock();
    copied += n;
    consumed_ += n;
    head_pos_ += n;
    if (head_pos_ == b.size) {
      head_pos_ = 0;
      ++head_;
      cv_.notify_all();
    }
    if (copied >= min && copied > 0) break;
  }
  return copied;
}

}  // namespace wk::io
