// Progress reporting for long checkpoint and restore runs (wksp_ctl), in the
// manner of pv.
//
// A bar is drawn on the stream (stderr) when the mode says so: kAuto when it
// is a terminal, kAlways on any stream, kNever not at all. The bar is one
// line redrawn with '\r' and "erase to end of line": bytes done of total,
// percent, rate and ETA when the total is known, else bytes and rate. It is
// redrawn at most every 100 ms when the work reports progress, and a ticker
// thread redraws it every 100 ms when the work does not (inside one large
// allocation: the elapsed time, rate and ETA keep moving).
//
// One terminal, one bar: a reporter that would draw on a terminal first
// takes an exclusive flock on that terminal's device; when another process
// holds it (the other end of `wksp_ctl checkpt - | wksp_ctl restore -`) this
// one does not draw, and its summary line first erases the line the other
// bar is on, which that bar redraws below on its next tick.
//
// Finish() ends the bar with a newline and prints one summary line unless
// quiet:
//   "checkpt demo: 8673291 bytes in 0.012 s (0.72 GB/s)"
// with an optional suffix (the file size and ratio of a v3 checkpoint).
// Sizes are in IEC units (KiB, MiB, GiB: powers of 1024), as sizes are
// written on the command line (1G); the summary's rate is in GB/s (10^9
// bytes a second), the unit of the project's benchmarks.
//
// kNumeric (like `pv -n`) replaces bar and summary line with one integer per
// line on the stream whenever it changes: the percent done when the total
// is known, else the bytes done; a program reading it needs no parsing of
// terminal control codes. The reporter does not own the stream. Callback() must
// not outlive it.
#ifndef WKSPKIT_APPS_PROGRESS_H_
#define WKSPKIT_APPS_PROGRESS_H_

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "wksp/checkpt/wksp_checkpt.h"

namespace wk::apps {

enum class ProgressMode { kAuto, kAlways, kNever, kNumeric };

// "auto", "always", "never" or "numeric".
absl::StatusOr<ProgressMode> ParseProgressMode(std::string_view text);

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kAuto;
  bool quiet = false;  // no bar and no summary line
};

class Progress {
 public:
  // Test form: `draw` says whether to draw the bar, `clock` returns
  // monotonic nanoseconds; no ticker thread, no terminal lock.
  Progress(std::string label, FILE* out, bool draw,
           std::function<int64_t()> clock);
  // Decides from `options`, whether `out` is a terminal and the terminal's
  // lock; uses the monotonic clock and a ticker thread while drawing.
  Progress(std::string label, FILE* out, const ProgressOptions& options);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A ProgressFn that feeds Update.
  wksp_checkpt::ProgressFn Callback();
  // `total` 0: unknown, unless a fallback total was set.
  void Update(uint64_t done, uint64_t total);
  // A total to show when the work reports 0: `estimate` (e.g. a file's
  // size) shows as "~" and keeps the bar below 100% until Finish; an exact
  // one (the bytes a checkpoint will write) does not.
  void SetFallbackTotal(uint64_t total, bool estimate = true);
  // Ends the bar (terminal) and prints the summary line; `bytes` is what was
  // moved (the last Update's `done` if 0 is passed); `suffix` is appended
  // to the summary line.
  void Finish(uint64_t bytes = 0, const std::string& suffix = "");
  bool drawing() const { return draw_; }

 private:
  void DrawLocked(int64_t now);
  void Tick();

  std::string label_;
  FILE* out_;
  bool draw_ = false;
  bool numeric_ = false;      // kNumeric: numbers, not a bar
  int64_t last_number_ = -1;  // the last number kNumeric printed
  bool quiet_ = false;
  bool erase_first_ = false;  // a terminal another process draws on
  int tty_lock_fd_ = -1;
  std::function<int64_t()> clock_;
  int64_t start_ns_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  int64_t last_draw_ns_ = -1;
  uint64_t done_ = 0, total_ = 0, fallback_total_ = 0;
  bool fallback_estimate_ = true;
  bool drawn_ = false;
  bool line_open_ = false;  // a bar is drawn and its line not yet ended
  std::thread ticker_;
};

// What a message to `out` starts with so that it never lands on the line of
// a bar another process is drawing there: "\r" and erase-to-end-of-line on
// a terminal, nothing otherwise.
const char* LineStart(FILE* out);

// "8.3 MiB" style size text (IEC units), for the bar and summaries.
std::string HumanBytes(double bytes);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_PROGRESS_H_
