// Seal records of sealed v2/v3 checkpoints (CHECKPOINT_FORMAT.md §4.10): a
// 40-byte record that follows a frame in the gap Firedancer's file restore
// tolerates there, naming the byte range it covers and its XXH3-128 digest.
// Pure functions and a streaming hasher; no I/O.
#ifndef WKSPKIT_WKSP_CHECKPT_SEAL_H_
#define WKSPKIT_WKSP_CHECKPT_SEAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/status.h"

namespace wk::wksp_checkpt::seal {

// "WKSEAL01" in file order: never the start of a command frame a v2 writer
// makes (a RAW command would be a meta with lo 0, an LZ4 chunk header of
// 0x534B57 bytes is out of range).
inline constexpr uint64_t kMagic = 0x31304C4145534B57ULL;
inline constexpr size_t kSealSz = 40;
// Where a record's fields start: magic, off, sz, then the digest.
inline constexpr size_t kSealHeadSz = 24;

struct Digest {
  uint64_t lo = 0, hi = 0;
  friend bool operator==(const Digest&, const Digest&) = default;
};

struct Seal {
  uint64_t off = 0;  // checkpoint offset of the first covered byte
  uint64_t sz = 0;   // covered bytes
  Digest digest;     // XXH3-128 of the covered bytes, then magic and sz
};

// XXH3-128, fed in pieces. Not copyable (it owns the XXH3 state).
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Reset();
  void Update(std::span<const uint8_t> bytes);
  // Bytes fed since Reset.
  uint64_t fed() const { return fed_; }
  // The seal of the bytes fed since Reset, as covering [off, off + fed()).
  Seal Finish(uint64_t off) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
  uint64_t fed_ = 0;
};

// The seal of `bytes`, as covering [off, off + size).
Seal Of(std::span<const uint8_t> bytes, uint64_t off);

void Encode(const Seal& s, uint8_t out[kSealSz]);
// True when the record starts with kMagic (a seal, valid or not).
bool HasMagic(std::span<const uint8_t> in);
// Decodes a record that must be there: DataLoss naming `where` when the
// bytes are no seal.
absl::Status Decode(std::span<const uint8_t> in, std::string_view where,
                    Seal* out);
// Checks that `found` (read from the file) covers [off, off + sz) and that
// `computed` (from the bytes read there) equals it. DataLoss naming `where`:
// a range other than expected, or a digest mismatch.
absl::Status Check(const Seal& found, const Seal& computed,
                   std::string_view where);

}  // namespace wk::wksp_checkpt::seal

#endif  // WKSPKIT_WKSP_CHECKPT_SEAL_H_
