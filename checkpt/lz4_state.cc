// The LZ4 stream state that carries from one LZ4 frame to the next, modelled
// from buffer sizes and read/primed on a live stream.
//
// Why priming works: after LZ4_resetStream_fast, the only state a frame's
// bytes depend on is the stream index (currentOffset). Stale hash table
// entries all point more than 64 KiB behind the frame start, so LZ4 rejects
// them exactly as it rejects the zero entries of a fresh table once the index
// is non-zero; with index 0 the table is cleared. A zeroed stream with the
// same index therefore compresses every later frame to the same bytes
// (checked by lz4_state_test against sequential writers).
#include <lz4.h>

#include "checkpt/checkpt.h"
#include "checkpt/internal.h"

namespace wk::checkpt {
namespace {

constexpr uint32_t kTableClearAbove = 1u << 30;  // LZ4's "1 GB"
constexpr uint32_t kRebaseAbove = 0x80000000u;   // LZ4_renormDictT limit
constexpr uint32_t kGap = 65536;                 // index skip at reset
constexpr uint32_t kTableTypeByU32 = 2;          // LZ4's tableType_t byU32

}  // namespace

void Lz4StateModel::OpenLz4Frame() {
  uint32_t& off = state_.current_offset;
  if (off > kTableClearAbove) off = 0;
  if (off != 0) off += kGap;
}

void Lz4StateModel::AddBuffer(uint64_t sz) {
  uint32_t& off = state_.current_offset;
  while (sz) {
    uint32_t u = static_cast<uint32_t>(sz < kChunkUszMax ? sz : kChunkUszMax);
    if (static_cast<uint64_t>(off) + u > kRebaseAbove) off = kGap;
    off += u;
    sz -= u;
  }
}

namespace internal {

Lz4StreamState GetLz4State(const LZ4_stream_t* stream) {
  return Lz4StreamState{stream->internal_donotuse.currentOffset};
}

void PrimeLz4State(LZ4_stream_t* stream, Lz4StreamState state) {
  // A stream that compressed anything has index > 0 and tableType byU32; the
  // index is what matters, the type only makes the next reset take the same
  // branch (clear above 2^30, else skip 64 KiB).
  LZ4_stream_t_internal& in = stream->internal_donotuse;
  in.currentOffset = state.current_offset;
  in.tableType = state.current_offset ? kTableTypeByU32 : 0;
}

}  // namespace internal
}  // namespace wk::checkpt
