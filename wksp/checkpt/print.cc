// Preview and print (checkpt-query) of checkpoint files, any style.
#include <time.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/stream.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/svw.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/geometry.h"

namespace wk::wksp_checkpt {
namespace {

// The §5 tests read at most this much: 14 SVW values at their widest, then
// the longest name.
constexpr size_t kPreviewMax = 14 * svw::kMaxWidth + wksp::kNameMaxLen;
constexpr size_t kPreviewMin = 12;

absl::Status NotCheckpt(std::string_view why) {
  return absl::DataLossError(
      absl::StrFormat("not a workspace checkpoint: %s", why));
}

std::string Wallclock(int64_t ns) {
  time_t s = static_cast<time_t>(ns / 1000000000);
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --s;
  }
  struct tm tm;
  if (!gmtime_r(&s, &tm)) return "?";
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return absl::StrFormat("%s.%09d UTC", buf, frac);
}

void PrintText(FILE* out, const char* label, const std::string& text) {
  absl::FPrintF(out, "\t%s\n", label);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    absl::FPrintF(out, "\t\t%s\n", text.substr(start, end - start));
    start = end + 1;
  }
}

void PrintInfo(FILE* out, const format::Info& i, bool v2) {
  absl::FPrintF(out, "\t%-22s %016x\n", "magic", format::kMagic);
  absl::FPrintF(out, "\t%-22s %-20d (%s)\n", "wallclock", i.wallclock,
                Wallclock(i.wallclock));
  const struct {
    const char* label;
    uint64_t id;
    const std::string* text;
  } rows[] = {
      {"app", i.app_id, &i.app},       {"thread", i.thread_id, &i.thread},
      {"host", i.host_id, &i.host},    {"cpu", i.cpu_id, &i.cpu},
      {"group", i.group_id, &i.group}, {"tid", i.tid, nullptr},
      {"user", i.user_id, &i.user}};
  for (const auto& r : rows) {
    if (r.text) {
      absl::FPrintF(out, "\t%-22s %-20u (%s)\n", r.label, r.id, *r.text);
    } else {
      absl::FPrintF(out, "\t%-22s %u\n", r.label, r.id);
    }
  }
  if (v2) {
    absl::FPrintF(out, "\t%-22s %o\n", "mode", i.mode);
    absl::FPrintF(out, "\t%-22s %s\n", "path", i.path);
  }
}

void PrintAllocs(FILE* out, std::vector<format::Alloc> allocs, const Preview& p,
                 int verbose) {
  std::sort(allocs.begin(), allocs.end(),
            [](const auto& a, const auto& b) { return a.lo < b.lo; });
  uint64_t lo = wksp::GaddrLo(p.part_max), hi = lo + p.data_max;
  uint64_t used = 0, largest = 0;
  for (const auto& a : allocs) {
    used += a.hi - a.lo;
    largest = std::max(largest, a.hi - a.lo);
  }
  absl::FPrintF(out, "\t%-22s [0x%016x, 0x%016x)\n", "gaddr", lo, hi);
  if (verbose >= 4) {
    for (const auto& a : allocs) {
      absl::FPrintF(out, "\tpartition [0x%016x, 0x%016x) sz %20u tag %20u\n",
                    a.lo, a.hi, a.hi - a.lo, a.tag);
    }
  }
  absl::FPrintF(out, "\t%20u bytes used (%u allocations, largest %u bytes)\n",
                used, allocs.size(), largest);
  absl::FPrintF(out, "\t%20u bytes free\n", p.data_max - used);
}

// What checkpt-query shows beyond the preview, read from either style.
struct Contents {
  format::Info info;
  std::vector<format::Alloc> allocs;  // with_allocs only, file order
  uint64_t file_sz = 0, cgroups = 0, volumes = 0;  // v2/v3, with_allocs
  bool sealed = false;                             // v2/v3
};

absl::Status ReadV2Contents(int fd, bool with_allocs, Contents* c) {
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(fd));
  internal::V2Scan scan;
  WK_RETURN_IF_ERROR(
      internal::ScanV2(map.span(), 1, nullptr, !with_allocs, &scan));
  // Everything a restore checks, so that "query OK" means "restore works":
  // every allocation's bytes are read (LZ4 decoded) and every seal checked.
  if (with_allocs) {
    WK_RETURN_IF_ERROR(internal::ReadAllCgroups(
        map.span(), internal::ResolveThreads(0), scan));
  }
  c->sealed = scan.sealed;
  c->info = std::move(scan.info);
  c->allocs = std::move(scan.allocs);
  c->file_sz = map.size();
  c->cgroups = scan.footer.cgroup_cnt;
  c->volumes = scan.footer.volume_cnt;
  return absl::OkStatus();
}

absl::Status ReadV1Contents(int fd, bool with_allocs, Contents* c) {
  constexpr size_t kBufSz = size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  WK_RETURN_IF_ERROR(io::Seek(fd, svw::kMaxWidth, io::Whence::kSet).status());
  io::BufferedReader r(fd, std::span(buf.get(), kBufSz), svw::kMaxWidth);
  internal::V1Header h;
  WK_RETURN_IF_ERROR(internal::ReadV1Header(r, &h));
  c->info = std::move(h.info);
  if (!with_allocs) return absl::OkStatus();
  WK_ASSIGN_OR_RETURN(uint64_t file_sz, io::FileSize(fd));
  for (uint64_t prev_hi = 0;;) {
    format::Alloc a;
    WK_ASSIGN_OR_RETURN(bool more, internal::ReadV1Record(r, h, prev_hi, &a));
    if (!more) break;
    WK_RETURN_IF_ERROR(internal::SkipV1Data(r, a, file_sz));
    c->allocs.push_back(a);
    prev_hi = a.hi;
  }
  // As a restore from a file: nothing may follow the end record (a tag
  // turned 0 would otherwise cut the checkpoint short silently).
  if (r.offset() != file_sz) [[unlikely]] {
    return absl::DataLossError(absl::StrFormat(
        "corrupt v1 checkpoint: %u bytes after its end record at offset %u",
        file_sz - r.offset(), r.offset()));
  }
  return absl::OkStatus();
}

// Reads the metadata of the checkpoint behind fd and, with `with_allocs`,
// every allocation record (data skipped), checking the file's structure.
absl::Status ReadContents(int fd, Style style, bool with_allocs, Contents* c) {
  return style == Style::kV1 ? ReadV1Contents(fd, with_allocs, c)
                             : ReadV2Contents(fd, with_allocs, c);
}

}  // namespace

absl::StatusOr<Preview> PreviewCheckpt(const std::string& path) {
  WK_ASSIGN_OR_RETURN(io::Fd fd, io::OpenRead(path));
  uint8_t b[kPreviewMax];
  size_t got = 0;
  while (got < kPreviewMax) {
    WK_ASSIGN_OR_RETURN(
        size_t n, io::ReadAtLeast(fd.get(), b + got, 0, kPreviewMax - got));
    if (n == 0) break;
    got += n;
  }
  if (got < kPreviewMin) [[unlikely]] {
    return NotCheckpt(absl::StrFormat("%s holds only %u bytes", path, got));
  }
  Preview p;
  format::Header h;
  internal::V1Header h1;
  if (got >= format::kHeaderSz &&
      format::DecodeHeader(std::span(b, got), &h).ok()) {
    p.style = h.frame_style_compressed == internal::FrameStyleOf(Style::kV2)
                  ? Style::kV2
                  : Style::kV3;
    p.seed = h.seed;
    p.part_max = h.part_max;
    p.data_max = h.data_max;
    p.name = h.name;
    return p;
  }
  if (internal::PreviewV1(std::span(b, got), &h1)) {
    p.style = Style::kV1;
    p.seed = h1.seed;
    p.part_max = h1.part_max;
    p.data_max = h1.data_max;
    p.name = std::move(h1.name);
    return p;
  }
  return NotCheckpt(absl::StrFormat("%s has no valid v1 or v2 header", path));
}

absl::Status PrintCheckpt(const std::string& path, int verbose, FILE* out) {
  WK_ASSIGN_OR_RETURN(Preview p, PreviewCheckpt(path));
  absl::FPrintF(out, "checkpt %s (verbose %d)\n", path, verbose);
  absl::FPrintF(out, "\t%-22s %d\n", "style", StoredStyle(p.style));
  absl::FPrintF(out, "\t%-22s %s\n", "name", p.name);
  absl::FPrintF(out, "\t%-22s %u\n", "seed", p.seed);
  absl::FPrintF(out, "\t%-22s %u\n", "part_max", p.part_max);
  absl::FPrintF(out, "\t%-22s %u\n", "data_max", p.data_max);
  if (p.style != Style::kV1) {
    absl::FPrintF(out, "\t%-22s %d\n", "frame_style_compressed",
                  StoredFrameStyle(p.style));
  }
  if (verbose < 1) return absl::OkStatus();
  WK_ASSIGN_OR_RETURN(io::Fd fd, io::OpenRead(path));
  Contents c;
  WK_RETURN_IF_ERROR(Annotate(ReadContents(fd.get(), p.style, verbose >= 3, &c),
                              absl::StrFormat("checkpt-query %s", path)));
  PrintInfo(out, c.info, p.style != Style::kV1);
  if (verbose >= 2) {
    PrintText(out, "binfo", c.info.binfo);
    PrintText(out, "uinfo", c.info.uinfo);
  }
  if (verbose < 3) return absl::OkStatus();
  if (p.style != Style::kV1) {
    absl::FPrintF(out, "\t%-22s %u bytes, %u cgroups, %u volumes, %s\n", "file",
                  c.file_sz, c.cgroups, c.volumes,
                  c.sealed ? "sealed (XXH3-128 on every frame)" : "unsealed");
  }
  PrintAllocs(out, std::move(c.allocs), p, verbose);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<wksp::PartitionInfo>> CheckptAllocations(
    const std::string& path) {
  WK_ASSIGN_OR_RETURN(Preview p, PreviewCheckpt(path));
  WK_ASSIGN_OR_RETURN(io::Fd fd, io::OpenRead(path));
  Contents c;
  WK_RETURN_IF_ERROR(Annotate(ReadContents(fd.get(), p.style, true, &c),
                              absl::StrFormat("checkpt-query %s", path)));
  std::sort(c.allocs.begin(), c.allocs.end(),
            [](const auto& a, const auto& b) { return a.lo < b.lo; });
  return std::move(c.allocs);
}

}  // namespace wk::wksp_checkpt
