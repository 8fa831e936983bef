// Test helpers for the wksp package: a private shared-memory root under
// TEST_TMPDIR (so tests never touch /dev/shm), unique names, waiting until a
// thread waits for the lock, and raw access to a join's metadata for
// corruption tests.
#ifndef WKSPKIT_WKSP_TEST_UTIL_H_
#define WKSPKIT_WKSP_TEST_UTIL_H_

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "io/test_util.h"
#include "wksp/internal/layout.h"
#include "wksp/internal/lock.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::wksp::testing {

// Points the process's shared-memory root (wksp::SetShmemRoot) at
// $TEST_TMPDIR/shm (created if needed), and WKSP_SHMEM_ROOT too for the
// wksp_ctl a test may start. Call from SetUp, before any thread starts.
inline std::string UseTestShmemRoot() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string root = absl::StrFormat("%s/shm", tmp != nullptr ? tmp : "/tmp");
  mkdir(root.c_str(), 0700);
  SetShmemRoot(root);
  setenv("WKSP_SHMEM_ROOT", root.c_str(), 1);
  return root;
}

// A valid workspace name unique within this process run.
inline std::string UniqueName(const char* prefix) {
  static std::atomic<int> counter{0};
  return absl::StrFormat("%s-%d-%d", prefix, static_cast<int>(getpid()),
                         counter.fetch_add(1));
}

// Waits (bounded) until thread `tid` of this process is asleep waiting for a
// workspace lock held by someone else: internal::LockWord sleeps in
// nanosleep once spinning and yielding did not get the lock, and that is
// the only sleep of a thread blocked in an allocator call.
inline bool WaitSleepingForLock(pid_t tid) {
  return io::testing::WaitBlockedIn(tid, {SYS_nanosleep, SYS_clock_nanosleep});
}

// This thread's id, for WaitSleepingForLock.
inline pid_t ThisTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

inline uint8_t* Base(const Wksp& w) {
  return w.laddr(w.gaddr_lo()) - w.gaddr_lo();
}
inline internal::Header* Hdr(const Wksp& w) {
  return reinterpret_cast<internal::Header*>(Base(w));
}
inline internal::PartInfo* Slots(const Wksp& w) {
  return reinterpret_cast<internal::PartInfo*>(Base(w) + kHeaderSize);
}

// Whether two workspaces' headers and slot records are byte for byte equal,
// leaving out the lock holder's report fields (lock_pid, lock_since), which
// record who last locked and when.
inline bool SameMetadata(const Wksp& a, const Wksp& b) {
  constexpr size_t kReportLo = offsetof(internal::Header, lock_pid);
  constexpr size_t kReportHi = offsetof(internal::Header, name);
  static_assert(offsetof(internal::Header, lock_since) < kReportHi);
  return a.gaddr_lo() == b.gaddr_lo() &&
         memcmp(Base(a), Base(b), kReportLo) == 0 &&
         memcmp(Base(a) + kReportHi, Base(b) + kReportHi,
                a.gaddr_lo() - kReportHi) == 0;
}

}  // namespace wk::wksp::testing

#endif  // WKSPKIT_WKSP_TEST_UTIL_H_
