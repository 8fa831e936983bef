// Plain value types of the workspace API (see wksp.h), in their own public
// target so the allocator internals can use them without the Wksp class.
#ifndef WKSPKIT_WKSP_WKSP_TYPES_H_
#define WKSPKIT_WKSP_WKSP_TYPES_H_

#include <cstdint>
#include <string>

namespace wk::wksp {

// One partition: [lo, hi) with its tag (nonzero for an allocation).
struct PartitionInfo {
  uint64_t lo = 0, hi = 0, tag = 0;
  friend bool operator==(const PartitionInfo&, const PartitionInfo&) = default;
};

struct Usage {
  uint64_t total_max = 0;                // part_max
  uint64_t total_cnt = 0, total_sz = 0;  // partitions (free + used)
  uint64_t free_cnt = 0, free_sz = 0;
  uint64_t used_cnt = 0, used_sz = 0;
  uint64_t tagged_cnt = 0, tagged_sz = 0;  // used with a tag in the query
  uint64_t largest_free = 0;               // size of the largest free partition
};

// What this process can tell about another process or thread.
enum class Liveness {
  kAlive,    // exists and is not a zombie (or is not provably dead)
  kDead,     // gone, a zombie or dying: its lock may be taken over
  kUnknown,  // in another pid namespace: cannot tell, so never taken over
};

// Who holds a workspace lock (Wksp::CurrentLockHolder). Ids are those of the
// holder's own pid namespace; pid and since are what the holder recorded
// right after taking the lock (for reports: a reader racing a handover may
// see the previous holder's).
struct LockHolder {
  uint32_t tid = 0;
  uint32_t pid = 0;
  uint32_t pid_ns = 0;  // inode of the holder's /proc/self/ns/pid, 0 unknown
  bool same_pid_ns = false;  // the holder's namespace is this process's
  int64_t since_unix_ns = 0;
  Liveness liveness = Liveness::kAlive;
  std::string cmd;  // its /proc/PID/comm, "" when not visible from here
};

// A restore that started writing into the workspace and has not finished
// (Wksp::CurrentRestoreMark).
struct RestoreMark {
  uint32_t pid = 0;  // the restoring process, in its own pid namespace
  uint32_t pid_ns = 0;
  bool same_pid_ns = false;
  int64_t since_unix_s = 0;  // when it started writing
  // true: the restorer still holds the lock and is working; false: it died
  // (or was killed) before finishing, and the workspace has been (or will be,
  // by the next lock taker) reset to empty.
  bool in_progress = false;
};

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_WKSP_TYPES_H_
