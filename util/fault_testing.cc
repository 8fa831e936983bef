// The injector armed by WKSP_FAULT_AT (fault.h), installed at startup into
// every binary that links //util:fault_testing (tests and wksp_ctl_testing).
#include "util/fault.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace wk {
namespace {

constexpr char kEnvVar[] = "WKSP_FAULT_AT";

struct Spec {
  bool armed = false;
  FaultEvent event = FaultEvent::kRead;
  uint64_t n = 0;
  bool onward = false;  // "n+": the n-th event and every later one
  int signo = SIGKILL;  // 0: inject errno instead
  int err = 0;
};

struct Named {
  const char* name;
  FaultEvent event;
};
constexpr Named kEvents[] = {
    {"read", FaultEvent::kRead},           {"write", FaultEvent::kWrite},
    {"sync", FaultEvent::kSync},           {"publish", FaultEvent::kPublish},
    {"published", FaultEvent::kPublished}, {"frame", FaultEvent::kFrame},
    {"scanned", FaultEvent::kScanned},     {"header", FaultEvent::kHeader},
    {"alert", FaultEvent::kAlert},
};

bool ParseAction(std::string_view a, Spec* s) {
  struct Action {
    const char* name;
    int signo;
    int err;
  };
  constexpr Action kActions[] = {
      {"kill", SIGKILL, 0}, {"int", SIGINT, 0},     {"term", SIGTERM, 0},
      {"hup", SIGHUP, 0},   {"stop", SIGSTOP, 0},   {"enospc", 0, ENOSPC},
      {"eio", 0, EIO},      {"drop", 0, ECANCELED},
  };
  for (const Action& x : kActions) {
    if (a == x.name) {
      s->signo = x.signo;
      s->err = x.err;
      return true;
    }
  }
  return false;
}

bool Parse(std::string_view v, Spec* s) {
  size_t c1 = v.find(':');
  if (c1 == std::string_view::npos) return false;
  std::string_view ev = v.substr(0, c1), rest = v.substr(c1 + 1);
  size_t c2 = rest.find(':');
  std::string_view num = rest.substr(0, c2);
  if (!num.empty() && num.back() == '+') {
    s->onward = true;
    num.remove_suffix(1);
  }
  if (c2 != std::string_view::npos && !ParseAction(rest.substr(c2 + 1), s)) {
    return false;
  }
  bool found = false;
  for (const Named& e : kEvents) {
    if (ev == e.name) {
      s->event = e.event;
      found = true;
    }
  }
  if (!found || num.empty() || num.size() > 18) return false;
  uint64_t n = 0;
  for (char ch : num) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (n == 0) return false;
  s->n = n;
  s->armed = true;
  return true;
}

const Spec& TheSpec() {
  static const Spec spec = [] {
    Spec s;
    const char* v = std::getenv(kEnvVar);
    if (v && *v && !Parse(v, &s)) {
      std::fprintf(stderr,
                   "wkspkit: ignoring %s=\"%s\" (want "
                   "read|write|sync|publish|published|frame|scanned|header|"
                   "alert:N[+][:kill|int|term|hup|stop|enospc|eio|drop])\n",
                   kEnvVar, v);
      s = Spec{};
    }
    return s;
  }();
  return spec;
}

std::atomic<uint64_t> g_count{0};

int Fire(FaultEvent event) {
  const Spec& s = TheSpec();
  if (event != s.event) return 0;
  const uint64_t i = g_count.fetch_add(1) + 1;
  if (s.onward ? i < s.n : i != s.n) return 0;
  if (s.signo == 0) return s.err;
  std::raise(s.signo);
  return 0;
}

// Installs Fire before main when the variable arms it.
[[maybe_unused]] const bool g_installed = [] {
  if (TheSpec().armed) SetFaultHook(&Fire);
  return true;
}();

}  // namespace
}  // namespace wk
