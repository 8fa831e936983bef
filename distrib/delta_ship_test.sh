#!/usr/bin/env bash
# Shipping delta checkpoints through wksp_ctl (CHECKPOINT_FORMAT.md §9.5):
# torrent-create of a delta, seed, and fetch, which applies it in place
# while it downloads, over loopback:
#   1. a RAW delta fetched onto a standby in its base state: the standby
#      reaches the primary's state;
#   2. an LZ4 delta of that delta, fetched with --keep: the standby follows
#      again and the kept file equals the seeded one;
#   3. the first delta fetched again, onto the wrong state: refused, the
#      standby untouched.
# Workspaces live in $TEST_TMPDIR/shm. Every wait is bounded; the seeders
# are killed and every file and workspace removed on any exit.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/ship"
rm -rf "$tmp"
mkdir -p "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
d="$tmp/ck"
mkdir -p "$d"
# fail, ok, and on exit: the seeders in $pids killed, $tmp (and with it
# every workspace, under $tmp/shm) removed.
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/testing_lib.sh"
run() {  # run NAME ARGS...: must succeed
  local name=$1; shift
  local o
  if o=$("$ctl" -q "$@" 2>&1); then ok "$name"; else fail "$name: $o"; fi
}
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/state_lib.sh"  # state W
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/distrib/seed_lib.sh"  # seed, unseed

# Base: 24 allocations of 1-5 chunks (64 KiB), each filled with its byte.
run "new primary" new prim 32M normal 0 0600
run "new standby" new stby 32M normal 0 0600
gs=()
for i in $(seq 1 24); do
  g=$("$ctl" tag $((i % 4 + 1)) alloc prim 0 $((i % 5 * 65536 + 40000))) ||
    fail "alloc $i"
  "$ctl" memset "$g" $((i + 60)) >/dev/null || fail "memset $i"
  gs+=("$g")
done
run "full checkpt" checkpt prim "$d/full" 0600 3 "base"
s0=$(state prim)
run "standby restores the full checkpoint" restore stby "$d/full" -
[[ $(state stby) == "$s0" && ${#s0} -eq 32 ]] && ok "standby at the base" ||
  fail "standby base state: $(state stby) vs $s0"

# 1. A RAW delta: some chunks rewritten, one allocation freed, one made.
"$ctl" memset "${gs[2]}" 7 >/dev/null && "$ctl" memset "${gs[9]}" 8 >/dev/null &&
  "$ctl" free "${gs[5]}" >/dev/null && "$ctl" tag 9 alloc prim 0 70000 >/dev/null ||
  fail "changes 1"
run "delta 1 (v2)" --base "$d/full" checkpt prim "$d/d1" 0600 2 "d1"
s1=$(state prim)
if seed d1 "$d/d1"; then
  o=$(timeout 60 "$ctl" --peer "$peer" --timeout 20 --deadline 50 \
    fetch stby "$d/d1.torrent" - 2>&1); rc=$?
  [[ $rc -eq 0 ]] && ok "fetch of a RAW delta" || fail "fetch d1: rc=$rc $o"
  [[ $(state stby) == "$s1" ]] && ok "standby at delta 1's state" ||
    fail "standby after d1: $(state stby) vs $s1"
fi
unseed

# 2. An LZ4 delta against delta 1, fetched keeping the file.
"$ctl" memset "${gs[0]}" 3 >/dev/null && "$ctl" memset "${gs[20]}" 4 >/dev/null ||
  fail "changes 2"
run "delta 2 (v3) against delta 1" --base "$d/d1" checkpt prim "$d/d2" 0600 3 "d2"
s2=$(state prim)
[[ $s0 != "$s1" && $s1 != "$s2" && $s0 != "$s2" ]] &&
  ok "the three states differ" || fail "states: $s0 $s1 $s2"
if seed d2 "$d/d2"; then
  o=$(timeout 60 "$ctl" --peer "$peer" --timeout 20 --deadline 50 \
    --keep "$d/d2.kept" fetch stby "$d/d2.torrent" - 2>&1); rc=$?
  [[ $rc -eq 0 ]] && ok "fetch of an LZ4 delta with --keep" || fail "fetch d2: rc=$rc $o"
  [[ $(state stby) == "$s2" ]] && ok "standby at delta 2's state" ||
    fail "standby after d2: $(state stby) vs $s2"
  cmp -s "$d/d2" "$d/d2.kept" && ok "kept file equals the seeded delta" ||
    fail "kept file differs"
fi
unseed

# 3. Delta 1 again: the standby is not in its base state.
if seed d1again "$d/d1"; then
  o=$(timeout 60 "$ctl" --peer "$peer" --timeout 20 --deadline 50 \
    fetch stby "$d/d1again.torrent" - 2>&1); rc=$?
  [[ $rc -ne 0 ]] && grep -q "applies only to state" <<<"$o" &&
    ok "fetch onto the wrong state refused (exit $rc)" ||
    fail "wrong-state fetch: rc=$rc $o"
  [[ $(state stby) == "$s2" ]] && ok "refused fetch left the standby untouched" ||
    fail "standby changed by a refused fetch"
fi
unseed

[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
