#!/usr/bin/env bash
# One exit status per error class (apps/exit_status.h, docs/wksp_ctl.md "Exit
# statuses"), each with a message that names the real cause: usage 2, not
# found 4, permission 5, out of space or memory 6, corrupt or truncated
# data 8 (a truncated file says how many bytes it has and needs). Lock
# waits (7, 128+N) are in wksp_ctl_wait_test, full file systems (6, 3) in
# wksp_ctl_space_test.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/errors_test"
mkdir -p "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
perm=""  # a directory the unprivileged user can search (root runs only)
cleanup() {
  rm -rf "$tmp"
  [[ -n "$perm" ]] && rm -rf "$perm"
}
trap cleanup EXIT

# check NAME WANT_RC PATTERN [NOT_PATTERN] -- ARGS...: exit status, a line of
# stderr matching PATTERN and none matching NOT_PATTERN.
check() {
  local name=$1 want=$2 pattern=$3 not=""
  shift 3
  if [[ $1 != -- ]]; then not=$1; shift; fi
  shift
  local out rc
  out=$("${runner[@]}" "$ctl" "$@" 2>&1 >/dev/null); rc=$?
  if [[ $rc -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out" ||
     { [[ -n "$not" ]] && grep -qiE -- "$not" <<<"$out"; }; then
    fail "$name: rc=$rc (want $want), stderr:"; echo "$out" | cut -c1-600
  else
    ok "$name"
  fi
}
runner=()

# ---- usage (2) -----------------------------------------------------------------
check usage-unknown 2 "unknown command 'bogus'" -- bogus
check usage-bad-size 2 "alloc w 0 12Q" -- new w 1M normal 0 600 alloc w 0 12Q
[[ -e "$WKSP_SHMEM_ROOT/w" ]] && fail "a usage error ran a command"
check usage-wait 2 "bad --wait \"-1\"" -- --wait -1 list

# ---- not found (4) ---------------------------------------------------------------
check notfound-wksp 4 "no shared memory region named \"nosuch\"" -- usage nosuch 1
check notfound-file 4 "No such file" -- checkpt-verify "$tmp/none.ckpt"
"$ctl" new w 16M normal 0 600 || fail "new w"
check notfound-restore 4 "No such file" corrupt -- restore w "$tmp/none.ckpt" -

# ---- out of space or memory (6) --------------------------------------------------
check nospace-alloc 6 "alloc w 0 100M: " -- alloc w 0 100M

# ---- corrupt or truncated data (8) -----------------------------------------------
g=$("$ctl" alloc w 0 4M) || fail "alloc"
"$ctl" memset "$g" 9 -q checkpt w "$tmp/w2.ckpt" 600 2 "" \
  -q checkpt w "$tmp/w1.ckpt" 600 1 "" || fail "checkpoints"
size=$(stat -c %s "$tmp/w2.ckpt")
head -c $((size / 2)) "$tmp/w2.ckpt" >"$tmp/half2.ckpt"
check truncated-restore 8 "ends early: has $((size / 2)) bytes, needs at least [0-9]+" -- -q restore w "$tmp/half2.ckpt" -
check truncated-stream 8 "ends early: has $((size / 2)) bytes, needs at least [0-9]+" -- -q restore w - - <"$tmp/half2.ckpt"
check truncated-verify 8 "ends early: has $((size / 2)) bytes, needs at least [0-9]+" -- checkpt-verify "$tmp/half2.ckpt"
size1=$(stat -c %s "$tmp/w1.ckpt")
head -c $((size1 / 2)) "$tmp/w1.ckpt" >"$tmp/half1.ckpt"
check truncated-v1 8 "ends early.*has $((size1 / 2)) bytes, needs at least [0-9]+" -- -q restore w "$tmp/half1.ckpt" -

# Every reader of a file cut short says so (truncated, not corrupt), with the
# bytes it has and needs: checkpt-query at every verbosity (even 0, which
# shows only the header), checkpt-verify, restore and restore-new, from a
# path, a redirected file and a pipe, for v1, v2, v3 and a delta. A restore
# from a path or a redirected file is refused before it writes (8, the
# workspace untouched); one from a pipe has begun writing when the stream
# ends, so the workspace is reset (3), the message the same.
"$ctl" -q checkpt w "$tmp/w3.ckpt" 600 3 "" || fail "checkpt v3"
"$ctl" new r 16M normal 0 600 || fail "new r"
for st in 1 2 3; do
  full="$tmp/w$st.ckpt" cut="$tmp/cut$st.ckpt"
  has=$(($(stat -c %s "$full") / 2))
  head -c "$has" "$full" >"$cut"
  ends="ends early.*has $has bytes, needs at least [0-9]+"
  for v in 0 2 4; do
    check "truncated-v$st-query$v" 8 "$ends" corrupt -- checkpt-query "$cut" "$v"
  done
  check "truncated-v$st-query-stdin" 8 "$ends" corrupt -- checkpt-query - 1 <"$cut"
  check "truncated-v$st-verify" 8 "$ends" corrupt -- checkpt-verify "$cut"
  check "truncated-v$st-verify-stdin" 8 "$ends" corrupt -- checkpt-verify - <"$cut"
  check "truncated-v$st-verify-pipe" 8 "ends early.*has (fewer than )?[0-9]+ bytes.*needs at least [0-9]+" corrupt -- \
    checkpt-verify - < <(cat "$cut")
  check "truncated-v$st-restore" 8 "$ends" corrupt -- -q restore w "$cut" -
  check "truncated-v$st-restore-stdin" 8 "$ends" corrupt -- -q restore w - - <"$cut"
  check "truncated-v$st-restore-pipe" 3 "ends early.*has (fewer than )?[0-9]+ bytes.*needs at least [0-9]+.*reset to empty" corrupt -- \
    -q restore r - - < <(cat "$cut")
  check "truncated-v$st-restore-new" 8 "$ends.*the new workspace was deleted" corrupt -- \
    -q restore-new rn "$cut" - normal 0 600
  [[ -e "$WKSP_SHMEM_ROOT/rn" ]] && fail "restore-new of a truncated v$st file left rn behind"
done
# A v1 file cut inside its header: the header reader says where.
head -c 40 "$tmp/w1.ckpt" >"$tmp/head1.ckpt"
check truncated-v1-header 8 "v1 checkpoint ends early, before its [a-z_]+: has 40 bytes, needs at least 41" -- checkpt-query "$tmp/head1.ckpt" 0
check truncated-v1-header-pipe 8 "ends early, before its [a-z_]+: has 40 bytes, needs at least 41" -- -q restore r - - < <(cat "$tmp/head1.ckpt")
# Cut inside the first bytes that tell the style (the v1 magic's SVW, the
# v2/v3 header): still "ends early" with the sizes, not "not a checkpoint".
for st in 1 2 3; do
  head -c 5 "$tmp/w$st.ckpt" >"$tmp/tiny$st.ckpt"
  check "truncated-v$st-tiny" 8 "ends early.*has 5 bytes, needs at least [0-9]+" "not a workspace checkpoint" -- \
    checkpt-query "$tmp/tiny$st.ckpt" 0
  check "truncated-v$st-tiny-stdin" 8 "ends early.*has 5 bytes, needs at least [0-9]+" "not a workspace checkpoint" -- \
    checkpt-verify - <"$tmp/tiny$st.ckpt"
done
head -c 40 "$tmp/w2.ckpt" >"$tmp/head2.ckpt"
check truncated-v2-header 8 "ends early, inside its header: has 40 bytes, needs at least 80" "not a workspace checkpoint" -- \
  -q restore w "$tmp/head2.ckpt" -
# A delta cut short: the groups its header implies say how much it needs.
"$ctl" memset "$g" 3 -q --base "$tmp/w2.ckpt" checkpt w "$tmp/d.ckpt" 600 2 "" || fail "delta checkpt"
dsize=$(stat -c %s "$tmp/d.ckpt")
for has in 100 $((dsize / 2)) $((dsize - 1)); do
  head -c "$has" "$tmp/d.ckpt" >"$tmp/dcut.ckpt"
  ends="delta checkpoint ends early: has $has bytes, needs at least [0-9]+"
  check "truncated-delta$has-query" 8 "$ends" -- checkpt-query "$tmp/dcut.ckpt" 0
  check "truncated-delta$has-verify" 8 "$ends" -- checkpt-verify "$tmp/dcut.ckpt"
  check "truncated-delta$has-apply" 8 "$ends" -- -q apply w "$tmp/dcut.ckpt"
  check "truncated-delta$has-chain" 8 "$ends" -- -q --delta "$tmp/dcut.ckpt" restore w "$tmp/w2.ckpt" -
  check "truncated-delta$has-restore-new" 8 "$ends" -- -q --delta "$tmp/dcut.ckpt" restore-new rn "$tmp/w2.ckpt" - normal 0 600
  [[ -e "$WKSP_SHMEM_ROOT/rn" ]] && fail "restore-new of a truncated delta left rn behind"
done
check truncated-delta-needs 8 "has $((dsize - 1)) bytes, needs at least $dsize" -- checkpt-verify "$tmp/dcut.ckpt"
"$ctl" delete r || fail "delete r"
# A flipped byte in the middle of the data: the seal says so.
cp "$tmp/w2.ckpt" "$tmp/flip.ckpt"
printf '\x55' | dd of="$tmp/flip.ckpt" bs=1 seek=$((size / 2)) conv=notrunc status=none
check corrupt-verify 8 "corrupt" -- checkpt-verify "$tmp/flip.ckpt"
u=$("$ctl" --json usage w 1 2>&1)
grep -qE '"used_cnt":1[,}]' <<<"$u" && ok "refused-restores-kept-the-workspace" || fail "usage after refused restores: $u"
head -c 4096 /dev/urandom >"$WKSP_SHMEM_ROOT/junk"
check not-a-workspace 8 "not a workspace" -- alloc junk 0 1
rm -f "$WKSP_SHMEM_ROOT/junk"

# ---- permission (5) --------------------------------------------------------------
# The file is there but may not be read: that is no verdict on it.
if [[ $(id -u) -eq 0 ]]; then
  if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    perm=$(mktemp -d /tmp/wkspkit-perm.XXXXXX) && chmod 755 "$perm"
    WKSP_SHMEM_ROOT="$perm" "$ctl" new pw 1M normal 0 600 || fail "new pw"
    runner=(env "WKSP_SHMEM_ROOT=$perm" setpriv --reuid=65534 --regid=65534 --clear-groups)
  else
    echo "SKIP permission: setpriv cannot drop to uid 65534 here"
  fi
else
  "$ctl" new pw 1M normal 0 600 || fail "new pw"
  chmod 000 "$WKSP_SHMEM_ROOT/pw"
fi
if [[ ${#runner[@]} -gt 0 || $(id -u) -ne 0 ]]; then
  check permission-usage 5 "Permission denied" "not a workspace" -- usage pw 1
  check permission-delete 5 "delete .*pw: cannot read its header: .*Permission denied" "not a workspace" -- delete pw
  out=$("${runner[@]}" "$ctl" list 2>&1); rc=$?
  if [[ $rc -eq 0 ]] && grep -qE "^pw +normal .*cannot read: .*Permission denied" <<<"$out" &&
     ! grep -q "not a workspace" <<<"$out"; then
    ok "permission-list"
  else
    fail "list of an unreadable workspace: rc=$rc $out"
  fi
  runner=()
fi
rm -f "$WKSP_SHMEM_ROOT/pw"

"$ctl" delete w || fail "delete w"
leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "workspaces left behind: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
