#!/usr/bin/env bash
# wksp_ctl's argument habits and the small things an operator trips on, each
# through the binary: settings need a command after them, `--` ends the
# settings, no arguments gives a short usage, restore/delete refuse a
# workspace other processes map (unless --force), CPU indices exist, a
# missing WKSP_SHMEM_ROOT is an error, sizes come out in IEC units,
# --progress=numeric, no rate for data v1's verify does not read, stdin /
# stdout / dead named as such. Workspaces live in $TEST_TMPDIR/shm.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
# check NAME EXPECTED_RC PATTERN -- ARGS...: exit status and a line of
# stdout+stderr matching PATTERN (extended regex).
check() {
  local name=$1 want_rc=$2 pattern=$3; shift 4
  local out rc
  out=$("$ctl" "$@" 2>&1); rc=$?
  if [[ $rc -ne $want_rc ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$name: rc=$rc (want $want_rc), output:"; echo "$out" | cut -c1-300
  else
    ok "$name"
  fi
}
# lacks NAME PATTERN -- ARGS...: the output (either stream) has no line
# matching PATTERN.
lacks() {
  local name=$1 pattern=$2; shift 3
  local out
  out=$("$ctl" "$@" 2>&1)
  if grep -qE -- "$pattern" <<<"$out"; then
    fail "$name: has /$pattern/:"; echo "$out" | cut -c1-300
  else
    ok "$name"
  fi
}

"$ctl" new w 16M normal 0 600 alloc w 0 3M >/dev/null || fail "setup"

# ---- settings and the line ---------------------------------------------------
check trailing-setting 2 "setting '--json' has no command after it" -- query w --json
check trailing-setting-value 2 "setting '--threads' has no command after it" -- query w --threads 2
check only-settings 2 "setting 'tag' has no command after it" -- tag 5
check trailing-nothing-ran 2 "has no command after it" -- new t 1M normal 0 600 --json
[[ -e "$WKSP_SHMEM_ROOT/t" ]] && fail "a line with a trailing setting ran" || ok "trailing-setting-runs-nothing"
check dashdash 0 '^\{"schema_version":2,"wksp":"w"' -- --json -- query w
check dashdash-first 0 "^wksp w$" -- -- query w
check setting-after-dashdash 2 "setting '--json' after '--'" -- -- --json query w
# After `--` a word is still a command; a path may start with '-'.
check dashdash-path 4 "no-such-file|No such file" -- -- checkpt-verify ./--no-such-file
o=$("$ctl" 2>&1); rc=$?
if [[ $rc -eq 2 && $(wc -l <<<"$o") -le 3 ]] && grep -q "^usage: wksp_ctl" <<<"$o" \
   && grep -q "Try 'wksp_ctl --help'" <<<"$o"; then ok "no-args-short-usage"; else fail "no args: rc=$rc: $o"; fi

# ---- CPU indices and the shared-memory root -------------------------------------
ncpu=$(getconf _NPROCESSORS_CONF)
check cpu-missing 2 "CPU $ncpu does not exist; this machine has CPUs 0-$((ncpu - 1))" -- new c 1M normal "$ncpu" 600
check cpu-missing-first 2 "CPU 5000 does not exist" -- new c 1M normal 5000,0 600
[[ -e "$WKSP_SHMEM_ROOT/c" ]] && fail "new with a missing CPU created c" || ok "cpu-missing-nothing-created"
# Later CPUs only widen a list (Firedancer's scripts name 0-6/2 anywhere):
# a warning, and memory near the first.
check cpu-missing-later 0 "^wksp_ctl: warning: cpu_idx_seq 0,5000: CPU\(s\) 5000 do not exist on this machine \(CPUs 0-$((ncpu - 1))\); memory goes near CPU 0$" \
  -- new c 1M normal 0,5000 600 delete c
check cpu-last 0 "" -- new c 1M normal "$((ncpu - 1))" 600 delete c
WKSP_SHMEM_ROOT="$tmp/nope" check root-missing 4 "list: .*$tmp/nope.*No such file or directory" -- list

# ---- units and progress --------------------------------------------------------
check iec-summary 0 "^checkpt w: 3145728 bytes in [0-9.]+ s \([0-9.]+ GB/s\); file [0-9]+ bytes \(3\.0 MiB\)$" -- checkpt w "$tmp/w.v1" 600 1 x
"$ctl" -q checkpt w "$tmp/w.v3" 600 3 x || fail "checkpt v3"
"$ctl" --progress=numeric checkpt w "$tmp/w.num" 600 2 x 2>"$tmp/num.err" || fail "numeric checkpt"
if grep -qvE '^[0-9]+$' "$tmp/num.err" || [[ $(tail -1 "$tmp/num.err") != 100 ]] \
   || ! sort -n -c "$tmp/num.err" 2>/dev/null; then
  fail "numeric progress: $(cat -A "$tmp/num.err" | head -5)"
else
  ok "progress-numeric"
fi
# From a stream the total is unknown: the numbers are bytes, ending with all.
"$ctl" --progress=numeric restore w - - <"$tmp/w.v3" 2>"$tmp/num2.err" >/dev/null || fail "numeric restore"
grep -qvE '^[0-9]+$' "$tmp/num2.err" && fail "numeric restore: $(cat -A "$tmp/num2.err")" || ok "progress-numeric-stream"
# A redirected file on stdin is previewed (for the progress total) and then
# restored from its start (the library puts the offset back; wksp_ctl does
# nothing for it): v1, v2 and v3.
for f in w.v1 w.num w.v3; do
  o=$("$ctl" restore w - - <"$tmp/$f" 2>&1) && grep -q "^restore w: 3145728 bytes" <<<"$o" \
    && ok "restore-redirected-$f" || fail "restore w - - < $f: $o"
done
check progress-bad 2 "expected auto, always, never or numeric" -- --progress=sometimes list
check verify-v3-rate 0 "^checkpt-verify .*: OK: v3, .* s \([0-9.]+ [KMG]?i?B/s\)$" -- checkpt-verify "$tmp/w.v3"
check verify-v1 0 "^checkpt-verify .*: OK: v1, structure only" -- checkpt-verify "$tmp/w.v1"
lacks verify-v1-no-rate "/s\)" -- checkpt-verify "$tmp/w.v1"

# ---- stdin / stdout named ------------------------------------------------------------
head -c 3000 "$tmp/w.v1" >"$tmp/cut.v1"
o=$("$ctl" restore w - - <"$tmp/cut.v1" 2>&1)
grep -q "restore from stdin" <<<"$o" && ! grep -q "fd 0" <<<"$o" && ok "stdin-named" || fail "stdin: $o"
"$ctl" -q restore w "$tmp/w.v3" - || fail "restore w again"
if [[ -w /dev/full ]]; then
  o=$("$ctl" checkpt w - 600 3 x 2>&1 >/dev/full)
  grep -q "checkpt to stdout" <<<"$o" && ! grep -q "fd 1" <<<"$o" && ok "stdout-named" || fail "stdout: $o"
else
  echo "skip stdout-named: no writable /dev/full"
fi

# ---- restore/delete under attached processes -------------------------------
py=/usr/bin/python3
if [[ -x $py ]]; then
  coproc MAPPER { exec $py -c 'import mmap,sys
f = open(sys.argv[1], "r+b"); m = mmap.mmap(f.fileno(), 0)
print("mapped", flush=True); sys.stdin.read()' "$WKSP_SHMEM_ROOT/w"; }
  mapper=$MAPPER_PID
  if read -r -t 20 line <&"${MAPPER[0]}" && [[ $line == mapped ]]; then
    check attached-restore 1 "workspace w is mapped by 1 other process\(es\): $mapper\(python3\); a restore changes memory they are using.*--force" \
      -- restore w "$tmp/w.v1" -
    check attached-delete 1 "workspace w is mapped by 1 other process\(es\): $mapper\(python3\)" -- delete w
    [[ -e "$WKSP_SHMEM_ROOT/w" ]] && ok "attached-delete-kept" || fail "delete removed w under a mapper"
    check attached-restore-force 0 "^wksp_ctl: warning: restore of workspace w while 1 other process\(es\) map it \(--force\): $mapper\(python3\)$" \
      -- --force restore w "$tmp/w.v1" -
    check attached-delete-force 0 "warning: delete of workspace w while 1 other" -- --force delete w
    [[ -e "$WKSP_SHMEM_ROOT/w" ]] && fail "--force delete left w" || ok "attached-delete-force-gone"
  else
    fail "the mapping helper did not start"
  fi
  exec {MAPPER[1]}>&-
  wait "$mapper"
  "$ctl" new w 16M normal 0 600 alloc w 0 3M >/dev/null || fail "setup again"
else
  echo "skip attached: no $py"
fi
check unattached-delete 0 "" -- delete w new w 16M normal 0 600 alloc w 0 3M

# ---- a dead lock holder is "dead" ------------------------------------------------
# checkpt to a FIFO nobody reads blocks in write while holding the lock (3
# MiB is more than a pipe holds); SIGKILL leaves the lock to a dead pid.
mkfifo "$tmp/fifo"
exec {keep}<>"$tmp/fifo"   # a reader that never reads, so the writer blocks
"$ctl" -q checkpt w - 600 1 x >"$tmp/fifo" 2>/dev/null &
holder=$!
held=""
for _ in $(seq 200); do  # bounded: the lock is taken before the first write
  held=$("$ctl" list 2>/dev/null | awk '$1 == "w" { print $5 }')
  [[ $held == "$holder(wksp_ctl)" ]] && break
  sleep 0.05
done
if [[ $held == "$holder(wksp_ctl)" ]]; then
  kill -KILL "$holder"; wait "$holder" 2>/dev/null
  check dead-holder-text 0 "^w +normal .* $holder\(dead\) " -- list
  check dead-holder-json 0 "\"lock\":\{\"pid\":$holder,[^}]*\"alive\":false\}" -- --json list
  check dead-holder-recovered 0 "" -- check w
else
  kill -KILL "$holder"; wait "$holder" 2>/dev/null
  fail "checkpt never showed as the lock holder (last: '$held')"
fi
exec {keep}<&-

"$ctl" delete w >/dev/null 2>&1
rm -f "$tmp"/w.* "$tmp/cut.v1" "$tmp/fifo" "$tmp"/num*.err
leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "left in $WKSP_SHMEM_ROOT: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
