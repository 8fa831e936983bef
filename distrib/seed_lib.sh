# Seeders for the shell tests that fetch through wksp_ctl on loopback.
# Source it after apps/testing_lib.sh (fail, pids), with ctl (the binary)
# and d (a scratch folder) set.
# seed NAME FILE: torrent-create FILE as $d/NAME.torrent and serve it on a
# loopback port of its own choosing for $seed_seconds (default 60) at most;
# sets peer to its address and seed_pid to the seeder (also in pids, so the
# test's exit stops it).
peer=""
seed_pid=""
seed() {
  peer=""
  "$ctl" -q torrent-create "$2" "$d/$1.torrent" >/dev/null ||
    { fail "torrent-create $1"; return 1; }
  "$ctl" --listen 127.0.0.1:0 --seconds "${seed_seconds:-60}" \
    seed "$d/$1.torrent" "$2" >"$d/$1.seed.log" 2>&1 &
  seed_pid=$!
  pids+=($!)
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q '^seeding' "$d/$1.seed.log" && break
    kill -0 "$seed_pid" 2>/dev/null || break
    sleep 0.1
  done
  peer=$(awk '/^seeding/ {print $2}' "$d/$1.seed.log")
  [[ -n "$peer" ]] || { fail "seed $1: $(cat "$d/$1.seed.log")"; return 1; }
}
# unseed: every seeder stopped (SIGTERM) and reaped.
unseed() {
  local p
  for p in "${pids[@]}"; do
    kill -CONT "$p" 2>/dev/null
    kill -TERM "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  pids=()
}
