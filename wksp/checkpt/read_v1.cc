#include "wksp/checkpt/read_v1.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "util/bits.h"
#include "util/status.h"
#include "wksp/name.h"

namespace wk::wksp_checkpt::internal {
namespace {

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(
      absl::StrFormat("corrupt v1 checkpoint: %s", what));
}

// The header fields after the magic, in file order; then the name's length.
enum Field {
  kStyle,
  kSeed,
  kPartMax,
  kDataMax,
  kWallclock,
  kAppId,
  kThreadId,
  kHostId,
  kCpuId,
  kGroupId,
  kTid,
  kUserId,
  kFieldCnt
};
constexpr const char* kFieldNames[kFieldCnt] = {
    "style",     "seed",    "part_max", "data_max", "wallclock", "app_id",
    "thread_id", "host_id", "cpu_id",   "group_id", "tid",       "user_id"};

// Checks and stores the fields; the name comes later.
absl::Status SetFields(const uint64_t (&f)[kFieldCnt], V1Header* h) {
  if (f[kStyle] != format::kFileStyleV1) [[unlikely]]
    return Bad(absl::StrFormat("style %u", f[kStyle]));
  if (f[kSeed] > UINT32_MAX) [[unlikely]]
    return Bad("seed over 32 bits");
  h->seed = static_cast<uint32_t>(f[kSeed]);
  h->part_max = f[kPartMax];
  h->data_max = f[kDataMax];
  if (absl::Status g = wksp::Footprint(h->part_max, h->data_max).status();
      !g.ok()) [[unlikely]] {
    return Bad(std::string(g.message()));
  }
  h->src = wksp::LimitsOf(h->part_max, h->data_max);
  format::Info& info = h->info;
  info.wallclock = static_cast<int64_t>(f[kWallclock]);
  info.app_id = f[kAppId];
  info.thread_id = f[kThreadId];
  info.host_id = f[kHostId];
  info.cpu_id = f[kCpuId];
  info.group_id = f[kGroupId];
  info.tid = f[kTid];
  info.user_id = f[kUserId];
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& name) {
  if (!wksp::IsValidName(name)) [[unlikely]]
    return Bad("invalid name");
  return absl::OkStatus();
}

// A v1 file cut short (not corrupt: a copy that did not finish, a disk that
// filled up), with the bytes it has and the bytes the field needs.
absl::Status EndsEarly(std::string_view where, const char* field,
                       uint64_t has, uint64_t needs) {
  return absl::DataLossError(absl::StrFormat(
      "v1 checkpoint ends early, %s its %s: has %u bytes, needs at least %u",
      where, field, has, needs));
}

absl::StatusOr<uint64_t> GetSvw(io::BufferedReader& r, const char* field) {
  auto first = r.Peek(1);
  if (!first.ok()) [[unlikely]] {
    return io::IsEndOfFile(first.status())
               ? EndsEarly("before", field, r.offset(), r.offset() + 1)
               : first.status();
  }
  size_t n = svw::WidthFromFirstByte((*first)[0]);
  auto bytes = r.Peek(n);
  if (!bytes.ok()) [[unlikely]] {
    // At end of file Peek leaves what there was buffered.
    return io::IsEndOfFile(bytes.status())
               ? EndsEarly("inside", field, r.offset() + r.buffered(),
                           r.offset() + n)
               : bytes.status();
  }
  uint64_t x = 0;
  svw::Decode(bytes->data(), n, &x);
  WK_RETURN_IF_ERROR(r.Consume(n));
  return x;
}

absl::StatusOr<std::string> GetString(io::BufferedReader& r, const char* field,
                                      uint64_t min, uint64_t max) {
  WK_ASSIGN_OR_RETURN(uint64_t len, GetSvw(r, field));
  if (len < min || len > max) [[unlikely]] {
    return Bad(
        absl::StrFormat("%s length %u not in [%u, %u]", field, len, min, max));
  }
  std::string s(len, '\0');
  const uint64_t at = r.offset();
  absl::Status st = r.Read(s.data(), len);
  if (!st.ok()) [[unlikely]] {
    // At end of file Read consumed what there was.
    return io::IsEndOfFile(st) ? EndsEarly("inside", field, r.offset(), at + len)
                               : st;
  }
  if (s.find('\0') != std::string::npos) [[unlikely]] {
    return Bad(absl::StrFormat("%s holds a NUL byte", field));
  }
  return s;
}

}  // namespace

std::array<uint8_t, svw::kMaxWidth> V1Magic() {
  std::array<uint8_t, svw::kMaxWidth> m;
  svw::Encode(format::kMagic, m.data());
  return m;
}

bool IsV1Magic(std::span<const uint8_t> first) {
  const auto magic = V1Magic();
  return first.size() >= magic.size() &&
         std::equal(magic.begin(), magic.end(), first.begin());
}

absl::Status ReadV1Header(io::BufferedReader& r, V1Header* h) {
  uint64_t f[kFieldCnt];
  for (int i = 0; i < kFieldCnt; ++i) {
    WK_ASSIGN_OR_RETURN(f[i], GetSvw(r, kFieldNames[i]));
  }
  WK_RETURN_IF_ERROR(SetFields(f, h));
  WK_ASSIGN_OR_RETURN(h->name, GetString(r, "name", 1, wksp::kNameMaxLen));
  WK_RETURN_IF_ERROR(CheckName(h->name));
  format::Info& info = h->info;
  struct {
    std::string* s;
    const char* what;
    uint64_t max;
  } const strings[] = {{&info.app, "app", kV1LogStrMax},
                       {&info.thread, "thread", kV1LogStrMax},
                       {&info.host, "host", kV1LogStrMax},
                       {&info.cpu, "cpu", kV1LogStrMax},
                       {&info.group, "group", kV1LogStrMax},
                       {&info.user, "user", kV1LogStrMax},
                       {&info.binfo, "binfo", kV1InfoStrMax},
                       {&info.uinfo, "uinfo", kV1InfoStrMax}};
  for (const auto& s : strings) {
    WK_ASSIGN_OR_RETURN(*s.s, GetString(r, s.what, 0, s.max));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ReadV1Record(io::BufferedReader& r, const V1Header& h,
                                  uint64_t prev_hi, format::Alloc* a) {
  WK_ASSIGN_OR_RETURN(a->tag, GetSvw(r, "allocation tag"));
  if (a->tag == 0) return false;
  WK_ASSIGN_OR_RETURN(a->lo, GetSvw(r, "allocation gaddr"));
  WK_ASSIGN_OR_RETURN(uint64_t sz, GetSvw(r, "allocation size"));
  if (!AddChecked(a->lo, sz, &a->hi)) [[unlikely]] {
    return Bad(absl::StrFormat("allocation [%u, +%u) past 2^64", a->lo, sz));
  }
  WK_RETURN_IF_ERROR(format::CheckInSource(*a, h.src));
  if (a->lo < prev_hi) [[unlikely]] {
    return Bad(absl::StrFormat(
        "allocation at %u overlaps or precedes the previous one", a->lo));
  }
  return true;
}

absl::Status V1DataEndsEarly(const format::Alloc& a, uint64_t has,
                             uint64_t needs) {
  return absl::DataLossError(absl::StrFormat(
      "v1 checkpoint ends early, inside the data of allocation [%u, %u): "
      "has %u bytes, needs at least %u",
      a.lo, a.hi, has, needs));
}

absl::Status SkipV1Data(io::BufferedReader& r, const format::Alloc& a,
                        uint64_t file_sz) {
  uint64_t end;
  if (!AddChecked(r.offset(), a.hi - a.lo, &end) || end > file_sz)
      [[unlikely]] {
    return V1DataEndsEarly(a, file_sz, end >= r.offset() ? end : UINT64_MAX);
  }
  return r.SkipBySeek(a.hi - a.lo);
}

bool PreviewV1(std::span<const uint8_t> b, V1Header* h) {
  uint64_t f[kFieldCnt], len;
  if (!IsV1Magic(b)) return false;
  size_t off = svw::kMaxWidth;
  auto next = [&](uint64_t* x) {
    size_t n = svw::Decode(b.data() + off, b.size() - off, x);
    off += n;
    return n != 0;
  };
  for (uint64_t& x : f) {
    if (!next(&x)) return false;
  }
  if (!SetFields(f, h).ok() || !next(&len)) return false;
  if (len < 1 || len > wksp::kNameMaxLen || b.size() - off < len) return false;
  h->name.assign(reinterpret_cast<const char*>(b.data() + off), len);
  return CheckName(h->name).ok();
}

}  // namespace wk::wksp_checkpt::internal
