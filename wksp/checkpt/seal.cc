#include "wksp/checkpt/seal.h"

#include "absl/strings/str_format.h"
#include "util/xxh3.h"
#include "wksp/checkpt/format.h"

namespace wk::wksp_checkpt::seal {
namespace {

void EncodeHead(uint64_t off, uint64_t sz, uint8_t out[kSealHeadSz]) {
  format::StoreU64(out, kMagic);
  format::StoreU64(out + 8, off);
  format::StoreU64(out + 16, sz);
}

absl::Status Bad(std::string_view where, std::string_view what) {
  return absl::DataLossError(absl::StrFormat(
      "corrupt v2/v3 checkpoint (seal of %s): %s", where, what));
}

}  // namespace

struct Hasher::State {
  XXH3_state_t* st = XXH3_createState();
  ~State() { XXH3_freeState(st); }
};

Hasher::Hasher() : s_(std::make_unique<State>()) { Reset(); }
Hasher::~Hasher() = default;

void Hasher::Reset() {
  XXH3_128bits_reset(s_->st);
  fed_ = 0;
}

void Hasher::Update(std::span<const uint8_t> bytes) {
  XXH3_128bits_update(s_->st, bytes.data(), bytes.size());
  fed_ += bytes.size();
}

Seal Hasher::Finish(uint64_t off) const {
  // The record's magic and size are hashed last, on a copy, so Finish
  // leaves the state as it was. The offset is left out so that a frame's
  // digest does not depend on where it lies (a v3 info frame's size varies
  // with the wallclock); readers check the offset against the frame's.
  State tail;
  XXH3_copyState(tail.st, s_->st);
  uint8_t tail_bytes[16];
  format::StoreU64(tail_bytes, kMagic);
  format::StoreU64(tail_bytes + 8, fed_);
  XXH3_128bits_update(tail.st, tail_bytes, sizeof(tail_bytes));
  const XXH128_hash_t h = XXH3_128bits_digest(tail.st);
  return Seal{off, fed_, Digest{h.low64, h.high64}};
}

Seal Of(std::span<const uint8_t> bytes, uint64_t off) {
  Hasher h;
  h.Update(bytes);
  return h.Finish(off);
}

void Encode(const Seal& s, uint8_t out[kSealSz]) {
  EncodeHead(s.off, s.sz, out);
  format::StoreU64(out + 24, s.digest.lo);
  format::StoreU64(out + 32, s.digest.hi);
}

bool HasMagic(std::span<const uint8_t> in) {
  return in.size() >= kSealSz && format::LoadU64(in.data()) == kMagic;
}

absl::Status Decode(std::span<const uint8_t> in, std::string_view where,
                    Seal* out) {
  if (!HasMagic(in)) [[unlikely]]
    return Bad(where, "no seal record where a sealed file has one");
  out->off = format::LoadU64(in.data() + 8);
  out->sz = format::LoadU64(in.data() + 16);
  out->digest = {format::LoadU64(in.data() + 24),
                 format::LoadU64(in.data() + 32)};
  return absl::OkStatus();
}

absl::Status Check(const Seal& found, const Seal& computed,
                   std::string_view where) {
  if (found.off != computed.off || found.sz != computed.sz) [[unlikely]] {
    return Bad(where,
               absl::StrFormat("it covers %u bytes at offset %u, the "
                               "frame is %u bytes at offset %u",
                               found.sz, found.off, computed.sz, computed.off));
  }
  if (!(found.digest == computed.digest)) [[unlikely]] {
    return Bad(where, absl::StrFormat("checksum mismatch over %u bytes at "
                                      "offset %u (the bytes were changed)",
                                      computed.sz, computed.off));
  }
  return absl::OkStatus();
}

}  // namespace wk::wksp_checkpt::seal
