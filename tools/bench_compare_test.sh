#!/usr/bin/env bash
# Checks tools/bench_compare.py on synthetic google-benchmark JSON: equal runs
# pass, a clear slowdown fails, noise within the measured spread passes.
set -euo pipefail
tool="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools/bench_compare.py"
dir="${TEST_TMPDIR}"
mk() {  # mk FILE BPS...
  local f=$1; shift
  { echo '{"context":{},"benchmarks":['
    local first=1
    for v in "$@"; do
      [[ $first -eq 1 ]] || echo ','
      first=0
      echo "{\"name\":\"BM_X/repeats:3\",\"run_name\":\"BM_X\",\"run_type\":\"iteration\",\"bytes_per_second\":$v,\"real_time\":1}"
    done
    echo ',{"name":"BM_X_median","run_name":"BM_X","run_type":"aggregate","aggregate_name":"median","bytes_per_second":1}'
    echo ']}'; } > "$f"
}
mk "$dir/base.json" 100 101 99
mk "$dir/same.json" 100 99 100
mk "$dir/slow.json" 70 71 69
mk "$dir/noisy_base.json" 100 80 120
mk "$dir/noisy_new.json" 90 70 110
python3 "$tool" "$dir/base.json" "$dir/same.json" | tee "$dir/out1"
grep -q "1 compared, 0 regressed" "$dir/out1"
if python3 "$tool" "$dir/base.json" "$dir/slow.json" > "$dir/out2"; then
  echo "FAIL: a 30% slowdown was not flagged"; cat "$dir/out2"; exit 1
fi
grep -q "REGRESSION" "$dir/out2"
# 10% lower but the repetitions spread by 20%: within noise.
python3 "$tool" "$dir/noisy_base.json" "$dir/noisy_new.json" | tee "$dir/out3"
grep -q "0 regressed" "$dir/out3"
echo "bench_compare: all checks passed"
