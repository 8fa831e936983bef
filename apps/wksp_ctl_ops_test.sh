#!/usr/bin/env bash
# wksp_ctl as an operator meets it: Unix habits (--help, --version, exit
# statuses, EPIPE), the whole line parsed before anything runs, delete's
# refusal of non-workspaces, list, not-found messages, a checkpoint that does
# not fit and restore-new, checkpt-query from a stream, JSON, and relative
# paths under `bazel run`. Workspaces live in $TEST_TMPDIR/shm.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
ref="${TEST_SRCDIR}/${TEST_WORKSPACE}/testdata/firedancer_ref"
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
out() {
  local o
  if ! o=$("$ctl" "$@"); then fail "wksp_ctl $*"; fi
  printf '%s' "$o"
}
expect_eq() {
  if [[ "$2" != "$3" ]]; then fail "$1: got '$2', want '$3'"; else ok "$1"; fi
}

# ---- Unix habits ----------------------------------------------------------------
for h in --help -h help; do
  o=$("$ctl" $h 2>/dev/null); rc=$?
  [[ $rc -eq 0 ]] && grep -q "^usage: wksp_ctl" <<<"$o" && ok "help $h" || fail "$h: rc=$rc"
done
check version 0 "^wksp_ctl \(wkspkit\) [0-9]+\.[0-9]+\.[0-9]+$" -- --version
check unknown-exit2 2 "unknown command 'bogus'" -- bogus
# A reader that goes away: nothing on stderr, status 141. (A query of 4000
# allocations, 180 kB, is more than a pipe holds, so it is still writing when head
# exits.)
many=(); for _ in $(seq 4000); do many+=(alloc m 0 4096); done
out --part-max 8100 new m 64M normal 0 600 "${many[@]}" >/dev/null
err=$( { "$ctl" query m | head -1 >/dev/null; } 2>&1 )
rc=$( { "$ctl" query m 2>/dev/null | head -1 >/dev/null; echo "${PIPESTATUS[0]}" >&3; } 3>&1 )
[[ -z "$err" && $rc -eq 141 ]] && ok "epipe-query" || fail "query | head: rc=$rc '$err'"
out delete m
out new w 64M normal 0 600 alloc w 0 1M alloc w 0 1M >/dev/null

# ---- every argument parsed before the first command runs -----------------------
check parse-first 2 "alloc uxz 0 12Q: bad sz" -- new uxz 1M normal 0 600 alloc uxz 0 12Q
[[ -e "$WKSP_SHMEM_ROOT/uxz" ]] && fail "parse-first: uxz was created" || ok "parse-first-nothing-ran"
check parse-first-late-setting 2 "bad thread count" -- new uxz 1M normal 0 600 --threads x
[[ -e "$WKSP_SHMEM_ROOT/uxz" ]] && fail "uxz created before a bad setting"
check hex-size 0 "^w:[0-9]+$" -- alloc w 0 0x1000
check octal-like-fd 0 "^w:[0-9]+$" -- alloc w 010 0100
big=$(head -c 100000 /dev/zero | tr '\0' i)
check info-too-long 2 "info is 100000 bytes; a checkpoint stores at most 16383" -- \
  checkpt w "$tmp/long.ckpt" 600 3 "$big"
[[ -e "$tmp/long.ckpt" ]] && fail "info-too-long wrote a file"
check two-stdin-readers 2 "only one command" -- restore w - - checkpt-query - 0

# ---- delete refuses what is not a workspace --------------------------------------
head -c 4096 /dev/urandom >"$WKSP_SHMEM_ROOT/junk"
check delete-junk 1 "refusing to delete $WKSP_SHMEM_ROOT/junk: a 4096-byte file that is not a workspace" -- delete junk
[[ -f "$WKSP_SHMEM_ROOT/junk" ]] && ok "junk-kept" || fail "delete removed a non-workspace"
check alloc-junk 8 "not a workspace" -- alloc junk 0 1
check not-found-names-dirs 4 "no shared memory region named \"nope\" \(searched: $WKSP_SHMEM_ROOT" -- delete nope

# ---- list ----------------------------------------------------------------------------
l=$(out list)
grep -qE "^w +normal +67108864 +2101312 +- +- +-$" <<<"$l" || fail "list w: $l"
grep -qE "^junk +normal +4096 .*not a workspace" <<<"$l" && ok "list" || fail "list junk: $l"
lj=$(out --json list)
grep -q '"wksp":"w","page_size":"normal".*"used_sz":2101312,"used_cnt":4,"lock":null,"restore_mark":null,"attached":\[\]' <<<"$lj" \
  && ok "list-json" || fail "list --json: $lj"
# A process that maps w is listed as attached.
py=/usr/bin/python3
if [[ -x $py ]]; then
  mkfifo "$tmp/hold"
  $py -c "import mmap,sys; f=open(sys.argv[1],'r+b'); m=mmap.mmap(f.fileno(),0); open(sys.argv[2],'w').close(); sys.stdin.read()" \
    "$WKSP_SHMEM_ROOT/w" "$tmp/mapped" <"$tmp/hold" & holder=$!
  exec 7>"$tmp/hold"
  for _ in $(seq 100); do [[ -e "$tmp/mapped" ]] && break; sleep 0.05; done
  l=$(out list)
  grep -qE "^w .* $holder\(python3\)$" <<<"$l" && ok "list-attached" || fail "list attached $holder: $l"
  exec 7>&-
  wait $holder
  rm -f "$tmp/hold" "$tmp/mapped"
else
  echo "skip list-attached: no $py"
fi
rm -f "$WKSP_SHMEM_ROOT/junk"

# ---- a checkpoint that does not fit, and restore-new -------------------------------
msg=$("$ctl" new small 80M normal 0 600 restore small "$ref/ref_v3.checkpt" - 2>&1); rc=$?
if [[ $rc -eq 1 ]] && grep -q "the checkpoint is fine but does not fit workspace small" <<<"$msg" \
   && ! grep -qi "corrupt" <<<"$msg"; then ok "fit-message"; else fail "fit: rc=$rc $msg"; fi
# Both suggested commands work as given, with workspace small still there
# (a `new small` would fail: it exists).
mapfile -t cmds < <(grep -o '`wksp_ctl [^`]*`' <<<"$msg" | tr -d '`')
[[ ${#cmds[@]} -eq 2 ]] || fail "want two suggested commands in: $msg"
read -ra words <<<"${cmds[0]#wksp_ctl }"
check fit-suggestion-new-name 0 "^restore small.new: 8673291 bytes" -- "${words[@]}" verify small.new
out delete small.new
read -ra words <<<"${cmds[1]#wksp_ctl }"
check fit-suggestion-replace 0 "^restore small: 8673291 bytes" -- "${words[@]}" verify small
out delete small
check restore-new 0 "^restore rn: 8673291 bytes" -- restore-new rn "$ref/ref_v2.checkpt" - normal 0 640 verify rn
want=$(awk '!/^#/ { printf "\tpartition [%d, %d) sz %d tag %d\n", $1, $2, $2 - $1, $3 }' "$ref/ref_v2.allocs.tsv")
expect_eq restore-new-allocs "$(out query rn | grep tag)" "$want"
grep -qE "^	seed +1234$" <<<"$(out query rn)" && ok "restore-new-seed" || fail "restore-new keeps the checkpoint's seed"
expect_eq restore-new-mode "$(stat -c %a "$WKSP_SHMEM_ROOT/rn")" 640
check restore-new-exists 1 "exists|EEXIST" -- restore-new rn "$ref/ref_v2.checkpt" - normal 0 600
out delete rn
head -c 100 "$ref/ref_v1.checkpt" >"$tmp/cut.ckpt"
check restore-new-bad 8 "restore-new bad" -- restore-new bad "$tmp/cut.ckpt" - normal 0 600
[[ -e "$WKSP_SHMEM_ROOT/bad" ]] && fail "restore-new left a workspace behind"

# ---- checkpt-query from a stream -----------------------------------------------------
for v in 1 2 3; do
  f="$ref/ref_v$v.checkpt"
  for verbose in 0 2 3 4; do
    want=$(out checkpt-query "$f" $verbose | tail -n +2)
    got=$("$ctl" checkpt-query - $verbose <"$f" | tail -n +2)
    expect_eq "query-stdin-file-v$v-$verbose" "$got" "$want"
    got=$(cat "$f" | "$ctl" checkpt-query - $verbose | tail -n +2)
    expect_eq "query-stdin-pipe-v$v-$verbose" "$got" "$want"
    got=$(cat "$f" | "$ctl" checkpt-query /dev/stdin $verbose | tail -n +2)
    expect_eq "query-devstdin-pipe-v$v-$verbose" "$got" "$want"
  done
done
msg=$(head -c 5000 "$ref/ref_v2.checkpt" | "$ctl" checkpt-query /dev/stdin 3 2>&1)
grep -q "checkpt-query /dev/stdin 3: .*/dev/stdin" <<<"$msg" && ! grep -q "fd [0-9]" <<<"$msg" \
  && ok "query-error-names-path" || fail "truncated stream: $msg"

# ---- JSON ----------------------------------------------------------------------------
cp "$ref/ref_v1.checkpt" "$tmp/café.ckpt"
j=$(out --json checkpt-query "$tmp/café.ckpt" 2)
grep -q "\"path\":\"$tmp/café.ckpt\"" <<<"$j" && ok "json-utf8" || fail "json path: $j"
grep -q '"schema_version":2' <<<"$j" && grep -q '"wallclock_ns":1795607959158101045' <<<"$j" \
  && grep -q '"uinfo":"fdref reference checkpt"' <<<"$j" && ok "json-fields" || fail "json fields: $j"
if [[ -x /usr/bin/python3 ]]; then
  /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["path"].endswith("café.ckpt"), d["path"]' <<<"$j" \
    && ok "json-parses" || fail "json does not parse: $j"
fi
rm -f "$tmp/café.ckpt" "$tmp/cut.ckpt"

# ---- relative paths under bazel run ----------------------------------------------------
mkdir -p "$tmp/user_dir" "$tmp/elsewhere"
(cd "$tmp/elsewhere" && BUILD_WORKING_DIRECTORY="$tmp/user_dir" "$ctl" -q checkpt w rel.ckpt 600 3 x)
[[ -f "$tmp/user_dir/rel.ckpt" && ! -e "$tmp/elsewhere/rel.ckpt" ]] && ok "build-working-directory" \
  || fail "relative path not resolved against BUILD_WORKING_DIRECTORY"
check quiet 0 "^$" -- -q checkpt w "$tmp/q.ckpt" 600 3 x
rm -rf "$tmp/user_dir" "$tmp/elsewhere" "$tmp/q.ckpt"

# ---- bash completion -----------------------------------------------------------------
completion="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl.bash-completion"
comp() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
           _wksp_ctl; echo "${COMPREPLY[*]}"' _ "$completion" "$@" 2>&1
}
expect_eq complete-command "$(comp wksp_ctl chec)" "check checkpt checkpt-query checkpt-verify checkpt-merge"
expect_eq complete-wksp "$(comp wksp_ctl alloc w 0 1M delete "")" "w"
expect_eq complete-gaddr "$(comp wksp_ctl free w)" "w:"
expect_eq complete-page-size "$(comp wksp_ctl new x 1M g)" "gigantic"
expect_eq complete-style "$(comp wksp_ctl checkpt w f 600 "")" "0 1 2 3"

out delete w
leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "workspaces left behind: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
