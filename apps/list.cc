// Listing workspaces (see list.h).
#include "apps/list.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "util/status.h"
#include "wksp/name.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::apps {
namespace {

// The valid workspace names in `dir`, sorted; an error if it cannot be
// read (a missing $WKSP_SHMEM_ROOT is a mistake to report, not an empty
// list).
absl::StatusOr<std::vector<std::string>> SortedNames(const std::string& dir,
                                                     bool normal) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    const int err = errno;
    return ErrnoError(
        err, "open the workspace directory",
        normal ? absl::StrFormat("%s (normal pages: $WKSP_SHMEM_ROOT, default "
                                 "/dev/shm)",
                                 dir)
               : dir);
  }
  while (struct dirent* e = readdir(d)) {
    if (wksp::ValidateName(e->d_name).ok()) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

ListEntry Describe(const std::string& dir, const std::string& name,
                   wksp::PageSize ps) {
  ListEntry e;
  e.name = name;
  e.page_size = wksp::PageSizeName(ps);
  e.path = absl::StrFormat("%s/%s", dir, name);
  struct stat st;
  if (stat(e.path.c_str(), &st) == 0) e.file_sz = st.st_size;
  absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join(name);
  bool writable = w.ok();
  if (!w.ok()) w = wksp::Wksp::Join(name, /*read_only=*/true);
  if (!w.ok()) {
    // DataLoss is the verdict "not a workspace"; anything else (permission,
    // memory) only says the file could not be looked at.
    e.error = absl::StrFormat(
        "%s: %s",
        absl::IsDataLoss(w.status()) ? "not a workspace" : "cannot read",
        w.status().message());
    return e;
  }
  e.is_wksp = true;
  e.footprint = w->footprint();
  e.part_max = w->part_max();
  e.data_max = w->data_max();
  e.lock = w->CurrentLockHolder();
  e.mark = w->CurrentRestoreMark();
  // Usage takes the lock: list must neither wait behind a holder (a long
  // checkpt: list is how one finds out who holds it) nor take the lock over
  // from a dead one, which repairs (after a killed restore: empties) the
  // workspace. Held or marked, USED stays unknown. (A lock taken just now
  // is waited for, briefly.)
  if (writable && !e.lock && !e.mark) {
    absl::StatusOr<wksp::Usage> u = w->GetUsage();
    if (u.ok()) {
      e.used_sz = u->used_sz;
      e.used_cnt = u->used_cnt;
    }
  }
  e.attached = ProcessesMapping(e.path);
  return e;
}

}  // namespace

std::vector<ProcRef> ProcessesMapping(const std::string& path) {
  std::vector<ProcRef> out;
  char* real = realpath(path.c_str(), nullptr);
  std::string want = real ? real : path;
  free(real);
  DIR* proc = opendir("/proc");
  if (!proc) return out;
  const std::string self = absl::StrFormat("%d", getpid());
  while (struct dirent* e = readdir(proc)) {
    std::string_view pid = e->d_name;
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) {
          return c >= '0' && c <= '9';
        })) {
      continue;
    }
    if (pid == self) continue;
    std::ifstream maps(absl::StrFormat("/proc/%s/maps", pid));
    std::string line;
    bool maps_it = false;
    while (!maps_it && std::getline(maps, line)) {
      // The path is the last field (a deleted file's gets " (deleted)").
      size_t at = line.find(want);
      maps_it = at != std::string::npos && at > 0 && line[at - 1] == ' ' &&
                (at + want.size() == line.size() ||
                 line.compare(at + want.size(), std::string::npos,
                              " (deleted)") == 0);
    }
    if (!maps_it) continue;
    std::ifstream comm_in(absl::StrFormat("/proc/%s/comm", pid));
    std::string comm;
    std::getline(comm_in, comm);
    uint32_t pid_num = 0;
    for (char c : pid) pid_num = pid_num * 10 + static_cast<uint32_t>(c - '0');
    out.push_back({pid_num, comm});
  }
  closedir(proc);
  return out;
}

absl::StatusOr<std::vector<ListEntry>> ListWorkspaces() {
  std::vector<ListEntry> out;
  std::vector<std::string> seen_dirs;
  for (wksp::PageSize ps : wksp::kPageSizes) {
    absl::StatusOr<std::string> dir = wksp::ShmemDir(ps);
    if (!dir.ok()) continue;
    if (std::find(seen_dirs.begin(), seen_dirs.end(), *dir) != seen_dirs.end())
      continue;
    seen_dirs.push_back(*dir);
    WK_ASSIGN_OR_RETURN(std::vector<std::string> names,
                        SortedNames(*dir, ps == wksp::PageSize::kNormal));
    for (const std::string& name : names) {
      struct stat st;
      std::string path = absl::StrFormat("%s/%s", *dir, name);
      if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out.push_back(Describe(*dir, name, ps));
    }
  }
  return out;
}

}  // namespace wk::apps
