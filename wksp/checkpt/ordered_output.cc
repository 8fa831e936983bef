#include "wksp/checkpt/ordered_output.h"

#include "io/fd.h"

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
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return turn_ == k || !status_.ok(); });
    if (!status_.ok()) return status_;
  }
  // Only segment k's producer writes while it holds the turn: no lock needed
  // for the descriptor itself.
  absl::Status st = io::WriteExact(fd_, bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(mu_);
  if (!st.ok()) [[unlikely]] {
    if (status_.ok()) status_ = st;
    cv_.notify_all();
    return st;
  }
  offset_ += bytes.size();
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
