#!/usr/bin/env bash
# Full file systems through the binary (docs/wksp_ctl.md, "Exit statuses"):
# no command dies of a signal, each fails with exit status 6 (out of space or
# memory) or 3 (restore failed, workspace reset), saying what it needs, and
# leaves nothing behind. Runs on a small tmpfs it mounts (root only; skipped
# with the reason otherwise) and unmounts at the end:
#   - new of a workspace that does not fit fails at creation ("needs N
#     bytes, M bytes free in DIR"), the file removed;
#   - a workspace made sparse (as older versions made them, copied in with
#     cp --sparse) whose memory cannot be had: memset and restore (v1, v2,
#     v3, from a path and a pipe) fail cleanly, the lock free afterwards;
#   - restore-new and fetch --keep on a full file system, checkpt to one;
#   - on hugetlbfs (4 huge pages reserved for the test, then given back),
#     creation takes the pages from the pool or fails naming what is free.
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

# run NAME WANT_RC PATTERN -- ARGS...: exit status and a line of stderr.
run() {
  local name=$1 want=$2 pattern=$3; shift 4
  local out rc
  out=$("$ctl" "$@" 2>&1 >/dev/null); rc=$?
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
export WKSP_SHMEM_ROOT="$big"
g=$("$ctl" new src 256M normal 0 600 alloc src 0 200M) || fail "new src"
"$ctl" memset "$g" 5 -q checkpt src "$big/v2.ckpt" 600 2 "" \
  -q checkpt src "$big/v3.ckpt" 600 3 "" -q checkpt src "$big/v1.ckpt" 600 1 "" ||
  fail "checkpoints of src"
g=$("$ctl" new sp 256M normal 0 600 alloc sp 0 200M) || fail "new sp"
cp --sparse=always "$big/sp" "$small/sp" || fail "sparse copy"
export WKSP_SHMEM_ROOT="$small"
run memset-sparse 6 "memset: allocation .* no memory for the pages" -- memset "$g" 7
no_corrupt memset "$g" 7
lock_free sp
for st in 1 2 3; do
  run "restore-v$st-sparse" 3 "no memory for the pages.*the workspace was reset to empty" -- -q restore sp "$big/v$st.ckpt" -
  no_corrupt -q restore sp "$big/v$st.ckpt" -
  lock_free sp
done
out=$("$ctl" -q restore sp - - <"$big/v2.ckpt" 2>&1); rc=$?
[[ $rc -eq 3 ]] && grep -q "no memory for the pages" <<<"$out" && ok "restore-stream-sparse" ||
  fail "restore from stdin into the sparse workspace: rc=$rc $out"
u=$("$ctl" --json usage sp 1 2>&1)
grep -qE '"used_cnt":0[,}]' <<<"$u" && ok "sparse-reset-empty" || fail "usage after the failed restores: $u"
run delete-sparse 0 "" -- delete sp

# ---- restore-new, fetch --keep and checkpt on a full file system -----------------
run restore-new-full 6 "needs [0-9]+ bytes, [0-9]+ bytes free in $small" -- -q restore-new rn "$big/v2.ckpt" - normal 0 600
[[ -e "$small/rn" ]] && fail "restore-new left $small/rn behind"
WKSP_SHMEM_ROOT="$big" "$ctl" torrent-create "$big/v2.ckpt" "$big/v2.torrent" >/dev/null || fail "torrent-create"
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
# Reserves 4 huge pages (8 MiB) more than are there, mounts a hugetlbfs of
# that page size, and puts both back. Skipped where the pool cannot grow.
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
huge="$tmp/huge"
if grep -q " hugetlbfs " /proc/mounts; then
  echo "SKIP hugetlbfs: one is mounted already (its pages are someone's)"
elif [[ -w $pool/nr_hugepages ]]; then
  had=$(cat "$pool/nr_hugepages")
  free0=$(cat "$pool/free_hugepages")
  mkdir -p "$huge"
  if echo $((had + 4)) >"$pool/nr_hugepages" 2>/dev/null &&
     (($(cat "$pool/free_hugepages") >= free0 + 4)) &&
     mount -t hugetlbfs -o pagesize=2M wkspkit-space-test "$huge"; then
    # Only the pages this test added are free to it: the rest is someone's.
    want=$(( ($(cat "$pool/free_hugepages") - free0) ))
    run huge-too-big 6 "create $huge/h: needs 16777216 bytes, [0-9]+ bytes free in $huge" -- new h 16M huge 0 600
    [[ -e "$huge/h" ]] && fail "new left $huge/h behind"
    if ((want == 4 && free0 == 0)); then
      run huge-fits 0 "" -- new h 8M huge 0 600
      (($(cat "$pool/free_hugepages") == 0)) && ok "huge-pages-taken" ||
        fail "huge pages not taken at creation: $(cat "$pool/free_hugepages") free"
      run huge-pool-empty 6 "needs 2097152 bytes, 0 bytes free in $huge" -- new h2 2M huge 0 600
      run huge-delete 0 "" -- delete h
    fi
    umount "$huge"
  else
    echo "SKIP hugetlbfs: cannot reserve huge pages or mount hugetlbfs here"
  fi
  echo "$had" >"$pool/nr_hugepages"
  had=""
else
  echo "SKIP hugetlbfs: $pool/nr_hugepages is not writable"
fi

leftover=$(ls -A "$small")
[[ -z "$leftover" ]] || fail "left behind on the tmpfs: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
