// The info record of a new checkpoint: where, when and by whom it is made.
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lz4.h"
#include "util/clock.h"
#include "util/version.h"
#include "wksp/checkpt/internal.h"

namespace wk::wksp_checkpt::internal {
namespace {

static_assert(kUinfoMaxLen == format::kInfoStrMax - 1,
              "the public limit is the format's, less its NUL");

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "?";
  return buf;
}

std::string UserName() {
  struct passwd pw, *result = nullptr;
  char buf[1024];
  if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &result) == 0 && result) {
    return result->pw_name;
  }
  return absl::StrFormat("%d", getuid());
}

std::string ThreadName() {
  char buf[32] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return "?";
  return buf;
}

// v3 bytes depend on the LZ4 library that compressed them (§1.4), so the
// build info names its version; v1 and v2 bytes do not.
std::string Lz4Line(Style style) {
  if (style == Style::kV1 || style == Style::kV2) return "lz4 unused\n";
  return absl::StrFormat("lz4 %s\n", LZ4_versionString());
}

format::Info DeterministicInfo(const CheckptOptions& options) {
  format::Info info;  // wallclock and every id stay 0
  info.mode = options.mode;
  info.app = kDeterministicApp;
  info.thread = info.host = info.cpu = info.group = info.user =
      kDeterministicLogStr;
  info.path = kDeterministicPath;
  info.binfo = absl::StrCat("wkspkit deterministic checkpoint writer\n",
                            Lz4Line(options.style));
  info.uinfo = options.uinfo;
  return info;
}

}  // namespace

format::Info MakeInfo(const std::string& path, const CheckptOptions& options) {
  if (options.deterministic) return DeterministicInfo(options);
  const mode_t mode = options.mode;
  const std::string& uinfo = options.uinfo;
  format::Info info;
  int cpu = sched_getcpu();
  info.mode = mode;
  info.wallclock = WallclockNs();
  info.app_id = 0;
  info.thread_id = 0;
  info.host_id = static_cast<uint64_t>(gethostid()) & 0xFFFFFFFFULL;
  info.cpu_id = cpu < 0 ? 0 : static_cast<uint64_t>(cpu);
  info.group_id = static_cast<uint64_t>(getpid());
  info.tid = static_cast<uint64_t>(syscall(SYS_gettid));
  info.user_id = getuid();
  info.app = program_invocation_short_name;
  info.thread = ThreadName();
  info.host = Hostname();
  info.cpu = absl::StrFormat("%d", cpu);
  info.group = program_invocation_short_name;
  info.user = UserName();
  info.path = path;
  info.binfo =
      absl::StrFormat("wkspkit %s checkpoint writer\ncompiler %s\n%s",
                      kVersion, __VERSION__, Lz4Line(options.style));
  info.uinfo = uinfo;
  return info;
}

}  // namespace wk::wksp_checkpt::internal
