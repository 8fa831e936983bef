// Private to checkpoint writing: lets several threads produce consecutive
// segments of one output in parallel while the bytes reach the descriptor in
// segment order. Segment k may write only once segments 0..k-1 are done
// (Write blocks until then), unless the caller knows every segment's final
// offset up front (positional mode, seekable files), in which case writes go
// out at once with pwrite. In both modes WaitTurn(k) returns only once every
// earlier segment is done, so a segment that describes the others (the
// trailer and its footer) is never written before what it describes. Memory
// stays bounded by what each producer buffers before it calls Write.
#ifndef WKSPKIT_WKSP_CHECKPT_ORDERED_OUTPUT_H_
#define WKSPKIT_WKSP_CHECKPT_ORDERED_OUTPUT_H_

#include <sys/uio.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "absl/status/status.h"

namespace wk::wksp_checkpt::internal {

class OrderedOutput {
 public:
  // Sequential mode: segments are written in order at fd's position.
  OrderedOutput(int fd, size_t segments);
  // Positional mode: segment k starts at file offset offsets[k] (relative to
  // `base`, the fd's position when the checkpoint started).
  OrderedOutput(int fd, uint64_t base, std::vector<uint64_t> offsets);

  // Appends bytes to segment k. Sequential mode: waits for k's turn. Returns
  // the first failure of any segment (the output is failed for all).
  absl::Status Write(size_t k, std::span<const uint8_t> bytes);
  // Appends `parts`, in order, to segment k as Write would each, in one
  // system call where the kernel takes them all (sequential mode).
  absl::Status WriteParts(size_t k, std::span<const iovec> parts);
  // Ends segment k (passes the turn on once every earlier segment is done).
  // Safe to call for a segment that failed or wrote nothing; call it exactly
  // once per segment.
  void Done(size_t k);
  // Waits until segments 0..k-1 are all done (in both modes), or the output
  // failed; returns the output's failure if any.
  absl::Status WaitTurn(size_t k);
  // Fails the output: every waiting and later Write returns `status`.
  void Fail(const absl::Status& status);

  // Offset (from the start) at which segment k began; valid once k's turn
  // has come (sequential) or always (positional).
  uint64_t SegmentOffset(size_t k);
  // Total bytes written so far (sequential mode: all done segments).
  uint64_t Offset();
  absl::Status status();
  bool positional() const { return positional_; }
  // Positional mode: the file offset one past the last segment.
  uint64_t End() const { return base_ + seg_off_.back(); }

 private:
  // Sequential mode: waits for k's turn. OK: the caller may write.
  absl::Status AwaitTurn(size_t k);
  // Sequential mode, after k's write: counts it or records its failure.
  absl::Status Wrote(const absl::Status& st, uint64_t n);

  const int fd_;
  const bool positional_;
  const uint64_t base_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t turn_ = 0;                    // segments 0..turn_-1 are done
  uint64_t offset_ = 0;                // bytes written, sequential mode
  std::vector<uint64_t> seg_off_;      // start of each segment
  std::vector<uint64_t> seg_written_;  // positional mode: progress within k
  std::vector<bool> done_;             // positional mode: Done(k) was called
  absl::Status status_;
};

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_ORDERED_OUTPUT_H_
