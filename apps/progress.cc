// Progress bar and summary line (see progress.h).
#include "apps/progress.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "util/clock.h"

namespace wk::apps {
namespace {
constexpr int64_t kRedrawNs = 100'000'000;  // at most 10 redraws a second
constexpr int kBarWidth = 24;
}  // namespace

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? absl::StrFormat("%.0f %s", bytes, kUnits[u])
                : absl::StrFormat("%.1f %s", bytes, kUnits[u]);
}

Progress::Progress(std::string label, FILE* out, bool interactive,
                   std::function<int64_t()> clock)
    : label_(std::move(label)),
      out_(out),
      interactive_(interactive),
      clock_(std::move(clock)),
      start_ns_(clock_()) {}

Progress::Progress(std::string label, FILE* out)
    : Progress(std::move(label), out, isatty(fileno(out)) == 1,
               [] { return MonotonicNs(); }) {}

wksp_checkpt::ProgressFn Progress::Callback() {
  return [this](uint64_t done, uint64_t total) { Update(done, total); };
}

void Progress::Update(uint64_t done, uint64_t total) {
  last_done_ = done;
  if (!interactive_) return;
  int64_t now = clock_();
  if (last_draw_ns_ >= 0 && now - last_draw_ns_ < kRedrawNs && done < total) {
    return;
  }
  last_draw_ns_ = now;
  Draw(done, total, now);
}

void Progress::Draw(uint64_t done, uint64_t total, int64_t now) {
  double secs = static_cast<double>(now - start_ns_) * 1e-9;
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line;
  if (total == 0) {  // unknown (reading a stream): no bar, no ETA
    line = absl::StrFormat("%s %s  %s/s", label_,
                           HumanBytes(static_cast<double>(done)),
                           HumanBytes(rate));
  } else {
    double frac =
        std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    std::string bar(static_cast<size_t>(frac * kBarWidth), '#');
    bar.resize(kBarWidth, '.');
    std::string eta = "--";
    if (rate > 0 && total >= done) {
      eta = absl::StrFormat("%.0fs", static_cast<double>(total - done) / rate);
    }
    line = absl::StrFormat("%s [%s] %3.0f%% %s / %s  %s/s  ETA %s", label_, bar,
                           frac * 100, HumanBytes(static_cast<double>(done)),
                           HumanBytes(static_cast<double>(total)),
                           HumanBytes(rate), eta);
  }
  // Trailing spaces wipe what a longer previous line left behind.
  absl::FPrintF(out_, "\r%-79s", line);
  std::fflush(out_);
  drawn_ = true;
}

void Progress::Finish(uint64_t bytes) {
  if (bytes == 0) bytes = last_done_;
  int64_t now = clock_();
  if (drawn_) absl::FPrintF(out_, "\n");
  double secs = static_cast<double>(now - start_ns_) * 1e-9;
  double gbps = secs > 0 ? static_cast<double>(bytes) / secs * 1e-9 : 0;
  absl::FPrintF(out_, "%s: %u bytes in %.3f s (%.2f GB/s)\n", label_, bytes,
                secs, gbps);
  std::fflush(out_);
}

}  // namespace wk::apps
