// What the progress display costs a checkpoint or restore (docs/PERFORMANCE.md,
// "Progress display"): one Update per MiB of data the library moves
// (ProgressFn), and a redraw at most 10 times a second. The figures bound
// its share of a run: (updates * Update + 10 * seconds * Draw) / run time.
#include <cstdio>

#include "apps/progress.h"
#include "benchmark/benchmark.h"

namespace wk::apps {
namespace {

// An Update between redraws: the lock, the store and the clock check.
void BM_UpdateBetweenRedraws(benchmark::State& state) {
  FILE* null = std::fopen("/dev/null", "w");
  int64_t now = 1;
  Progress p("checkpt w", null, true, [&] { return now; });
  uint64_t done = 0;
  p.Update(0, 1 << 30);  // the first draw; the clock then stands still
  for (auto _ : state) p.Update(++done, uint64_t{1} << 40);
  p.Finish();
  std::fclose(null);
}
BENCHMARK(BM_UpdateBetweenRedraws);

// An Update that redraws the bar (formatting and one write).
void BM_Redraw(benchmark::State& state) {
  FILE* null = std::fopen("/dev/null", "w");
  int64_t now = 1;
  Progress p("checkpt w", null, true, [&] { return now; });
  uint64_t done = 0;
  for (auto _ : state) {
    now += 100'000'000;
    p.Update(++done, uint64_t{1} << 40);
  }
  p.Finish();
  std::fclose(null);
}
BENCHMARK(BM_Redraw);

}  // namespace
}  // namespace wk::apps
