#include "apps/page_hint.h"

#include <algorithm>
#include <cstring>
#include <span>

#include "absl/strings/str_format.h"
#include "io/mmio.h"
#include "io/populate.h"
#include "util/clock.h"

namespace wk::apps {

namespace {

// One measurement on a fresh mapping of `pages` pages; < 0 on failure.
double MeasureOnce(size_t pages) {
  constexpr size_t kPage = 4096;
  absl::StatusOr<io::Mapping> m = io::MapAnonymousPrivate(pages * kPage);
  if (!m.ok()) return -1;
  const std::span<uint8_t> s = m->mutable_span();
  if (!io::Populate(s, io::PopulateFor::kWrite).ok()) return -1;
  // One byte per page: the per-page cost, not the copy's.
  auto touch = [&](uint8_t v) {
    const int64_t t0 = MonotonicNs();
    for (size_t i = 0; i < s.size(); i += kPage) {
      *static_cast<volatile uint8_t*>(&s[i]) = v;
    }
    return static_cast<double>(MonotonicNs() - t0) * 1e-9;
  };
  const double first = touch(1);
  const double second = touch(2);
  return (first - second) / static_cast<double>(pages);
}

}  // namespace

double FirstTouchSecondsPerPage(size_t pages) {
  if (pages == 0) return 0;
  // The smaller of two: a preemption inflates one, never both alike.
  const double a = MeasureOnce(pages), b = MeasureOnce(pages);
  if (a < 0 || b < 0) return 0;
  return std::max(0.0, std::min(a, b));
}

std::string FirstTouchHint(wksp::PageSize page_size, uint64_t bytes,
                           double seconds, double per_page) {
  if (page_size != wksp::PageSize::kNormal || seconds <= 0 || per_page <= 0) {
    return "";
  }
  const double touch_s = static_cast<double>(bytes / 4096) * per_page;
  const double share = touch_s / seconds;
  if (share < 0.25) return "";
  return absl::StrFormat(
      "; 4 KiB pages: first touches (%.1f us each here) took about %.0f%% "
      "of it: use a huge-page workspace (`new NAME ... huge`), or let "
      "4 KiB-page ones have 2 MiB folios (`mount -o remount,huge=advise "
      "/dev/shm`; docs/PERFORMANCE.md, \"First touch\")",
      per_page * 1e6, std::min(share, 1.0) * 100);
}

}  // namespace wk::apps
