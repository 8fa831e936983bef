#!/usr/bin/env bash
# Two messages of the library, through the real binary (docs/wksp_ctl.md,
# "The workspace lock" and "Restore mark"):
#   - a command waiting for a workspace's lock says, after about a second,
#     whom it waits for, and completes once the holder lets go. The holder
#     is a checkpt that stops itself while holding the lock (util/fault.h,
#     WKSP_FAULT_AT=write:1:stop) and is resumed with SIGCONT;
#   - a restore killed mid-way (WKSP_FAULT_AT=frame:N:kill) leaves the
#     restore mark: list, check, verify, usage, query and a join report it
#     with the documented exit statuses, and reset empties the workspace.
# Workspaces live in $TEST_TMPDIR/shm; every wait is a bounded poll.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"  # honours WKSP_FAULT_AT
tmp="${TEST_TMPDIR:-$(mktemp -d)}/wait_test"
mkdir -p "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/testing_lib.sh"

# ---- a lock waiter says whom it waits for ---------------------------------------
"$ctl" new lk 16M normal 0 600 alloc lk 0 1M >/dev/null || fail "new lk"
WKSP_FAULT_AT=write:1:stop "$ctl" -q checkpt lk "$tmp/lk.ckpt" 600 2 "" &
holder=$!
pids+=("$holder")
stopped() { [[ "$(awk '{print $3}' "/proc/$holder/stat" 2>/dev/null)" == T ]]; }
holds_lock() { "$ctl" list 2>/dev/null | grep -qE "^lk +normal +[0-9]+ +\? +$holder\(wksp_ctl_testin\) "; }
if poll 20 stopped && poll 5 holds_lock; then
  ok "holder-stopped-with-the-lock"
else
  fail "the checkpt did not stop holding the lock: $("$ctl" list 2>&1)"
fi
"$ctl" alloc lk 0 4096 >"$tmp/alloc.out" 2>"$tmp/alloc.err" &
waiter=$!
pids+=("$waiter")
said() {
  grep -qE "^wksp_ctl: waiting for the workspace lock of lk held by pid $holder \(wksp_ctl_testin\) since .* UTC \(waited [0-9]+ s so far\)$" "$tmp/alloc.err"
}
if poll 20 said; then ok "waiter-says-whom"; else fail "waiter said: $(cat "$tmp/alloc.err")"; fi
kill -0 "$waiter" 2>/dev/null && ok "waiter-still-waiting" || fail "the waiter did not wait"
[[ -s "$tmp/alloc.out" ]] && fail "the alloc ran while the lock was held"
kill -CONT "$holder"
wait "$holder"; rc=$?
[[ $rc -eq 0 ]] && ok "holder-finished" || fail "resumed checkpt: rc=$rc"
wait "$waiter"; rc=$?
if [[ $rc -eq 0 ]] && grep -qE "^lk:[0-9]+$" "$tmp/alloc.out"; then
  ok "waiter-completed"
else
  fail "waiter: rc=$rc out=$(cat "$tmp/alloc.out") err=$(cat "$tmp/alloc.err")"
fi
pids=()
check checkpt-complete 0 "OK: v2, sealed" -- checkpt-verify "$tmp/lk.ckpt"
"$ctl" delete lk || fail "delete lk"

# ---- a killed restore leaves the restore mark ------------------------------------
"$ctl" new mk 32M normal 0 600 >/dev/null || fail "new mk"
for i in 1 2 3 4 5 6 7 8; do
  g=$("$ctl" alloc mk 0 1M) || fail "alloc mk"
  "$ctl" memset "$g" "$i" || fail "memset $g"
done
"$ctl" -q checkpt mk "$tmp/mk.ckpt" 600 2 "" || fail "checkpt mk"
restore=(--threads 1 -q restore mk "$tmp/mk.ckpt" -)
# The restore's frame events (scan, then the cgroups restored): kill points
# 1..n kill it, n+1 lets it finish.
n=0
for ((k = 1; k <= 400; ++k)); do
  WKSP_FAULT_AT=frame:$k:kill "$ctl" "${restore[@]}" 2>/dev/null; rc=$?
  [[ $rc -eq 0 ]] && { n=$((k - 1)); break; }
  [[ $rc -eq 137 ]] || { fail "restore at frame:$k: rc=$rc"; break; }
done
((n >= 4)) && ok "restore-frame-events ($n)" || fail "restore frame events: $n"
# The last frame event: the last cgroup's, read after the scan, once the
# restore has marked the workspace and started writing it.
WKSP_FAULT_AT=frame:$n:kill "$ctl" "${restore[@]}" 2>/dev/null &
victim=$!
wait "$victim"; rc=$?
[[ $rc -eq 137 ]] && ok "restore-killed" || fail "late kill: rc=$rc"
# list reads the mark without taking the lock (nothing repaired yet).
check list-mark 0 "^mk .* killed by $victim " -- list
mark="a restore by pid $victim started .* did not finish \(killed\?\); the half-restored contents were discarded and the workspace is empty: restore the checkpoint again, or reset the workspace \(wksp_ctl reset\) to use it empty"
check check-mark 8 "^wksp_ctl: check mk: workspace mk: $mark" -- check mk
check verify-mark 8 "verify mk: .*$mark" -- verify mk
check usage-mark 8 "usage mk 1: .*$mark" -- usage mk 1
check query-mark 8 "query mk: .*$mark" -- query mk
check list-still-marked 0 "^mk .* killed by $victim " -- list
# Every join says so on stderr, also that of a command that succeeds
# (reset), which then says what it is fixing.
joined="^wksp_ctl: workspace mk: a restore by pid $victim started .* UTC did not finish \(killed\?\); it is \(or is about to be\) empty: restore it again, or \`reset\` it to use it empty$"
check join-reports 8 "$joined" -- usage mk 1
check reset-reports 0 "$joined" -- reset mk
check list-clear 0 "^mk +normal +[0-9]+ +0 +- +- " -- list
check usage-empty 0 "" -- usage mk 1
u=$("$ctl" --json usage mk 1 2>&1)
grep -qE '"used_cnt":0[,}]' <<<"$u" && ok "reset-empty" || fail "usage after reset: $u"
check check-clean 0 "" -- check mk
# The checkpoint restores in full again.
check restore-again 0 "" -- "${restore[@]}"
u=$("$ctl" --json usage mk 1 2>&1)
grep -qE '"used_cnt":8[,}]' <<<"$u" && ok "restored-again" || fail "usage after restore: $u"
"$ctl" delete mk || fail "delete mk"

leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "workspaces left behind: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
