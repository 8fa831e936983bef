#!/usr/bin/env bash
# Full file systems through the binary (docs/wksp_ctl.md, "Exit statuses"):
# no command dies of a signal, each fails with exit status 6 (out of space or
# memory), saying what it needs, and leaves nothing behind. Runs on a small tmpfs it mounts (root only; skipped
# with the reason otherwise) and unmounts at the end:
#   - new of a workspace that does not fit fails at creation ("needs N
#     bytes, M bytes free in DIR"), the file removed;
#   - a workspace made sparse (as older versions made them, copied in with
#     cp --sparse) whose memory cannot be had: memset, alloc, free, reset,
#     rebuild, restore (v1, v2, v3, a chain, from a path and a pipe), apply
#     and fetch fail with 6 before they change anything (the file compared
#     byte for byte), the lock free afterwards; one that fits is populated;
#   - restore-new and fetch --keep on a full file system, checkpt to one;
#   - on a hugetlbfs of its own (4 huge pages added to the pool for the
#     test, then given back; one mounted already is left alone), creation
#     takes the pages from the pool or fails naming what is free.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: mounting a small tmpfs needs root (this test runs as uid $(id -u))"
  exit 0
fi
tmp="${TEST_TMPDIR:-$(mktemp -d)}/space_test"
big="$tmp/big"      # roomy: where checkpoints and the sparse original live
small="$tmp/small"  # the 64 MiB tmpfs
mkdir -p "$big" "$small"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
cleanup() {
  umount "$small" 2>/dev/null
  umount "$tmp/huge" 2>/dev/null
  [[ -n "${had:-}" ]] && echo "$had" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  rm -rf "$tmp"
}
trap cleanup EXIT
if ! mount -t tmpfs -o size=64M,mode=1777 wkspkit-space-test "$small"; then
  echo "SKIP: cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?)"
  exit 0
fi

# run NAME WANT_RC PATTERN -- ARGS...: exit status and a line of stderr
# (wksp_ctl run through "${runner[@]}", if set).
runner=()
run() {
  local name=$1 want=$2 pattern=$3; shift 4
  local out rc
  out=$("${runner[@]}" "$ctl" "$@" 2>&1 >/dev/null); rc=$?
  if [[ $rc -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$name: rc=$rc (want $want), stderr:"; echo "$out" | cut -c1-600
  else
    ok "$name"
  fi
  if ((rc >= 128)); then fail "$name died of signal $((rc - 128))"; fi
}
no_corrupt() {  # the message must not blame the file
  local out
  out=$("$ctl" "$@" 2>&1 >/dev/null)
  grep -qi corrupt <<<"$out" && fail "blames the file: $out"
}
lock_free() { # lock_free NAME: list shows no lock holder
  WKSP_SHMEM_ROOT="$small" "$ctl" list 2>&1 | grep -qE "^$1 +normal +[0-9]+ +[0-9?]+ +- " ||
    fail "lock of $1 still held: $(WKSP_SHMEM_ROOT="$small" "$ctl" list 2>&1)"
}

# ---- creation reserves the memory -----------------------------------------------
export WKSP_SHMEM_ROOT="$small"
run new-too-big 6 "create $small/w: needs 1073741824 bytes, [0-9]+ bytes free in $small" -- new w 1G normal 0 600
[[ -e "$small/w" ]] && fail "new left $small/w behind"
run new-fits 0 "" -- new w 32M normal 0 600
used=$(df -B1 --output=used "$small" | tail -1)
((used >= 32 * 1024 * 1024)) && ok "new-allocated ($used bytes used)" || fail "new allocated only $used bytes"
run new-second-too-big 6 "needs 41943040 bytes, [0-9]+ bytes free" -- new w2 40M normal 0 600
[[ -e "$small/w2" ]] && fail "new left $small/w2 behind"
run delete 0 "" -- delete w

# ---- a sparse workspace whose memory cannot be had ------------------------------
# Every command that writes into it gives it its missing pages first, before
# it marks or touches anything: it fails with 6 naming the directory and the
# sizes, and the workspace stays byte for byte what it was.
export WKSP_SHMEM_ROOT="$big"
g=$("$ctl" new src 256M normal 0 600 alloc src 0 200M) || fail "new src"
"$ctl" memset "$g" 5 -q checkpt src "$big/v2.ckpt" 600 2 "" \
  -q checkpt src "$big/v3.ckpt" 600 3 "" -q checkpt src "$big/v1.ckpt" 600 1 "" ||
  fail "checkpoints of src"
g2=$("$ctl" alloc src 0 1M) && "$ctl" memset "$g2" 6 -q --base "$big/v2.ckpt" checkpt src "$big/d.ckpt" 600 2 "" ||
  fail "delta of src"
"$ctl" torrent-create "$big/v2.ckpt" "$big/v2.torrent" >/dev/null || fail "torrent-create"
gs=$("$ctl" new sp 256M normal 0 600 alloc sp 0 1M) && "$ctl" memset "$gs" 7 || fail "new sp"
cp --sparse=always "$big/sp" "$small/sp" || fail "sparse copy"
export WKSP_SHMEM_ROOT="$small"
untouched() { # untouched NAME: sp holds exactly what it held before NAME
  # Every byte but the lock's report of its last holder (pid and time, bytes
  # 24-39 of the header, wksp/internal/layout.h), which any command updates.
  cmp -s <(head -c 24 "$big/sp") <(head -c 24 "$small/sp") &&
    cmp -s -i 40 "$big/sp" "$small/sp" && ok "$1-untouched" ||
    fail "$1 changed the sparse workspace: $(cmp -l "$big/sp" "$small/sp" | head -3)"
}
full="populate $small/sp: needs [0-9]+ bytes, [0-9]+ bytes free in $small .*nothing was changed"
sparse() { # sparse NAME ARGS...: fails with 6, blames no file, changes nothing
  local name=$1; shift
  run "$name-sparse" 6 "$full" -- "$@"
  no_corrupt "$@"
  untouched "$name"
  lock_free sp
}
sparse memset memset "$gs" 3
sparse alloc alloc sp 0 1M
sparse free free "$gs"
sparse reset reset sp
sparse rebuild rebuild sp -
for st in 1 2 3; do
  sparse "restore-v$st" -q restore sp "$big/v$st.ckpt" -
done
sparse apply -q apply sp "$big/d.ckpt"
sparse restore-chain -q --delta "$big/d.ckpt" restore sp "$big/v2.ckpt" -
out=$("$ctl" -q restore sp - - < <(cat "$big/v2.ckpt") 2>&1); rc=$?
[[ $rc -eq 6 ]] && grep -qE "$full" <<<"$out" && ok "restore-stream-sparse" ||
  fail "restore from a pipe into the sparse workspace: rc=$rc $out"
untouched restore-stream
out=$(timeout 60 "$ctl" -q --peer 127.0.0.1:9 --timeout 10 fetch sp "$big/v2.torrent" - 2>&1); rc=$?
[[ $rc -eq 6 ]] && grep -qE "$full" <<<"$out" && ok "fetch-sparse" ||
  fail "fetch into the sparse workspace: rc=$rc $out"
untouched fetch
u=$("$ctl" --json usage sp 1 2>&1)
grep -qE '"used_cnt":1[,}]' <<<"$u" && ok "sparse-kept" || fail "usage after the refused commands: $u"
run delete-sparse 0 "" -- delete sp
# One that fits gets every page at its first write, and works.
WKSP_SHMEM_ROOT="$big" "$ctl" new sm 16M normal 0 600 || fail "new sm"
cp --sparse=always "$big/sm" "$small/sm" || fail "sparse copy of sm"
run alloc-sparse-fits 0 "" -- alloc sm 0 1M
(($(stat -c %b "$small/sm") * 512 >= $(stat -c %s "$small/sm"))) && ok "sparse-populated" ||
  fail "sm still sparse after alloc: $(stat -c '%b blocks, %s bytes' "$small/sm")"
run delete-sm 0 "" -- delete sm

# ---- restore-new, fetch --keep and checkpt on a full file system -----------------
run restore-new-full 6 "needs [0-9]+ bytes, [0-9]+ bytes free in $small" -- -q restore-new rn "$big/v2.ckpt" - normal 0 600
[[ -e "$small/rn" ]] && fail "restore-new left $small/rn behind"
WKSP_SHMEM_ROOT="$big" "$ctl" new dst 256M normal 0 600 || fail "new dst"
# The kept file is allocated before any peer is dialled (port 9: discard).
out=$(WKSP_SHMEM_ROOT="$big" timeout 60 "$ctl" -q --peer 127.0.0.1:9 --timeout 10 --keep "$small/keep.ckpt" fetch dst "$big/v2.torrent" - 2>&1); rc=$?
[[ $rc -eq 6 ]] && grep -Eq "create $small/keep.ckpt(.part)?: needs [0-9]* bytes" <<<"$out" && ok "fetch-keep-full" ||
  fail "fetch --keep on a full file system: rc=$rc $out"
[[ -e "$small/keep.ckpt" || -e "$small/keep.ckpt.part" ]] && fail "fetch --keep left its file behind"
WKSP_SHMEM_ROOT="$big" "$ctl" usage dst 1 >/dev/null || fail "dst unusable after the failed fetch"
for st in 1 2; do
  out=$(WKSP_SHMEM_ROOT="$big" "$ctl" -q checkpt src "$small/c$st.ckpt" 600 "$st" "" 2>&1); rc=$?
  [[ $rc -eq 6 ]] && grep -q "No space left on device" <<<"$out" && ok "checkpt-v$st-full" ||
    fail "checkpt v$st to a full file system: rc=$rc $out"
  [[ -e "$small/c$st.ckpt" ]] && fail "checkpt left $small/c$st.ckpt behind"
done

# ---- hugetlbfs: huge pages taken from the pool at creation ----------------------
# Mounts a hugetlbfs instance of its own at a private directory, limited to 4
# huge pages (size=8M) and holding them from the mount on (min_size=8M, so
# no other test takes them): from the pool's free pages where 4 are free
# (as under .ci/run, which reserves pages through tools/hugepages.sh), else
# 4 pages added to the pool. wksp_ctl runs in a private mount namespace
# where that instance is the only hugetlbfs, so one mounted already is
# neither used nor touched. The mount and the pool are put back at the end.
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
huge="$tmp/huge"
in_ns() { # in_ns CMD...: CMD where $huge is the only hugetlbfs mounted
  unshare --mount --propagation private bash -c '
    keep=$1; shift
    others() { awk -v keep="$keep" "\$3 == \"hugetlbfs\" && \$2 != keep { print \$2 }" /proc/self/mounts; }
    for d in $(others); do umount -l "$d" 2>/dev/null; done
    [[ -z $(others) ]] || { echo "cannot hide the hugetlbfs mounts $(others)" >&2; exit 97; }
    exec "$@"' in_ns "$huge" "$@"
}
if [[ ! -d $pool ]]; then
  echo "SKIP hugetlbfs: the kernel has no 2 MiB huge pages ($pool)"
elif ! unshare --mount --propagation private true 2>/dev/null; then
  echo "SKIP hugetlbfs: cannot make a private mount namespace here (unshare --mount)"
else
  spare=$(($(cat "$pool/free_hugepages") - $(cat "$pool/resv_hugepages")))
  if ((spare < 4)) && [[ -w $pool/nr_hugepages ]]; then
    had=$(cat "$pool/nr_hugepages")
    echo $((had + 4 - spare)) >"$pool/nr_hugepages" 2>/dev/null
  fi
  mkdir -p "$huge"
  if mount -t hugetlbfs -o pagesize=2M,size=8M,min_size=8M wkspkit-space-test "$huge" 2>/dev/null; then
    runner=(in_ns)
    run huge-too-big 6 "create $huge/h: needs 16777216 bytes, 8388608 bytes free in $huge" -- new h 16M huge 0 600
    [[ -e "$huge/h" ]] && fail "new left $huge/h behind"
    run huge-fits 0 "" -- new h 8M huge 0 600
    [[ $(stat -f -c %a "$huge") == 0 ]] && ok "huge-pages-taken" ||
      fail "huge pages not taken at creation: $(stat -f -c %a "$huge") free in $huge"
    run huge-pool-empty 6 "needs 2097152 bytes, 0 bytes free in $huge" -- new h2 2M huge 0 600
    # Created reserved: a write needs no page more, though the mount is full.
    run huge-alloc-full 0 "" -- alloc h 0 1M
    run huge-delete 0 "" -- delete h
    runner=()
    umount "$huge" || fail "umount $huge"
  else
    echo "SKIP hugetlbfs: cannot hold 4 huge pages for a mount of its own ($spare free" \
      "and unpromised in $pool, and $( [[ -w $pool/nr_hugepages ]] && echo "the pool did not grow" || echo "nr_hugepages is not writable"))"
  fi
  if [[ -n "${had:-}" ]]; then
    echo "$had" >"$pool/nr_hugepages"
    had=""
  fi
fi

leftover=$(ls -A "$small")
[[ -z "$leftover" ]] || fail "left behind on the tmpfs: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
