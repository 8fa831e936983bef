// Shared-memory regions: where each page size lives, and create, join,
// unlink and anonymous mapping through io/ (see shmem.h).
#include "wksp/shmem.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "io/mmio.h"
#include "util/bits.h"
#include "util/parse.h"
#include "util/status.h"
#include "wksp/name.h"

namespace wk::wksp {
namespace {

// The kernel's default huge page size (used by mounts without pagesize=).
uint64_t DefaultHugePageSize() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  while (in >> key) {
    if (key == "Hugepagesize:") {
      uint64_t kb = 0;
      in >> kb;
      return kb << 10;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// /proc/mounts writes space, tab, newline and backslash in paths as \ooo.
std::string UnescapeMountField(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        const char c = field[i + k];
        octal = octal && c >= '0' && c <= '7';
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

struct Mount {
  std::string dir;   // unescaped
  std::string type;  // "tmpfs", "hugetlbfs", ...
  std::string opts;  // "rw,size=4g,huge=advise"
};

// The mounts of this process's namespace, in /proc/mounts order (a later
// mount on the same point lies on top of an earlier one).
std::vector<Mount> ReadMounts() {
  std::vector<Mount> mounts;
  std::ifstream in("/proc/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string dev, dir, type, opts;
    if (!(fields >> dev >> dir >> type >> opts)) continue;
    mounts.push_back({UnescapeMountField(dir), type, opts});
  }
  return mounts;
}

// First hugetlbfs mount point whose page size is `bytes`, or "".
std::string FindHugetlbfs(uint64_t bytes) {
  for (const Mount& mount : ReadMounts()) {
    if (mount.type != "hugetlbfs") continue;
    const std::string& opts = mount.opts;
    uint64_t page = 0;
    size_t at = opts.find("pagesize=");
    if (at != std::string::npos) {
      size_t end = opts.find(',', at);
      // "2M", "1G", "2048k": 0 (matching nothing) if unreadable.
      page = ParseByteCount(
                 std::string_view(opts).substr(at + 9, end == std::string::npos
                                                           ? std::string::npos
                                                           : end - at - 9))
                 .value_or(0);
    } else {
      page = DefaultHugePageSize();
    }
    if (page == bytes) return mount.dir;
  }
  return "";
}

// The process-wide root (SetShmemRoot); empty means the default.
std::mutex root_mu;
std::string& RootLocked() {
  static std::string* root = new std::string();  // never destroyed: usable
  return *root;                                  // from exit handlers too
}

// Asks the kernel to prefer the NUMA node of `cpu_idx` for [p, p+size).
// Best effort: silently does nothing on one node or on any failure.
void PreferNodeOfCpu(void* p, uint64_t size, int cpu_idx) {
  if (cpu_idx < 0) return;
  std::ifstream online("/sys/devices/system/node/online");
  std::string nodes;
  if (!(online >> nodes) || nodes == "0") return;
  int node = -1;
  for (int n = 0; n < 1024 && node < 0; ++n) {
    std::string path =
        absl::StrFormat("/sys/devices/system/cpu/cpu%d/node%d", cpu_idx, n);
    if (access(path.c_str(), F_OK) == 0) node = n;
  }
  if (node < 0) return;
  constexpr int kMpolPreferred = 1;
  unsigned long mask[1024 / 64] = {};
  mask[node / 64] |= 1UL << (node % 64);
  (void)syscall(SYS_mbind, p, size, kMpolPreferred, mask, 1024 + 1, 0);
}

absl::StatusOr<uint64_t> RoundToPage(uint64_t size, PageSize page_size) {
  uint64_t rounded;
  if (size == 0 ||
      !AlignUpChecked(size, static_cast<uint64_t>(page_size), &rounded)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad region size %u", size));
  }
  return rounded;
}

}  // namespace

const char* PageSizeName(PageSize page_size) {
  switch (page_size) {
    case PageSize::kNormal:
      return "normal";
    case PageSize::kHuge:
      return "huge";
    case PageSize::kGigantic:
      return "gigantic";
  }
  return "unknown";
}

void SetShmemRoot(std::string_view dir) {
  std::lock_guard<std::mutex> lock(root_mu);
  RootLocked().assign(dir);
}

std::string ShmemRoot() {
  std::lock_guard<std::mutex> lock(root_mu);
  const std::string& root = RootLocked();
  return root.empty() ? std::string("/dev/shm") : root;
}

absl::StatusOr<std::string> ShmemDir(PageSize page_size) {
  if (page_size == PageSize::kNormal) return ShmemRoot();
  std::string dir = FindHugetlbfs(static_cast<uint64_t>(page_size));
  if (dir.empty()) {
    const char* sz = page_size == PageSize::kHuge ? "2M" : "1G";
    return absl::NotFoundError(absl::StrFormat(
        "no hugetlbfs mount with pagesize=%s for %s pages; mount one, e.g. "
        "`mount -t hugetlbfs -o pagesize=%s none /mnt/wksp/.%s`, and reserve "
        "pages in /sys/kernel/mm/hugepages",
        sz, PageSizeName(page_size), sz, PageSizeName(page_size)));
  }
  return dir;
}

namespace {

// A 4 KiB-page region in shared memory asks for transparent huge pages.
// Where the kernel gives them (a tmpfs mounted with huge=advise or always
// for named regions, /sys/kernel/mm/transparent_hugepage/shmem_enabled for
// anonymous ones; neither by default, which makes this a no-op), each
// process's first touch of the region costs one fault per 2 MiB instead of
// 512, which on some VMs is most of a restore's time (docs/PERFORMANCE.md,
// "First touch"). Named regions outside a tmpfs (a root on a disk file
// system, as tests use) are left alone: there the advice would map the file
// system's large folios whole, which is not what was asked for. A hint: a
// kernel without THP refuses it, and nothing changes.
constexpr long kTmpfsMagic = 0x01021994;  // TMPFS_MAGIC, linux/magic.h

void AdviseHugePages(const io::Mapping& m, PageSize page_size,
                     const std::string& dir_or_empty) {
  if (page_size != PageSize::kNormal) return;
  if (!dir_or_empty.empty()) {
    struct statfs fs;
    if (::statfs(dir_or_empty.c_str(), &fs) != 0 ||
        static_cast<long>(fs.f_type) != kTmpfsMagic) {
      return;
    }
  }
  (void)m.Advise(io::Advice::kHugePage);
}

// Whether `dir` lies in a tmpfs mounted with huge=advise: one that gives
// 2 MiB pages only to ranges advised MADV_HUGEPAGE, so a region there must
// be advised before its pages are allocated (io::CreateAndMap's advice).
// With huge=always or within_size, allocation (fallocate included) takes
// huge pages anyway; with huge=never (the default) it never does.
bool InTmpfsHugeAdvise(const std::string& dir) {
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) return false;
  const std::string path(real);
  std::free(real);
  size_t best = 0;
  bool advise = false;
  for (const Mount& mount : ReadMounts()) {
    const std::string& mnt = mount.dir;
    const bool covers =
        mnt == "/" || path == mnt ||
        (path.size() > mnt.size() && path.compare(0, mnt.size(), mnt) == 0 &&
         path[mnt.size()] == '/');
    // The longest covering mount point holds dir; of several mounts on the
    // same point, the last (the one on top) does.
    if (!covers || mnt.size() < best) continue;
    best = mnt.size();
    advise = mount.type == "tmpfs" &&
             absl::StrCat(",", mount.opts, ",").find(",huge=advise,") !=
                 std::string::npos;
  }
  return advise;
}

}  // namespace

absl::StatusOr<io::Mapping> ShmemCreate(std::string_view name, uint64_t size,
                                        const ShmemCreateOptions& options) {
  WK_RETURN_IF_ERROR(ValidateName(name));
  WK_ASSIGN_OR_RETURN(uint64_t bytes, RoundToPage(size, options.page_size));
  WK_ASSIGN_OR_RETURN(std::string dir, ShmemDir(options.page_size));
  std::string path = absl::StrFormat("%s/%s", dir, name);
  // Every page allocated now (tmpfs zeroes them, hugetlbfs takes them from
  // the pool), so no store into the workspace can meet a full file system as
  // SIGBUS later; a region that does not fit fails here, and the file is
  // removed again. On a huge=advise tmpfs the huge-page advice must come
  // before the allocation, or the pages stay 4 KiB for good.
  const bool advise_first =
      options.page_size == PageSize::kNormal && InTmpfsHugeAdvise(dir);
  WK_ASSIGN_OR_RETURN(
      io::Mapping m,
      io::CreateAndMap(
          path, bytes, options.mode, io::Reserve::kAllocate,
          advise_first ? io::Advice::kHugePage : io::Advice::kNormal));
  if (!advise_first) AdviseHugePages(m, options.page_size, dir);
  PreferNodeOfCpu(m.mutable_span().data(), bytes, options.cpu_idx);
  return m;
}

namespace {

// NotFound for `name`, naming every directory that was searched and the
// page sizes that have none.
absl::Status NotFoundIn(std::string_view name) {
  std::vector<std::string> where;
  for (PageSize ps : kPageSizes) {
    absl::StatusOr<std::string> dir = ShmemDir(ps);
    where.push_back(dir.ok() ? *dir
                             : absl::StrFormat("no %s-page hugetlbfs mount",
                                               PageSizeName(ps)));
  }
  return absl::NotFoundError(
      absl::StrFormat("no shared memory region named \"%s\" (searched: %s)",
                      name, absl::StrJoin(where, ", ")));
}

}  // namespace

absl::StatusOr<io::Mapping> ShmemJoin(std::string_view name, bool read_only,
                                      PageSize* page_size) {
  WK_RETURN_IF_ERROR(ValidateName(name));
  for (PageSize ps : kPageSizes) {
    absl::StatusOr<std::string> dir = ShmemDir(ps);
    if (!dir.ok()) continue;
    std::string path = absl::StrFormat("%s/%s", *dir, name);
    absl::StatusOr<io::Mapping> m =
        read_only ? io::MapFileReadOnly(path) : io::MapFileReadWrite(path);
    if (!m.ok() && StatusErrno(m.status()) == ENOENT) continue;
    if (m.ok()) AdviseHugePages(*m, ps, *dir);
    if (m.ok() && page_size != nullptr) *page_size = ps;
    return m;
  }
  return NotFoundIn(name);
}

absl::Status ShmemUnlink(std::string_view name) {
  WK_RETURN_IF_ERROR(ValidateName(name));
  for (PageSize ps : kPageSizes) {
    absl::StatusOr<std::string> dir = ShmemDir(ps);
    if (!dir.ok()) continue;
    std::string path = absl::StrFormat("%s/%s", *dir, name);
    // Look first: unlink in a read-only mount fails with EROFS even for a
    // name that is not there, and that name may well live in the next one.
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 && errno == ENOENT) continue;
    if (unlink(path.c_str()) == 0) return absl::OkStatus();
    if (errno != ENOENT) return ErrnoError(errno, "unlink", path);
  }
  return NotFoundIn(name);
}

absl::StatusOr<io::Mapping> MapAnonymous(uint64_t size, PageSize page_size,
                                         int cpu_idx) {
  WK_ASSIGN_OR_RETURN(uint64_t bytes, RoundToPage(size, page_size));
  const uint64_t huge =
      page_size == PageSize::kNormal ? 0 : static_cast<uint64_t>(page_size);
  absl::StatusOr<io::Mapping> m = io::MapAnonymousShared(bytes, huge);
  if (!m.ok()) [[unlikely]] {
    if (huge == 0) return m.status();
    return Annotate(
        m.status(),
        absl::StrFormat(
            "reserve %s pages in /sys/kernel/mm/hugepages/hugepages-%ukB/"
            "nr_hugepages",
            PageSizeName(page_size), huge >> 10));
  }
  AdviseHugePages(*m, page_size, "");
  PreferNodeOfCpu(m->mutable_span().data(), bytes, cpu_idx);
  return m;
}

}  // namespace wk::wksp
