// Progress bar and summary line (see progress.h).
#include "apps/progress.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_format.h"
#include "util/clock.h"

namespace wk::apps {
namespace {
constexpr int64_t kRedrawNs = 100'000'000;  // at most 10 redraws a second
constexpr int kBarWidth = 24;
// Return to the line's start / erase from the cursor to the line's end.
constexpr char kCr[] = "\r";
constexpr char kEraseLine[] = "\033[K";

// Takes the terminal behind `fd` for drawing: an exclusive flock on a
// descriptor of its own (flocks of descriptors inherited from the shell
// would be shared by every process of a pipeline). -1 if another process
// holds it or the device cannot be opened.
int LockTerminal(int fd) {
  char name[256];
  if (ttyname_r(fd, name, sizeof(name)) != 0) return -1;
  int t = open(name, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (t < 0) return -1;
  if (flock(t, LOCK_EX | LOCK_NB) != 0) {
    close(t);
    return -1;
  }
  return t;
}
}  // namespace

absl::StatusOr<ProgressMode> ParseProgressMode(std::string_view text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "always") return ProgressMode::kAlways;
  if (text == "never") return ProgressMode::kNever;
  if (text == "numeric") return ProgressMode::kNumeric;
  return absl::InvalidArgumentError(absl::StrFormat(
      "bad --progress \"%s\": expected auto, always, never or numeric", text));
}

const char* LineStart(FILE* out) {
  return isatty(fileno(out)) == 1 ? "\r\033[K" : "";
}

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B",   "KiB", "MiB",
                                           "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? absl::StrFormat("%.0f %s", bytes, kUnits[u])
                : absl::StrFormat("%.1f %s", bytes, kUnits[u]);
}

Progress::Progress(std::string label, FILE* out, bool draw,
                   std::function<int64_t()> clock)
    : label_(std::move(label)),
      out_(out),
      draw_(draw),
      clock_(std::move(clock)),
      start_ns_(clock_()) {}

Progress::Progress(std::string label, FILE* out, const ProgressOptions& options)
    : label_(std::move(label)),
      out_(out),
      quiet_(options.quiet),
      clock_([] { return MonotonicNs(); }),
      start_ns_(clock_()) {
  if (options.mode == ProgressMode::kNumeric && !quiet_) {
    // Numbers go wherever stderr goes; no terminal lock, no ticker (a
    // number changes only when the work reports progress).
    numeric_ = true;
    draw_ = true;
    return;
  }
  const bool tty = isatty(fileno(out)) == 1;
  bool want = !quiet_ && (options.mode == ProgressMode::kAlways ||
                          (options.mode == ProgressMode::kAuto && tty));
  if (want && tty) {
    tty_lock_fd_ = LockTerminal(fileno(out));
    want = tty_lock_fd_ >= 0;
    erase_first_ = !want;
  }
  draw_ = want;
  if (draw_) ticker_ = std::thread([this] { Tick(); });
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  // A run that failed before Finish leaves its bar's line ended, so the
  // error message starts on a line of its own.
  if (line_open_) {
    absl::FPrintF(out_, "\n");
    std::fflush(out_);
  }
  if (tty_lock_fd_ >= 0) close(tty_lock_fd_);
}

void Progress::Tick() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!finished_) {
    cv_.wait_for(lock, std::chrono::nanoseconds(kRedrawNs));
    if (finished_) break;
    int64_t now = clock_();
    if (now - last_draw_ns_ >= kRedrawNs) DrawLocked(now);
  }
}

wksp_checkpt::ProgressFn Progress::Callback() {
  return [this](uint64_t done, uint64_t total) { Update(done, total); };
}

void Progress::SetFallbackTotal(uint64_t total, bool estimate) {
  std::lock_guard<std::mutex> lock(mu_);
  fallback_total_ = total;
  fallback_estimate_ = estimate;
}

void Progress::Update(uint64_t done, uint64_t total) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = done;
  total_ = total;
  if (!draw_) return;
  int64_t now = clock_();
  // Percent numbers change at most 101 times: each is printed when it does.
  const bool percent = numeric_ && (total != 0 || fallback_total_ != 0);
  if (!percent && last_draw_ns_ >= 0 && now - last_draw_ns_ < kRedrawNs &&
      (total == 0 || done < total)) {
    return;
  }
  DrawLocked(now);
}

void Progress::DrawLocked(int64_t now) {
  last_draw_ns_ = now;
  const uint64_t done = done_;
  // A fallback total (a file size) is an estimate: never past 99%.
  const bool estimated =
      total_ == 0 && fallback_total_ != 0 && fallback_estimate_;
  const uint64_t total = total_ ? total_ : fallback_total_;
  if (numeric_) {
    int64_t number = static_cast<int64_t>(done);
    if (total != 0) {
      const double frac =
          std::min(estimated ? 0.99 : 1.0,
                   static_cast<double>(done) / static_cast<double>(total));
      number = static_cast<int64_t>(frac * 100);
    }
    if (number != last_number_) {
      absl::FPrintF(out_, "%d\n", number);
      std::fflush(out_);
      last_number_ = number;
    }
    drawn_ = true;
    return;
  }
  double secs = static_cast<double>(now - start_ns_) * 1e-9;
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line;
  if (total == 0) {  // unknown (reading a stream): no bar, no ETA
    line = absl::StrFormat("%s %s  %s/s  %.1fs", label_,
                           HumanBytes(static_cast<double>(done)),
                           HumanBytes(rate), secs);
  } else {
    double frac =
        std::min(estimated ? 0.99 : 1.0,
                 static_cast<double>(done) / static_cast<double>(total));
    std::string bar(static_cast<size_t>(frac * kBarWidth), '#');
    bar.resize(kBarWidth, '.');
    std::string eta = "--";
    if (rate > 0 && total >= done) {
      eta = absl::StrFormat("%.0fs", static_cast<double>(total - done) / rate);
    }
    line = absl::StrFormat(
        "%s [%s] %3.0f%% %s / %s%s  %s/s  ETA %s", label_, bar, frac * 100,
        HumanBytes(static_cast<double>(done)), estimated ? "~" : "",
        HumanBytes(static_cast<double>(total)), HumanBytes(rate), eta);
  }
  absl::FPrintF(out_, "%s%s%s", kCr, line, kEraseLine);
  std::fflush(out_);
  drawn_ = true;
  line_open_ = true;
}

void Progress::Finish(uint64_t bytes, const std::string& suffix) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes == 0) bytes = done_;
  int64_t now = clock_();
  if (numeric_) {
    // The last number: 100 (percent) where a total was known, or the bytes
    // moved where none was, as the earlier numbers were.
    const bool known = total_ != 0 || fallback_total_ != 0 || bytes == 0;
    const int64_t number = known ? 100 : static_cast<int64_t>(bytes);
    if (number != last_number_) absl::FPrintF(out_, "%d\n", number);
    std::fflush(out_);
    return;
  }
  if (drawn_) {
    total_ = bytes;  // the real total
    done_ = bytes;
    DrawLocked(now);
    absl::FPrintF(out_, "\n");
    line_open_ = false;
  }
  if (quiet_) return;
  double secs = static_cast<double>(now - start_ns_) * 1e-9;
  double gbps = secs > 0 ? static_cast<double>(bytes) / secs * 1e-9 : 0;
  absl::FPrintF(out_, "%s%s: %u bytes in %.3f s (%.2f GB/s)%s\n",
                erase_first_ ? std::string(kCr) + kEraseLine : "", label_,
                bytes, secs, gbps, suffix);
  std::fflush(out_);
}

}  // namespace wk::apps
