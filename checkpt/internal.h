// Private helpers shared by the checkpt writer and reader: error statuses that
// carry their class, and access to the LZ4 stream's carried-over state.
#ifndef WKSPKIT_CHECKPT_INTERNAL_H_
#define WKSPKIT_CHECKPT_INTERNAL_H_

#include <lz4.h>

#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "checkpt/checkpt.h"

namespace wk::checkpt::internal {

// A status of `code` and message `msg` tagged with class `c`.
absl::Status Error(ErrorClass c, absl::StatusCode code, std::string_view msg);
// Tags an I/O status from io/ (keeping its code and message) with kIo.
absl::Status IoError(const absl::Status& status, std::string_view context);

inline absl::Status Inval(std::string_view msg) {
  return Error(ErrorClass::kInval, absl::StatusCode::kInvalidArgument, msg);
}
inline absl::Status BadState(std::string_view msg) {
  return Error(ErrorClass::kInval, absl::StatusCode::kFailedPrecondition, msg);
}
inline absl::Status Corrupt(std::string_view msg) {
  return Error(ErrorClass::kComp, absl::StatusCode::kDataLoss, msg);
}
inline absl::Status Truncated(std::string_view msg) {
  return Error(ErrorClass::kIo, absl::StatusCode::kDataLoss, msg);
}

// RAW buffers at least this large move between the caller's memory and the
// descriptor directly, skipping the write/read buffer.
inline constexpr uint64_t kDirectMin = 65536;

// The SetCount mechanism of the writer and the reader alike: data bytes are
// passed to the function once kCountStep or more are pending, the rest on
// Flush. Without a function, Add does nothing.
class DataCounter {
 public:
  bool on() const { return static_cast<bool>(fn_); }
  // Passes what is pending to the current function, then uses `fn`.
  void Set(CountFn fn) {
    Flush();
    fn_ = std::move(fn);
  }
  void Add(uint64_t n) {
    if (!fn_) return;
    pending_ += n;
    if (pending_ >= kCountStep) {
      fn_(pending_);
      pending_ = 0;
    }
  }
  void Flush() {
    if (fn_ && pending_) fn_(pending_);
    pending_ = 0;
  }

 private:
  CountFn fn_;
  uint64_t pending_ = 0;
};

// Upper bound of a valid compressed block size for u uncompressed bytes.
constexpr uint64_t BlockCszMax(uint64_t u) { return ChunkCszMax(u) - 3; }

// Reads / primes the LZ4 stream's carried-over index (see Lz4StreamState).
Lz4StreamState GetLz4State(const LZ4_stream_t* stream);
void PrimeLz4State(LZ4_stream_t* stream, Lz4StreamState state);

}  // namespace wk::checkpt::internal

#endif  // WKSPKIT_CHECKPT_INTERNAL_H_
