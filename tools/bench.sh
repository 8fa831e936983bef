#!/usr/bin/env bash
# Builds every benchmark binary with -c opt, runs them one after another,
# merges their google-benchmark JSON and prints one table: each figure, its
# ratio to the ceilings measured in the same run, and its ratio to the
# committed baseline. Exits 1 when tools/bench_compare.py flags a regression
# (or a benchmark reports an error), 2 on a usage or build problem.
# How to read the table and update the baseline: docs/PERFORMANCE.md.
#
# Usage: tools/bench.sh [--quick|--full] [--out DIR] [--baseline FILE|none]
#                       [--filter REGEX] [--bins REGEX] [--min-threshold X]
#                       [--benchmark_*=...]...
#   --quick          3 repetitions, 0.05 s minimum per benchmark, BENCH_QUICK=1,
#                    a representative subset (see quick_filter below)
#                    (benchmarks may shrink their sizes): under a minute on 2 cores.
#   --full           (default) 5 repetitions, google-benchmark's default time.
#   --out DIR        where the JSON, console logs and table go (default: a new
#                    directory under ${TMPDIR:-/tmp}).
#   --baseline FILE  compare against FILE (default bench/baseline/<mode>.json
#                    when it exists); "none" prints the table only.
#   --filter REGEX   passed as --benchmark_filter to every binary.
#   --bins REGEX     run only the binaries whose target matches (e.g. checkpt),
#                    plus the ceilings.
#   --benchmark_*    any other google-benchmark flag, passed to every binary
#                    after ours, so it wins (e.g. --benchmark_repetitions=9).
# Environment: BAZEL (default ./bazelw), BAZEL_FLAGS (extra build flags).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode=full out="" baseline="" filter="" bins="" min_threshold=""
passthrough=()
while (($#)); do
  case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --out) out="$2"; shift ;;
    --out=*) out="${1#*=}" ;;
    --baseline) baseline="$2"; shift ;;
    --baseline=*) baseline="${1#*=}" ;;
    --filter) filter="$2"; shift ;;
    --filter=*) filter="${1#*=}" ;;
    --bins) bins="$2"; shift ;;
    --bins=*) bins="${1#*=}" ;;
    --min-threshold) min_threshold="$2"; shift ;;
    --min-threshold=*) min_threshold="${1#*=}" ;;
    --benchmark_*) passthrough+=("$1") ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ $mode == quick ]]; then
  flags=(--benchmark_repetitions=3 --benchmark_min_time=0.05)
  export BENCH_QUICK=1
  : "${min_threshold:=0.30}"
else
  flags=(--benchmark_repetitions=5)
  export BENCH_QUICK=0
  : "${min_threshold:=0.15}"
fi
flags+=(--benchmark_display_aggregates_only=true --benchmark_enable_random_interleaving=true)
[[ -n $filter ]] && flags+=("--benchmark_filter=$filter")

if [[ -z $baseline ]]; then
  baseline="bench/baseline/$mode.json"
  [[ -f $baseline ]] || baseline=none
fi
if [[ $baseline != none && ! -f $baseline ]]; then
  echo "bench.sh: no baseline file $baseline" >&2
  exit 2
fi
if [[ -z $out ]]; then
  out="$(mktemp -d "${TMPDIR:-/tmp}/wkspkit_bench.$mode.XXXXXX")"
fi
mkdir -p "$out"

bazel="${BAZEL:-$root/bazelw}"
read -r -a bazel_flags <<<"${BAZEL_FLAGS:-}"
start=$(date +%s)
# Every cc_binary named *_bench anywhere in the repository.
mapfile -t targets < <("$bazel" query --noshow_progress \
  'filter("_bench$", kind("cc_binary", //...))' 2>/dev/null | sort)
if [[ -n $bins ]]; then
  # The ceilings always run: the other figures are judged against them.
  mapfile -t targets < <(printf '%s\n' "${targets[@]}" |
    grep -E -- "$bins|^//bench:ceilings_bench$" || true)
fi
if ((${#targets[@]} == 0)); then
  echo "bench.sh: no benchmark binary found (query or --bins matched none)" >&2
  exit 2
fi
# The ceilings first: they are the yardstick for the rest.
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -F //bench:ceilings_bench || true
                       printf '%s\n' "${targets[@]}" | grep -vF //bench:ceilings_bench || true)
"$bazel" build -c opt ${bazel_flags[@]+"${bazel_flags[@]}"} --noshow_progress \
  "${targets[@]}" 2>&1 | grep -v '^INFO\|^Loading\|^Analyzing\|^Target\|^  bazel-bin' >&2 || true
bin_dir="$("$bazel" info -c opt ${bazel_flags[@]+"${bazel_flags[@]}"} bazel-bin 2>/dev/null)"
built=$(date +%s)

cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
cores="$(nproc)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]] || commit="$commit+dirty"
echo "== bench.sh $mode: $cores cores, ${cpu_model:-unknown CPU}, commit $commit, out $out"

# The quick run's representative subset of each binary that has a long tail of
# similar cases (the full run takes everything). Contention benchmarks (two
# threads, or a second process, on a two-core machine that other jobs share)
# and sub-100 ns operations swing by 2x from one minute to the next, so the
# quick run leaves them to the full one.
quick_filter() {
  case "$1" in
    io_bench) echo 'chunk:(4096|1048576)$|BM_CopyFromMapping|BM_MapCopyUnmap|BM_CopyHeapToHeap' ;;
    wksp_bench) echo '^BM_WkspAllocFree/(4096|1048576)$' ;;
    *) echo '' ;;
  esac
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
jsons=()
for t in "${targets[@]}"; do
  pkg="${t#//}"; pkg="${pkg%%:*}"; name="${t##*:}"
  exe="$bin_dir/$pkg/$name"
  if [[ ! -x $exe ]]; then
    echo "bench.sh: $t was not built" >&2
    exit 2
  fi
  echo "== $name"
  t0=$(date +%s)
  # A crashing binary is reported (its JSON goes missing) but does not stop
  # the others.
  bin_flags=()
  if [[ $mode == quick && -z $filter && -n "$(quick_filter "$name")" ]]; then
    bin_flags=("--benchmark_filter=$(quick_filter "$name")")
  fi
  "$exe" "${flags[@]}" ${bin_flags[@]+"${bin_flags[@]}"} ${passthrough[@]+"${passthrough[@]}"} \
    --benchmark_format=console --benchmark_out="$out/$name.json" \
    --benchmark_out_format=json 2>&1 | tee "$out/$name.txt" ||
    echo "bench.sh: $name exited with status ${PIPESTATUS[0]}" >&2
  echo "== $name: $(($(date +%s) - t0)) s"
  jsons+=("$out/$name.json")
done
ran=$(date +%s)
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$root/tools/bench_merge.py" --out "$out/all.json" \
  --set "nproc=$cores" --set "cpu_model=$cpu_model" --set "mode=$mode" \
  --set "git_commit=$commit" --set "build_seconds=$((built - start))" \
  --set "run_seconds=$((ran - built))" --set "load_before=$load_before" \
  --set "load_after=$load_after" "${jsons[@]}"

compare=("$out/all.json")
[[ $baseline != none ]] && compare=("$baseline" "$out/all.json")
echo
set +e
python3 "$root/tools/bench_compare.py" --min-threshold "$min_threshold" \
  "${compare[@]}" | tee "$out/table.txt"
status=${PIPESTATUS[0]}
set -e
busy="$(awk -v a="${load_before%% *}" -v b="${load_after%% *}" -v n="$cores" \
  'BEGIN { print ((a > n / 2 || b > n / 2) ? 1 : 0) }')"
if [[ $busy == 1 ]]; then
  echo "== NOTE: load average $load_before before, $load_after after, on $cores cores:"
  echo "   other jobs shared the CPUs; rerun before/after back to back to confirm"
fi
echo "== build $((built - start)) s, benchmarks $((ran - built)) s; JSON: $out/all.json, table: $out/table.txt"
if [[ $baseline == none ]]; then
  echo "== no baseline compared (to record one: cp $out/all.json bench/baseline/$mode.json)"
fi
exit "$status"
