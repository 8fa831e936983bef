#!/usr/bin/env bash
# Checks tools/bench_compare.py and tools/bench_merge.py on synthetic
# google-benchmark JSON: equal runs pass, a clear slowdown fails (throughput
# and time-only benchmarks), noise within the measured spread passes, errors
# fail, merging prefixes names and records the context.
set -euo pipefail
tools="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools"
compare="$tools/bench_compare.py"
merge="$tools/bench_merge.py"
dir="${TEST_TMPDIR}"
fail() { echo "FAIL: $*"; exit 1; }

mk() {  # mk FILE BPS... : one benchmark BM_X with these repetitions; its
  # x_memcpy counter follows the throughput (a 200e9 B/s ceiling) unless
  # XM is set (a fixed ratio: the machine, not the code, changed speed).
  local f=$1; shift
  { echo '{"context":{"num_cpus":2},"benchmarks":['
    local first=1
    for v in "$@"; do
      [[ $first -eq 1 ]] || echo ','
      first=0
      echo "{\"name\":\"BM_X/repeats:3\",\"run_name\":\"BM_X\",\"run_type\":\"iteration\",\"bytes_per_second\":$v,\"x_memcpy\":${XM:-$(python3 -c "print($v / 200e9)")},\"real_time\":1}"
    done
    echo ',{"name":"BM_X_median","run_name":"BM_X","run_type":"aggregate","aggregate_name":"median","bytes_per_second":1}'
    echo ']}'; } > "$f"
}
mk_time() {  # mk_time FILE NS... : a benchmark that reports only time
  local f=$1; shift
  { echo '{"context":{},"benchmarks":['
    local first=1
    for v in "$@"; do
      [[ $first -eq 1 ]] || echo ','
      first=0
      echo "{\"name\":\"BM_T\",\"run_name\":\"BM_T\",\"run_type\":\"iteration\",\"real_time\":$v,\"time_unit\":\"us\"}"
    done
    echo ']}'; } > "$f"
}

mk "$dir/base.json" 100e9 101e9 99e9
mk "$dir/same.json" 100e9 99e9 100e9
mk "$dir/slow.json" 70e9 71e9 69e9
mk "$dir/noisy_base.json" 100e9 80e9 120e9
mk "$dir/noisy_new.json" 90e9 70e9 110e9

# Table only: figure in GB/s and the benchmark's own ceiling ratio.
python3 "$compare" "$dir/base.json" > "$dir/out0" || fail "table-only run failed"
grep -q "100.000 GB/s" "$dir/out0" || fail "no GB/s figure"; grep -q "x_memcpy 0.50" "$dir/out0" || fail "no ceiling ratio"

python3 "$compare" "$dir/base.json" "$dir/same.json" > "$dir/out1" || fail "equal runs flagged"
grep -q "1 compared, 0 regressed" "$dir/out1" || fail "equal runs: $(cat "$dir/out1")"

if python3 "$compare" "$dir/base.json" "$dir/slow.json" > "$dir/out2"; then
  fail "a 30% slowdown was not flagged: $(cat "$dir/out2")"
fi
grep -q "REGRESSION" "$dir/out2" || fail "no REGRESSION line"

# 10% lower but the repetitions spread by 20%: within noise.
python3 "$compare" "$dir/noisy_base.json" "$dir/noisy_new.json" > "$dir/out3" || fail "noise flagged"
grep -q "0 regressed" "$dir/out3" || fail "noise: $(cat "$dir/out3")"

# The whole machine 30% slower, the ratio to its ceiling unchanged: judged on
# the ratio (default) that is no regression; judged on raw throughput it is.
XM=0.5 mk "$dir/ratio_base.json" 100e9 101e9 99e9
XM=0.5 mk "$dir/ratio_slowmachine.json" 70e9 71e9 69e9
python3 "$compare" "$dir/ratio_base.json" "$dir/ratio_slowmachine.json" > "$dir/out8" ||
  fail "a slower machine was judged a regression: $(cat "$dir/out8")"
grep -q "1.000 x_memcpy" "$dir/out8" || fail "not judged on x_memcpy: $(cat "$dir/out8")"
if python3 "$compare" --judge throughput "$dir/ratio_base.json" "$dir/ratio_slowmachine.json" > /dev/null; then
  fail "--judge throughput missed a 30% drop"
fi

# A time-only benchmark: 2x the time is a regression, 0.5x is faster.
mk_time "$dir/t_base.json" 10 10 10
mk_time "$dir/t_slow.json" 20 20 20
mk_time "$dir/t_fast.json" 5 5 5
if python3 "$compare" "$dir/t_base.json" "$dir/t_slow.json" > "$dir/out4"; then
  fail "doubled time not flagged: $(cat "$dir/out4")"
fi
python3 "$compare" "$dir/t_base.json" "$dir/t_fast.json" > "$dir/out5" || fail "faster flagged"
grep -q "faster" "$dir/out5" || fail "halved time not reported faster"
grep -q "5000 ns" "$dir/out5" || fail "time not converted to ns: $(cat "$dir/out5")"

# A benchmark that reported an error fails the run.
cat > "$dir/err.json" <<'JSON'
{"context":{},"benchmarks":[{"name":"BM_X","run_name":"BM_X","run_type":"iteration","error_occurred":true,"error_message":"restore failed"}]}
JSON
if python3 "$compare" "$dir/base.json" "$dir/err.json" > "$dir/out6"; then
  fail "an error was not a failure"
fi
grep -q "ERROR: restore failed" "$dir/out6" || fail "error not shown: $(cat "$dir/out6")"

# Nothing in common, or an unreadable file: exit 2.
set +e
python3 "$compare" "$dir/base.json" "$dir/t_base.json" > /dev/null 2>&1; rc1=$?
python3 "$compare" "$dir/base.json" "$dir/nonexistent.json" > /dev/null 2>&1; rc2=$?
set -e
[[ $rc1 == 2 && $rc2 == 2 ]] || fail "bad input exit codes $rc1 $rc2"

# Merge: names get the binary prefix, context gets --set entries, a missing
# file is listed, and the merged file compares like any other.
mkdir -p "$dir/m1" "$dir/m2"
cp "$dir/base.json" "$dir/m1/a_bench.json"; cp "$dir/t_base.json" "$dir/m1/b_bench.json"
cp "$dir/slow.json" "$dir/m2/a_bench.json"; cp "$dir/t_base.json" "$dir/m2/b_bench.json"
cat > "$dir/m1/ceilings_bench.json" <<'JSON'
{"context":{},"benchmarks":[{"name":"BM_Memcpy/1/iterations:1/manual_time","run_name":"BM_Memcpy/1/iterations:1/manual_time","run_type":"iteration","bytes_per_second":10e9,"real_time":1}]}
JSON
sed 's/10e9/5e9/' "$dir/m1/ceilings_bench.json" > "$dir/m2/ceilings_bench.json"
# c_bench has no ceiling counter: judged on m1, its ratio to the run's memcpy.
cat > "$dir/m1/c_bench.json" <<'JSON'
{"context":{},"benchmarks":[{"name":"BM_C","run_name":"BM_C","run_type":"iteration","bytes_per_second":4e9,"real_time":1}]}
JSON
sed 's/4e9/2e9/' "$dir/m1/c_bench.json" > "$dir/m2/c_bench.json"
python3 "$merge" --out "$dir/m1.json" --set nproc=2 --set cpu_model=TestCPU \
  "$dir/m1/ceilings_bench.json" "$dir/m1/a_bench.json" "$dir/m1/b_bench.json" \
  "$dir/m1/c_bench.json" "$dir/m1/gone_bench.json" 2> "$dir/merge_err"
grep -q "gone_bench" "$dir/merge_err" || fail "missing input not reported"
python3 "$merge" --out "$dir/m2.json" --set nproc=2 --set cpu_model=TestCPU \
  "$dir/m2/ceilings_bench.json" "$dir/m2/a_bench.json" "$dir/m2/b_bench.json" \
  "$dir/m2/c_bench.json"
python3 - "$dir/m1.json" <<'PY' || fail "merged JSON is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
names = {b["name"] for b in d["benchmarks"]}
assert "a_bench/BM_X/repeats:3" in names and "b_bench/BM_T" in names, names
assert d["context"]["nproc"] == "2" and d["context"]["cpu_model"] == "TestCPU"
assert d["context"]["missing"] == ["gone_bench"]
assert set(d["context"]["binaries"]) == {"ceilings_bench", "a_bench", "b_bench", "c_bench"}
PY
if python3 "$compare" "$dir/m1.json" "$dir/m2.json" > "$dir/out7"; then
  fail "merged slowdown not flagged"
fi
grep -q "a_bench/BM_X .*REGRESSION" "$dir/out7" || fail "merged: $(cat "$dir/out7")"
grep -q "b_bench/BM_T .*ok" "$dir/out7" || fail "merged: $(cat "$dir/out7")"
grep -q "2 cores, TestCPU" "$dir/out7" || fail "machine not described"
# A benchmark labelled "ceiling" is not judged either.
cat > "$dir/lab_base.json" <<'JSON'
{"context":{},"benchmarks":[{"name":"BM_L","run_name":"BM_L","run_type":"iteration","bytes_per_second":4e9,"real_time":1,"label":"ceiling"}]}
JSON
sed 's/4e9/1e9/' "$dir/lab_base.json" > "$dir/lab_new.json"
python3 "$compare" "$dir/lab_base.json" "$dir/lab_new.json" > "$dir/out9" || fail "labelled ceiling judged"
grep -q "not judged" "$dir/out9" || fail "label: $(cat "$dir/out9")"
# The ceiling halved: shown, not judged; c_bench halved with it: m1 unchanged.
grep -q "ceilings_bench/BM_Memcpy/1 .*0.500 .*not judged" "$dir/out7" || fail "ceiling judged: $(cat "$dir/out7")"
grep -q "c_bench/BM_C .*1.000 m1 .*ok" "$dir/out7" || fail "m1: $(cat "$dir/out7")"
# A restore row with two ceilings (memcpy and pread): the table shows both;
# against a baseline from before x_pread existed it is still judged, on
# x_memcpy.
cat > "$dir/two_new.json" <<'JSON'
{"context":{},"benchmarks":[{"name":"BM_R","run_name":"BM_R","run_type":"iteration","bytes_per_second":4e9,"real_time":1,"x_memcpy":0.4,"x_pread":0.8}]}
JSON
sed 's/,"x_pread":0.8//' "$dir/two_new.json" > "$dir/two_base.json"
python3 "$compare" "$dir/two_base.json" "$dir/two_new.json" > "$dir/out10" || fail "two ceilings: $(cat "$dir/out10")"
grep -q "BM_R .*x_memcpy 0.40 x_pread 0.80 .*1.000 x_memcpy .*ok" "$dir/out10" || fail "two ceilings: $(cat "$dir/out10")"
if python3 "$merge" --out "$dir/none.json" "$dir/nonexistent.json" 2> /dev/null; then
  fail "merging nothing succeeded"
fi
echo "bench_compare, bench_merge: all checks passed"
