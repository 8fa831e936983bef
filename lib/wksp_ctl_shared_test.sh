#!/usr/bin/env bash
# A C program (shared_peer.c, through the C API) and wksp_ctl share one
# workspace: each sees and checks what the other allocated and wrote, and the
# C program restores the checkpoint wksp_ctl wrote.
set -euo pipefail
r="$TEST_SRCDIR/wkspkit"
ctl="$r/apps/wksp_ctl"
peer="$r/lib/shared_peer"
export WKSP_SHMEM_ROOT="$TEST_TMPDIR/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
name="shared$$"
trap '"$ctl" delete "$name" >/dev/null 2>&1 || true' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# wksp_ctl creates, allocates (tag 77) and fills; the C program checks the
# bytes, then allocates its own (tag 4321).
g=$("$ctl" new "$name" 4M normal 0 600 tag 77 alloc "$name" 0 64K)
[[ "$g" == "$name:"* ]] || fail "alloc printed '$g'"
"$ctl" memset "$g" 42
cg=$("$peer" check "$name" "${g#*:}" 42)
[[ "$cg" =~ ^[0-9]+$ ]] || fail "shared_peer printed '$cg'"

# wksp_ctl sees the C program's allocation.
[[ "$("$ctl" tag-query "$name:$cg")" == 4321 ]] || fail "tag-query of the C allocation"
[[ "$("$ctl" tag-query "$g")" == 77 ]] || fail "tag-query of wksp_ctl's allocation"
[[ -n "$("$ctl" usage "$name" 4321)" ]] || fail "usage printed nothing"
"$ctl" verify "$name"

# wksp_ctl checkpoints; the C program restores and finds its bytes.
ckpt="$TEST_TMPDIR/shared.ckpt"
"$ctl" checkpt "$name" "$ckpt" 600 3 "shared test" 2>/dev/null
out=$("$peer" restore "$ckpt" "$cg")
[[ "$out" == "restored 2 allocations" ]] || fail "restore printed '$out'"

# wksp_ctl frees the C program's allocation.
"$ctl" free "$name:$cg"
[[ "$("$ctl" tag-query "$name:$cg")" == 0 ]] || fail "free"
"$ctl" delete "$name"
trap - EXIT
[[ -z "$(ls -A "$WKSP_SHMEM_ROOT")" ]] || fail "left behind: $(ls -A "$WKSP_SHMEM_ROOT")"
echo PASS
