#!/usr/bin/env bash
# Incremental checkpoints through wksp_ctl (docs/wksp_ctl.md, "Incremental
# checkpoints"): a weekly full checkpoint and hourly deltas (--base), the
# chain restored (--delta ... restore / restore-new), a standby kept
# current with apply, a delta refused on the wrong state, checkpt-merge equal
# to a full checkpoint, checkpt-query / checkpt-verify of deltas and chains.
# Workspaces live in $TEST_TMPDIR/shm.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
d="$tmp/ck"
rm -rf "$d"; mkdir -p "$d"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
run() {  # run NAME ARGS...: must succeed
  local name=$1; shift
  local o
  if o=$("$ctl" -q "$@" 2>&1); then ok "$name"; else fail "$name: $o"; fi
}
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/state_lib.sh"  # state W

run "new primary" new prim 64M normal 0 0600
run "new standby" new stby 64M normal 0 0600
# Day 0: some allocations, then the weekly full checkpoint.
for i in $(seq 1 30); do
  g=$("$ctl" tag $((i % 5 + 1)) alloc prim 0 $((i * 37000))) || fail "alloc $i"
  "$ctl" memset "$g" $((i + 40)) || fail "memset $i"
  gs[$i]=$g
done
run "weekly full checkpt" checkpt prim "$d/full" 0600 3 "weekly"
[[ -f "$d/full.wkspidx" ]] && ok "full checkpt has its index sidecar" || fail "no sidecar"
s0=$(state prim)
run "standby restores the full checkpoint" restore stby "$d/full" -
# Hour 1: a few writes; hour 2: frees and new allocations.
"$ctl" memset "${gs[3]}" 7 && "$ctl" memset "${gs[9]}" 8 || fail "memset hour 1"
run "hourly delta 1" --base "$d/full" checkpt prim "$d/h1" 0600 3 "h1"
s1=$(state prim)
"$ctl" free "${gs[4]}" && "$ctl" tag 9 alloc prim 0 1000 >/dev/null || fail "hour 2"
run "hourly delta 2 (v2) against delta 1" --base "$d/h1" checkpt prim "$d/h2" 0600 2 "h2"
s2=$(state prim)
[[ ${#s0} -eq 32 && $s0 != "$s1" && $s1 != "$s2" && $s0 != "$s2" ]] \
  && ok "the three states have distinct ids" || fail "state ids: $s0 $s1 $s2"
[[ $(stat -c %s "$d/h1") -lt $(( $(stat -c %s "$d/full") / 4 )) ]] \
  && ok "delta smaller than the full checkpoint" || fail "delta size"

# checkpt-query and checkpt-verify of a delta and of the chain.
o=$("$ctl" checkpt-query "$d/h2" 1 2>&1)
grep -q "^delta checkpoint" <<<"$o" && grep -q "base state" <<<"$o" \
  && ok "checkpt-query of a delta" || fail "checkpt-query: $o"
o=$("$ctl" --json checkpt-query "$d/h2" 0 2>&1)
grep -q '"delta":true' <<<"$o" && ok "checkpt-query --json" || fail "json: $o"
o=$("$ctl" checkpt-verify "$d/h1" 2>&1) && grep -q "OK: delta" <<<"$o" \
  && ok "checkpt-verify of a delta" || fail "verify delta: $o"
o=$("$ctl" --delta "$d/h1" --delta "$d/h2" checkpt-verify "$d/full" 2>&1) \
  && grep -q "OK: chain of 3 files" <<<"$o" && ok "checkpt-verify of the chain" \
  || fail "verify chain: $o"
o=$("$ctl" --delta "$d/h2" checkpt-verify "$d/full" 2>&1)
[[ $? -ne 0 ]] && grep -q "LINK BROKEN" <<<"$o" && ok "a broken chain is reported" \
  || fail "broken chain: $o"

# The standby follows by applying deltas; the wrong one is refused untouched.
o=$("$ctl" apply stby "$d/h2" 2>&1); rc=$?
[[ $rc -eq 1 ]] && grep -q "applies only to state" <<<"$o" \
  && ok "apply onto the wrong state refused" || fail "wrong apply rc=$rc: $o"
[[ $(state stby) == "$s0" ]] && ok "refused apply left the standby untouched" || fail "standby changed"
run "apply delta 1" apply stby "$d/h1"
[[ $(state stby) == "$s1" ]] && ok "standby at hour 1" || fail "standby hour 1"
run "apply delta 2" apply stby "$d/h2"
[[ $(state stby) == "$s2" ]] && ok "standby at hour 2" || fail "standby hour 2"

# A chain restored at once, into an existing workspace and a new one.
run "restore a chain" --delta "$d/h1" --delta "$d/h2" restore stby "$d/full" -
[[ $(state stby) == "$s2" ]] && ok "chain restore" || fail "chain restore state"
run "restore-new a chain" --delta "$d/h1" restore-new fresh "$d/full" - normal 0 0600
[[ $(state fresh) == "$s1" ]] && ok "restore-new chain" || fail "restore-new state"

# Merge equals a full checkpoint of the same state with the same options.
run "merge" --deterministic --delta "$d/h1" --delta "$d/h2" checkpt-merge "$d/full" "$d/merged" 0600 3 "x"
run "full of the same state" --deterministic checkpt prim "$d/direct" 0600 3 "x"
cmp -s "$d/merged" "$d/direct" && ok "merge is byte-identical to a full checkpoint" \
  || fail "merge differs"

# Errors: a delta to stdout, a delta with no base file.
o=$("$ctl" --base "$d/full" checkpt prim - 0600 3 "" 2>&1 </dev/null >/dev/null); rc=$?
[[ $rc -eq 2 ]] && ok "delta to stdout refused" || fail "delta to -: rc=$rc $o"
o=$("$ctl" --base "$d/nope" checkpt prim "$d/h9" 0600 3 "" 2>&1); rc=$?
[[ $rc -eq 4 && ! -e "$d/h9" ]] && ok "missing base refused, nothing written" || fail "missing base: rc=$rc $o"

for w in prim stby fresh; do "$ctl" delete $w >/dev/null 2>&1; done
rm -rf "$d"
leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "left in shm: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
