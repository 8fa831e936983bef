// Style v1, the writer (CHECKPOINT_FORMAT.md §3): one serial stream of SVW
// integers, strings and raw allocation bytes.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "io/stream.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/svw.h"

namespace wk::wksp_checkpt::internal {
namespace {

constexpr size_t kBufSz = size_t{1} << 20;

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

}  // namespace

absl::Status WriteV1(const wksp::Wksp& wksp,
                     std::span<const format::Alloc> allocs,
                     const format::Info& info, int fd,
                     const CheckptOptions& options) {
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  io::BufferedWriter w(fd, std::span(buf.get(), kBufSz));
  const uint64_t header[] = {
      format::kMagic,  format::kFileStyleV1,
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

  uint64_t total = 0;
  for (const auto& a : allocs) total += a.hi - a.lo;
  ProgressMeter meter(options.progress, total);
  for (const auto& a : allocs) {
    WK_RETURN_IF_ERROR(PutSvw(w, a.tag));
    WK_RETURN_IF_ERROR(PutSvw(w, a.lo));
    WK_RETURN_IF_ERROR(PutSvw(w, a.hi - a.lo));
    WK_RETURN_IF_ERROR(Prefault(wksp, a.lo, a.hi, io::PopulateFor::kRead));
    const uint8_t* data = static_cast<const uint8_t*>(wksp.laddr(a.lo));
    WK_RETURN_IF_ERROR(InPieces(a.hi - a.lo, meter, [&](uint64_t off,
                                                       uint64_t len) {
      return w.Write(data + off, len);
    }));
  }
  WK_RETURN_IF_ERROR(PutSvw(w, 0));
  WK_RETURN_IF_ERROR(w.Flush());
  meter.Finish();
  return absl::OkStatus();
}

}  // namespace wk::wksp_checkpt::internal
