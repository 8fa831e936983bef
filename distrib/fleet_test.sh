#!/usr/bin/env bash
# distrib on a simulated fleet (fleet.sh): five hosts in their own network
# namespaces behind a router, every link shaped to 40 Mbit/s with tc tbf.
#   1. One origin seeds a 24 MB checkpoint; four fetchers start at once, two
#      restoring from memory (no file; one within 8 MB) and two keeping the
#      file and seeding after; all share while they fetch. Every workspace then equals the
#      source (byte-identical deterministic checkpoints), the kept files
#      equal the source file, the origin uploaded at most 1.5 times the file
#      (its own byte count), and seeding stopped by SIGTERM exits 0.
#   2. A fetch with --keep killed (SIGKILL) midway resumes: the next fetch
#      finds pieces already in the .part file and downloads only the rest.
#   3. The only origin is killed (SIGKILL) while two fetchers are midway and
#      started again: both finish, with the source's allocations.
# Root only (namespaces, tc): elsewhere it passes, printing why it skipped.
# Every wait is bounded; fleet_down removes every namespace, process and
# file on any exit.
set -uo pipefail
here="${TEST_SRCDIR}/${TEST_WORKSPACE}"
ctl="$here/apps/wksp_ctl"
source "$here/distrib/fleet.sh"

why=$(fleet_unavailable)
if [[ -n "$why" ]]; then
  echo "SKIPPED: the fleet test $why"
  exit 0
fi
trap fleet_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

# wait_for FILE REGEX SECONDS: until a line of FILE matches (bounded).
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# wait_exit PID SECONDS: its exit status, or 124 after SECONDS.
wait_exit() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      return $?
    fi
    sleep 0.1
  done
  return 124
}

hosts=5 mbit=40 mb=24
fleet_up "$hosts" "$mbit" || { fail "fleet_up"; exit 1; }
d=$FLEET_DIR
origin="$(fleet_ip 0):6881"

# ---- the source: 384 allocations of 64 KiB (12 cgroup frames of 2 MiB),
# each filled with its own byte --------------------------------------------
src=(new src 64M normal 0 600)
for ((i = 1; i <= mb * 16; i++)); do src+=(alloc src 0 64K); done
out=$(fleet_run 0 "$ctl" "${src[@]}") || { fail "source workspace"; exit 1; }
i=0 fill=()
for a in $out; do i=$((i + 1)); fill+=(memset "$a" $((i % 251 + 1))); done
fleet_run 0 "$ctl" "${fill[@]}" || fail "memset"
fleet_run 0 "$ctl" -q --deterministic checkpt src "$d/src.ckpt" 644 2 "" \
  torrent-create "$d/src.ckpt" "$d/src.torrent" >/dev/null ||
  { fail "checkpt/torrent-create"; exit 1; }
size=$(stat -c %s "$d/src.ckpt")
echo "source: $size-byte v2 checkpoint"

# ---- 1. one origin, four fetchers ----------------------------------------
fleet_bg 0 "$d/seed.log" "$ctl" --listen "$origin" --seconds 300 \
  seed "$d/src.torrent" "$d/src.ckpt"
seed_pid=$FLEET_PID
wait_for "$d/seed.log" '^seeding ' 60 || { fail "origin not seeding"; cat "$d/seed.log"; exit 1; }

peers=()
for ((i = 0; i < hosts; i++)); do peers+=(--peer "$(fleet_ip "$i"):6881"); done
fetch_pids=()
for i in 1 2 3 4; do
  fleet_run "$i" "$ctl" new src 64M normal 0 600 || fail "new on h$i"
  extra=()
  # h3 and h4 keep the file and seed it after; h1 and h2 share from memory.
  # h2 holds at most 8 MB: a moving window, restored pieces served until
  # the window needs their memory.
  if ((i >= 3)); then extra=(--keep "$d/h$i/src.ckpt" --seed-after); fi
  if ((i == 2)); then extra=(--mem-max 8M); fi
  fleet_bg "$i" "$d/fetch$i.log" "$ctl" "${peers[@]}" \
    --listen "$(fleet_ip "$i"):6881" --timeout 30 --deadline 120 "${extra[@]}" \
    fetch src "$d/src.torrent" -
  fetch_pids+=("$FLEET_PID")
done
# One bound for all four (a fetch here takes about 10 s).
for i in 1 2 3 4; do
  wait_for "$d/fetch$i.log" '^fetch src: .* file .* in [0-9.]+ s' 60 ||
    { fail "fetcher h$i did not finish"; sed "s/^/  h$i: /" "$d/fetch$i.log"; exit 1; }
done
for i in 1 2; do
  wait_exit "${fetch_pids[$((i - 1))]}" 30; rc=$?
  ((rc == 0)) && ok "fetch h$i (memory) exit 0" || fail "fetch h$i exit $rc"
done
for i in 3 4; do
  pid=${fetch_pids[$((i - 1))]}
  kill -TERM "$pid"
  wait_exit "$pid" 30; rc=$?
  ((rc == 0)) && ok "fetch h$i (kept, seeding after) SIGTERM exit 0" ||
    fail "fetch h$i seeding after: SIGTERM gave exit $rc"
done
for i in 1 2 3 4; do sed "s/^/  h$i: /" "$d/fetch$i.log"; done
kill -TERM "$seed_pid"
wait_exit "$seed_pid" 30; rc=$?
((rc == 0)) || fail "origin: SIGTERM gave exit $rc"
sed 's/^/  h0: /' "$d/seed.log"
up=$(sed -nE 's/^seed: uploaded ([0-9]+) bytes.*/\1/p' "$d/seed.log")
if [[ -z "$up" ]]; then
  fail "origin: no upload count"
elif ((up * 2 > size * 3)); then
  fail "origin uploaded $up bytes, more than 1.5 x the $size-byte file"
else
  ok "origin uploaded $up bytes ($((up * 100 / size))% of the file)"
fi
# Four fetchers started together all ask for the layout first: the rule
# gives each piece to one and must refuse the others.
refused=$(sed -nE 's/^seed: .* refused ([0-9]+) requests of our fetchers.*/\1/p' "$d/seed.log")
if [[ -z "$refused" ]]; then
  fail "origin: no count of refused requests"
elif ((refused == 0)); then
  fail "origin: refused no request of four fetchers started together"
else
  ok "origin refused $refused requests of the fetchers (first copies only)"
fi
for i in 1 2 3 4; do
  grep -qE "uploaded [1-9][0-9.]* MB" "$d/fetch$i.log" &&
    ok "h$i uploaded while fetching" || echo "note h$i uploaded nothing while fetching"
  if fleet_run "$i" "$ctl" -q --deterministic checkpt src "$d/h$i/out.ckpt" 644 2 "" &&
    cmp -s "$d/src.ckpt" "$d/h$i/out.ckpt"; then
    ok "h$i workspace equals the source"
  else
    fail "h$i workspace differs from the source"
  fi
done
for i in 3 4; do
  cmp -s "$d/src.ckpt" "$d/h$i/src.ckpt" && [[ ! -e "$d/h$i/src.ckpt.part" ]] &&
    ok "h$i kept file equals the source" || fail "h$i kept file"
done

# ---- 2. a kept fetch killed midway resumes -------------------------------
fleet_bg 0 "$d/seed2.log" "$ctl" --listen "$origin" --seconds 300 \
  seed "$d/src.torrent" "$d/src.ckpt"
wait_for "$d/seed2.log" '^seeding ' 60 || fail "origin not seeding again"
fleet_run 1 "$ctl" new r 64M normal 0 600 || fail "new r"
fleet_bg 1 "$d/resume1.log" "$ctl" --peer "$origin" --timeout 30 --deadline 120 \
  --keep "$d/h1/r.ckpt" fetch r "$d/src.torrent" -
pid=$FLEET_PID
wait_for "$d/resume1.log" 'downloading' 60 || fail "first fetch never downloaded"
sleep 2  # about 40% of the file at 40 Mbit/s: midway, not a synchronisation
kill -KILL "$pid"
wait_exit "$pid" 10
if [[ -e "$d/h1/r.ckpt.part" && ! -e "$d/h1/r.ckpt" ]]; then
  ok "killed fetch left its .part"
else
  fail "killed fetch: no .part (or a kept file)"
fi
out=$(fleet_run 1 timeout 150 "$ctl" --peer "$origin" --timeout 30 --deadline 120 \
  --keep "$d/h1/r.ckpt" fetch r "$d/src.torrent" - 2>&1); rc=$?
echo "$out" | sed 's/^/  h1 resumed: /'
resumed=$(sed -nE 's/.*; ([0-9]+) pieces were already in the kept file.*/\1/p' <<<"$out")
down=$(sed -nE 's/.*downloaded ([0-9.]+) MB.*/\1/p' <<<"$out")
if ((rc != 0)); then
  fail "resumed fetch exit $rc"
elif [[ -z "$resumed" || "$resumed" -eq 0 ]]; then
  fail "resumed fetch found no piece in the .part"
elif ! awk -v d="$down" -v s="$size" 'BEGIN { exit !(d * 1e6 < s * 0.9) }'; then
  fail "resumed fetch downloaded $down MB of a $size-byte file"
else
  ok "resumed from $resumed pieces, downloaded $down MB"
fi
cmp -s "$d/src.ckpt" "$d/h1/r.ckpt" && ok "resumed kept file equals the source" ||
  fail "resumed kept file differs"
if fleet_run 1 "$ctl" -q --deterministic checkpt r "$d/h1/r.out" 644 2 "" &&
  fleet_run 0 "$ctl" -q --deterministic new r 64M normal 0 600 restore r "$d/src.ckpt" - \
    checkpt r "$d/r.ref" 644 2 "" && cmp -s "$d/r.ref" "$d/h1/r.out"; then
  ok "resumed workspace equals the source"
else
  fail "resumed workspace differs"
fi

# ---- 3. the sole origin killed midway and restarted: all finish ----------
kill -TERM "${FLEET_PIDS[@]}" 2>/dev/null  # part 2's origin
# Part 3 listens on the same addresses: the stopped processes must be gone,
# and their ports free, first (a seeder that stops gracefully can take
# seconds; a new origin that cannot bind its port waits with no peer).
for p in "${FLEET_PIDS[@]}"; do
  wait_exit "$p" 30 >/dev/null 2>&1
  (($? == 124)) && fail "a part 2 process ($p) still runs 30 s after SIGTERM"
done
fleet_bg 0 "$d/seed3.log" "$ctl" --listen "$origin" --seconds 300 \
  seed "$d/src.torrent" "$d/src.ckpt"
seed_pid=$FLEET_PID
wait_for "$d/seed3.log" '^seeding ' 60 || fail "origin not seeding (3)"
pids3=()
for i in 2 3; do
  fleet_run "$i" "$ctl" new k 64M normal 0 600 || fail "new k on h$i"
  fleet_bg "$i" "$d/kill$i.log" "$ctl" --peer "$origin" --peer "$(fleet_ip 2):6882" \
    --peer "$(fleet_ip 3):6882" --listen "$(fleet_ip "$i"):6882" --timeout 30 \
    --deadline 120 fetch k "$d/src.torrent" -
  pids3+=("$FLEET_PID")
done
wait_for "$d/kill2.log" 'downloading' 60 || fail "no download before the kill"
sleep 1.5  # midway at 40 Mbit/s: not a synchronisation
kill -KILL "$seed_pid"
wait_exit "$seed_pid" 10
sleep 1
fleet_bg 0 "$d/seed4.log" "$ctl" --listen "$origin" --seconds 300 \
  seed "$d/src.torrent" "$d/src.ckpt"
fleet_run 0 "$ctl" -q --deterministic new k 64M normal 0 600 \
  restore k "$d/src.ckpt" - checkpt k "$d/k.ref" 644 2 "" || fail "k.ref"
for j in 0 1; do
  i=$((j + 2))
  wait_exit "${pids3[$j]}" 150; rc=$?
  if ((rc == 0)) && fleet_run "$i" "$ctl" -q --deterministic checkpt k "$d/h$i/k.out" 644 2 "" &&
    cmp -s "$d/k.ref" "$d/h$i/k.out"; then
    ok "h$i finished after the origin was killed and restarted"
  else
    fail "h$i after the origin restart: exit $rc"; sed "s/^/  h$i: /" "$d/kill$i.log"
  fi
done

((fails == 0)) && echo "PASS" || echo "$fails failure(s)"
exit $((fails > 0))
