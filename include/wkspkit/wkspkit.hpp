// wkspkit for C++: a header-only wrapper over the C API (wkspkit/wkspkit.h).
// C++17 or later, no dependency but the C library: it ties a program to
// libwkspkit.so's C ABI only, not to a compiler, standard library or abseil
// version (docs/LIBRARY.md says why).
//
// Errors are exceptions: every failing C call throws wkspkit::Error carrying
// its wkspkit_err_t class and message; what a failure leaves behind is what
// the C function's contract says. Workspace is a move-only RAII join: its
// destructor leaves (wkspkit_leave). Threads: as the C API (a Workspace may
// be used from many threads; destroy it last).
#ifndef WKSPKIT_WKSPKIT_HPP_
#define WKSPKIT_WKSPKIT_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "wkspkit/wkspkit.h"

namespace wkspkit {

class Error : public std::runtime_error {
 public:
  Error(wkspkit_err_t code, const std::string& message, bool wksp_reset = false)
      : std::runtime_error(message), code_(code), wksp_reset_(wksp_reset) {}
  wkspkit_err_t code() const noexcept { return code_; }
  // True for a restore that failed after it started writing: the workspace
  // was reset to empty.
  bool wksp_reset() const noexcept { return wksp_reset_; }

 private:
  wkspkit_err_t code_;
  bool wksp_reset_;
};

// Throws the last error when `err` is not WKSPKIT_OK.
inline void Check(wkspkit_err_t err) {
  if (err == WKSPKIT_OK) return;
  throw Error(err,
              std::string(wkspkit_err_name(err)) + ": " + wkspkit_last_error(),
              wkspkit_last_error_wksp_reset() != 0);
}

// Progress as a callable: (done, total). Must not throw (it runs inside the
// library, which cannot unwind a C++ exception); an exception thrown by it
// terminates the program.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

namespace detail {
inline void CallProgress(void* arg, uint64_t done, uint64_t total) noexcept {
  (*static_cast<const Progress*>(arg))(done, total);
}
// The C API reads the flag as a plain int with atomic loads.
static_assert(sizeof(std::atomic<int>) == sizeof(int) &&
                  std::atomic<int>::is_always_lock_free,
              "std::atomic<int> must be a lock-free int");
inline const int* CancelFlag(const std::atomic<int>* flag) noexcept {
  return reinterpret_cast<const int*>(flag);
}
}  // namespace detail

struct CheckptOptions {
  int style = WKSPKIT_STYLE_DEFAULT;
  uint32_t mode = 0600;
  std::string uinfo;
  uint32_t threads = 1;  // 0: every CPU
  bool durable = true;
  bool deterministic = false;
  bool sealed = true;
  bool index = true;  // PATH.wkspidx beside a sealed v2/v3 file
  Progress progress;
  // This call's stop flag (wkspkit_checkpt_opts_t.cancel): storing nonzero,
  // from any thread, stops it with a CANCELLED Error. Must outlive the call.
  const std::atomic<int>* cancel = nullptr;
};

struct RestoreOptions {
  std::optional<uint32_t> seed;  // none: keep the target's
  uint32_t threads = 1;
  Progress progress;
  const std::atomic<int>* cancel = nullptr;  // as CheckptOptions::cancel
};

struct CreateOptions {
  uint64_t page_size = WKSPKIT_PAGE_NORMAL;
  uint32_t seed = 0;
  uint32_t mode = 0600;
  int32_t cpu_idx = -1;
};

class Workspace {
 public:
  static Workspace Create(const std::string& name, uint64_t part_max,
                          uint64_t data_max, const CreateOptions& o = {}) {
    wkspkit_create_opts_t c = ToC(o);
    wkspkit_wksp_t* w = nullptr;
    Check(wkspkit_create(name.c_str(), part_max, data_max, &c, &w));
    return Workspace(w);
  }
  static Workspace CreateAnonymous(const std::string& name, uint64_t part_max,
                                   uint64_t data_max,
                                   const CreateOptions& o = {}) {
    wkspkit_create_opts_t c = ToC(o);
    wkspkit_wksp_t* w = nullptr;
    Check(wkspkit_create_anonymous(name.c_str(), part_max, data_max, &c, &w));
    return Workspace(w);
  }
  static Workspace Join(const std::string& name, bool read_only = false) {
    wkspkit_join_opts_t j;
    wkspkit_join_opts_init(&j);
    j.read_only = read_only ? 1 : 0;
    wkspkit_wksp_t* w = nullptr;
    Check(wkspkit_join(name.c_str(), &j, &w));
    return Workspace(w);
  }
  static void Delete(const std::string& name) {
    Check(wkspkit_delete(name.c_str()));
  }

  Workspace(Workspace&& o) noexcept : w_(std::exchange(o.w_, nullptr)) {}
  Workspace& operator=(Workspace&& o) noexcept {
    if (this != &o) {
      wkspkit_leave(w_);
      w_ = std::exchange(o.w_, nullptr);
    }
    return *this;
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() { wkspkit_leave(w_); }

  // The C handle, for calls this wrapper does not cover; still owned here.
  wkspkit_wksp_t* get() const noexcept { return w_; }

  wkspkit_info_t Info() const {
    wkspkit_info_t i;
    Check(wkspkit_info(w_, &i));
    return i;
  }
  void* Laddr(uint64_t gaddr) const noexcept {
    return wkspkit_laddr(w_, gaddr);
  }
  template <typename T>
  T* Laddr(uint64_t gaddr) const noexcept {
    return static_cast<T*>(wkspkit_laddr(w_, gaddr));
  }
  uint64_t Gaddr(const void* laddr) const noexcept {
    return wkspkit_gaddr(w_, laddr);
  }

  uint64_t Alloc(uint64_t sz, uint64_t tag, uint64_t align = 0) {
    uint64_t g = 0;
    Check(wkspkit_alloc(w_, align, sz, tag, &g));
    return g;
  }
  void Free(uint64_t gaddr) { Check(wkspkit_free(w_, gaddr)); }
  uint64_t Tag(uint64_t gaddr) {
    uint64_t t = 0;
    Check(wkspkit_tag(w_, gaddr, &t));
    return t;
  }
  std::vector<wkspkit_partition_t> TagQuery(const std::vector<uint64_t>& tags) {
    std::vector<wkspkit_partition_t> out;
    for (;;) {  // the count can grow between two calls
      size_t n = 0;
      Check(wkspkit_tag_query(w_, tags.data(), tags.size(), out.data(),
                              out.size(), &n));
      if (n <= out.size()) {
        out.resize(n);
        return out;
      }
      out.resize(n);
    }
  }
  uint64_t TagFree(const std::vector<uint64_t>& tags) {
    uint64_t n = 0;
    Check(wkspkit_tag_free(w_, tags.data(), tags.size(), &n));
    return n;
  }
  void Memset(uint64_t gaddr, int c) { Check(wkspkit_memset(w_, gaddr, c)); }
  wkspkit_usage_t Usage(const std::vector<uint64_t>& tags = {}) {
    wkspkit_usage_t u;
    Check(wkspkit_usage(w_, tags.data(), tags.size(), &u));
    return u;
  }
  void Reset(uint32_t seed) { Check(wkspkit_reset(w_, seed)); }
  void Verify() { Check(wkspkit_verify(w_)); }
  std::optional<wkspkit_lock_holder_t> LockHolder() const {
    wkspkit_lock_holder_t h;
    int held = 0;
    Check(wkspkit_lock_holder(w_, &h, &held));
    return held ? std::optional(h) : std::nullopt;
  }
  std::optional<wkspkit_restore_mark_t> RestoreMark() const {
    wkspkit_restore_mark_t m;
    int marked = 0;
    Check(wkspkit_restore_mark(w_, &m, &marked));
    return marked ? std::optional(m) : std::nullopt;
  }

  void Checkpt(const std::string& path, const CheckptOptions& o = {}) {
    wkspkit_checkpt_opts_t c = ToC(o);
    Check(wkspkit_checkpt(w_, path.c_str(), &c));
  }
  void CheckptFd(int fd, const CheckptOptions& o = {}) {
    wkspkit_checkpt_opts_t c = ToC(o);
    Check(wkspkit_checkpt_fd(w_, fd, &c));
  }
  void Restore(const std::string& path, const RestoreOptions& o = {}) {
    wkspkit_restore_opts_t r = ToC(o);
    Check(wkspkit_restore(w_, path.c_str(), &r));
  }
  void RestoreFd(int fd, const RestoreOptions& o = {}) {
    wkspkit_restore_opts_t r = ToC(o);
    Check(wkspkit_restore_fd(w_, fd, &r));
  }

 private:
  explicit Workspace(wkspkit_wksp_t* w) noexcept : w_(w) {}
  static wkspkit_create_opts_t ToC(const CreateOptions& o) {
    wkspkit_create_opts_t c;
    wkspkit_create_opts_init(&c);
    c.page_size = o.page_size;
    c.seed = o.seed;
    c.mode = o.mode;
    c.cpu_idx = o.cpu_idx;
    return c;
  }
  static wkspkit_checkpt_opts_t ToC(const CheckptOptions& o) {
    wkspkit_checkpt_opts_t c;
    wkspkit_checkpt_opts_init(&c);
    c.style = o.style;
    c.mode = o.mode;
    c.uinfo = o.uinfo.c_str();
    c.threads = o.threads;
    c.durable = o.durable;
    c.deterministic = o.deterministic;
    c.sealed = o.sealed;
    c.index = o.index;
    c.cancel = detail::CancelFlag(o.cancel);
    if (o.progress) {
      c.progress = &detail::CallProgress;
      c.progress_arg = const_cast<Progress*>(&o.progress);
    }
    return c;
  }
  static wkspkit_restore_opts_t ToC(const RestoreOptions& o) {
    wkspkit_restore_opts_t r;
    wkspkit_restore_opts_init(&r);
    r.set_seed = o.seed.has_value();
    r.seed = o.seed.value_or(0);
    r.threads = o.threads;
    r.cancel = detail::CancelFlag(o.cancel);
    if (o.progress) {
      r.progress = &detail::CallProgress;
      r.progress_arg = const_cast<Progress*>(&o.progress);
    }
    return r;
  }

  wkspkit_wksp_t* w_;
};

inline wkspkit_preview_t Preview(const std::string& path) {
  wkspkit_preview_t p;
  Check(wkspkit_preview(path.c_str(), &p));
  return p;
}

inline wkspkit_verify_report_t VerifyCheckpt(const std::string& path,
                                             uint32_t threads = 1) {
  wkspkit_verify_report_t r;
  Check(wkspkit_verify_checkpt(path.c_str(), threads, &r));
  return r;
}

// Sets the directory of normal-page named workspaces for this process
// (wkspkit_set_shmem_root).
inline void SetShmemRoot(const std::string& dir) {
  Check(wkspkit_set_shmem_root(dir.c_str()));
}

}  // namespace wkspkit

#endif  // WKSPKIT_WKSPKIT_HPP_
