// Progress reporting for long checkpoint and restore runs (wksp_ctl).
//
// On a terminal the reporter redraws one status line on its stream with '\r'
// (bytes done of total, percent, rate, ETA) at most every 100 ms, and ends
// it with a newline. Otherwise it stays silent while running. Finish()
// then prints one summary line, on both kinds of stream:
//   "checkpt demo: 8673291 bytes in 0.012 s (0.72 GB/s)"
// On a terminal the summary line follows the finished bar.
// The reporter does not own the stream. Callback() must not outlive it.
#ifndef WKSPKIT_APPS_PROGRESS_H_
#define WKSPKIT_APPS_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "wksp/checkpt/wksp_checkpt.h"

namespace wk::apps {

class Progress {
 public:
  // `label` starts every line ("checkpt demo"). `clock` returns monotonic
  // nanoseconds (tests pass a fake one).
  Progress(std::string label, FILE* out, bool interactive,
           std::function<int64_t()> clock);
  // Reads isatty(fileno(out)) and uses the monotonic clock.
  Progress(std::string label, FILE* out);

  // A ProgressFn that feeds Update.
  wksp_checkpt::ProgressFn Callback();
  void Update(uint64_t done, uint64_t total);
  // Ends the bar (terminal) or prints the summary line; `bytes` is what was
  // moved (the last Update's `done` if 0 is passed).
  void Finish(uint64_t bytes = 0);

 private:
  void Draw(uint64_t done, uint64_t total, int64_t now);

  std::string label_;
  FILE* out_;
  bool interactive_;
  std::function<int64_t()> clock_;
  int64_t start_ns_;
  int64_t last_draw_ns_ = -1;
  uint64_t last_done_ = 0;
  bool drawn_ = false;
};

// "8.3 MiB" style size text, for the bar.
std::string HumanBytes(double bytes);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_PROGRESS_H_
