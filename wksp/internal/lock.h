// The workspace lock: one 64-bit word in the shared header holding the
// owner's identity, PackIdentity(pid namespace, tid) (layout.h), or 0 when
// free. Threads of one process therefore exclude each other through the same
// word as processes do, and the uncontended path is one compare-and-swap.
//
// Why this design (and not a robust pthread mutex or a file lock): the header
// is 128 bytes with no room for a 40-byte pthread_mutex_t without moving the
// data region, and an OFD lock on the workspace file needs a system call per
// allocation, does not exist for anonymous workspaces, and is shared by a
// forked child with its parent. So the word stays, and what it records is
// enough to decide death safely:
//
//   - Dead owner: when the owner is in this process's pid namespace it is
//     dead if the kernel has no thread with its tid (kill(tid, 0) gives
//     ESRCH) or /proc/TID/stat says zombie or dead (state Z or X). A killed
//     process is therefore recovered at once, whether or not its parent has
//     reaped it yet (a zombie keeps its pid but no longer runs).
//   - Owner in another pid namespace: its tid means nothing here, so it is
//     never taken over (kUnknown); the waiter keeps waiting and its wait hook
//     says whom it waits for. Mutual exclusion is never lost; the price is
//     that a dead owner in a namespace we cannot see must be cleared by
//     hand (or by a process in that namespace, which recovers it normally).
//
// One mode only: a checkpoint holds the word exclusively for its whole
// transfer, so two checkpoints of one workspace run in turn. Copies wanted at
// once come from one pass with several outputs (wksp_ctl's --tee,
// apps/checkpt_tee.h) rather than from a shared reader mode, which would need
// a reader count and reader identities here (for dead-reader recovery) and
// writer preference.
//
// Remaining limit: a dead owner whose tid was reused by a new live thread in
// the same namespace is not detected (tids are reused only after wrapping
// /proc/sys/kernel/pid_max).
#ifndef WKSPKIT_WKSP_INTERNAL_LOCK_H_
#define WKSPKIT_WKSP_INTERNAL_LOCK_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "wksp/wksp_types.h"

namespace wk::wksp::internal {

// This thread's lock identity, PackIdentity(SelfPidNs(), tid). Cached per
// thread and refreshed in a forked child.
uint64_t SelfOwnerId();
// The inode of this process's pid namespace, 0 if /proc is unavailable.
uint32_t SelfPidNs();
// This process's id (cached, refreshed in a forked child).
uint32_t SelfPid();

// What is known about the thread named by lock identity `id`.
Liveness OwnerLiveness(uint64_t id);

// Liveness of process `pid` of pid namespace `pid_ns` (a restore mark's
// identity), by the same rules.
Liveness ProcessLiveness(uint32_t pid_ns, uint32_t pid);

// The command name (/proc/PID/comm) of `pid` in our namespace, or "" when
// not visible.
std::string ProcessCommand(uint32_t pid);

enum class LockResult {
  kAcquired,   // the word was free (or released normally)
  kRecovered,  // taken over from a dead owner: metadata may be mid-change
};

// Called while waiting: first after kLockWaitReportNs, then every
// kLockWaitRepeatNs, with the current owner and how long we have waited.
// An error gives up: LockWord returns it.
using LockWaitFn =
    absl::FunctionRef<absl::Status(uint64_t owner, int64_t waited_ns)>;
inline constexpr int64_t kLockWaitReportNs = 1000 * 1000 * 1000;
inline constexpr int64_t kLockWaitRepeatNs = int64_t{10} * kLockWaitReportNs;
// The longest sleep between two looks at a held word: a waiter wakes at most
// ~100 times a second (well under 1% of a core, docs/wksp_ctl.md), and sees
// a release, a cancellation or its deadline within about this long.
inline constexpr long kLockSleepMaxNs = 10 * 1000 * 1000;
// No deadline.
inline constexpr int64_t kNoDeadline = -1;

// Spins, then yields, then sleeps with a backoff growing to kLockSleepMaxNs
// until `*word` is ours. Returns without the lock:
//   - FailedPrecondition at once if this thread already owns it (a
//     reentrant call would deadlock);
//   - Cancelled (util/cancel.h) once cancellation was requested, e.g. by a
//     SIGINT handler: a wait is never what keeps a process from stopping;
//   - DeadlineExceeded once MonotonicNs() passes `deadline_ns` (when not
//     kNoDeadline; a deadline already passed still tries the word once);
//   - whatever error on_wait returns.
absl::Status LockWord(uint64_t* word, LockResult* result, int64_t deadline_ns,
                      LockWaitFn on_wait);

// Releases a word this thread owns.
void UnlockWord(uint64_t* word);

// Reads the owner (0 if free) with acquire ordering.
uint64_t LockOwner(const uint64_t* word);

// Test hook. When set, the allocator calls it at points inside its critical
// section where metadata is half updated (`where` names the point), so a
// test can park a child process there and SIGKILL it. Null by default.
using CriticalSectionHook = void (*)(const char* where);
void SetCriticalSectionHook(CriticalSectionHook hook);
// The point SetPartitionLocked reports after writing a slot record (so a
// test can kill a restore that has written some).
inline constexpr char kRestoreSlotPlacedPoint[] = "restore: slot placed";
// Calls the hook if one is set (one relaxed load otherwise).
void CriticalSectionPoint(const char* where);

}  // namespace wk::wksp::internal

#endif  // WKSPKIT_WKSP_INTERNAL_LOCK_H_
