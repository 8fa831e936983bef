// A fork-join thread pool. Exec(t0, t1, fn) runs fn(i) once for every worker
// index i in [t0, t1) and returns when all have finished; the calling thread
// is worker t0, so a pool of size 1 spawns no threads and Exec(t, t+1, fn) is
// a plain call. Parallel checkpoint and restore are built on it.
//
// Contract: a pool of size n owns n-1 threads for its whole life (created by
// the constructor, joined by the destructor). Exec requires t0 < t1 <= size()
// and is not reentrant: one Exec at a time per pool, from any thread, and fn
// must not call Exec on the same pool. fn must not throw. Memory written by
// fn(i) happens-before Exec returns. Workers see the Exec caller's call
// cancel flag (util/cancel.h) while they run fn.
#ifndef WKSPKIT_UTIL_THREAD_POOL_H_
#define WKSPKIT_UTIL_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"

namespace wk {

class ThreadPool {
 public:
  // Creates a pool of `size` workers (size >= 1; 0 is treated as 1).
  explicit ThreadPool(size_t size);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return threads_.size() + 1; }

  // Runs fn(i) for i in [t0, t1), i == t0 on the caller. Out-of-range
  // arguments are clamped to an empty or valid range (t1 to size(), t0 to
  // t1) rather than trusted.
  void Exec(size_t t0, size_t t1, absl::FunctionRef<void(size_t)> fn);

  // Convenience: Exec(0, size(), fn).
  void ExecAll(absl::FunctionRef<void(size_t)> fn) { Exec(0, size(), fn); }

  // Number of CPUs this process may run on (at least 1).
  static size_t HardwareConcurrency();

 private:
  void WorkerLoop(size_t index);

  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  uint64_t generation_ = 0;  // bumped by each Exec; workers wait for a change
  size_t t0_ = 0, t1_ = 0;   // range of the current generation
  size_t pending_ = 0;       // workers of this generation not yet finished
  bool stop_ = false;
  const absl::FunctionRef<void(size_t)>* fn_ = nullptr;
  const int* call_flag_ = nullptr;  // the Exec caller's (util/cancel.h)
  std::vector<std::thread> threads_;  // threads_[k] is worker k+1
};

}  // namespace wk

#endif  // WKSPKIT_UTIL_THREAD_POOL_H_
