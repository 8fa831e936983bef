#!/usr/bin/env bash
# Short alloc_stress runs: threads, processes, and processes with a worker
# SIGKILLed (inside the workspace lock and at a random moment). Each run must
# end clean (PASS: patterns intact, usage back to the start, verify ok).
set -uo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/alloc_stress"
export WKSP_SHMEM_ROOT="${TEST_TMPDIR}/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
fails=0
# ThreadSanitizer cannot see synchronization done by other processes (the
# workspace lock passed on through another process), so in process mode it
# reports false races between the threads of one process: process runs keep
# TSan's instrumentation but not its reports. Threads mode reports in full.
procs_env=(env "TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}report_bugs=0")
run() {  # run NAME ARGS...
  local name=$1; shift
  local out rc
  local pre=()
  [[ " $* " == *" --procs "* ]] && pre=("${procs_env[@]}")
  out=$(timeout 40 "${pre[@]}" "$bin" "$@" 2>&1); rc=$?
  echo "$out"
  if [[ $rc -ne 0 ]] || ! grep -q "^PASS$" <<<"$out" || ! grep -q "ops/s" <<<"$out"; then
    echo "FAIL $name (rc=$rc)"; fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
run threads --threads 2 --duration 0.7 --seed 1
run threads-ops --threads 1 --ops 2000 --max-size 64K --max-align 4096 --seed 2
run procs --procs 3 --threads 1 --duration 0.7 --seed 3
run kill-in-lock --procs 3 --threads 1 --duration 1 --kill=lock --seed 4
run kill-any --procs 4 --threads 1 --duration 1 --kill=any --seed 5
grep -q "held the workspace lock" <<<"$(timeout 40 "${procs_env[@]}" "$bin" --procs 3 --threads 1 --duration 0.5 --kill=lock --seed 6 2>&1)" \
  || { echo "FAIL kill=lock did not report the lock"; fails=$((fails + 1)); }
# A worker SIGKILLed from outside (not by --kill, so nobody marks it dead):
# its peers notice by its pid and the run ends, failing with its name, the
# workspace cleaned up, instead of spinning forever.
"${procs_env[@]}" "$bin" --procs 3 --threads 1 --duration 2 --seed 8 >"$TEST_TMPDIR/outside.out" 2>&1 &
parent=$!
kids=()
for ((i = 0; i < 200; ++i)); do
  mapfile -t kids < <(pgrep -P "$parent")
  ((${#kids[@]} >= 3)) && break
  sleep 0.02
done
if ((${#kids[@]} >= 3)); then
  kill -KILL "${kids[1]}"
  # Bounded: a hang shows as a timeout, not a stuck test.
  for ((i = 0; i < 300; ++i)); do kill -0 "$parent" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$parent" 2>/dev/null; then
    echo "FAIL outside-kill: still running 30 s after a worker was killed"
    kill -KILL "$parent" "${kids[@]}" 2>/dev/null; fails=$((fails + 1))
  fi
  wait "$parent"; rc=$?
  out=$(cat "$TEST_TMPDIR/outside.out")
  if [[ $rc -eq 1 ]] && grep -q "was killed by signal 9 from outside" <<<"$out" &&
     grep -q "reclaimed .* allocations the killed process left behind" <<<"$out"; then
    echo "ok   outside-kill"
  else
    echo "FAIL outside-kill: rc=$rc"; echo "$out"; fails=$((fails + 1))
  fi
else
  echo "FAIL outside-kill: workers did not start"; kill -KILL "$parent"; wait "$parent"
  fails=$((fails + 1))
fi
out=$("$bin" --procs 1 --kill 2>&1); rc=$?
[[ $rc -eq 2 ]] && grep -q "needs --procs 3" <<<"$out" || { echo "FAIL usage check: $rc $out"; fails=$((fails + 1)); }
out=$("$bin" --bogus 1 2>&1); rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL unknown option: $rc"; fails=$((fails + 1)); }
left=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$left" ]] || { echo "FAIL left behind: $left"; fails=$((fails + 1)); }
[[ $fails -eq 0 ]] || { echo "$fails failure(s)"; exit 1; }
