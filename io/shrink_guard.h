// Reading a mapped file that may shrink under us. Touching a page of a
// MAP_SHARED file mapping past the file's current end raises SIGBUS, which
// kills the process: a checkpoint truncated (by anyone) while a restore reads
// it through a mapping would crash wksp_ctl. A ShrinkGuard covers one mapping
// for its lifetime: a SIGBUS at an address inside it is answered by mapping a
// page of zeros there (the read then sees zeros instead of dying) and by
// noting that the file shrank. The reader checks shrank() before trusting
// what it read (wksp/checkpt does so before finishing a restore), so a
// shrunk file gives an error, never a crash and never silently wrong data.
//
// The process-wide SIGBUS handler is installed on the first guard and stays;
// a SIGBUS outside every guarded range goes to the handler that was there
// before (or kills as by default). At most kMaxGuards guards exist at once;
// more fail to register (Guarded() says so) and their mapping is then
// unprotected. SetEnabled(false) stops new guards from registering (and, if
// none was made yet, from installing the handler): for programs that own
// SIGBUS. Thread-safe; the handler is async-signal-safe (lock-free
// slots, mmap is a plain system call).
#ifndef WKSPKIT_IO_SHRINK_GUARD_H_
#define WKSPKIT_IO_SHRINK_GUARD_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace wk::io {

class ShrinkGuard {
 public:
  static constexpr size_t kMaxGuards = 64;

  // Whether guards made from now on register (default true).
  static void SetEnabled(bool enabled);

  explicit ShrinkGuard(std::span<const uint8_t> mapping);
  ~ShrinkGuard();
  ShrinkGuard(const ShrinkGuard&) = delete;
  ShrinkGuard& operator=(const ShrinkGuard&) = delete;

  // Whether a read inside the mapping hit a page past the file's end since
  // the guard was made (the bytes read there were zeros).
  bool shrank() const;
  // Whether the mapping is covered (false only when kMaxGuards are in use).
  bool guarded() const { return slot_ >= 0; }

 private:
  int slot_ = -1;
};

}  // namespace wk::io

#endif  // WKSPKIT_IO_SHRINK_GUARD_H_
