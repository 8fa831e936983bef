// Style v1: a single stream of SVW integers and raw bytes (§3).
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/stream.h"
#include "util/bits.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/svw.h"
#include "wksp/geometry.h"
#include "wksp/name.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr size_t kBufSz = size_t{1} << 20;
constexpr uint64_t kV1LogStrMax = format::kLogStrMax - 1;  // no NUL in v1
constexpr uint64_t kV1InfoStrMax = format::kInfoStrMax - 1;
constexpr uint64_t kProgressStep = uint64_t{64} << 20;

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(
      absl::StrFormat("corrupt v1 checkpoint: %s", what));
}

absl::Status PutSvw(io::BufferedWriter& w, uint64_t x) {
  uint8_t b[svw::kMaxWidth];
  return w.Write(b, svw::Encode(x, b));
}

absl::Status PutString(io::BufferedWriter& w, const std::string& s,
                       uint64_t max) {
  size_t len = std::min<size_t>({s.size(), std::strlen(s.c_str()), max});
  WK_RETURN_IF_ERROR(PutSvw(w, len));
  return w.Write(s.data(), len);
}

absl::StatusOr<uint64_t> GetSvw(io::BufferedReader& r, const char* field) {
  auto first = r.Peek(1);
  if (!first.ok()) [[unlikely]] {
    return io::IsEndOfFile(first.status())
               ? Bad(absl::StrFormat("truncated before %s", field))
               : first.status();
  }
  size_t n = svw::WidthFromFirstByte((*first)[0]);
  auto bytes = r.Peek(n);
  if (!bytes.ok()) [[unlikely]] {
    return io::IsEndOfFile(bytes.status())
               ? Bad(absl::StrFormat("truncated inside %s", field))
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
  absl::Status st = r.Read(s.data(), len);
  if (!st.ok()) [[unlikely]] {
    return io::IsEndOfFile(st) ? Bad(absl::StrFormat("truncated %s", field))
                               : st;
  }
  if (s.find('\0') != std::string::npos) [[unlikely]] {
    return Bad(absl::StrFormat("%s holds a NUL byte", field));
  }
  return s;
}

}  // namespace

absl::Status WriteV1(wksp::Wksp& wksp, std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd,
                     const CheckptOptions& options) {
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  io::BufferedWriter w(fd, std::span(buf.get(), kBufSz));
  const uint64_t header[] = {
      format::kMagic,  1,
      wksp.seed(),     wksp.part_max(),
      wksp.data_max(), static_cast<uint64_t>(info.wallclock),
      info.app_id,     info.thread_id,
      info.host_id,    info.cpu_id,
      info.group_id,   info.tid,
      info.user_id};
  for (uint64_t x : header) WK_RETURN_IF_ERROR(PutSvw(w, x));
  WK_RETURN_IF_ERROR(PutString(w, std::string(wksp.name()), kV1LogStrMax));
  for (const std::string* s : {&info.app, &info.thread, &info.host, &info.cpu,
                               &info.group, &info.user}) {
    WK_RETURN_IF_ERROR(PutString(w, *s, kV1LogStrMax));
  }
  WK_RETURN_IF_ERROR(PutString(w, info.binfo, kV1InfoStrMax));
  WK_RETURN_IF_ERROR(PutString(w, info.uinfo, kV1InfoStrMax));

  uint64_t total = 0, done = 0, next_report = kProgressStep;
  for (const auto& a : allocs) total += a.hi - a.lo;
  for (const auto& a : allocs) {
    WK_RETURN_IF_ERROR(PutSvw(w, a.tag));
    WK_RETURN_IF_ERROR(PutSvw(w, a.lo));
    WK_RETURN_IF_ERROR(PutSvw(w, a.hi - a.lo));
    WK_RETURN_IF_ERROR(w.Write(wksp.laddr(a.lo), a.hi - a.lo));
    done += a.hi - a.lo;
    if (options.progress && done >= next_report) {
      options.progress(done, total);
      next_report = done + kProgressStep;
    }
  }
  WK_RETURN_IF_ERROR(PutSvw(w, 0));
  WK_RETURN_IF_ERROR(w.Flush());
  if (options.progress) options.progress(total, total);
  return absl::OkStatus();
}

absl::Status ReadV1Header(io::BufferedReader& r, V1Header* h) {
  // Fields 2-13 (the caller consumed the magic), the name, the strings.
  const char* const names[] = {"style",     "seed",     "part_max",  "data_max",
                               "wallclock", "app_id",   "thread_id", "host_id",
                               "cpu_id",    "group_id", "tid",       "user_id"};
  uint64_t f[12];
  for (int i = 0; i < 12; ++i) {
    WK_ASSIGN_OR_RETURN(f[i], GetSvw(r, names[i]));
  }
  if (f[0] != 1) [[unlikely]]
    return Bad(absl::StrFormat("style %u", f[0]));
  if (f[1] > 0xFFFFFFFFULL) [[unlikely]]
    return Bad("seed over 32 bits");
  h->seed = static_cast<uint32_t>(f[1]);
  h->part_max = f[2];
  h->data_max = f[3];
  if (absl::Status g = wksp::Footprint(h->part_max, h->data_max).status();
      !g.ok()) [[unlikely]] {
    return Bad(std::string(g.message()));
  }
  format::Info& info = h->info;
  info.wallclock = static_cast<int64_t>(f[4]);
  info.app_id = f[5];
  info.thread_id = f[6];
  info.host_id = f[7];
  info.cpu_id = f[8];
  info.group_id = f[9];
  info.tid = f[10];
  info.user_id = f[11];
  WK_ASSIGN_OR_RETURN(h->name, GetString(r, "name", 1, wksp::kNameMaxLen));
  if (!wksp::IsValidName(h->name)) [[unlikely]]
    return Bad("invalid name");
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
  h->src = wksp::LimitsOf(h->part_max, h->data_max);
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

absl::Status SkipV1Data(io::BufferedReader& r, const format::Alloc& a,
                        uint64_t file_sz) {
  uint64_t end;
  if (!AddChecked(r.offset(), a.hi - a.lo, &end) || end > file_sz)
      [[unlikely]] {
    return Bad("truncated inside allocation data");
  }
  return r.Seek(end);
}

absl::Status RestoreV1(wksp::Wksp& wksp, int fd, bool seekable,
                       const RestoreOptions& options) {
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  uint64_t start = 0;
  if (seekable) {
    WK_ASSIGN_OR_RETURN(start, io::Seek(fd, 0, io::Whence::kCur));
  }
  io::BufferedReader r(fd, std::span(buf.get(), kBufSz), start);
  V1Header h;
  WK_RETURN_IF_ERROR(ReadV1Header(r, &h));
  const uint64_t records = r.offset();

  // One record header (tag 0 ends the list), checked against the target.
  auto next = [&](uint64_t count, uint64_t prev_hi,
                  format::Alloc* a) -> absl::StatusOr<bool> {
    WK_ASSIGN_OR_RETURN(bool more, ReadV1Record(r, h, prev_hi, a));
    if (!more) return false;
    if (count >= wksp.part_max()) [[unlikely]] {
      return absl::FailedPreconditionError(absl::StrFormat(
          "checkpoint has more than %u allocations, the target's partition "
          "count",
          wksp.part_max()));
    }
    WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, std::span(a, 1)));
    return true;
  };

  if (seekable) {
    // Pre-scan every record header, skipping the data, so that a bad or
    // ill-fitting file is refused before the workspace is touched.
    WK_ASSIGN_OR_RETURN(uint64_t file_sz, io::FileSize(fd));
    std::vector<format::Alloc> allocs;
    for (uint64_t prev_hi = 0;;) {
      format::Alloc a;
      WK_ASSIGN_OR_RETURN(bool more, next(allocs.size(), prev_hi, &a));
      if (!more) break;
      WK_RETURN_IF_ERROR(SkipV1Data(r, a, file_sz));
      allocs.push_back(a);
      prev_hi = a.hi;
    }
    WK_RETURN_IF_ERROR(wksp::CheckFit(wksp, allocs));
    WK_RETURN_IF_ERROR(r.Seek(records));
  }

  RestoreTarget target(wksp, options.seed.value_or(wksp.seed()));
  uint64_t count = 0, prev_hi = 0, done = 0, next_report = kProgressStep;
  for (;;) {
    format::Alloc a;
    absl::StatusOr<bool> more = next(count, prev_hi, &a);
    if (!more.ok()) [[unlikely]]
      return target.Fail(more.status());
    if (!*more) break;
    target.Begin();
    if (absl::Status st = target.Place(count, a); !st.ok()) [[unlikely]] {
      return target.Fail(st);
    }
    absl::Status st = r.Read(target.Dest(a.lo), a.hi - a.lo);
    if (!st.ok()) [[unlikely]] {
      return target.Fail(
          io::IsEndOfFile(st) ? Bad("truncated inside allocation data") : st);
    }
    ++count;
    prev_hi = a.hi;
    done += a.hi - a.lo;
    if (options.progress && done >= next_report) {
      options.progress(done, 0);
      next_report = done + kProgressStep;
    }
  }
  target.Begin();  // an empty checkpoint still replaces every allocation
  return target.Finish();
}

}  // namespace wk::wksp_checkpt::internal
