#include "wksp/checkpt/ordered_output.h"

#include "io/fd.h"
#include "util/status.h"

namespace wk::wksp_checkpt::internal {

OrderedOutput::OrderedOutput(int fd, size_t segments)
    : fd_(fd), positional_(false), base_(0), seg_off_(segments + 1, 0) {}

OrderedOutput::OrderedOutput(int fd, uint64_t base,
                             std::vector<uint64_t> offsets)
    : fd_(fd),
      positional_(true),
      base_(base),
      seg_off_(std::move(offsets)),
      seg_written_(seg_off_.size(), 0),
      done_(seg_off_.size(), false) {}

absl::Status OrderedOutput::Write(size_t k, std::span<const uint8_t> bytes) {
  if (positional_) {
    uint64_t at;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_.ok()) return status_;
      at = base_ + seg_off_[k] + seg_written_[k];
      seg_written_[k] += bytes.size();  // only k's producer touches this slot
    }
    absl::Status st = io::PWriteExact(fd_, bytes.data(), bytes.size(), at);
    if (!st.ok()) [[unlikely]]
      Fail(st);
    return st;
  }
  WK_RETURN_IF_ERROR(AwaitTurn(k));
  // Only segment k's producer writes while it holds the turn: no lock needed
  // for the descriptor itself.
  return Wrote(io::WriteExact(fd_, bytes.data(), bytes.size()), bytes.size());
}

absl::Status OrderedOutput::WriteParts(size_t k,
                                       std::span<const iovec> parts) {
  if (positional_) {
    for (const iovec& p : parts) {
      WK_RETURN_IF_ERROR(
          Write(k, {static_cast<const uint8_t*>(p.iov_base), p.iov_len}));
    }
    return absl::OkStatus();
  }
  WK_RETURN_IF_ERROR(AwaitTurn(k));
  uint64_t n = 0;
  for (const iovec& p : parts) n += p.iov_len;
  return Wrote(io::WritevExact(fd_, parts), n);
}

absl::Status OrderedOutput::AwaitTurn(size_t k) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return turn_ == k || !status_.ok(); });
  return status_;
}

absl::Status OrderedOutput::Wrote(const absl::Status& st, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!st.ok()) [[unlikely]] {
    if (status_.ok()) status_ = st;
    cv_.notify_all();
    return st;
  }
  offset_ += n;
  return absl::OkStatus();
}

void OrderedOutput::Done(size_t k) {
  std::unique_lock<std::mutex> lock(mu_);
  if (positional_) {
    // Segments finish in any order; the turn is the first one not done.
    done_[k] = true;
    while (turn_ < done_.size() && done_[turn_]) ++turn_;
    cv_.notify_all();
    return;
  }
  // A segment may finish before its turn (it wrote nothing); wait so the turn
  // passes in order.
  cv_.wait(lock, [&] { return turn_ == k || !status_.ok(); });
  if (!status_.ok()) return;
  turn_ = k + 1;
  if (turn_ < seg_off_.size()) seg_off_[turn_] = offset_;
  cv_.notify_all();
}

absl::Status OrderedOutput::WaitTurn(size_t k) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return turn_ >= k || !status_.ok(); });
  return status_;
}

void OrderedOutput::Fail(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.ok()) status_ = status;
  cv_.notify_all();
}

uint64_t OrderedOutput::SegmentOffset(size_t k) {
  std::lock_guard<std::mutex> lock(mu_);
  return seg_off_[k];
}

uint64_t OrderedOutput::Offset() {
  std::lock_guard<std::mutex> lock(mu_);
  return offset_;
}

absl::Status OrderedOutput::status() {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

}  // namespace wk::wksp_checkpt::internal
