#!/usr/bin/env bash
# One checkpoint pass, several outputs (`--tee PATH ... checkpt W PATH|-`,
# apps/checkpt_tee.h), through the binary:
#   - every output is byte-identical to a lone checkpoint of the same state;
#   - held mid-stream (stdout's reader stops reading after 64 KiB of a 12 MiB
#     stream, more than every buffer between them holds), the one pass holds
#     the lock and no --tee file exists yet; when the reader goes on, all
#     outputs complete, identical;
#   - SIGINT while held there: exit 130, no --tee file, the lock released;
#   - a reader that closes stdout early is reported by name (exit 1) and the
#     --tee files are complete all the same;
#   - a taken name or a missing folder fails before anything is written;
#     '-' as --tee, a name given twice, and --tee with --base are usage
#     errors.
# Workspaces live in $TEST_TMPDIR/shm; every wait is a bounded poll.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl_testing"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/tee_test"
mkdir -p "$tmp/shm"
export WKSP_SHMEM_ROOT="$tmp/shm"
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/testing_lib.sh"
cd "$tmp" || exit 1

"$ctl" new w 64M normal 0 600 >/dev/null || fail "new w"
for i in $(seq 1 12); do
  g=$("$ctl" alloc w 0 1M) || fail "alloc w"
  "$ctl" memset "$g" "$i" || fail "memset $g"
done
# Style 2 (RAW): the stream is as long as the data, 12 MiB.
ck=(--deterministic --durable no)
"$ctl" "${ck[@]}" checkpt w lone.ck 600 2 tee || fail "lone checkpt"

same() {  # same NAME FILES...: every file equals lone.ck
  local name=$1 f; shift
  for f in "$@"; do
    if ! cmp -s lone.ck "$f"; then fail "$name: $f differs from lone.ck"; return; fi
  done
  ok "$name"
}

# 1. Three outputs, one pass.
out=$("$ctl" "${ck[@]}" --tee a.ck --tee b.ck checkpt w - 600 2 tee 2>&1 >s.ck)
rc=$?
if [[ $rc -eq 0 ]] && grep -q "3 identical outputs" <<<"$out"; then
  same "tee: stdout and two files" s.ck a.ck b.ck
else
  fail "tee: rc=$rc: $out"
fi

# 2. Held mid-stream by stdout's reader.
mkfifo fifo
"$ctl" "${ck[@]}" --tee m1.ck --tee m2.ck checkpt w - 600 2 tee >fifo 2>held.err &
pid=$!
pids+=("$pid")
exec 3<fifo
# Exactly 64 KiB; the rest stays in the pipes or unwritten.
dd bs=4096 count=16 iflag=fullblock <&3 >held.ck 2>/dev/null
if ! kill -0 "$pid" 2>/dev/null; then
  fail "held: the checkpt ended after 64 KiB of 12 MiB"
elif [[ -e m1.ck || -e m2.ck ]]; then
  fail "held: a --tee file exists before the stream ended"
else
  check "held: the one pass holds the lock" 7 "lock" -- --wait 0 alloc w 0 4096
fi
cat <&3 >>held.ck
exec 3<&-
wait "$pid"; rc=$?
if [[ $rc -eq 0 ]]; then
  same "held: every output complete after the reader went on" held.ck m1.ck m2.ck
else
  fail "held: rc=$rc: $(cat held.err)"
fi

# 2b. SIGINT while held mid-stream: exit 130, no --tee file, lock released.
"$ctl" "${ck[@]}" --tee i1.ck --tee i2.ck checkpt w - 600 2 tee >fifo 2>int.err &
pid=$!
pids+=("$pid")
exec 3<fifo
dd bs=4096 count=4 iflag=fullblock <&3 >/dev/null 2>&1
kill -INT "$pid"
cat <&3 >/dev/null
exec 3<&-
wait "$pid"; rc=$?
if [[ $rc -eq 130 && ! -e i1.ck && ! -e i2.ck ]]; then
  check "SIGINT mid-stream: exit 130, nothing published, lock free" 0 "" -- \
    --wait 0 usage w 1
else
  fail "SIGINT mid-stream: rc=$rc, files: $(ls i?.ck 2>&1): $(cat int.err)"
fi

# 3. stdout's reader goes away after 100 bytes: named, the files complete.
"$ctl" "${ck[@]}" --tee c1.ck --tee c2.ck checkpt w - 600 2 tee 2>closed.err |
  head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
if [[ $rc -eq 1 ]] &&
   grep -q "1 of 3 outputs failed (stdout: .*Broken pipe.*complete: c1.ck, c2.ck" closed.err; then
  same "closed stdout: exit 1, named; the other outputs complete" c1.ck c2.ck
else
  fail "closed stdout: rc=$rc: $(cat closed.err)"
fi

# 4. Refused before anything is written.
check "a taken --tee name" 1 "c1.ck: File exists.*nothing was written" -- \
  --tee new1.ck --tee c1.ck checkpt w new2.ck 600 2 tee
[[ ! -e new1.ck && ! -e new2.ck ]] && ok "a taken name: no other output made" ||
  fail "a taken name left new1.ck or new2.ck"
check "a missing folder" 4 "no/such" -- --tee no/such/x.ck checkpt w n3.ck 600 2 tee
[[ ! -e n3.ck ]] && ok "a missing folder: no other output made" ||
  fail "a missing folder left n3.ck"
check "--tee -" 2 "file path" -- --tee - checkpt w x.ck 600 2 tee
check "a name twice" 2 "named twice" -- --tee x.ck checkpt w x.ck 600 2 tee
check "--tee with --base" 2 "delta" -- --base lone.ck --tee y.ck checkpt w x.ck 600 2 tee
# --tee is used up by its checkpt: the next one has one output.
check "--tee used up" 0 "checkpt w" -- "${ck[@]}" --tee u1.ck checkpt w u2.ck 600 2 tee checkpt w u3.ck 600 2 tee
same "--tee used up: outputs" u1.ck u2.ck u3.ck

"$ctl" delete w || fail "delete w"
echo "$fails failure(s)"
((fails == 0))
