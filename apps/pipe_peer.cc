// Pipe peers through /proc/PID/fd (see pipe_peer.h).
#include "apps/pipe_peer.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_format.h"

namespace wk::apps {
namespace {

// Whether a descriptor of `pid` links to pipe inode `ino` ("pipe:[INO]").
bool HoldsPipe(pid_t pid, ino_t ino) {
  const std::string dir = absl::StrFormat("/proc/%d/fd", pid);
  const std::string want = absl::StrFormat("pipe:[%u]", ino);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (!found) {
    const struct dirent* e = readdir(d);
    if (e == nullptr) break;
    if (e->d_name[0] == '.') continue;
    char link[64];
    const std::string path = dir + "/" + e->d_name;
    const ssize_t n = readlink(path.c_str(), link, sizeof(link));
    found = n > 0 && std::string_view(link, static_cast<size_t>(n)) == want;
  }
  closedir(d);
  return found;
}

}  // namespace

std::string PipeSharedWith(pid_t pid) {
  if (pid <= 0 || pid == getpid()) return "";
  for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    if (HoldsPipe(pid, st.st_ino)) return fd == STDIN_FILENO ? "stdin" : "stdout";
  }
  return "";
}

}  // namespace wk::apps
