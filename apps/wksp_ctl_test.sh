#!/usr/bin/env bash
# Drives wksp_ctl end to end: every command, its output format, every error
# path the issue lists, the exit statuses, checkpoints through a pipe, and a
# round trip of each Firedancer reference checkpoint. Workspaces live in
# $TEST_TMPDIR/shm (WKSP_SHMEM_ROOT), never in /dev/shm.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
ref="${TEST_SRCDIR}/${TEST_WORKSPACE}/testdata/firedancer_ref"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# check NAME EXPECTED_RC PATTERN -- ARGS...: runs wksp_ctl ARGS, wants the exit
# status and an output line (stdout+stderr) matching PATTERN (extended regex).
check() {
  local name=$1 want_rc=$2 pattern=$3; shift 4
  local out rc
  out=$("$ctl" "$@" 2>&1); rc=$?
  if [[ $rc -ne $want_rc ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$name: rc=$rc (want $want_rc), output:"; echo "$out"
  else
    echo "ok   $name"
  fi
}
# out ARGS...: stdout of a run that must succeed.
out() {
  local o
  if ! o=$("$ctl" "$@"); then fail "wksp_ctl $*"; fi
  printf '%s' "$o"
}
expect_eq() {  # expect_eq NAME GOT WANT
  if [[ "$2" != "$3" ]]; then fail "$1: got '$2', want '$3'"; else echo "ok   $1"; fi
}

# ---- general -----------------------------------------------------------------
check help 0 "checkpt-query PATH VERBOSE" -- help
check help-exit-statuses 0 "^3 restore failed" -- help
check styles 0 "^0 1 2 3$" -- supported-styles
check chain 0 "usage:" -- supported-styles help
check no-args 2 "usage:" --
check unknown 2 "unknown command 'bogus'" -- bogus
check unknown-runs-nothing 2 "unknown command" -- new early 1M normal 0 600 bogus
check not-created 4 "early" -- delete early
check missing-arg 2 "alloc: needs 3 argument\(s\) \(wksp align sz\), got 1" -- alloc w
check bad-setting 2 "bad tag \"0\"" -- tag 0
check bad-threads 2 "bad thread count" -- --threads x
check bad-durable 2 "bad --durable \"maybe\": must be yes or no" -- --durable maybe

# ---- new / delete --------------------------------------------------------------
check new-pages 0 "" -- new w 16384 normal 0 600
[[ -f "$WKSP_SHMEM_ROOT/w" ]] || fail "new: no file $WKSP_SHMEM_ROOT/w"
mode=$(stat -c %a "$WKSP_SHMEM_ROOT/w"); expect_eq new-mode "$mode" 600
check new-exists 1 "new w 1M normal 0 600: .*(exists|EEXIST)" -- new w 1M normal 0 600
check new-bad-name 2 "new bad/name .*: " -- new bad/name 1M normal 0 600
check new-bad-page 2 "bad page_sz \"large\"" -- new x 1M large 0 600
check new-bad-cpu 2 "bad cpu_idx_seq" -- new x 1M normal 3-1 600
check new-bad-mode 2 "bad mode \"999\"" -- new x 1M normal 0 999
check new-too-small 2 "too small" -- new x 1K normal 0 600
check new-size-mode 0 "" -- new s 1M 4K 0-3,5 640 delete s
check delete-missing 4 "delete nope: " -- delete nope
q=$(out --json query w)
grep -q '"data_max":' <<<"$q" && grep -q '"footprint":67108864' <<<"$q" \
  && grep -q '"page_size":"normal"' <<<"$q" || fail "new 16384 pages: $q"
pm=$(out --part-max 100 new p 1M normal 0 600 --json query p delete p)
grep -q '"part_max":100,' <<<"$pm" || fail "--part-max: $pm"

# ---- alloc / info / tag-query / memset / free / tag-free / usage --------------
a1=$(out alloc w 0 1M)
[[ "$a1" =~ ^w:[0-9]+$ ]] || fail "alloc output '$a1'"
g1=${a1#w:}
(( g1 % 4096 == 0 )) || fail "alloc align 0 gave $g1, not 4096-aligned"
a2=$(out tag 7 alloc w 64 100)
g2=${a2#w:}
(( g2 % 64 == 0 )) || fail "alloc align 64 gave $g2"
expect_eq tag-query "$(out tag-query "w:$((g2 + 99))")" 7
expect_eq tag-query-default-tag "$(out tag-query "$a1")" 1
expect_eq tag-query-none "$(out tag-query "w:$((g2 + 100))")" 0
expect_eq info "$(out info w 7)" "$a2 100"
expect_eq info-none "$(out info w 9)" "- 0"
u=$(out usage w 7)
grep -qE "^	 +1048676 bytes used  \(2 allocations\)$" <<<"$u" \
  && grep -qE "^	 +100 bytes tag 7 \(1 allocations\)$" <<<"$u" || fail "usage: $u"
uj=$(out --json usage w 7)
grep -q '"used_cnt":2,"used_sz":1048676' <<<"$uj" \
  && grep -q '"tag":7,"tagged_cnt":1,"tagged_sz":100}' <<<"$uj" || fail "usage --json: $uj"
check alloc-bad-align 2 "bad align \"3\"" -- alloc w 3 10
check alloc-zero 2 "bad sz" -- alloc w 0 0
check alloc-too-big 6 "alloc w 0 1G: " -- alloc w 0 1G
check alloc-missing-wksp 4 "alloc nope 0 1: .*nope" -- alloc nope 0 1
check alloc-bad-name 2 "alloc -x 0 1: " -- alloc -x 0 1

# memset: the bytes show up raw in a v1 checkpoint.
check memset 0 "" -- memset "w:$((g2 + 5))" 65
check memset-bad-byte 2 "bad byte \"256\"" -- memset "$a2" 256
check memset-bad-addr 2 "memset w:1 66: " -- memset w:1 66
"$ctl" checkpt w "$tmp/m.ckpt" 600 1 memset >/dev/null 2>&1 || fail "checkpt for memset"
n=$(grep -c "$(printf 'A%.0s' {1..100})" "$tmp/m.ckpt")
expect_eq memset-bytes "$n" 1
rm -f "$tmp/m.ckpt"

check free-bad-addr 4 "free w:$((g2 + 100)): " -- free "w:$((g2 + 100))"
check free-malformed 2 "bad workspace address" -- free w:zz
check free-no-colon 2 "bad workspace address" -- free w
check tag-query-missing 4 "tag-query nope:1: " -- tag-query nope:1
check free 0 "" -- free "w:$((g2 + 50))"
check double-free 4 "free $a2: " -- free "$a2"
out tag 3 alloc w 0 10 alloc w 0 20 >/dev/null
check tag-free 0 "" -- tag-free w 3
expect_eq tag-free-gone "$(out info w 3)" "- 0"
expect_eq tag-free-kept "$(out info w 1)" "$a1 1048576"

# ---- query / check / verify / rebuild / reset ---------------------------------
qt=$(out query w)
grep -qE "^	partition \[$g1, $((g1 + 1048576))\) sz 1048576 tag 1$" <<<"$qt" \
  && grep -qE "^	seed +0$" <<<"$qt" && grep -qE "free$" <<<"$qt" || fail "query: $qt"
check check 0 "" -- check w
check verify 0 "" -- verify w
check rebuild 0 "" -- rebuild w 42 verify w
grep -qE "^	seed +42$" <<<"$(out query w)" || fail "rebuild 42 did not set the seed"
check rebuild-keep-seed 0 "" -- rebuild w -
grep -qE "^	seed +42$" <<<"$(out query w)" || fail "rebuild - changed the seed"
check rebuild-bad-seed 2 "bad seed" -- rebuild w 4294967296
check verify-missing 4 "verify nope: " -- verify nope

# ---- checkpt / checkpt-query / restore ----------------------------------------
out tag 5 alloc w 1 12345 >/dev/null
before=$(out query w | grep "tag")
for style in 0 1 2 3; do
  f="$tmp/w.s$style"
  check "checkpt-style$style" 0 "^checkpt w: 1060921 bytes in [0-9.]+ s \([0-9.]+ GB/s\); file [0-9]+ bytes \([0-9.]+ ([KMG]i)?B\)" -- \
    --threads 2 checkpt w "$f" 640 $style "style $style"
  expect_eq "checkpt-mode$style" "$(stat -c %a "$f")" 640
  want_style=2; [[ $style == 1 ]] && want_style=1
  check "checkpt-query$style" 0 "^	style +$want_style +$" -- checkpt-query "$f" 0
  check "checkpt-query-uinfo$style" 0 "^		style $style$" -- checkpt-query "$f" 2
  j=$(out --json checkpt-query "$f" 3)
  grep -q "\"style\":$((style == 0 ? 3 : style)),\"wksp\":\"w\",\"seed\":42,.*\"alloc_cnt\":2,\"alloc_sz\":1060921" <<<"$j" \
    || fail "checkpt-query --json $style: $j"
  check "restore-style$style" 0 "^restore w2: 1060921 bytes" -- \
    new w2 64M normal 0 600 --threads 3 restore w2 "$f" 9 verify w2
  expect_eq "restore-allocs$style" "$(out query w2 | grep tag)" "$before"
  grep -qE "^	seed +9$" <<<"$(out query w2)" || fail "restore seed 9"
  check "restore-keep-seed$style" 0 "" -- restore w2 "$f" -
  grep -qE "^	seed +9$" <<<"$(out query w2)" || fail "restore - changed the seed"
  out delete w2
done
check checkpt-exists 1 "checkpt w $tmp/w.s1 600 1 x: .*(exists|EEXIST)" -- checkpt w "$tmp/w.s1" 600 1 x
check checkpt-bad-style 2 "style 4 is not supported" -- checkpt w "$tmp/new" 600 4 x
check checkpt-bad-style-word 2 "bad style" -- checkpt w "$tmp/new" 600 v3 x
check checkpt-missing 4 "checkpt nope" -- checkpt nope "$tmp/new" 600 1 x
[[ -e "$tmp/new" ]] && fail "failed checkpt left $tmp/new"
check checkpt-query-missing 4 "checkpt-query $tmp/none 0: " -- checkpt-query "$tmp/none" 0
check checkpt-query-bad-verbose 2 "bad verbose" -- checkpt-query "$tmp/w.s1" 5

# Corrupt checkpoints: a bad header is refused before anything changes
# (status 1, allocations kept); a stream cut short after the restore began
# leaves the workspace reset (status 3).
out new c 64M normal 0 600 alloc c 0 100 >/dev/null
head -c 4096 /dev/urandom >"$tmp/junk"
check restore-not-checkpt 8 "restore c $tmp/junk -: .*not a workspace checkpoint" -- restore c "$tmp/junk" -
expect_eq corrupt-untouched "$(out --json usage c 1 | grep -o '"used_cnt":[0-9]*')" '"used_cnt":1'
cp "$tmp/w.s3" "$tmp/bad.s3"
printf 'XXXXXXXX' | dd of="$tmp/bad.s3" bs=1 seek=$(( $(stat -c %s "$tmp/bad.s3") - 8 )) conv=notrunc 2>/dev/null
check restore-bad-footer 8 "restore c .*bad.s3" -- restore c "$tmp/bad.s3" -
expect_eq bad-footer-untouched "$(out --json usage c 1 | grep -o '"used_cnt":[0-9]*')" '"used_cnt":1'
for style in 1 2; do
  sz=$(stat -c %s "$tmp/w.s$style")
  msg=$(head -c $((sz - 100)) "$tmp/w.s$style" | "$ctl" restore c - - 2>&1); rc=$?
  if [[ $rc -ne 3 ]] || ! grep -q "reset to empty" <<<"$msg"; then
    fail "truncated v$style stream: rc=$rc: $msg"
  else
    echo "ok   truncated-stream-v$style"
  fi
  expect_eq "truncated-reset$style" "$(out --json usage c 1 | grep -o '"used_cnt":[0-9]*')" '"used_cnt":0'
  out alloc c 0 100 >/dev/null
done
out delete c

# Through a pipe: checkpt to stdout, restore from stdin.
out new w3 64M normal 0 600 >/dev/null
"$ctl" checkpt w - 600 3 piped 2>/dev/null | "$ctl" restore w3 - 11 2>/dev/null
rc=("${PIPESTATUS[@]}")
expect_eq pipe-status "${rc[*]}" "0 0"
expect_eq pipe-allocs "$(out query w3 | grep tag)" "$before"
check stdout-conflict 2 "no other command" -- checkpt w - 600 3 x query w
# A reader that goes away: a quiet exit with status 141, as after SIGPIPE.
msg=$( { "$ctl" checkpt w - 600 1 x | head -c 1 >/dev/null; } 2>&1)
rc=$( { "$ctl" checkpt w - 600 1 x 2>/dev/null | head -c 1 >/dev/null; echo "${PIPESTATUS[0]}" >&3; } 3>&1)
[[ -z "$msg" && "$rc" == 141 ]] && echo "ok   epipe-checkpt" || fail "EPIPE checkpt: rc=$rc '$msg'"
out delete w3 delete w
rm -f "$tmp"/w.s* "$tmp/bad.s3" "$tmp/junk"

# ---- Firedancer reference checkpoints: restore, checkpt in each style,
# restore that elsewhere; allocations must equal the reference list. ------------
for v in 1 2 3; do
  want=$(awk '!/^#/ { printf "\tpartition [%d, %d) sz %d tag %d\n", $1, $2, $2 - $1, $3 }' \
         "$ref/ref_v$v.allocs.tsv")
  [[ $(wc -l <<<"$want") -eq 67 ]] || fail "ref_v$v.allocs.tsv: expected 67 allocations"
  check "ref$v-restore" 0 "^restore r$v: 8673291 bytes" -- \
    --part-max 1024 new "r$v" 80M normal 0 600 restore "r$v" "$ref/ref_v$v.checkpt" 77 verify "r$v"
  expect_eq "ref$v-restored" "$(out query "r$v" | grep tag)" "$want"
  grep -qE "^	seed +77$" <<<"$(out query "r$v")" || fail "ref$v: seed not 77"
  jref=$(out --json checkpt-query "$ref/ref_v$v.checkpt" 4)
  for style in 1 2 3; do
    f="$tmp/r$v.s$style"
    check "ref$v-checkpt$style" 0 "8673291 bytes" -- checkpt "r$v" "$f" 600 $style "ref $v"
    check "ref$v-s$style-restore" 0 "" -- \
      --part-max 1024 new "r${v}b" 80M normal 0 600 restore "r${v}b" "$f" - verify "r${v}b"
    expect_eq "ref$v-s$style-allocs" "$(out query "r${v}b" | grep tag)" "$want"
    jour=$(out --json checkpt-query "$f" 4)
    expect_eq "ref$v-s$style-query" "${jour#*\"allocations\"}" "${jref#*\"allocations\"}"
    out delete "r${v}b"
    rm -f "$f"
  done
  out delete "r$v"
done

# ---- deterministic checkpoints, torrent-create, seed, fetch -----------------
out new d 16M normal 0 600 >/dev/null
g=$(out alloc d 0 3M); out memset "$g" 7 >/dev/null
g=$(out alloc d 64 100K); out memset "$g" 9 >/dev/null
out --threads 1 --deterministic checkpt d "$tmp/d1.ckpt" 600 3 x >/dev/null 2>&1
out --threads 2 --deterministic checkpt d "$tmp/d2.ckpt" 600 3 x >/dev/null 2>&1
cmp -s "$tmp/d1.ckpt" "$tmp/d2.ckpt" && echo "ok   det-identical" || fail "det-identical"
h1=$(out torrent-create "$tmp/d1.ckpt" "$tmp/d1.torrent")
h2=$(out torrent-create "$tmp/d2.ckpt" "$tmp/d2.torrent")
[[ "$h1" =~ ^[0-9a-f]{64}$ && "$h1" == "$h2" ]] && echo "ok   torrent-hash" || fail "torrent-hash: $h1 $h2"
cmp -s "$tmp/d1.torrent" "$tmp/d2.torrent" && echo "ok   torrent-identical" || fail "torrent-identical"
check torrent-exists 1 "exists|EEXIST" -- torrent-create "$tmp/d1.ckpt" "$tmp/d1.torrent"
check bad-timeout 2 "bad --timeout" -- --timeout x
check fetch-no-peer 2 "no peer or tracker given" -- new d3 16M normal 0 600 fetch d3 "$tmp/d1.torrent" -
check bad-congestion 2 "tcp-congestion no-such-cc: the kernel refuses it .*offers: .*reno" -- --tcp-congestion no-such-cc seed "$tmp/d1.torrent" "$tmp/d1.ckpt"
out delete d3
"$ctl" --listen 127.0.0.1:0 --seconds 60 seed "$tmp/d1.torrent" "$tmp/d1.ckpt" >"$tmp/seed.out" 2>&1 &
seeder=$!
# Waits (bounded) for the seeder's "seeding IP:PORT HASH" line.
for _ in $(seq 1 300); do grep -q "^seeding" "$tmp/seed.out" && break; kill -0 $seeder 2>/dev/null || break; sleep 0.1; done
peer=$(awk '/^seeding/ {print $2}' "$tmp/seed.out")
check fetch 0 "^fetch d2: " -- new d2 16M normal 0 600 --peer "$peer" --timeout 30 --tcp-congestion reno fetch d2 "$tmp/d1.torrent" - verify d2
expect_eq fetch-allocs "$(out query d2 | grep tag)" "$(out query d | grep tag)"
kill $seeder; wait $seeder
out delete d; out delete d2
rm -f "$tmp"/d1.* "$tmp"/d2.* "$tmp/seed.out"

leftover=$(ls -A "$WKSP_SHMEM_ROOT")
[[ -z "$leftover" ]] || fail "workspaces left behind: $leftover"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
