#include "distrib/request_queue.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace wk::distrib::internal {

std::string DefaultCongestion() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) [[unlikely]]
    return {};
  char name[16] = {};  // the kernel's TCP_CA_NAME_MAX
  socklen_t len = sizeof(name);
  std::string out;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) == 0) {
    out.assign(name, ::strnlen(name, len));
  }
  ::close(fd);
  return out;
}

int RequestQueueSeconds(const std::string& name) {
  constexpr int kLossBlind = 1, kLibtorrent = 3;
  const std::string used = name.empty() ? DefaultCongestion() : name;
  return used.starts_with("bbr") ? kLossBlind : kLibtorrent;
}

}  // namespace wk::distrib::internal
