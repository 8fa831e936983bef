#!/usr/bin/env bash
# How a lock wait ends, through the binary (docs/wksp_ctl.md, "The workspace
# lock"): on the first SIGINT, SIGTERM or SIGHUP (exit 128+N), at --wait
# SECONDS (exit 7), each changing nothing; when the holder lets go (the
# command completes); and a workspace streamed into itself (`checkpt W - |
# restore W - -`) is refused (exit 7) instead of waiting forever. The holder
# is a checkpt that stops itself holding the lock (util/fault.h,
# WKSP_FAULT_AT=write:1:stop), resumed with SIGCONT. Every wait is a bounded
# poll; no timings are asserted.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"  # honours WKSP_FAULT_AT
tmp="${TEST_TMPDIR:-$(mktemp -d)}/lockwait_test"
mkdir -p "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/testing_lib.sh"
stopped() { [[ "$(awk '{print $3}' "/proc/$holder/stat" 2>/dev/null)" == T ]]; }
# Whether process $1 sleeps in nanosleep (35) or clock_nanosleep (230): the
# only sleep of a command waiting for a workspace lock.
sleeping() {
  local nr
  nr=$(awk '{print $1}' "/proc/$1/syscall" 2>/dev/null)
  [[ $nr == 35 || $nr == 230 ]]
}

# ---- a lock wait ends on a signal, at --wait, or when the holder lets go --------
# (docs/wksp_ctl.md, "The workspace lock": exit 128+N or 7, nothing changed).
"$ctl" new lw 16M normal 0 600 alloc lw 0 1M >/dev/null || fail "new lw"
WKSP_FAULT_AT=write:1:stop "$ctl" -q checkpt lw "$tmp/lw.ckpt" 600 2 "" &
holder=$!
pids+=("$holder")
holds_lw() { "$ctl" list 2>/dev/null | grep -qE "^lw +normal +[0-9]+ +\? +$holder\(wksp_ctl_testin\) "; }
poll 20 stopped && poll 5 holds_lw || fail "the checkpt of lw did not stop holding the lock"
used_lw() { "$ctl" --json usage lw 1 2>&1 | grep -oE '"used_cnt":[0-9]+'; }
for sig in INT TERM HUP; do
  "$ctl" alloc lw 0 4096 >"$tmp/sig.out" 2>"$tmp/sig.err" &
  w=$!
  pids+=("$w")
  poll 20 sleeping "$w" || fail "SIG$sig: the waiter did not wait"
  kill -"$sig" "$w"
  wait "$w"; rc=$?
  want=$((128 + $(kill -l "$sig")))
  if [[ $rc -eq $want ]] && grep -q "interrupted by SIG$sig" "$tmp/sig.err" &&
     grep -q "nothing was changed" "$tmp/sig.err" && [[ ! -s "$tmp/sig.out" ]]; then
    ok "signal-ends-wait-SIG$sig"
  else
    fail "SIG$sig to a waiter: rc=$rc (want $want) err=$(cat "$tmp/sig.err")"
  fi
done
check wait-zero 7 "gave up waiting for the lock held by pid $holder .* after the wait limit of 0 s; nothing was changed" -- --wait 0 alloc lw 0 4096
check wait-limit 7 "after the wait limit of 0.3 s; nothing was changed" -- --wait 0.3 alloc lw 0 4096
kill -CONT "$holder"; wait "$holder" || fail "resumed checkpt of lw"
[[ "$(used_lw)" == '"used_cnt":1' ]] && ok "refused-waiters-changed-nothing" || fail "usage of lw: $(used_lw)"
# A workspace streamed into itself: the restore waits for the lock of a
# checkpt that waits for it; it says so instead of waiting forever.
# Whichever takes the lock first, the other finds the holder on the other
# end of its pipe and gives up (7); the first then ends too (broken pipe, or
# a stream that ends early).
timeout 60 "$ctl" -q checkpt lw - 600 2 "" 2>"$tmp/self_ck.err" |
  timeout 60 "$ctl" -q --force restore lw - - 2>"$tmp/self.err"
rcs=("${PIPESTATUS[@]}")
if { [[ ${rcs[1]} -eq 7 ]] && grep -q "streamed into itself" "$tmp/self.err"; } ||
   { [[ ${rcs[0]} -eq 7 ]] && grep -q "streamed into itself" "$tmp/self_ck.err"; }; then
  ok "self-stream-refused (exit statuses ${rcs[*]})"
else
  fail "checkpt lw - | restore lw - -: rc=${rcs[*]} err=$(cat "$tmp/self_ck.err" "$tmp/self.err")"
fi
[[ "$(used_lw)" == '"used_cnt":1' ]] && ok "self-stream-changed-nothing" || fail "usage of lw: $(used_lw)"
# A bounded wait still completes when the holder lets go in time.
WKSP_FAULT_AT=write:1:stop "$ctl" -q checkpt lw "$tmp/lw2.ckpt" 600 2 "" &
holder=$!
pids+=("$holder")
poll 20 stopped && poll 5 holds_lw || fail "the second checkpt of lw did not stop"
"$ctl" --wait 60 alloc lw 0 4096 >"$tmp/bw.out" 2>"$tmp/bw.err" &
w=$!
pids+=("$w")
poll 20 sleeping "$w" || fail "the bounded waiter did not wait"
kill -CONT "$holder"; wait "$holder" || fail "resumed checkpt of lw"
wait "$w"; rc=$?
[[ $rc -eq 0 ]] && grep -qE "^lw:[0-9]+$" "$tmp/bw.out" && ok "bounded-wait-completes" ||
  fail "--wait 60 waiter: rc=$rc err=$(cat "$tmp/bw.err")"
pids=()
"$ctl" delete lw || fail "delete lw"


leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "workspaces left behind: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
