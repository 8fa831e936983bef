// The workspace lock: one 64-bit word in the shared header holding the
// owner's identity, (pid << 32) | tid, or 0 when free. Threads of one process
// therefore exclude each other through the same word as processes do.
//
// Dead-owner detection asks the kernel whether the owner thread still exists
// in the owner process (tgkill(pid, tid, 0)); when it does not, the next
// waiter takes the lock over with a compare-and-swap and is told so, and must
// then check the metadata (see Wksp::Acquire). In practice this detects a
// dead process; a thread that exits while holding the lock is treated the
// same way. Pids are only meaningful within one pid namespace, so all users
// of a workspace must share one, and a dead owner whose pid and tid were both
// reused by a live thread would not be detected.
#ifndef WKSPKIT_WKSP_INTERNAL_LOCK_H_
#define WKSPKIT_WKSP_INTERNAL_LOCK_H_

#include <cstdint>

#include "absl/status/status.h"

namespace wk::wksp::internal {

// This thread's lock identity, (pid << 32) | tid. Cached per thread and
// refreshed in a forked child.
uint64_t SelfOwnerId();

// True if the owner `id` names a thread that no longer exists.
bool OwnerIsDead(uint64_t id);

enum class LockResult {
  kAcquired,   // the word was free (or released normally)
  kRecovered,  // taken over from a dead owner: metadata may be mid-change
};

// Spins, then yields, then sleeps until `*word` is ours. Returns
// FailedPrecondition without waiting if this thread already owns it (a
// reentrant call would deadlock).
absl::Status LockWord(uint64_t* word, LockResult* result);

// Releases a word this thread owns.
void UnlockWord(uint64_t* word);

// Reads the owner (0 if free) with acquire ordering.
uint64_t LockOwner(const uint64_t* word);

// Test hook. When set, the allocator calls it at points inside its critical
// section where metadata is half updated (`where` names the point), so a
// test can park a child process there and SIGKILL it. Null by default.
using CriticalSectionHook = void (*)(const char* where);
void SetCriticalSectionHook(CriticalSectionHook hook);
// Calls the hook if one is set (one relaxed load otherwise).
void CriticalSectionPoint(const char* where);

}  // namespace wk::wksp::internal

#endif  // WKSPKIT_WKSP_INTERNAL_LOCK_H_
