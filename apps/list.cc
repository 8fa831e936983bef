// Listing workspaces (see list.h).
#include "apps/list.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string_view>

#include "absl/strings/str_format.h"
#include "wksp/name.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::apps {
namespace {

std::vector<std::string> SortedNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (struct dirent* e = readdir(d)) {
    if (wksp::ValidateName(e->d_name).ok()) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The lock holder and restore-in-progress mark come from the workspace
// API's lock and mark queries; until those exist they read "-".
// Short forms for the LOCK and RESTORING columns; the JSON carries the same
// strings. The long forms (DescribeLockHolder/DescribeRestoreMark) are in
// the messages of the commands that meet them.
void FillLockAndMark(const wksp::Wksp& w, ListEntry* e) {
  if (std::optional<wksp::LockHolder> h = w.CurrentLockHolder()) {
    e->lock =
        h->same_pid_ns
            ? absl::StrFormat("%u(%s)", h->pid, h->cmd.empty() ? "?" : h->cmd)
            : absl::StrFormat("tid %u of pid:[%u]", h->tid, h->pid_ns);
  }
  if (std::optional<wksp::RestoreMark> m = w.CurrentRestoreMark()) {
    e->mark = absl::StrFormat("%s by %u", m->in_progress ? "running" : "killed",
                              m->pid);
  }
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
  FillLockAndMark(*w, &e);
  // Usage takes the lock: list must neither wait behind a holder (a long
  // checkpt: list is how one finds out who holds it) nor take the lock over
  // from a dead one, which repairs (after a killed restore: empties) the
  // workspace. Held or marked, USED stays unknown. (A lock taken just now
  // is waited for, briefly.)
  if (writable && e.lock == "-" && e.mark == "-") {
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

std::vector<std::string> ProcessesMapping(const std::string& path) {
  std::vector<std::string> out;
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
    out.push_back(absl::StrFormat("%s(%s)", pid, comm));
  }
  closedir(proc);
  return out;
}

std::vector<ListEntry> ListWorkspaces() {
  std::vector<ListEntry> out;
  std::vector<std::string> seen_dirs;
  for (wksp::PageSize ps : wksp::kPageSizes) {
    absl::StatusOr<std::string> dir = wksp::ShmemDir(ps);
    if (!dir.ok()) continue;
    if (std::find(seen_dirs.begin(), seen_dirs.end(), *dir) != seen_dirs.end())
      continue;
    seen_dirs.push_back(*dir);
    for (const std::string& name : SortedNames(*dir)) {
      struct stat st;
      std::string path = absl::StrFormat("%s/%s", *dir, name);
      if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out.push_back(Describe(*dir, name, ps));
    }
  }
  return out;
}

}  // namespace wk::apps
