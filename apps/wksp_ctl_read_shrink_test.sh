#!/usr/bin/env bash
# Readers of a checkpoint through the binary (issue 23, item 7):
#   - checkpt-verify and checkpt-query (verbose 3) of a file truncated while
#     they read it fail with a message saying so, never die of SIGBUS. The
#     cut comes at an exact point: the test build stops itself after its
#     scan (WKSP_FAULT_AT=scanned:1:stop, util/fault.h), the file is cut,
#     and SIGCONT lets it read on;
#   - a v1 file whose magic has a padding bit changed is refused alike by
#     checkpt-query, checkpt-verify and restore.
# Workspaces live in $TEST_TMPDIR/shm; every wait is a bounded poll.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"  # honours WKSP_FAULT_AT
tmp="${TEST_TMPDIR:-$(mktemp -d)}/read_shrink_test"
mkdir -p "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/testing_lib.sh"

"$ctl" new w 64M normal 0 600 >/dev/null || fail "new w"
for i in $(seq 1 12); do
  g=$("$ctl" alloc w 0 2M) || fail "alloc w"
  "$ctl" memset "$g" "$i" || fail "memset $g"
done

# cut_while_reading NAME FILE ARGS...: runs ARGS stopped after the scan,
# cuts FILE to its first page (every frame's data lies past it), resumes
# it; wants exit 1 and "shrank".
cut_while_reading() {
  local name=$1 file=$2; shift 2
  WKSP_FAULT_AT=scanned:1:stop "$ctl" "$@" >"$tmp/out" 2>&1 &
  local pid=$!
  pids+=("$pid")
  stopped() { [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == T ]]; }
  if ! poll 30 stopped; then
    fail "$name: never stopped after its scan"; return
  fi
  truncate -s 4096 "$file"
  kill -CONT "$pid"
  wait "$pid"; local rc=$?
  if [[ $rc -eq 8 ]] && grep -q "shrank while it was being read" "$tmp/out"; then
    ok "$name"
  else
    fail "$name: rc=$rc (want 8, corrupt or truncated input; not 135 = SIGBUS), output:"; cut -c1-400 "$tmp/out"
  fi
}

for style in 2 3; do
  for seal in yes no; do
    f="$tmp/v$style-$seal.ckpt"
    "$ctl" -q --seal "$seal" checkpt w "$f" 600 "$style" "" ||
      fail "checkpt v$style"
    (($(stat -c %s "$f") > 3 * 4096)) || fail "v$style: a file too small to cut"
    cp "$f" "$f.orig"
    "$ctl" checkpt-verify "$f" >/dev/null || fail "v$style-$seal: verify before the cut"
    cut_while_reading "verify-v$style-seal-$seal" "$f" checkpt-verify "$f"
    cp "$f.orig" "$f"
    cut_while_reading "query-v$style-seal-$seal" "$f" checkpt-query "$f" 3
    rm -f "$f" "$f.orig"
  done
done

# ---- one verdict on a v1 magic with a padding bit changed ------------------
"$ctl" -q checkpt w "$tmp/v1.ckpt" 600 1 "" || fail "checkpt v1"
"$ctl" checkpt-query "$tmp/v1.ckpt" 3 >/dev/null || fail "query of a good v1 file"
# Byte 8 of the magic's 9-byte SVW: its high nibble is the trailing width
# tag, which decoding ignores.
b=$(od -An -tu1 -j8 -N1 "$tmp/v1.ckpt" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 0x10)))" |
  dd of="$tmp/v1.ckpt" bs=1 seek=8 conv=notrunc status=none
for cmd in "checkpt-query $tmp/v1.ckpt 0" "checkpt-query $tmp/v1.ckpt 3" \
           "checkpt-verify $tmp/v1.ckpt" "restore w $tmp/v1.ckpt -"; do
  # shellcheck disable=SC2086
  out=$("$ctl" $cmd 2>&1); rc=$?
  if [[ $rc -ne 0 ]] && grep -q "not a workspace checkpoint" <<<"$out"; then
    ok "padding-bit refused: ${cmd%% *}"
  else
    fail "padding-bit ${cmd}: rc=$rc, output:"; echo "$out" | cut -c1-300
  fi
done
"$ctl" delete w || fail "delete w"

leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "left in shm: $leftover"
((fails == 0)) || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
