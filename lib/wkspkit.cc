// The C API (include/wkspkit/wkspkit.h) over the C++ API of //wksp and
// //wksp/checkpt. Every exported function converts its arguments, calls the
// C++ API inside Boundary() (which turns an absl::Status into a
// wkspkit_err_t plus this thread's last-error message, and catches every
// exception), and writes its out parameters only on success.
#include "wkspkit/wkspkit.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/error_map.h"
#include "util/cancel.h"
#include "util/status.h"
#include "util/version.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

// The opaque handle: a join, and a magic number so that a pointer to
// something else (or to a handle already left, while its memory is still
// ours) is refused instead of used.
struct wkspkit_wksp {
  static constexpr uint64_t kLive = 0x776b73706b69743fULL;  // "wkspkit?"
  uint64_t magic = kLive;
  wk::wksp::Wksp wksp;
  explicit wkspkit_wksp(wk::wksp::Wksp w) : wksp(std::move(w)) {}
};

namespace {

namespace ws = wk::wksp;
namespace wc = wk::wksp_checkpt;

// This thread's last call: code, message, and whether a failed restore reset
// its workspace. A fixed buffer, not a std::string: recording a failure
// allocates nothing (so it cannot fail), and the record is trivially
// destructible, so no thread-exit destructor has to be registered on first
// use. Default TLS model: 2 KiB is too much to take from the static TLS that
// glibc keeps spare for dlopen'd libraries.
struct LastError {
  wkspkit_err_t code = WKSPKIT_OK;
  bool wksp_reset = false;
  char message[2048] = {};  // NUL-terminated; cut to fit (docs in the header)
};
constinit thread_local LastError t_last;
// Whether this thread's last call failed: what every call checks on its way
// in. A one-byte flag in the initial-exec TLS model (static TLS that glibc
// keeps spare for libraries, dlopen'd ones included), so a successful call
// costs no __tls_get_addr.
constinit thread_local bool t_failed
    __attribute__((tls_model("initial-exec"))) = false;

// Records a failure. A message longer than the buffer is cut and ends in
// "...".
wkspkit_err_t Fail(wkspkit_err_t code, std::string_view message,
                   bool wksp_reset = false) noexcept {
  t_failed = true;
  LastError& e = t_last;
  e.code = code;
  e.wksp_reset = wksp_reset;
  constexpr size_t kMax = sizeof(e.message) - 1;
  if (message.size() <= kMax) {
    std::memcpy(e.message, message.data(), message.size());
    e.message[message.size()] = '\0';
  } else {
    constexpr std::string_view kCut = "...";
    std::memcpy(e.message, message.data(), kMax - kCut.size());
    std::memcpy(e.message + kMax - kCut.size(), kCut.data(), kCut.size());
    e.message[kMax] = '\0';
  }
  return code;
}

wkspkit_err_t Fail(const absl::Status& status) noexcept {
  const absl::string_view m = status.message();
  return Fail(wkspkit::ErrFromStatus(status),
              std::string_view(m.data(), m.size()),
              wc::IsWorkspaceReset(status));
}

// Runs one C API call whose body returns the code itself (and records a
// failure with Fail): clears the last error, catches every exception.
template <typename F>
wkspkit_err_t BoundaryCode(F&& body) noexcept {
  if (t_failed) [[unlikely]] {
    t_failed = false;
    LastError& e = t_last;
    e.code = WKSPKIT_OK;
    e.wksp_reset = false;
    e.message[0] = '\0';
  }
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(WKSPKIT_ERR_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception& e) {
    return Fail(WKSPKIT_ERR_INTERNAL,
                std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return Fail(WKSPKIT_ERR_INTERNAL, "unexpected exception");
  }
}

// Runs one C API call whose body returns an absl::Status: BoundaryCode plus
// the mapping of a failed status.
template <typename F>
wkspkit_err_t Boundary(F&& body) noexcept {
  return BoundaryCode([&]() -> wkspkit_err_t {
    absl::Status status = body();
    if (!status.ok()) [[unlikely]]
      return Fail(status);
    return WKSPKIT_OK;
  });
}

absl::Status NullArg(const char* what) {
  return absl::InvalidArgumentError(std::string(what) + " is NULL");
}

// Why handle `w` is not live; the cold half of Live.
[[gnu::cold, gnu::noinline]] absl::Status NotLive(const wkspkit_wksp_t* w) {
  if (w == nullptr) return NullArg("workspace handle");
  return absl::InvalidArgumentError(
      "not a live workspace handle (already left with wkspkit_leave, or "
      "not from wkspkit_create/wkspkit_join)");
}

// Whether `w` is a handle from create/join not yet left. Inlined into every
// call: the check is two loads and a compare, and the hot calls (alloc,
// free) cost about 90 ns each, so a call and a StatusOr round trip showed.
[[gnu::always_inline]] inline bool IsLive(const wkspkit_wksp_t* w) {
  return w != nullptr && w->magic == wkspkit_wksp::kLive;
}

// The join behind handle `w`, or InvalidArgument.
[[gnu::always_inline]] inline absl::StatusOr<ws::Wksp*> Live(
    const wkspkit_wksp_t* w) {
  if (!IsLive(w)) [[unlikely]]
    return NotLive(w);
  return const_cast<ws::Wksp*>(&w->wksp);
}

// Copies the caller's versioned options struct over `defaults`: only the
// first struct_size bytes it declares (an older, smaller struct leaves the
// newer fields at their defaults).
template <typename T>
absl::StatusOr<T> ReadOpts(const T* given, T defaults, const char* what) {
  if (given == nullptr) return defaults;
  const uint32_t n = given->struct_size;
  if (n < sizeof(uint32_t) || n > sizeof(T)) {
    return absl::InvalidArgumentError(
        std::string(what) + ".struct_size is " + std::to_string(n) +
        ": initialize the struct with its _opts_init function");
  }
  std::memcpy(&defaults, given, n);
  defaults.struct_size = sizeof(T);
  return defaults;
}

absl::StatusOr<ws::PageSize> PageSizeOf(uint64_t bytes) {
  for (ws::PageSize p : ws::kPageSizes)
    if (static_cast<uint64_t>(p) == bytes) return p;
  return absl::InvalidArgumentError(
      "page_size " + std::to_string(bytes) +
      " is not a page size: use WKSPKIT_PAGE_NORMAL, _HUGE or _GIGANTIC");
}

std::span<const uint64_t> Tags(const uint64_t* tags, size_t cnt) {
  return {tags, tags == nullptr ? 0 : cnt};
}

absl::Status CheckTags(const uint64_t* tags, size_t cnt) {
  if (tags == nullptr && cnt != 0) return NullArg("tags (with tag_cnt > 0)");
  return absl::OkStatus();
}

void CopyName(char (&field)[WKSPKIT_NAME_MAX + 1], std::string_view name) {
  const size_t n = std::min(name.size(), size_t{WKSPKIT_NAME_MAX});
  std::memcpy(field, name.data(), n);
  std::memset(field + n, 0, sizeof(field) - n);
}

wc::ProgressFn Progress(wkspkit_progress_fn fn, void* arg) {
  if (fn == nullptr) return nullptr;
  return [fn, arg](uint64_t done, uint64_t total) { fn(arg, done, total); };
}

int StyleOut(wc::Style style) { return wc::StyleNumber(style); }

using CreateFn = absl::StatusOr<ws::Wksp> (*)(std::string_view, uint64_t,
                                              uint64_t,
                                              const ws::CreateOptions&);

wkspkit_err_t CreateWith(CreateFn fn, const char* name, uint64_t part_max,
                         uint64_t data_max, const wkspkit_create_opts_t* opts,
                         wkspkit_wksp_t** out) {
  return Boundary([&]() -> absl::Status {
    if (name == nullptr) return NullArg("name");
    if (out == nullptr) return NullArg("out");
    wkspkit_create_opts_t d;
    wkspkit_create_opts_init(&d);
    WK_ASSIGN_OR_RETURN(wkspkit_create_opts_t o,
                        ReadOpts(opts, d, "wkspkit_create_opts_t"));
    ws::CreateOptions co;
    WK_ASSIGN_OR_RETURN(co.page_size, PageSizeOf(o.page_size));
    co.seed = o.seed;
    co.mode = static_cast<mode_t>(o.mode);
    co.cpu_idx = o.cpu_idx;
    WK_ASSIGN_OR_RETURN(ws::Wksp w, fn(name, part_max, data_max, co));
    *out = new wkspkit_wksp(std::move(w));
    return absl::OkStatus();
  });
}

}  // namespace

extern "C" {

const char* wkspkit_err_name(wkspkit_err_t err) {
  return wkspkit::ErrName(err);
}

const char* wkspkit_last_error(void) { return t_failed ? t_last.message : ""; }

wkspkit_err_t wkspkit_last_error_code(void) {
  return t_failed ? t_last.code : WKSPKIT_OK;
}

int wkspkit_last_error_wksp_reset(void) {
  return t_failed && t_last.wksp_reset ? 1 : 0;
}

const char* wkspkit_version(void) { return wk::kVersion; }

void wkspkit_request_cancel(int signo) {
  if (signo > 0) wk::RequestCancel(signo);
}

int wkspkit_cancel_signal(void) { return wk::CancelSignal(); }

wkspkit_err_t wkspkit_set_shmem_root(const char* dir) {
  return Boundary([&]() -> absl::Status {
    if (dir != nullptr && dir[0] != '\0' && dir[0] != '/') {
      return absl::InvalidArgumentError(
          std::string("shared-memory root \"") + dir +
          "\" is relative: give an absolute directory");
    }
    ws::SetShmemRoot(dir == nullptr ? "" : dir);
    return absl::OkStatus();
  });
}

void wkspkit_create_opts_init(wkspkit_create_opts_t* opts) {
  if (opts == nullptr) return;
  *opts = {};
  opts->struct_size = sizeof(*opts);
  opts->page_size = WKSPKIT_PAGE_NORMAL;
  opts->seed = 0;
  opts->mode = 0600;
  opts->cpu_idx = -1;
}

void wkspkit_join_opts_init(wkspkit_join_opts_t* opts) {
  if (opts == nullptr) return;
  *opts = {};
  opts->struct_size = sizeof(*opts);
}

wkspkit_err_t wkspkit_footprint(uint64_t part_max, uint64_t data_max,
                                uint64_t* out_footprint) {
  return Boundary([&]() -> absl::Status {
    if (out_footprint == nullptr) return NullArg("out_footprint");
    WK_ASSIGN_OR_RETURN(uint64_t fp, ws::Wksp::Footprint(part_max, data_max));
    *out_footprint = fp;
    return absl::OkStatus();
  });
}

uint64_t wkspkit_part_max_est(uint64_t footprint, uint64_t sz_typical) {
  return ws::Wksp::PartMaxEst(footprint, sz_typical);
}

uint64_t wkspkit_data_max_est(uint64_t footprint, uint64_t part_max) {
  return ws::Wksp::DataMaxEst(footprint, part_max);
}

wkspkit_err_t wkspkit_create(const char* name, uint64_t part_max,
                             uint64_t data_max,
                             const wkspkit_create_opts_t* opts,
                             wkspkit_wksp_t** out) {
  return CreateWith(&ws::Wksp::Create, name, part_max, data_max, opts, out);
}

wkspkit_err_t wkspkit_create_anonymous(const char* name, uint64_t part_max,
                                       uint64_t data_max,
                                       const wkspkit_create_opts_t* opts,
                                       wkspkit_wksp_t** out) {
  return CreateWith(&ws::Wksp::CreateAnonymous, name, part_max, data_max, opts,
                    out);
}

wkspkit_err_t wkspkit_join(const char* name, const wkspkit_join_opts_t* opts,
                           wkspkit_wksp_t** out) {
  return Boundary([&]() -> absl::Status {
    if (name == nullptr) return NullArg("name");
    if (out == nullptr) return NullArg("out");
    wkspkit_join_opts_t d;
    wkspkit_join_opts_init(&d);
    WK_ASSIGN_OR_RETURN(wkspkit_join_opts_t o,
                        ReadOpts(opts, d, "wkspkit_join_opts_t"));
    WK_ASSIGN_OR_RETURN(ws::Wksp w, ws::Wksp::Join(name, o.read_only != 0));
    *out = new wkspkit_wksp(std::move(w));
    return absl::OkStatus();
  });
}

void wkspkit_leave(wkspkit_wksp_t* w) {
  if (!IsLive(w)) return;
  w->magic = 0;
  delete w;
}

wkspkit_err_t wkspkit_delete(const char* name) {
  return Boundary([&]() -> absl::Status {
    if (name == nullptr) return NullArg("name");
    return ws::Wksp::Delete(name);
  });
}

wkspkit_err_t wkspkit_info(const wkspkit_wksp_t* w, wkspkit_info_t* out) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    if (out == nullptr) return NullArg("out");
    wkspkit_info_t i = {};
    CopyName(i.name, j->name());
    i.seed = j->seed();
    i.part_max = j->part_max();
    i.data_max = j->data_max();
    i.gaddr_lo = j->gaddr_lo();
    i.gaddr_hi = j->gaddr_hi();
    i.footprint = j->footprint();
    i.page_size = static_cast<uint64_t>(j->page_size());
    i.read_only = j->read_only() ? 1 : 0;
    *out = i;
    return absl::OkStatus();
  });
}

void* wkspkit_laddr(const wkspkit_wksp_t* w, uint64_t gaddr) {
  if (!IsLive(w)) return nullptr;
  return w->wksp.laddr(gaddr);
}

uint64_t wkspkit_gaddr(const wkspkit_wksp_t* w, const void* laddr) {
  if (!IsLive(w)) return 0;
  return w->wksp.gaddr(laddr);
}

// Alloc and free are the calls programs make in their hot loops, so they
// skip the Status round trips of Boundary: the handle check falls to the
// cold NotLive, and a failure is recorded straight from the C++ API's status.
// Their frames hold no array (only the C++ API's returned status), so the
// stack-protector canary, a tenth of their own instructions, guards nothing.
[[gnu::no_stack_protector]] wkspkit_err_t wkspkit_alloc(wkspkit_wksp_t* w,
                                                        uint64_t align,
                                                        uint64_t sz,
                                                        uint64_t tag,
                                                        uint64_t* out_gaddr) {
  return BoundaryCode([&]() -> wkspkit_err_t {
    if (!IsLive(w)) [[unlikely]]
      return Fail(NotLive(w));
    if (out_gaddr == nullptr) [[unlikely]]
      return Fail(NullArg("out_gaddr"));
    absl::StatusOr<ws::PartitionInfo> part =
        w->wksp.AllocAtLeast(align, sz, tag);
    if (!part.ok()) [[unlikely]]
      return Fail(part.status());
    *out_gaddr = part->lo;
    return WKSPKIT_OK;
  });
}

[[gnu::no_stack_protector]] wkspkit_err_t wkspkit_free(wkspkit_wksp_t* w,
                                                       uint64_t gaddr) {
  return BoundaryCode([&]() -> wkspkit_err_t {
    if (!IsLive(w)) [[unlikely]]
      return Fail(NotLive(w));
    absl::Status freed = w->wksp.Free(gaddr);
    if (!freed.ok()) [[unlikely]]
      return Fail(freed);
    return WKSPKIT_OK;
  });
}

wkspkit_err_t wkspkit_tag(wkspkit_wksp_t* w, uint64_t gaddr,
                          uint64_t* out_tag) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    if (out_tag == nullptr) return NullArg("out_tag");
    WK_ASSIGN_OR_RETURN(uint64_t t, j->Tag(gaddr));
    *out_tag = t;
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_tag_query(wkspkit_wksp_t* w, const uint64_t* tags,
                                size_t tag_cnt, wkspkit_partition_t* out,
                                size_t out_max, size_t* out_cnt) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    WK_RETURN_IF_ERROR(CheckTags(tags, tag_cnt));
    if (out == nullptr && out_max != 0)
      return NullArg("out (with out_max > 0)");
    if (out_cnt == nullptr) return NullArg("out_cnt");
    WK_ASSIGN_OR_RETURN(std::vector<ws::PartitionInfo> parts,
                        j->TagQuery(Tags(tags, tag_cnt)));
    const size_t n = std::min(parts.size(), out_max);
    for (size_t i = 0; i < n; ++i)
      out[i] = {parts[i].lo, parts[i].hi, parts[i].tag};
    *out_cnt = parts.size();
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_tag_free(wkspkit_wksp_t* w, const uint64_t* tags,
                               size_t tag_cnt, uint64_t* out_freed) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    WK_RETURN_IF_ERROR(CheckTags(tags, tag_cnt));
    WK_ASSIGN_OR_RETURN(uint64_t n, j->TagFree(Tags(tags, tag_cnt)));
    if (out_freed != nullptr) *out_freed = n;
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_memset(wkspkit_wksp_t* w, uint64_t gaddr, int c) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    return j->Memset(gaddr, c);
  });
}

wkspkit_err_t wkspkit_usage(wkspkit_wksp_t* w, const uint64_t* tags,
                            size_t tag_cnt, wkspkit_usage_t* out) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    WK_RETURN_IF_ERROR(CheckTags(tags, tag_cnt));
    if (out == nullptr) return NullArg("out");
    WK_ASSIGN_OR_RETURN(ws::Usage u, j->GetUsage(Tags(tags, tag_cnt)));
    *out = {u.total_max, u.total_cnt,   u.total_sz, u.free_cnt,
            u.free_sz,   u.used_cnt,    u.used_sz,  u.tagged_cnt,
            u.tagged_sz, u.largest_free};
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_reset(wkspkit_wksp_t* w, uint32_t seed) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    return j->Reset(seed);
  });
}

wkspkit_err_t wkspkit_verify(wkspkit_wksp_t* w) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    return j->Verify();
  });
}

wkspkit_err_t wkspkit_lock_holder(const wkspkit_wksp_t* w,
                                  wkspkit_lock_holder_t* out, int* out_held) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    if (out == nullptr) return NullArg("out");
    if (out_held == nullptr) return NullArg("out_held");
    std::optional<ws::LockHolder> h = j->CurrentLockHolder();
    *out_held = h.has_value() ? 1 : 0;
    if (!h) return absl::OkStatus();
    wkspkit_lock_holder_t r = {};
    r.tid = h->tid;
    r.pid = h->pid;
    r.pid_ns = h->pid_ns;
    r.same_pid_ns = h->same_pid_ns ? 1 : 0;
    r.since_unix_ns = h->since_unix_ns;
    switch (h->liveness) {
      case ws::Liveness::kAlive:
        r.liveness = WKSPKIT_LIVENESS_ALIVE;
        break;
      case ws::Liveness::kDead:
        r.liveness = WKSPKIT_LIVENESS_DEAD;
        break;
      case ws::Liveness::kUnknown:
        r.liveness = WKSPKIT_LIVENESS_UNKNOWN;
        break;
    }
    const size_t n = std::min(h->cmd.size(), sizeof(r.cmd) - 1);
    std::memcpy(r.cmd, h->cmd.data(), n);
    *out = r;
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_restore_mark(const wkspkit_wksp_t* w,
                                   wkspkit_restore_mark_t* out,
                                   int* out_marked) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    if (out == nullptr) return NullArg("out");
    if (out_marked == nullptr) return NullArg("out_marked");
    std::optional<ws::RestoreMark> m = j->CurrentRestoreMark();
    *out_marked = m.has_value() ? 1 : 0;
    if (m) {
      *out = {m->pid, m->pid_ns, m->same_pid_ns ? 1 : 0, m->since_unix_s,
              m->in_progress ? 1 : 0};
    }
    return absl::OkStatus();
  });
}

void wkspkit_checkpt_opts_init(wkspkit_checkpt_opts_t* opts) {
  if (opts == nullptr) return;
  *opts = {};
  opts->struct_size = sizeof(*opts);
  opts->style = WKSPKIT_STYLE_DEFAULT;
  opts->mode = 0600;
  opts->threads = 1;
  opts->durable = 1;
  opts->sealed = 1;
  opts->index = 1;
}

void wkspkit_restore_opts_init(wkspkit_restore_opts_t* opts) {
  if (opts == nullptr) return;
  *opts = {};
  opts->struct_size = sizeof(*opts);
  opts->threads = 1;
}

}  // extern "C"

namespace {

// The C options as the C++ API's, and the call's cancel flag in *cancel
// (util/cancel.h: the caller scopes it around the call).
absl::StatusOr<wc::CheckptOptions> CheckptOpts(
    const wkspkit_checkpt_opts_t* opts, const int** cancel) {
  wkspkit_checkpt_opts_t d;
  wkspkit_checkpt_opts_init(&d);
  WK_ASSIGN_OR_RETURN(wkspkit_checkpt_opts_t o,
                      ReadOpts(opts, d, "wkspkit_checkpt_opts_t"));
  wc::CheckptOptions c;
  std::optional<wc::Style> style =
      o.style < 0 ? std::nullopt : wc::StyleFromNumber(o.style);
  if (!style) {
    return absl::InvalidArgumentError(
        "checkpoint style " + std::to_string(o.style) +
        " is unknown: use WKSPKIT_STYLE_DEFAULT, _V1, _V2 or _V3");
  }
  c.style = *style;
  c.mode = static_cast<mode_t>(o.mode);
  if (o.uinfo != nullptr) {
    const size_t n = std::strlen(o.uinfo);
    if (n > wc::kUinfoMaxLen) {
      return absl::InvalidArgumentError(
          "uinfo is " + std::to_string(n) + " bytes; at most " +
          std::to_string(wc::kUinfoMaxLen) + " are stored");
    }
    c.uinfo.assign(o.uinfo, n);
  }
  c.threads = o.threads;
  c.durable = o.durable != 0;
  c.deterministic = o.deterministic != 0;
  c.sealed = o.sealed != 0;
  c.index = o.index != 0;
  c.progress = Progress(o.progress, o.progress_arg);
  *cancel = o.cancel;  // NULL from the defaults when struct_size ends before it
  return c;
}

absl::StatusOr<wc::RestoreOptions> RestoreOpts(
    const wkspkit_restore_opts_t* opts, const int** cancel) {
  wkspkit_restore_opts_t d;
  wkspkit_restore_opts_init(&d);
  WK_ASSIGN_OR_RETURN(wkspkit_restore_opts_t o,
                      ReadOpts(opts, d, "wkspkit_restore_opts_t"));
  wc::RestoreOptions r;
  if (o.set_seed) r.seed = o.seed;
  r.threads = o.threads;
  r.progress = Progress(o.progress, o.progress_arg);
  *cancel = o.cancel;
  return r;
}

absl::Status CheckFd(int fd) {
  if (fd < 0) {
    return absl::InvalidArgumentError("descriptor " + std::to_string(fd) +
                                      " is negative");
  }
  return absl::OkStatus();
}

void FillReport(const wc::VerifyReport& v, wkspkit_verify_report_t* out) {
  if (out == nullptr) return;
  *out = {StyleOut(v.style), v.sealed ? 1 : 0, v.allocs, v.data_bytes,
          v.file_bytes};
}

}  // namespace

extern "C" {

wkspkit_err_t wkspkit_checkpt(wkspkit_wksp_t* w, const char* path,
                              const wkspkit_checkpt_opts_t* opts) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    if (path == nullptr) return NullArg("path");
    const int* cancel = nullptr;
    WK_ASSIGN_OR_RETURN(wc::CheckptOptions c, CheckptOpts(opts, &cancel));
    wk::ScopedCallCancel scope(cancel);
    return wc::Checkpt(*j, path, c);
  });
}

wkspkit_err_t wkspkit_checkpt_fd(wkspkit_wksp_t* w, int fd,
                                 const wkspkit_checkpt_opts_t* opts) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    WK_RETURN_IF_ERROR(CheckFd(fd));
    const int* cancel = nullptr;
    WK_ASSIGN_OR_RETURN(wc::CheckptOptions c, CheckptOpts(opts, &cancel));
    wk::ScopedCallCancel scope(cancel);
    return wc::CheckptFd(*j, fd, c);
  });
}

void wkspkit_set_sigbus_guard(int enabled) { wc::SetSigbusGuard(enabled != 0); }

wkspkit_err_t wkspkit_restore(wkspkit_wksp_t* w, const char* path,
                              const wkspkit_restore_opts_t* opts) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    if (path == nullptr) return NullArg("path");
    const int* cancel = nullptr;
    WK_ASSIGN_OR_RETURN(wc::RestoreOptions r, RestoreOpts(opts, &cancel));
    wk::ScopedCallCancel scope(cancel);
    return wc::Restore(*j, path, r);
  });
}

wkspkit_err_t wkspkit_restore_fd(wkspkit_wksp_t* w, int fd,
                                 const wkspkit_restore_opts_t* opts) {
  return Boundary([&]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(ws::Wksp * j, Live(w));
    WK_RETURN_IF_ERROR(CheckFd(fd));
    const int* cancel = nullptr;
    WK_ASSIGN_OR_RETURN(wc::RestoreOptions r, RestoreOpts(opts, &cancel));
    wk::ScopedCallCancel scope(cancel);
    return wc::RestoreFd(*j, fd, r);
  });
}

wkspkit_err_t wkspkit_preview(const char* path, wkspkit_preview_t* out) {
  return Boundary([&]() -> absl::Status {
    if (path == nullptr) return NullArg("path");
    if (out == nullptr) return NullArg("out");
    WK_ASSIGN_OR_RETURN(wc::Preview p, wc::PreviewCheckpt(path));
    wkspkit_preview_t r = {};
    r.style = StyleOut(p.style);
    r.seed = p.seed;
    r.part_max = p.part_max;
    r.data_max = p.data_max;
    CopyName(r.name, p.name);
    *out = r;
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_verify_checkpt(const char* path, uint32_t threads,
                                     wkspkit_verify_report_t* out) {
  return Boundary([&]() -> absl::Status {
    if (path == nullptr) return NullArg("path");
    WK_ASSIGN_OR_RETURN(wc::VerifyReport v,
                        wc::VerifyCheckpt(path, {.threads = threads}));
    FillReport(v, out);
    return absl::OkStatus();
  });
}

wkspkit_err_t wkspkit_verify_checkpt_fd(int fd, uint32_t threads,
                                        wkspkit_verify_report_t* out) {
  return Boundary([&]() -> absl::Status {
    WK_RETURN_IF_ERROR(CheckFd(fd));
    WK_ASSIGN_OR_RETURN(wc::VerifyReport v,
                        wc::VerifyCheckptFd(fd, {.threads = threads}));
    FillReport(v, out);
    return absl::OkStatus();
  });
}

}  // extern "C"
