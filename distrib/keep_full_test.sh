#!/usr/bin/env bash
# A fetch whose kept file cannot be written (docs/DISTRIBUTION.md,
# "Failures"), through wksp_ctl on loopback from one seeder. In cases 1-3 the
# file systems fill up for real: the test mounts a 16 MiB tmpfs and a 16 MiB
# ext2 image (loop device) of its own under $TEST_TMPDIR and unmounts them on
# any exit; they need root, and are skipped with the reason printed where
# mounting is not possible. Cases 4 and 5 run anywhere. Every route a user
# can meet:
#   1. creation: FILE.part is allocated whole (fallocate) before any peer is
#      dialled, so a file system without room fails the fetch at once: exit
#      6 naming the room needed, nothing left behind, workspace untouched.
#   2. resume of a sparse FILE.part (a half-fetched file copied in with
#      cp --sparse) on a full tmpfs: exit 6 at once naming the .part and the
#      room it needs, the .part byte for byte unchanged, workspace
#      untouched; with room again the same fetch resumes from exactly the
#      pieces the copy held and completes. (It died of SIGBUS: the re-check
#      read a hole of a full tmpfs through the mapping.)
#   3. a write failing mid-fetch: ext2 has no fallocate, so the .part stays
#      sparse, and another file takes the room after it was made (the seeder
#      held with SIGSTOP until then, so no block comes before). The fetch
#      fails with "No space left on device", the .part's path and the fix,
#      well within its --timeout (it waited the timeout out: libtorrent only
#      stops asking for pieces on ENOSPC); the workspace is untouched
#      (exit 6) or reset to empty and unmarked (exit 3); the .part stays,
#      and with the filler gone the same fetch resumes from the pieces
#      verified before and completes, the kept file equal to the source.
#   4. a file size limit (ulimit -f) below the file: creating the .part
#      fails with "File too large" and the fix, nothing left (SIGXFSZ killed
#      wksp_ctl, leaving an empty .part the next fetch refused); resuming a
#      half-fetched .part fails at its first write past the limit, the
#      workspace by the rules; without the limit the fetch completes.
#   5. any write error, injected at an exact write (wksp_ctl_testing,
#      util/fault.h): ENOSPC before a piece is complete (exit 6, untouched),
#      then EIO on resuming (after pieces were verified): each fails at once
#      naming the cause and the .part; the fetch then resumes and completes.
#   6. a failure once the workspace is restored (an injected write-back
#      error at the kept file's fsync, ENOSPC then EIO): fails at once, the
#      workspace restored and unmarked, the .part kept and resumed whole.
#   7. a write error whose alerts libtorrent dropped (alert:1+:drop, a write
#      past ulimit -f): found by the resync from the disk layer's record,
#      it fails at once naming the cause; the fetch then resumes.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/keep_full"
umount "$tmp/tfs" "$tmp/ext" 2>/dev/null
rm -rf "$tmp"
d="$tmp/ck"      # roomy: the source, torrents, logs
tfs="$tmp/tfs"   # the 16 MiB tmpfs
ext="$tmp/ext"   # the 16 MiB ext2 image, mounted
mkdir -p "$d" "$tfs" "$ext" "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
# fail, ok, poll; on exit the processes in $pids killed and $tmp removed
# (after the unmounts: the trap below runs both).
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/testing_lib.sh"
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/state_lib.sh"  # state W
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/distrib/seed_lib.sh"  # seed
unmount() {
  local m
  for m in "$tfs" "$ext"; do
    mountpoint -q "$m" && { umount "$m" || umount -l "$m"; }
  done
}
trap 'unmount; cleanup' EXIT
trap 'exit 130' INT  # the EXIT trap runs on these too (a test timeout)
trap 'exit 143' TERM
no_mount=""  # why cases 1-3 are skipped
if [[ $(id -u) -ne 0 ]]; then
  no_mount="mounting a small file system needs root (uid $(id -u) here)"
elif ! mount -t tmpfs -o size=16M wkspkit-keep-full "$tfs"; then
  no_mount="cannot mount a tmpfs here (no CAP_SYS_ADMIN?)"
fi

# The source: 96 allocations of 64 KiB, each of its own byte; a RAW v2
# checkpoint (its bytes as they are: about 6 MiB in 3 cgroup frames).
mk=(new src 64M normal 0 600)
for ((i = 0; i < 96; i++)); do mk+=(alloc src 0 64K); done
g=$("$ctl" "${mk[@]}") || { fail "new src"; exit 1; }
i=0 fill=()
for a in $g; do i=$((i + 1)); fill+=(memset "$a" $((i % 251 + 1))); done
"$ctl" "${fill[@]}" >/dev/null || fail "memset"
"$ctl" -q checkpt src "$d/src.ckpt" 600 2 "" || { fail "checkpt src"; exit 1; }
size=$(stat -c %s "$d/src.ckpt")
want=$(state src)
seed_seconds=300
seed src "$d/src.ckpt" || exit 1
# The piece size the torrent has (its bencoded "piece length").
plen=$(grep -aoE '12:piece lengthi[0-9]+e' "$d/src.torrent" | head -n 1 |
  sed -E 's/.*i([0-9]+)e/\1/')
[[ -n "$plen" ]] && ((plen <= 1024 * 1024)) || { fail "piece length '$plen'"; exit 1; }
pieces=$(((size + plen - 1) / plen))
# A destination per case, holding one allocation of its own, so "untouched",
# "reset" and "restored" differ.
dest() {  # dest NAME: made; sets before to its state
  local a
  a=$("$ctl" new "$1" 64M normal 0 600 alloc "$1" 0 100K) &&
    "$ctl" memset "$a" 9 >/dev/null || fail "new $1"
  before=$(state "$1")
}
runner=()  # a prefix for the fetch command (case 4: a file size limit)
fetcher=$ctl  # case 5: wksp_ctl_testing
signalled=""  # case 6: the exit status of a signal the fault raises
fetch() {  # fetch WKSP KEEP [OPTIONS...]: sets out, rc
  local w=$1 keep=$2; shift 2
  out=$("${runner[@]}" timeout 150 "$fetcher" --peer "$peer" --timeout 60 --deadline 120 "$@" \
    --keep "$keep" fetch "$w" "$d/src.torrent" - 2>&1)
  rc=$?
  ((rc < 124)) || [[ $rc == "${signalled:-}" ]] ||
    fail "fetch into $keep: exit $rc (a signal or the harness timeout)"
}
untouched() {  # untouched NAME WKSP
  [[ $(state "$2") == "$before" ]] && ok "$1: workspace untouched" ||
    fail "$1: workspace $2 changed"
}
by_rules() {  # by_rules NAME WKSP: reset to empty with exit 3, else untouched
  if [[ $rc -eq 3 ]]; then
    # usage refuses a marked workspace (exit 8).
    local u
    u=$("$ctl" --json usage "$2" 1 2>&1) && grep -q '"used_cnt":0,"used_sz":0,' <<<"$u" &&
      "$ctl" verify "$2" >/dev/null 2>&1 && ok "$1: workspace reset: empty, unmarked, verifies" ||
      fail "$1: workspace after the reset: $u"
  else
    untouched "$1" "$2"
  fi
}
completes() {  # completes NAME WKSP KEEP: the same fetch again succeeds
  fetch "$2" "$3"
  [[ $rc -eq 0 ]] && ok "$1: the fetch again succeeds" || fail "$1: again: rc=$rc $out"
  cmp -s "$d/src.ckpt" "$3" && [[ ! -e "$3.part" ]] &&
    ok "$1: kept file equals the source" || fail "$1: kept file differs or .part left"
  [[ $(state "$2") == "$want" ]] && ok "$1: workspace restored" ||
    fail "$1: workspace $2 is not the source's state"
  resumed=$(sed -nE 's/.*; ([0-9]+) pieces were already in the kept file.*/\1/p' <<<"$out")
}

# A half-fetched .part: bytes [2 MiB, 5 MiB) zeroed, `zeroed` whole pieces.
zeroed=$((3 * 1024 * 1024 / plen))
cp "$d/src.ckpt" "$d/half"
dd if=/dev/zero of="$d/half" bs="$plen" seek=$((2 * 1024 * 1024 / plen)) \
  count="$zeroed" conv=notrunc status=none

# ---- 1-3 on file systems of the test's own (root) ---------------------------
mounted_cases() {
  # 1 and 2 on the tmpfs: the half-fetched .part copied in sparse (the zeros
  # become holes), then the tmpfs filled.
  cp --sparse=always "$d/half" "$tfs/k2.part"
  (($(stat -c %b "$tfs/k2.part") * 512 < size - 2 * 1024 * 1024)) &&
    ok "the copied .part is sparse" || fail "k2.part is not sparse: $(stat -c '%b blocks' "$tfs/k2.part")"
  dd if=/dev/zero of="$tfs/filler" bs=64K status=none 2>/dev/null
  [[ $(df -B1 --output=avail "$tfs" | tail -1) -lt 65536 ]] && ok "tmpfs full" ||
    fail "tmpfs not full: $(df -B1 "$tfs")"

  dest dst1
  fetch dst1 "$tfs/k1"
  [[ $rc -eq 6 ]] && grep -qE "create $tfs/k1.part: needs $size bytes, [0-9]+ bytes free in $tfs" <<<"$out" &&
    ok "1: no room for the .part: exit 6, naming the room needed" || fail "1: rc=$rc $out"
  [[ -e "$tfs/k1" || -e "$tfs/k1.part" ]] && fail "1: left a file behind"
  untouched 1 dst1

  dest dst2
  fetch dst2 "$tfs/k2"
  if [[ $rc -eq 6 ]] && grep -qE "populate $tfs/k2.part: needs [0-9]+ bytes, [0-9]+ bytes free in $tfs" <<<"$out" &&
    grep -q "move it to a file system with room and --keep there" <<<"$out"; then
    ok "2: sparse .part on a full tmpfs: exit 6, naming it and the room needed"
    sed "s/^/  /" <<<"$out"
  else
    fail "2: rc=$rc $out"
  fi
  cmp -s "$d/half" "$tfs/k2.part" && ok "2: the .part unchanged" || fail "2: the .part changed"
  [[ -e "$tfs/k2" ]] && fail "2: the kept file appeared"
  untouched 2 dst2
  rm -f "$tfs/filler"
  completes 2 dst2 "$tfs/k2"
  [[ "${resumed:-}" == $((pieces - zeroed)) ]] && ok "2: resumed from the $resumed pieces the copy held" ||
    fail "2: resumed ${resumed:-no} pieces, want $((pieces - zeroed)): $out"
  rm -f "$tfs/k2"

  # 3. A write failing midway on ext2.
  truncate -s 16M "$tmp/ext.img"
  if ! mkfs.ext2 -q -F -m 0 "$tmp/ext.img" >/dev/null 2>&1 ||
    ! mount -o loop "$tmp/ext.img" "$ext" 2>/dev/null; then
    echo "SKIP 3: cannot make and loop-mount an ext2 image here (mkfs.ext2, loop devices)"
  else
    dest dst3
    kill -STOP "$seed_pid"
    timeout 150 "$ctl" --peer "$peer" --timeout 60 --deadline 120 --mem-max 1M \
      --keep "$ext/k3" fetch dst3 "$d/src.torrent" - >"$d/f3.log" 2>&1 &
    f3=$!
    pids+=($f3)
    made() { [[ $(stat -c %s "$ext/k3.part" 2>/dev/null) == "$size" ]]; }
    poll 60 made || fail "3: no $ext/k3.part of $size bytes"
    (($(stat -c %b "$ext/k3.part") * 512 < size)) && ok "3: the .part is sparse on ext2" ||
      fail "3: ext2 allocated the .part ($(stat -c %b "$ext/k3.part") blocks)"
    # Room left for two thirds of the file, asked for in file order (a 1 MiB
    # window of frames first): the first frame is restored (so the workspace
    # is reset: exit 3, as seen in every run here), then a write fails.
    room=$((4 * 1024 * 1024))
    avail=$(df -B1 --output=avail "$ext" | tail -1)
    dd if=/dev/zero of="$ext/filler" bs=4K count=$(((avail - room) / 4096)) status=none
    t0=$SECONDS
    kill -CONT "$seed_pid"
    wait "$f3"
    rc=$?
    took=$((SECONDS - t0))
    out=$(cat "$d/f3.log")
    if [[ $rc -eq 3 || $rc -eq 6 ]] &&
      grep -q "cannot write the kept file: write $ext/k3.part: No space left on device" <<<"$out" &&
      grep -q "make room on its file system" <<<"$out" &&
      grep -q "stay in $ext/k3.part: the same fetch resumes from them" <<<"$out"; then
      ok "3: ENOSPC midway: exit $rc, naming the cause, the .part and the fix"
      sed "s/^/  /" <<<"$out"
    else
      fail "3: rc=$rc $out"
    fi
    grep -q "timed out" <<<"$out" && fail "3: waited for the stall bound"
    ((took < 40)) && ok "3: failed ${took} s after the first block could come (--timeout 60)" ||
      fail "3: took $took s"
    by_rules 3 dst3
    [[ -e "$ext/k3.part" && ! -e "$ext/k3" ]] && ok "3: the .part stays" ||
      fail "3: .part gone or kept file made"
    rm -f "$ext/filler"
    completes 3 dst3 "$ext/k3"
    [[ -n "${resumed:-}" && "$resumed" -gt 0 ]] &&
      ok "3: resumed from the $resumed pieces verified before the disk filled" ||
      fail "3: resumed from no piece: $out"
  fi
}
if [[ -z "$no_mount" ]]; then
  mounted_cases
else
  echo "SKIP 1-3: $no_mount"
fi

# ---- 4. a file size limit (ulimit -f 1024: 1 MiB) --------------------------
# Writes past it fail with EFBIG (wksp_ctl ignores SIGXFSZ, which killed it
# and left an empty .part behind). Creating the .part fails at once, leaving
# nothing; resuming the half-fetched copy fails at its first write past the
# limit, naming the limit; without it the same fetch completes.
runner=(bash -c 'ulimit -f 1024 && exec "$@"' limited)
dest dst4
fetch dst4 "$d/k4"
((rc > 0 && rc < 128)) && grep -q "k4.part: File too large.*ulimit -f" <<<"$out" &&
  ok "4: no room under the limit: exit $rc, no signal" || fail "4: rc=$rc $out"
[[ -e "$d/k4" || -e "$d/k4.part" ]] && fail "4: left a file behind"
untouched 4 dst4
cp "$d/half" "$d/k4.part"
fetch dst4 "$d/k4"
if ((rc > 0 && rc < 128)) &&
  grep -q "cannot write the kept file: write $d/k4.part: File too large" <<<"$out" &&
  grep -q "ulimit -f" <<<"$out"; then
  ok "4: resumed under the limit: exit $rc at the first write past it"
  sed "s/^/  /" <<<"$out"
else
  fail "4: resumed under the limit: rc=$rc $out"
fi
by_rules "4 (resumed)" dst4
cmp -s -n $((1024 * 1024)) "$d/half" "$d/k4.part" && ok "4: the .part kept its first MiB" ||
  fail "4: the .part's first MiB changed"
runner=()
completes 4 dst4 "$d/k4"
[[ "${resumed:-}" == $((pieces - zeroed)) ]] && ok "4: resumed from the $resumed pieces it held" ||
  fail "4: resumed ${resumed:-no} pieces, want $((pieces - zeroed)): $out"

# ---- 5. write errors injected (wksp_ctl_testing, util/fault.h) -------------
# The n-th write(2)/pwrite(2) of the fetch fails: ENOSPC at the 5th (no
# piece complete yet), then, resuming that .part, EIO at the 100th (1.6 MiB
# of blocks in: pieces verified before). Each fails at once, naming the
# cause and the .part, the workspace by the rules; then the fetch without a
# fault resumes and completes.
fetcher="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"
dest dst5
t0=$SECONDS
runner=(env WKSP_FAULT_AT=write:5:enospc)
fetch dst5 "$d/k5"
[[ $rc -eq 6 ]] &&
  grep -q "cannot write the kept file: write $d/k5.part: No space left on device.*make room" <<<"$out" &&
  ok "5: ENOSPC injected: exit 6, naming the cause, the .part and the fix" || fail "5: ENOSPC: rc=$rc $out"
untouched "5 (ENOSPC)" dst5
runner=(env WKSP_FAULT_AT=write:100:eio)
fetch dst5 "$d/k5"
if ((rc > 0 && rc < 128)) &&
  grep -q "cannot write the kept file: write $d/k5.part: Input/output error" <<<"$out" &&
  grep -q "stay in $d/k5.part: the same fetch resumes from them" <<<"$out"; then
  ok "5: EIO injected: exit $rc, naming the cause and the .part"
  sed "s/^/  /" <<<"$out"
else
  fail "5: EIO: rc=$rc $out"
fi
by_rules "5 (EIO)" dst5
took=$((SECONDS - t0))
((took < 60)) && ok "5: both failed within ${took} s (--timeout 60 each)" || fail "5: took $took s"
runner=() fetcher=$ctl
completes 5 dst5 "$d/k5"
[[ -n "${resumed:-}" && "$resumed" -gt 0 ]] &&
  ok "5: resumed from the $resumed pieces verified before the EIO" ||
  fail "5: resumed from no piece: $out"

# ---- 6. a failure once the workspace is restored ---------------------------
# Every byte of a checkpoint lies in its layout or in a frame, so when the
# last frame is restored every piece is in, and what is left of the kept
# file is its fsync: a write-back error there (EIO; ENOSPC where space is
# taken only then) is injected at the fetch's first sync. The fetch fails at
# once naming the cause, the .part and (ENOSPC) the fix, annotated that the
# workspace is restored: it is, complete and unmarked (the exit status is
# the cause's class: 6, then 1); a SIGINT there too (130, saying the restore
# completed); the .part stays, and the same fetch resumes from every one of
# its pieces and completes.
fetcher="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"
restored() {  # restored NAME WKSP: the source's state, unmarked, verifies
  local u
  u=$("$ctl" --json usage "$2" 1 2>&1)
  [[ $(state "$2") == "$want" ]] && grep -q '"used_cnt":' <<<"$u" &&
    "$ctl" verify "$2" >/dev/null 2>&1 && ok "$1: workspace restored, unmarked, verifies" ||
    fail "$1: workspace $2 is not the restored source: $u"
}
dest dst6
t0=$SECONDS
for fault in enospc eio int; do
  runner=(env WKSP_FAULT_AT=sync:1:$fault)
  case $fault in
    enospc) want_rc=6 cause="cannot write the kept file: fsync $d/k6.part: No space left on device (errno 28); make room on its file system" ;;
    eio) want_rc=1 cause="cannot write the kept file: fsync $d/k6.part: Input/output error (errno 5);" ;;
    # SIGINT there (the signal raised just before the fsync): a stop
    # request, which says what became of the workspace.
    int) want_rc=130 cause="interrupted by SIGINT after the restore completed" ;;
  esac
  signalled=$((want_rc >= 128 ? want_rc : 0))
  fetch dst6 "$d/k6"
  signalled=""
  if [[ $rc -eq $want_rc ]] && grep -q "$cause" <<<"$out" &&
    grep -q "; the workspace is restored but the kept file is not complete (the pieces fetched so far stay in $d/k6.part: the same fetch resumes from them)" <<<"$out" &&
    ! grep -q "reset to empty" <<<"$out"; then
    ok "6: $fault at the sync after the restore: exit $rc, naming the cause, the .part, the workspace restored"
    sed "s/^/  /" <<<"$out"
  else
    fail "6: $fault at the sync: rc=$rc (want $want_rc) $out"
  fi
  restored "6 ($fault)" dst6
  [[ -e "$d/k6.part" && ! -e "$d/k6" ]] && ok "6 ($fault): the .part stays" ||
    fail "6 ($fault): .part gone or kept file made"
done
took=$((SECONDS - t0))
((took < 60)) && ok "6: all three failed within ${took} s (--timeout 60 each)" || fail "6: took $took s"
runner=() fetcher=$ctl
completes 6 dst6 "$d/k6"
[[ "${resumed:-}" == "$pieces" ]] && ok "6: resumed from all $resumed pieces" ||
  fail "6: resumed ${resumed:-no} pieces, want $pieces: $out"

# ---- 7. a write error whose alerts are lost --------------------------------
# libtorrent's alert queue may overflow and drop alerts; with every
# file_error_alert and torrent_error_alert dropped (alert:1+:drop, the fetch
# told of the drop as libtorrent tells it), a write past ulimit -f (EFBIG:
# libtorrent only stops asking for pieces) waited out --timeout. The fetch
# finds the write error the disk layer kept when it resyncs: it fails at
# once, naming the cause, the .part and the limit; the workspace by the
# rules; then the same fetch resumes and completes.
fetcher="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"
runner=(bash -c 'ulimit -f 1024 && exec env WKSP_FAULT_AT=alert:1+:drop "$@"' limited)
dest dst7
cp "$d/half" "$d/k7.part"
t0=$SECONDS
fetch dst7 "$d/k7"
took=$((SECONDS - t0))
if ((rc > 0 && rc < 128)) &&
  grep -q "cannot write the kept file: write $d/k7.part: File too large (errno 27); the file size limit (ulimit -f)" <<<"$out" &&
  grep -q "stay in $d/k7.part: the same fetch resumes from them" <<<"$out"; then
  ok "7: alerts dropped: exit $rc, naming the cause, the .part and the limit"
  sed "s/^/  /" <<<"$out"
else
  fail "7: alerts dropped: rc=$rc $out"
fi
grep -q "timed out" <<<"$out" && fail "7: waited for the stall bound"
# (The alert path fails as fast: a fault spec the test binary ignored would
# pass unnoticed.)
grep -q "ignoring WKSP_FAULT_AT" <<<"$out" && fail "7: the fault spec was ignored: $out"
((took < 30)) && ok "7: failed within ${took} s (--timeout 60)" || fail "7: took $took s"
by_rules 7 dst7
runner=() fetcher=$ctl
completes 7 dst7 "$d/k7"
[[ -n "${resumed:-}" && "$resumed" -gt 0 ]] && ok "7: resumed from the $resumed pieces it held" ||
  fail "7: resumed from no piece: $out"
unseed

[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
