#include "util/thread_pool.h"

#include <sched.h>

#include <algorithm>

#include "util/cancel.h"

namespace wk {

ThreadPool::ThreadPool(size_t size) {
  if (size == 0) size = 1;
  threads_.reserve(size - 1);
  for (size_t i = 1; i < size; ++i) {
    threads_.emplace_back([this, i] { WorkerLoop(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::Exec(size_t t0, size_t t1,
                      absl::FunctionRef<void(size_t)> fn) {
  t1 = std::min(t1, size());
  if (t0 >= t1) return;
  if (t1 - t0 == 1) {  // nothing to fork
    fn(t0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    t0_ = t0;
    t1_ = t1;
    fn_ = &fn;
    call_flag_ = CallCancelFlag();
    pending_ = t1 - t0 - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  fn(t0);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  fn_ = nullptr;
}

void ThreadPool::WorkerLoop(size_t index) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    if (index <= t0_ || index >= t1_) continue;  // not part of this fork
    const auto* fn = fn_;
    const int* call_flag = call_flag_;
    lock.unlock();
    {
      ScopedCallCancel scope(call_flag);  // the caller's, for this fork
      (*fn)(index);
    }
    lock.lock();
    if (--pending_ == 0) done_cv_.notify_one();
  }
}

size_t ThreadPool::HardwareConcurrency() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<size_t>(n);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

}  // namespace wk
