#include "wksp/checkpt/frames.h"

#include "absl/strings/str_format.h"
#include "util/status.h"

namespace wk::wksp_checkpt::internal {
namespace {

absl::StatusOr<format::Cmd> ReadCmd(checkpt::Reader& r) {
  uint8_t b[format::kCmdSz];
  WK_RETURN_IF_ERROR(r.Meta(b, sizeof(b)));
  return format::DecodeCmd(b);
}

}  // namespace

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(
      absl::StrFormat("corrupt v2/v3 checkpoint: %s", what));
}

absl::Status At(const absl::Status& st, std::string_view where) {
  // Only a fault of the file is called corrupt (util/status.h): a signal, a
  // full file system or memory that cannot be populated keep their class
  // and say where they struck.
  if (st.code() == absl::StatusCode::kDataLoss) {
    // Input that ended early is truncated, not corrupt: its message says
    // how many bytes it has and needs.
    const bool cut = checkpt::ClassOf(st) == checkpt::ErrorClass::kIo;
    return Annotate(st, absl::StrFormat("%s v2/v3 checkpoint (%s)",
                                        cut ? "truncated" : "corrupt", where));
  }
  return Annotate(st, absl::StrFormat("v2/v3 checkpoint (%s)", where));
}

absl::StatusOr<uint64_t> ReadInfo(checkpt::Reader& r, checkpt::FrameStyle fs,
                                  format::Info* info) {
  WK_RETURN_IF_ERROR(At(r.Open(fs).status(), "info frame"));
  uint8_t ib[format::kInfoSz];
  WK_RETURN_IF_ERROR(At(r.Meta(ib, sizeof(ib)), "info frame"));
  uint64_t ssz = 0;
  WK_RETURN_IF_ERROR(format::DecodeInfoStruct(ib, info, &ssz));
  std::vector<uint8_t> strings(ssz);
  WK_RETURN_IF_ERROR(At(r.Meta(strings.data(), ssz), "info strings"));
  WK_RETURN_IF_ERROR(format::DecodeInfoStrings(strings, info));
  absl::StatusOr<uint64_t> end = r.Close();
  if (!end.ok()) [[unlikely]]
    return At(end.status(), "info frame");
  return end;
}

absl::StatusOr<CommandFrame> OpenCommandFrame(checkpt::Reader& r,
                                              checkpt::FrameStyle fs,
                                              std::string_view where) {
  CommandFrame f;
  absl::StatusOr<uint64_t> off = r.Open(fs);
  if (!off.ok()) [[unlikely]]
    return At(off.status(), where);
  f.off = *off;
  absl::StatusOr<format::Cmd> c = ReadCmd(r);
  if (!c.ok()) [[unlikely]]
    return At(c.status(), where);
  f.first = *c;
  return f;
}

absl::Status ReadCgroupCommands(
    checkpt::Reader& r, const format::Cmd& first, const wksp::Limits& src,
    absl::FunctionRef<absl::Status(const format::Alloc&)> each) {
  for (format::Cmd c = first; !c.IsData();) {
    if (!c.IsMeta()) [[unlikely]] {
      return Bad("a cgroup frame holds a command that is not an allocation");
    }
    const format::Alloc a{c.b, c.c, c.a};
    WK_RETURN_IF_ERROR(format::CheckInSource(a, src));
    WK_RETURN_IF_ERROR(each(a));
    absl::StatusOr<format::Cmd> next = ReadCmd(r);
    if (!next.ok()) [[unlikely]]
      return At(next.status(), "cgroup commands");
    c = *next;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ReadAppendix(checkpt::Reader& r,
                                      const format::Cmd& first, Appendix* out) {
  if (!first.IsAppendix() || first.b > format::kCgroupMax) [[unlikely]] {
    return Bad("bad appendix command");
  }
  const uint64_t g = first.b;
  out->prev = first.c;
  std::vector<uint8_t> offs(8 * g), cnts(8 * g);
  WK_RETURN_IF_ERROR(At(r.Meta(offs.data(), offs.size()), "appendix"));
  WK_RETURN_IF_ERROR(At(r.Meta(cnts.data(), cnts.size()), "appendix"));
  absl::StatusOr<uint64_t> end = r.Close();
  if (!end.ok()) [[unlikely]]
    return At(end.status(), "appendix");
  out->offs.resize(g);
  out->cnts.resize(g);
  for (uint64_t i = 0; i < g; ++i) {
    out->offs[i] = format::LoadU64(offs.data() + 8 * i);
    out->cnts[i] = format::LoadU64(cnts.data() + 8 * i);
  }
  return end;
}

absl::StatusOr<uint64_t> ReadVolumes(checkpt::Reader& r,
                                     const format::Cmd& first,
                                     uint64_t* last_app) {
  if (!first.IsVolumes()) [[unlikely]]
    return Bad("volumes command missing");
  *last_app = first.c;
  absl::StatusOr<uint64_t> end = r.Close();
  if (!end.ok()) [[unlikely]]
    return At(end.status(), "volumes");
  return end;
}

absl::Status ReadFooter(checkpt::Reader& r, const format::Header& h,
                        std::span<const uint8_t> header_bytes,
                        format::Footer* out) {
  uint8_t fb[format::kFooterSz];
  absl::Status st = r.Open(checkpt::FrameStyle::kRaw).status();
  if (st.ok()) st = r.Meta(fb, sizeof(fb));
  if (st.ok()) st = r.Close().status();
  WK_RETURN_IF_ERROR(At(st, "footer"));
  *out = format::DecodeFooter(fb);
  return format::CheckFooterMatchesHeader(*out, h, header_bytes.data());
}

}  // namespace wk::wksp_checkpt::internal
