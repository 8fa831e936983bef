// Delta checkpoints' layout and metadata reader (delta_format.h).
#include "wksp/checkpt/delta_format.h"

#include <lz4.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_format.h"
#include "util/status.h"
#include "wksp/checkpt/format.h"
#include "wksp/geometry.h"
#include "wksp/name.h"

namespace wk::wksp_checkpt::internal::delta {
namespace {

constexpr size_t kHeaderDigestOff = 160;
constexpr size_t kNameOff = 24;

// An exact read of n bytes at an offset inside the file, into dst.
using ReadAt = absl::FunctionRef<absl::Status(uint8_t*, uint64_t, uint64_t)>;

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(absl::StrFormat("corrupt delta checkpoint: %s", what));
}

// A delta file cut short (a copy that did not finish): truncated, not
// corrupt, with the bytes it has and the least it needs.
absl::Status EndsEarly(uint64_t has, uint64_t needs) {
  return absl::DataLossError(absl::StrFormat(
      "delta checkpoint ends early: has %u bytes, needs at least %u", has,
      needs));
}

// For a file without a footer at its end: walks the groups by their chunk
// records from the end of the index and, when the file ends before the
// groups and trailer they imply, says how many bytes it needs. OK when it
// does not (then the end itself was changed) or when a record is not one
// a writer makes (the caller's verdict stands).
absl::Status WalkGroups(ReadAt read, uint64_t size, const Header& h) {
  unsigned __int128 at = static_cast<unsigned __int128>(kHeaderSz) +
                         static_cast<unsigned __int128>(kAllocRecSz) *
                             h.alloc_cnt +
                         static_cast<unsigned __int128>(kDigestSz) * h.chunk_cnt;
  std::vector<uint8_t> recs;
  for (uint64_t g = 0; g < h.group_cnt && at <= size; ++g) {
    const uint64_t n = GroupChunks(h.changed_cnt, g);
    if (at + n * kChunkRecSz > size) {
      at += n * kChunkRecSz;
      break;
    }
    recs.resize(n * kChunkRecSz);
    if (!read(recs.data(), recs.size(), static_cast<uint64_t>(at)).ok()) {
      return absl::OkStatus();
    }
    at += recs.size();
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* r = recs.data() + i * kChunkRecSz;
      const uint32_t usz = format::LoadU32(r + 8), csz = format::LoadU32(r + 12);
      if (usz == 0 || usz > kChunkSz || csz == 0 || csz > usz) {
        return absl::OkStatus();
      }
      at += csz;
    }
  }
  // What the trailer adds; groups not walked count only their records.
  const unsigned __int128 least =
      at + static_cast<unsigned __int128>(kGroupEntrySz) * h.group_cnt +
      kFooterSz;
  if (least <= size) return absl::OkStatus();
  return EndsEarly(size, least > UINT64_MAX ? UINT64_MAX
                                            : static_cast<uint64_t>(least));
}

void StoreDigest(uint8_t* p, const ChunkDigest& d) {
  format::StoreU64(p, d.lo);
  format::StoreU64(p + 8, d.hi);
}
ChunkDigest LoadDigest(const uint8_t* p) {
  return {format::LoadU64(p), format::LoadU64(p + 8)};
}

}  // namespace

void EncodeHeader(const Header& h, uint8_t out[kHeaderSz]) {
  std::memset(out, 0, kHeaderSz);
  format::StoreU64(out, kMagic);
  format::StoreU32(out + 8, kVersion);
  format::StoreU32(out + 12, static_cast<uint32_t>(h.fs));
  format::StoreU64(out + 16, kChunkSz);
  wksp::StoreNameField(reinterpret_cast<char*>(out + kNameOff), h.name);
  format::StoreU32(out + 64, h.seed);
  format::StoreU64(out + 72, h.part_max);
  format::StoreU64(out + 80, h.data_max);
  format::StoreU64(out + 88, h.alloc_cnt);
  format::StoreU64(out + 96, h.chunk_cnt);
  format::StoreU64(out + 104, h.changed_cnt);
  format::StoreU64(out + 112, h.group_cnt);
  StoreDigest(out + 120, h.base_id);
  StoreDigest(out + 136, h.state_id);
  StoreDigest(out + kHeaderDigestOff, Digest({out, kHeaderDigestOff}));
}

bool IsDelta(std::span<const uint8_t> head) {
  return head.size() >= 8 && format::LoadU64(head.data()) == kMagic;
}

absl::Status DecodeHeader(std::span<const uint8_t> in, Header* h) {
  if (in.size() < kHeaderSz) [[unlikely]]
    return Bad("header truncated");
  const uint8_t* p = in.data();
  if (format::LoadU64(p) != kMagic) [[unlikely]]
    return Bad("bad magic");
  if (!(LoadDigest(p + kHeaderDigestOff) == Digest({p, kHeaderDigestOff})))
      [[unlikely]] {
    return Bad("header checksum mismatch (the header was changed)");
  }
  if (format::LoadU32(p + 8) != kVersion) [[unlikely]] {
    return Bad(absl::StrFormat("format version %u (this build reads %u)",
                               format::LoadU32(p + 8), kVersion));
  }
  const uint32_t fs = format::LoadU32(p + 12);
  if (fs != static_cast<uint32_t>(checkpt::FrameStyle::kRaw) &&
      fs != static_cast<uint32_t>(checkpt::FrameStyle::kLz4)) [[unlikely]] {
    return Bad(absl::StrFormat("unknown group style %u", fs));
  }
  h->fs = static_cast<checkpt::FrameStyle>(fs);
  if (format::LoadU64(p + 16) != kChunkSz) [[unlikely]]
    return Bad(absl::StrFormat("chunk size %u (want %u)", format::LoadU64(p + 16), kChunkSz));
  std::optional<std::string_view> name =
      wksp::NameInField(reinterpret_cast<const char*>(p + kNameOff));
  if (!name) [[unlikely]]
    return Bad("invalid workspace name");
  h->name = *name;
  h->seed = format::LoadU32(p + 64);
  if (format::LoadU32(p + 68) != 0 || format::LoadU64(p + 152) != 0)
      [[unlikely]] {
    return Bad("reserved field not 0");
  }
  h->part_max = format::LoadU64(p + 72);
  h->data_max = format::LoadU64(p + 80);
  absl::Status geometry = wksp::Wksp::Footprint(h->part_max, h->data_max).status();
  if (!geometry.ok()) [[unlikely]]
    return Bad(std::string(geometry.message()));
  h->alloc_cnt = format::LoadU64(p + 88);
  h->chunk_cnt = format::LoadU64(p + 96);
  h->changed_cnt = format::LoadU64(p + 104);
  h->group_cnt = format::LoadU64(p + 112);
  h->base_id = LoadDigest(p + 120);
  h->state_id = LoadDigest(p + 136);
  if (h->alloc_cnt > h->part_max || h->changed_cnt > h->chunk_cnt ||
      h->group_cnt != (h->changed_cnt + kChunksPerGroup - 1) / kChunksPerGroup)
      [[unlikely]] {
    return Bad(absl::StrFormat(
        "counts do not agree (%u allocations of part_max %u, %u chunks, %u "
        "changed, %u groups)",
        h->alloc_cnt, h->part_max, h->chunk_cnt, h->changed_cnt,
        h->group_cnt));
  }
  return absl::OkStatus();
}

std::vector<uint8_t> EncodeTrailer(std::span<const GroupEntry> groups,
                                   uint64_t trailer_off) {
  std::vector<uint8_t> b(kGroupEntrySz * groups.size() + kFooterSz);
  uint8_t* p = b.data();
  for (const GroupEntry& g : groups) {
    format::StoreU64(p, g.off);
    format::StoreU64(p + 8, g.sz);
    StoreDigest(p + 16, g.digest);
    p += kGroupEntrySz;
  }
  format::StoreU64(p, trailer_off);
  format::StoreU64(p + 8, trailer_off + b.size());
  format::StoreU64(p + 16, groups.size());
  format::StoreU64(p + 24, ~kMagic);
  format::StoreU64(p + 32, 0);
  StoreDigest(p + 40, Digest({b.data(), b.size() - kDigestSz}));
  return b;
}

namespace {

// The metadata of a delta of `size` bytes read through `read` (exact reads
// inside [0, size)), into *d.
absl::Status DecodeDelta(ReadAt read, DeltaFile& d) {
  if (d.size < kHeaderSz) [[unlikely]] {
    uint8_t m[8];
    if (d.size >= sizeof(m) && read(m, sizeof(m), 0).ok() &&
        format::LoadU64(m) == kMagic) {
      return EndsEarly(d.size, kHeaderSz + kFooterSz);
    }
    return Bad("file too short for a header and footer");
  }
  uint8_t hb[kHeaderSz];
  WK_RETURN_IF_ERROR(read(hb, kHeaderSz, 0));
  WK_RETURN_IF_ERROR(DecodeHeader(hb, &d.header));
  const Header& h = d.header;
  {
    // The least a file with this (sealed) header holds: the index, one
    // record per changed chunk, the trailer. Shorter is a file cut short.
    const unsigned __int128 least =
        static_cast<unsigned __int128>(kHeaderSz) + kFooterSz +
        static_cast<unsigned __int128>(kAllocRecSz) * h.alloc_cnt +
        static_cast<unsigned __int128>(kDigestSz) * h.chunk_cnt +
        static_cast<unsigned __int128>(kChunkRecSz) * h.changed_cnt +
        static_cast<unsigned __int128>(kGroupEntrySz) * h.group_cnt;
    if (d.size < least) [[unlikely]] {
      return EndsEarly(d.size, least > UINT64_MAX
                                   ? UINT64_MAX
                                   : static_cast<uint64_t>(least));
    }
  }
  const absl::StatusOr<MetaLayout> lay = LayoutOf(h, d.size);
  if (!lay.ok()) [[unlikely]]
    return lay.status();
  const uint64_t trailer_off = lay->trailer_off;
  const uint64_t trailer_sz = d.size - trailer_off;
  std::vector<uint8_t> tb(trailer_sz);
  WK_RETURN_IF_ERROR(read(tb.data(), trailer_sz, trailer_off));
  const uint8_t* f = tb.data() + kGroupEntrySz * h.group_cnt;
  if (format::LoadU64(f + 24) != ~kMagic) [[unlikely]] {
    WK_RETURN_IF_ERROR(WalkGroups(read, d.size, h));
    return Bad(absl::StrFormat(
        "no footer at the end of its %u bytes: cut short, or its end was "
        "changed",
        d.size));
  }
  if (!(LoadDigest(f + 40) == Digest({tb.data(), tb.size() - kDigestSz})))
      [[unlikely]] {
    return Bad("trailer checksum mismatch (the trailer was changed)");
  }
  if (format::LoadU64(f) != trailer_off || format::LoadU64(f + 8) != d.size ||
      format::LoadU64(f + 16) != h.group_cnt || format::LoadU64(f + 32) != 0)
      [[unlikely]] {
    return Bad("footer does not match the file's size or the header");
  }
  // Index section.
  const uint64_t index_sz = lay->data_off - kHeaderSz;
  d.data_off = lay->data_off;
  IndexBytes ib(index_sz);
  WK_RETURN_IF_ERROR(read(ib.bytes().data(), index_sz, kHeaderSz));
  if (!(Digest(ib.bytes()) == h.state_id)) [[unlikely]]
    return Bad("index checksum does not match the state id (the index was changed)");
  const wksp::Limits src = wksp::LimitsOf(h.part_max, h.data_max);
  WK_ASSIGN_OR_RETURN(d.index,
                      DecodeIndex(std::move(ib), h.alloc_cnt, h.chunk_cnt, src,
                                  "delta checkpoint index"));
  // Groups back to back from data_off to the trailer.
  d.groups.resize(h.group_cnt);
  uint64_t at = d.data_off;
  for (uint64_t g = 0; g < h.group_cnt; ++g) {
    const uint8_t* e = tb.data() + kGroupEntrySz * g;
    GroupEntry& ge = d.groups[g];
    ge = {format::LoadU64(e), format::LoadU64(e + 8), LoadDigest(e + 16)};
    const uint64_t n = GroupChunks(h.changed_cnt, g);
    if (ge.off != at || ge.sz < n * kChunkRecSz ||
        ge.sz > n * (kChunkRecSz + kChunkSz) || ge.sz > trailer_off - at)
        [[unlikely]] {
      return Bad(absl::StrFormat("group %u: bad place or size", g));
    }
    at += ge.sz;
  }
  if (at != trailer_off) [[unlikely]]
    return Bad("groups do not end where the trailer starts");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MetaLayout> LayoutOf(const Header& h, uint64_t file_sz) {
  if (file_sz < kHeaderSz + kFooterSz) [[unlikely]]
    return Bad("file too short for a header and footer");
  // Every size follows from the header's counts, bounded by the file's size
  // before anything is sized by it.
  if (h.group_cnt > (file_sz - kHeaderSz - kFooterSz) / kGroupEntrySz)
      [[unlikely]] {
    return Bad("more groups than the file can hold");
  }
  MetaLayout m;
  m.trailer_off = file_sz - (kGroupEntrySz * h.group_cnt + kFooterSz);
  if (h.alloc_cnt > file_sz / kAllocRecSz || h.chunk_cnt > file_sz / kDigestSz)
      [[unlikely]] {
    return Bad("index larger than the file");
  }
  m.data_off = kHeaderSz + kAllocRecSz * h.alloc_cnt + kDigestSz * h.chunk_cnt;
  if (m.data_off > m.trailer_off) [[unlikely]]
    return Bad("index runs into the trailer");
  return m;
}

absl::StatusOr<DeltaFile> OpenDelta(const std::string& path) {
  DeltaFile d;
  d.path = path;
  WK_ASSIGN_OR_RETURN(d.fd, io::OpenRead(path));
  absl::StatusOr<uint64_t> size = io::FileSize(d.fd.get());
  if (!size.ok()) [[unlikely]] {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a delta checkpoint must be a regular file", path));
  }
  d.size = *size;
  const int fd = d.fd.get();
  WK_RETURN_IF_ERROR(DecodeDelta(
      [fd](uint8_t* dst, uint64_t n, uint64_t off) {
        return io::PReadExact(fd, dst, n, off);
      },
      d));
  return d;
}

absl::StatusOr<DeltaFile> OpenDelta(std::span<const uint8_t> file,
                                    std::string_view what) {
  DeltaFile d;
  d.path = what;
  d.size = file.size();
  WK_RETURN_IF_ERROR(DecodeDelta(
      [file](uint8_t* dst, uint64_t n, uint64_t off) {
        // DecodeDelta reads only inside [0, size).
        std::memcpy(dst, file.data() + off, n);
        return absl::OkStatus();
      },
      d));
  return d;
}

absl::Status ReadGroup(const DeltaFile& d, uint64_t g,
                       std::vector<uint8_t>& buf) {
  WK_RETURN_IF_ERROR(ReadGroupBytes(d, g, buf).status());
  buf.resize(d.groups[g].sz);
  return CheckGroup(d, g, buf);
}

absl::Status GroupPastEnd(uint64_t g) {
  return Bad(absl::StrFormat(
      "group %u is past the end of the file (it shrank while being read?)",
      g));
}

absl::StatusOr<std::span<const uint8_t>> ReadGroupBytes(
    const DeltaFile& d, uint64_t g, std::vector<uint8_t>& buf) {
  const GroupEntry& ge = d.groups[g];
  if (buf.size() < ge.sz) buf.resize(ge.sz);
  absl::Status st = io::PReadExact(d.fd.get(), buf.data(), ge.sz, ge.off);
  if (!st.ok()) [[unlikely]] {
    if (io::IsEndOfFile(st)) return GroupPastEnd(g);
    return st;
  }
  return std::span<const uint8_t>(buf.data(), ge.sz);
}

absl::Status CheckGroup(const DeltaFile& d, uint64_t g,
                        std::span<const uint8_t> bytes) {
  const GroupEntry& ge = d.groups[g];
  if (bytes.size() != ge.sz || !(Digest(bytes) == ge.digest)) [[unlikely]]
    return Bad(absl::StrFormat("group %u checksum mismatch (the bytes were changed)", g));
  return absl::OkStatus();
}

absl::Status ParseGroup(std::span<const uint8_t> group, uint64_t n,
                        std::vector<StoredChunk>* out) {
  out->clear();
  if (group.size() < n * kChunkRecSz) [[unlikely]]
    return Bad("group shorter than its records");
  uint64_t at = n * kChunkRecSz;
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t* r = group.data() + i * kChunkRecSz;
    StoredChunk c;
    c.gaddr = format::LoadU64(r);
    c.usz = format::LoadU32(r + 8);
    const uint32_t csz = format::LoadU32(r + 12);
    if (c.usz == 0 || c.usz > kChunkSz || csz == 0 || csz > c.usz ||
        csz > group.size() - at) [[unlikely]] {
      return Bad(absl::StrFormat("chunk record %u of a group is out of range", i));
    }
    c.stored = group.subspan(at, csz);
    at += csz;
    out->push_back(c);
  }
  if (at != group.size()) [[unlikely]]
    return Bad("group holds bytes past its chunks");
  return absl::OkStatus();
}

absl::Status DecodeChunk(const StoredChunk& c, uint8_t* dst) {
  if (c.stored.size() == c.usz) {
    std::memcpy(dst, c.stored.data(), c.usz);
    return absl::OkStatus();
  }
  const int got = LZ4_decompress_safe(
      reinterpret_cast<const char*>(c.stored.data()),
      reinterpret_cast<char*>(dst), static_cast<int>(c.stored.size()),
      static_cast<int>(c.usz));
  if (got != static_cast<int>(c.usz)) [[unlikely]] {
    return Bad(absl::StrFormat("LZ4 block of the chunk at gaddr %u does not decode to %u bytes",
                               c.gaddr, c.usz));
  }
  return absl::OkStatus();
}

std::string IdHex(const StateId& id) {
  return absl::StrFormat("%016x%016x", id.hi, id.lo);
}

}  // namespace wk::wksp_checkpt::internal::delta
