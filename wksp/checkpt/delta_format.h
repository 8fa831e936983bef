// Private to wksp/checkpt: the byte layout of delta checkpoints
// (CHECKPOINT_FORMAT.md §9.3) and a reader of their metadata: header,
// index section and trailer, all checked against their digests, read with
// pread (a file shrinking under us gives an error, never SIGBUS).
#ifndef WKSPKIT_WKSP_CHECKPT_DELTA_FORMAT_H_
#define WKSPKIT_WKSP_CHECKPT_DELTA_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkpt/checkpt.h"
#include "io/fd.h"
#include "wksp/checkpt/chunk_index.h"

namespace wk::wksp_checkpt::internal::delta {

inline constexpr uint64_t kMagic = 0x3130544C44534B57ULL;  // "WKSDLT01"
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSz = 176;
inline constexpr size_t kGroupEntrySz = 32;
inline constexpr size_t kFooterSz = 56;
inline constexpr size_t kChunkRecSz = 16;      // gaddr, usz, csz
inline constexpr uint64_t kChunksPerGroup = 64;

struct Header {
  checkpt::FrameStyle fs = checkpt::FrameStyle::kLz4;
  std::string name;
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0;
  uint64_t alloc_cnt = 0, chunk_cnt = 0, changed_cnt = 0, group_cnt = 0;
  StateId base_id, state_id;
};

struct GroupEntry {
  uint64_t off = 0, sz = 0;
  ChunkDigest digest;
};

void EncodeHeader(const Header& h, uint8_t out[kHeaderSz]);
// Checks magic, digest, version, chunk size, style, name, geometry and the
// counts' relations. DataLoss naming the field.
absl::Status DecodeHeader(std::span<const uint8_t> in, Header* h);

// The trailer (group table and footer) of a delta whose groups end at
// `trailer_off`, `file_sz` bytes long in all.
std::vector<uint8_t> EncodeTrailer(std::span<const GroupEntry> groups,
                                   uint64_t trailer_off);

// True when the first 8 bytes of `head` are a delta's magic.
bool IsDelta(std::span<const uint8_t> head);

// A delta's metadata, read and checked whole: every digest but the
// groups' (checked when a group is read).
struct DeltaFile {
  std::string path;
  io::Fd fd;
  uint64_t size = 0;
  Header header;
  ChunkIndex index;  // the new state's
  std::vector<GroupEntry> groups;
  uint64_t data_off = 0;  // first group
};
absl::StatusOr<DeltaFile> OpenDelta(const std::string& path);
// The same from a delta's bytes in memory (`file`, all of its bytes; only
// the header, index and trailer are read: the groups may not be there yet),
// `what` naming it in messages. The DeltaFile has no fd: check each group
// with CheckGroup, never ReadGroup.
absl::StatusOr<DeltaFile> OpenDelta(std::span<const uint8_t> file,
                                    std::string_view what);

// Where a delta of `file_sz` bytes with header `h` keeps its metadata: the
// index section ends (and the first group starts) at data_off, the trailer
// starts at trailer_off. DataLoss when the counts do not fit the size.
struct MetaLayout {
  uint64_t data_off = 0, trailer_off = 0;
};
absl::StatusOr<MetaLayout> LayoutOf(const Header& h, uint64_t file_sz);

// Reads group g whole into `buf` (resized) and checks its digest.
absl::Status ReadGroup(const DeltaFile& d, uint64_t g,
                       std::vector<uint8_t>& buf);
// Reads group g's bytes without the digest check (a caller that checks it
// later) into the front of `buf`, which only grows (a buffer reused for
// every group is not cleared again each time); returns them.
absl::StatusOr<std::span<const uint8_t>> ReadGroupBytes(
    const DeltaFile& d, uint64_t g, std::vector<uint8_t>& buf);
// The error of a group that lies past the file's end (it shrank).
absl::Status GroupPastEnd(uint64_t g);
// Checks that `bytes` are group g's (size and digest).
absl::Status CheckGroup(const DeltaFile& d, uint64_t g,
                        std::span<const uint8_t> bytes);

// One changed chunk of a group, pointing into the group's bytes.
struct StoredChunk {
  uint64_t gaddr = 0;
  uint32_t usz = 0;
  std::span<const uint8_t> stored;  // usz bytes raw, else one LZ4 block
};
// Splits a group read by ReadGroup into its chunks (`n` of them): records
// and sizes checked to add up exactly.
absl::Status ParseGroup(std::span<const uint8_t> group, uint64_t n,
                        std::vector<StoredChunk>* out);

// Decodes a stored chunk into dst[0, usz): LZ4 or a copy. DataLoss when the
// block does not decode to exactly usz bytes.
absl::Status DecodeChunk(const StoredChunk& c, uint8_t* dst);

// Chunks in group g of a delta of `changed` chunks.
inline uint64_t GroupChunks(uint64_t changed, uint64_t g) {
  const uint64_t first = g * kChunksPerGroup;
  return std::min(changed - first, kChunksPerGroup);
}

// A state id as 32 hex digits (high then low half), for messages and query.
std::string IdHex(const StateId& id);

}  // namespace wk::wksp_checkpt::internal::delta

#endif  // WKSPKIT_WKSP_CHECKPT_DELTA_FORMAT_H_
