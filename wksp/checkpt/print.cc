// Preview and print (checkpt-query) of checkpoint files, any style.
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "io/mmio.h"
#include "io/shrink_guard.h"
#include "io/stream.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"
#include "wksp/checkpt/read_v1.h"
#include "wksp/checkpt/scan_v2.h"
#include "wksp/checkpt/sniff.h"
#include "wksp/checkpt/svw.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/geometry.h"

namespace wk::wksp_checkpt {
namespace {

// The §5 tests read at most this much: 14 SVW values at their widest, then
// the longest name.
constexpr size_t kPreviewMax = 14 * svw::kMaxWidth + wksp::kNameMaxLen;

// Firedancer's fd_log_wallclock_cstr form: local time with the offset in
// whole hours, "2026-11-25 11:59:19.158101045 GMT+00".
std::string Wallclock(int64_t ns) {
  time_t s = static_cast<time_t>(ns / 1000000000);
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --s;
  }
  struct tm tm;
  if (!localtime_r(&s, &tm)) return "?";
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return absl::StrFormat("%s.%09d GMT%+03d", buf, frac,
                         static_cast<int>(tm.tm_gmtoff / 3600));
}

// One "\tlabel   value" line in Firedancer's columns: the label padded to
// 22, the value (numbers left-aligned in 20).
constexpr char kNumLine[] = "\t%-22s %-20d\n";

std::string InfoText(const CheckptDescription& d, int verbose) {
  std::string out;
  const bool v2 = d.preview.style != Style::kV1;
  absl::StrAppendFormat(&out, "\t%-22s %016x\n", "magic", d.magic);
  absl::StrAppendFormat(&out, "\t%-22s %-20d (%s)\n", "wallclock", d.wallclock,
                        Wallclock(d.wallclock));
  const struct {
    const char* label;
    uint64_t id;
    const std::string* text;
  } rows[] = {
      {"app", d.app_id, &d.app},       {"thread", d.thread_id, &d.thread},
      {"host", d.host_id, &d.host},    {"cpu", d.cpu_id, &d.cpu},
      {"group", d.group_id, &d.group}, {"tid", d.tid, nullptr},
      {"user", d.user_id, &d.user}};
  for (const auto& r : rows) {
    if (r.text) {
      absl::StrAppendFormat(&out, "\t%-22s %-20u (%s)\n", r.label, r.id,
                            *r.text);
    } else {
      absl::StrAppendFormat(&out, kNumLine, r.label, r.id);
    }
  }
  if (v2) {
    absl::StrAppendFormat(&out, kNumLine, "frame_style_compressed",
                          d.preview.stored_frame_style);
  }
  if (verbose < 2) return out;
  if (v2) {
    absl::StrAppendFormat(&out, "\t%-22s %03o\n", "mode", d.mode);
    absl::StrAppendFormat(&out, "\tpath\n\t\t%s\n", d.path);
  }
  // As Firedancer prints them: the text as stored, only its first line
  // indented.
  absl::StrAppendFormat(&out, "\tbinfo\n\t\t%s\n", d.binfo);
  absl::StrAppendFormat(&out, "\tuinfo\n\t\t%s\n", d.uinfo);
  return out;
}

std::string AllocsText(const CheckptDescription& d, int verbose) {
  std::string out;
  const Preview& p = d.preview;
  if (p.style != Style::kV1) {
    absl::StrAppendFormat(
        &out, "\t%-22s %u bytes, %u cgroups, %u volumes, %s\n", "file",
        d.file_sz, d.cgroups, d.volumes,
        d.sealed ? "sealed (XXH3-128 on every frame)" : "unsealed");
  }
  uint64_t lo = wksp::GaddrLo(p.part_max), hi = lo + p.data_max;
  uint64_t used = 0, largest = 0;
  for (const auto& a : d.allocs) {
    used += a.hi - a.lo;
    largest = std::max(largest, a.hi - a.lo);
  }
  absl::StrAppendFormat(&out, "\t%-22s [0x%016x, 0x%016x)\n", "gaddr", lo, hi);
  if (verbose >= 4) {
    for (const auto& a : d.allocs) {
      absl::StrAppendFormat(&out,
                            "\tpartition [0x%016x, 0x%016x) sz %20u tag %20u\n",
                            a.lo, a.hi, a.hi - a.lo, a.tag);
    }
  }
  absl::StrAppendFormat(
      &out, "\t%20u bytes used (%u allocations, largest %u bytes)\n", used,
      d.allocs.size(), largest);
  absl::StrAppendFormat(&out, "\t%20u bytes free\n", p.data_max - used);
  return out;
}

// How much of a file a description reads: the info only (a stream read in
// part), the layout too (every record or frame boundary, no data: enough to
// tell a file cut short), or every allocation.
enum class Depth { kInfo, kLayout, kAllocs };

// What checkpt-query shows beyond the preview, read from either style.
struct Contents {
  format::Info info;
  std::vector<format::Alloc> allocs;  // with_allocs only, file order
  uint64_t file_sz = 0, cgroups = 0, volumes = 0;  // v2/v3, with_allocs
  bool sealed = false;                             // v2/v3
};

// Reads through a mapping under an io::ShrinkGuard: a file truncated while
// it is read fails with FileShrank(), never SIGBUS.
// The header is the preview's sniff, not read again.
absl::Status ReadV2Contents(int fd, const internal::Sniffed& sniffed,
                            Depth depth, Contents* c) {
  const bool with_allocs = depth == Depth::kAllocs;
  WK_ASSIGN_OR_RETURN(io::Mapping map, io::MapFileReadOnly(fd));
  io::ShrinkGuard shrink(map.span());
  internal::V2Scan scan;
  uint64_t info_end = 0;
  // kLayout: header, info, footer, volumes and appendices (no cgroup
  // frame is read), which is enough to tell a file cut short, and says how
  // many bytes it has and needs.
  absl::Status st =
      depth == Depth::kLayout
          ? internal::ScanV2Layout(map.span(), sniffed, nullptr, 0, &scan,
                                   &info_end)
          : internal::ScanV2(map.span(), sniffed, 1, nullptr,
                             depth == Depth::kInfo, &scan);
  // Everything a restore checks, so that "query OK" means "restore works":
  // every allocation's bytes are read (LZ4 decoded) and every seal checked.
  if (st.ok() && with_allocs) {
    st = internal::AfterScan();
    if (st.ok()) {
      st = internal::ReadAllCgroups(map.span(), internal::ResolveThreads(0),
                                    scan);
    }
  }
  // Whatever the reads said, a cut file explains it.
  if (shrink.shrank() ||
      (!st.ok() && internal::ShorterThan(fd, map.size()))) [[unlikely]] {
    return internal::FileShrank();
  }
  WK_RETURN_IF_ERROR(st);
  c->sealed = scan.sealed;
  c->info = std::move(scan.info);
  c->allocs = std::move(scan.allocs);
  c->file_sz = map.size();
  c->cgroups = scan.footer.cgroup_cnt;
  c->volumes = scan.footer.volume_cnt;
  return absl::OkStatus();
}

absl::Status ReadV1Contents(int fd, Depth depth, Contents* c) {
  const bool with_allocs = depth == Depth::kAllocs;
  // Records are read, their data skipped by seeking, and each seek drops
  // the buffer: a small one reads little beyond a large record's header.
  constexpr size_t kBufSz = size_t{64} << 10;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kBufSz);
  WK_RETURN_IF_ERROR(io::Seek(fd, svw::kMaxWidth, io::Whence::kSet).status());
  io::BufferedReader r(fd, std::span(buf.get(), kBufSz), svw::kMaxWidth);
  internal::V1Header h;
  WK_RETURN_IF_ERROR(internal::ReadV1Header(r, &h));
  c->info = std::move(h.info);
  if (depth == Depth::kInfo) return absl::OkStatus();
  WK_ASSIGN_OR_RETURN(uint64_t file_sz, io::FileSize(fd));
  for (uint64_t prev_hi = 0;;) {
    format::Alloc a;
    WK_ASSIGN_OR_RETURN(bool more, internal::ReadV1Record(r, h, prev_hi, &a));
    if (!more) break;
    WK_RETURN_IF_ERROR(internal::SkipV1Data(r, a, file_sz));
    if (with_allocs) c->allocs.push_back(a);
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

// Reads the metadata of the checkpoint behind fd, sniffed as `sniffed`,
// and, at Depth::kAllocs, every allocation record (data skipped), checking
// the file's structure.
absl::Status ReadContents(int fd, const internal::Sniffed& sniffed,
                          Depth depth, Contents* c) {
  return sniffed.style == Style::kV1
             ? ReadV1Contents(fd, depth, c)
             : ReadV2Contents(fd, sniffed, depth, c);
}

}  // namespace

namespace {

// The bytes of the checkpoint `path` names ("-": stdin) behind a seekable
// descriptor. A pipe or other stream is read once into an anonymous memory
// file: all of it when `whole`, else only the first kStreamPrefixMax bytes
// (enough for the header and info; the rest is left unread).
constexpr uint64_t kStreamPrefixMax = uint64_t{1} << 20;

absl::StatusOr<io::Fd> OpenQueried(const std::string& path, bool whole,
                                   bool* complete = nullptr) {
  if (complete != nullptr) *complete = true;
  io::Fd in;
  if (path == "-") {
    int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return ErrnoError(errno, "dup", "stdin");
    in = io::Fd(fd);
  } else {
    WK_ASSIGN_OR_RETURN(in, io::OpenRead(path));
  }
  if (io::IsRegularFile(in.get())) return in;
  int mem = memfd_create("checkpt-query", MFD_CLOEXEC);
  if (mem < 0) return ErrnoError(errno, "memfd_create", path);
  io::Fd spool(mem);
  constexpr size_t kChunk = size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<uint8_t[]>(kChunk);
  uint64_t got = 0;
  while (whole || got < kStreamPrefixMax) {
    size_t want = whole ? kChunk
                        : static_cast<size_t>(std::min<uint64_t>(
                              kChunk, kStreamPrefixMax - got));
    absl::StatusOr<size_t> n = io::ReadAtLeast(in.get(), buf.get(), 0, want);
    if (!n.ok()) return Annotate(n.status(), path);
    if (*n == 0) break;
    WK_RETURN_IF_ERROR(io::WriteExact(spool.get(), buf.get(), *n));
    got += *n;
  }
  if (complete != nullptr && !whole && got >= kStreamPrefixMax) {
    // More may follow: the spool holds the stream's first bytes only.
    *complete = false;
  }
  WK_RETURN_IF_ERROR(io::Seek(spool.get(), 0, io::Whence::kSet).status());
  return spool;
}

// Reads the file's first bytes (through io/, so cancellation and test faults
// apply) and decides with the sniff every reader uses (sniff.h); the sniff
// goes to *sniffed_out when given, for the reads that follow.
absl::StatusOr<Preview> PreviewFd(int fd, const std::string& path,
                                  internal::Sniffed* sniffed_out = nullptr) {
  uint8_t b[kPreviewMax];
  static_assert(kPreviewMax >= format::kHeaderSz);
  size_t got = 0;
  WK_RETURN_IF_ERROR(io::Seek(fd, 0, io::Whence::kSet).status());
  while (got < kPreviewMax) {
    WK_ASSIGN_OR_RETURN(size_t n,
                        io::ReadAtLeast(fd, b + got, 0, kPreviewMax - got));
    if (n == 0) break;
    got += n;
  }
  // However few bytes there are, the sniff decides: the start of a magic
  // is a file cut short (with what it has and needs), anything else is not
  // a checkpoint.
  absl::StatusOr<internal::Sniffed> sniffed =
      internal::SniffBytes(std::span(b, got));
  if (!sniffed.ok()) [[unlikely]]
    return Annotate(sniffed.status(), path);
  if (sniffed_out) *sniffed_out = *sniffed;
  Preview p;
  p.style = sniffed->style;
  p.stored_style = StoredStyle(p.style);
  p.stored_frame_style = StoredFrameStyle(p.style);
  if (sniffed->style != Style::kV1) {
    const format::Header& h = sniffed->header;
    p.seed = h.seed;
    p.part_max = h.part_max;
    p.data_max = h.data_max;
    p.name = h.name;
    return p;
  }
  internal::V1Header h1;
  if (!internal::PreviewV1(std::span(b, got), &h1)) [[unlikely]] {
    // The magic is there: the header reader says what is wrong with the
    // rest, or where the file ends early and how much it needs.
    uint8_t buf[kPreviewMax];
    if (io::Seek(fd, svw::kMaxWidth, io::Whence::kSet).ok()) {
      io::BufferedReader r(fd, std::span(buf, sizeof(buf)), svw::kMaxWidth);
      internal::V1Header full;
      absl::Status st = internal::ReadV1Header(r, &full);
      if (!st.ok()) return Annotate(st, path);
    }
    return internal::NotCheckpt(
        absl::StrFormat("%s has no valid v1 header", path));
  }
  p.seed = h1.seed;
  p.part_max = h1.part_max;
  p.data_max = h1.data_max;
  p.name = std::move(h1.name);
  return p;
}

}  // namespace

absl::StatusOr<Preview> PreviewCheckpt(const std::string& path) {
  WK_ASSIGN_OR_RETURN(io::Fd fd, OpenQueried(path, false));
  // "-" on a regular file is a dup of stdin, sharing its offset: put it
  // back, so a restore from stdin after the preview reads from the start.
  const absl::StatusOr<uint64_t> pos = io::Seek(fd.get(), 0, io::Whence::kCur);
  absl::StatusOr<Preview> p = PreviewFd(fd.get(), path);
  if (pos.ok()) {
    io::Seek(fd.get(), static_cast<int64_t>(*pos), io::Whence::kSet)
        .IgnoreError();
  }
  return p;
}

absl::Status DescribeCheckpt(const std::string& path, int verbose,
                             CheckptDescription* d) {
  *d = CheckptDescription();
  bool complete = true;
  WK_ASSIGN_OR_RETURN(io::Fd fd, OpenQueried(path, verbose >= 3, &complete));
  internal::Sniffed sniffed;
  WK_ASSIGN_OR_RETURN(d->preview, PreviewFd(fd.get(), path, &sniffed));
  // At every verbosity a whole file (a path, a redirected file, a pipe that
  // ended within the spool) is checked to its end record or footer, so a
  // file cut short fails here (DataLoss, with the bytes it has and needs)
  // even where only the header is shown. The part of a longer pipe that
  // verbose 0-2 leave unread goes unchecked (checkpt-verify reads it all).
  const Depth depth = verbose >= 3 ? Depth::kAllocs
                      : complete   ? Depth::kLayout
                                   : Depth::kInfo;
  if (verbose < 1 && depth == Depth::kInfo) return absl::OkStatus();
  Contents c;
  WK_RETURN_IF_ERROR(
      Annotate(ReadContents(fd.get(), sniffed, depth, &c),
               absl::StrFormat("checkpt-query %s", path)));
  if (verbose < 1) return absl::OkStatus();
  d->has_info = true;
  d->magic = format::kMagic;
  d->wallclock = c.info.wallclock;
  d->app_id = c.info.app_id;
  d->thread_id = c.info.thread_id;
  d->host_id = c.info.host_id;
  d->cpu_id = c.info.cpu_id;
  d->group_id = c.info.group_id;
  d->tid = c.info.tid;
  d->user_id = c.info.user_id;
  d->mode = c.info.mode;
  d->app = std::move(c.info.app);
  d->thread = std::move(c.info.thread);
  d->host = std::move(c.info.host);
  d->cpu = std::move(c.info.cpu);
  d->group = std::move(c.info.group);
  d->user = std::move(c.info.user);
  d->path = std::move(c.info.path);
  d->binfo = std::move(c.info.binfo);
  d->uinfo = std::move(c.info.uinfo);
  if (verbose < 3) return absl::OkStatus();
  std::sort(c.allocs.begin(), c.allocs.end(),
            [](const auto& a, const auto& b) { return a.lo < b.lo; });
  d->has_allocs = true;
  d->allocs = std::move(c.allocs);
  d->file_sz = c.file_sz;
  d->cgroups = c.cgroups;
  d->volumes = c.volumes;
  d->sealed = c.sealed;
  return absl::OkStatus();
}

std::string CheckptText(const std::string& path, int verbose,
                        const CheckptDescription& d) {
  const Preview& p = d.preview;
  std::string out = absl::StrFormat("checkpt %s (verbose %d)\n", path, verbose);
  absl::StrAppendFormat(&out, kNumLine, "style", p.stored_style);
  absl::StrAppendFormat(&out, "\t%-22s %s\n", "name", p.name);
  absl::StrAppendFormat(&out, kNumLine, "seed", p.seed);
  absl::StrAppendFormat(&out, kNumLine, "part_max", p.part_max);
  absl::StrAppendFormat(&out, kNumLine, "data_max", p.data_max);
  if (verbose >= 1 && d.has_info) out += InfoText(d, verbose);
  if (verbose >= 3 && d.has_allocs) out += AllocsText(d, verbose);
  return out;
}

absl::Status PrintCheckpt(const std::string& path, int verbose, FILE* out) {
  CheckptDescription d;
  absl::Status st = DescribeCheckpt(path, verbose, &d);
  // A failure after the preview still shows what was read.
  if (st.ok() || !d.preview.name.empty()) {
    absl::FPrintF(out, "%s", CheckptText(path, verbose, d));
  }
  return st;
}

absl::StatusOr<std::vector<wksp::PartitionInfo>> CheckptAllocations(
    const std::string& path) {
  CheckptDescription d;
  WK_RETURN_IF_ERROR(DescribeCheckpt(path, 3, &d));
  return std::move(d.allocs);
}

}  // namespace wk::wksp_checkpt
