#!/usr/bin/env bash
# Fleet benchmark (not a test): one origin and M targets on the simulated
# fleet of fleet.sh (root). For each M it prints
#   T1       one copy over one link: a streamed checkpt | restore to one target
#   stream   the origin streaming to all M targets at once, over T1
#   swarm    seed + M fetches (all sharing), last target restored, over T1
#   origin   the origin's uploaded bytes over the file's size (its own count)
# Usage: bazel run -c opt //distrib:fleet_bench -- [MBIT [MB [MODE [M...]]]]
#   MBIT link rate (default 40), MB checkpoint size (default 24), MODE
#   memory (fetch into memory, default) or keep (--keep FILE --seed-after).
# WKSPKIT_DISTRIB_SUPERSEED=1 in the environment makes the origin
# super-seed (the experiment docs/DISTRIBUTION.md reports);
# FLEET_BENCH_T1=SECONDS skips the streaming runs and takes that T1;
# FLEET_BENCH_LOGS=DIR keeps each M's seed and fetch logs in DIR/M, with
# traffic.txt: every 0.1 s of the swarm, the seconds since its start and
# each host's MB sent and received since (host 0 is the origin),
# cpu.txt: each host's CPU seconds and the machine's busy core-seconds
# over the swarm, then its share of the cores busy every 0.5 s, and
# qdisc.txt: each host's packets sent and dropped by its uplink's and
# its downlink's tbf over the swarm (a drop at the uplink is a sender
# overrunning its own link; TCP sends the packet again);
# FLEET_BENCH_CC=NAME passes --tcp-congestion NAME to the seed and every
# fetch (the streams keep the system's), FLEET_BENCH_CC_SEED=NAME to the
# seed alone (overriding FLEET_BENCH_CC there);
# FLEET_BENCH_CTL=PATH runs
# that wksp_ctl instead of the one built beside this script (comparing
# two builds back to back).
set -uo pipefail
here="${RUNFILES_DIR:-$0.runfiles}/${TEST_WORKSPACE:-wkspkit}"
[[ -x "$here/apps/wksp_ctl" ]] || here="$(cd "$(dirname "$0")/.." && pwd)"
ctl="${FLEET_BENCH_CTL:-$here/apps/wksp_ctl}"
source "$here/distrib/fleet.sh"
why=$(fleet_unavailable)
[[ -z "$why" ]] || { echo "fleet_bench: $why" >&2; exit 1; }
mbit=${1:-40} mb=${2:-24} mode=${3:-memory}
shift $(($# < 3 ? $# : 3))
ms=("$@")
((${#ms[@]})) || ms=(1 4 8)
cc=()
[[ -n "${FLEET_BENCH_CC:-}" ]] && cc=(--tcp-congestion "$FLEET_BENCH_CC")
seed_cc=("${cc[@]}")
[[ -n "${FLEET_BENCH_CC_SEED:-}" ]] &&
  seed_cc=(--tcp-congestion "$FLEET_BENCH_CC_SEED")

now() { date +%s.%N; }
# qdisc_counts: per host "I UP_PKTS UP_DROPS DOWN_PKTS DOWN_DROPS", the
# counters of its uplink's tbf (in its namespace) and its downlink's (the
# router's port to it) since the fleet was set up.
qdisc_counts() {
  local i pat='s/.*Sent [0-9]+ bytes ([0-9]+) pkt \(dropped ([0-9]+).*/\1 \2/p'
  for ((i = 0; i < FLEET_HOSTS; i++)); do
    echo "$i $(ip netns exec "${FLEET_NS}h$i" tc -s qdisc show dev eth0 |
      sed -nE "$pat") $(ip netns exec "${FLEET_NS}r" tc -s qdisc show \
      dev "h$i" | sed -nE "$pat")"
  done
}
# wait_all SECONDS FILE...: until every FILE holds a fetch summary.
wait_all() {
  local limit=$1 f i done_all; shift
  for ((i = 0; i < limit * 20; i++)); do
    done_all=1
    for f in "$@"; do
      grep -qE '^fetch src: restored' "$f" 2>/dev/null || { done_all=0; break; }
    done
    ((done_all)) && return 0
    sleep 0.05
  done
  return 1
}

# stream_to HOST PORT: on HOST, restore from a socket (background).
recv_py='import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); c, _ = s.accept()
out = sys.stdout.buffer
while True:
    b = c.recv(1 << 20)
    if not b: break
    out.write(b)'
send_py='import socket,sys,time
for i in range(100):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2]))); break
    except OSError: time.sleep(0.05)
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b: break
    s.sendall(b)
s.close()'

printf '%-4s %-8s %-8s %-14s %-14s %-8s\n' M MODE T1_s stream/T1 swarm/T1 origin
for m in "${ms[@]}"; do
  hosts=$((m + 1))
  fleet_up "$hosts" "$mbit" || { echo "fleet_up failed" >&2; fleet_down; exit 1; }
  trap fleet_down EXIT
  d=$FLEET_DIR
  src=(new src $((mb * 2 + 16))M normal 0 600)
  # 64 KiB allocations: cgroup frames of 2 MiB (32 allocations each).
  for ((i = 1; i <= mb * 16; i++)); do src+=(alloc src 0 64K); done
  i=0 fill=()
  for a in $(fleet_run 0 "$ctl" "${src[@]}"); do
    i=$((i + 1)); fill+=(memset "$a" $((i % 251 + 1)))
  done
  fleet_run 0 "$ctl" "${fill[@]}"
  fleet_run 0 "$ctl" -q --deterministic checkpt src "$d/src.ckpt" 644 2 "" \
    torrent-create "$d/src.ckpt" "$d/src.torrent" >/dev/null
  size=$(stat -c %s "$d/src.ckpt")
  for ((i = 1; i <= m; i++)); do
    fleet_run "$i" "$ctl" new src $((mb * 2 + 16))M normal 0 600
  done

  # Streaming: to one target (T1), then to all M at once.
  stream() {  # stream N: to targets 1..N at once; prints seconds
    local n=$1 j t0 pids=()
    for ((j = 1; j <= n; j++)); do
      fleet_bg "$j" "$d/recv$j.log" bash -c \
        "python3 -c '$recv_py' 7000 | '$ctl' -q restore src - -"
      pids+=("$FLEET_PID")
    done
    sleep 0.3  # the listeners are up (the senders retry anyway)
    t0=$(now)
    for ((j = 1; j <= n; j++)); do
      fleet_bg 0 "$d/send$j.log" bash -c \
        "'$ctl' -q checkpt src - 0 2 '' | python3 -c '$send_py' $(fleet_ip "$j") 7000"
    done
    for p in "${pids[@]}"; do wait "$p"; done
    echo "$(now) - $t0" | bc -l
  }
  if [[ -n "${FLEET_BENCH_T1:-}" ]]; then  # skip streaming (experiments)
    t1=$FLEET_BENCH_T1 ts=0
  else
    t1=$(stream 1)
    ts=$(stream "$m")
  fi

  # The swarm.
  peers=()
  for ((i = 0; i < hosts; i++)); do peers+=(--peer "$(fleet_ip "$i"):6881"); done
  fleet_bg 0 "$d/seed.log" "$ctl" "${seed_cc[@]}" --listen "$(fleet_ip 0):6881" seed \
    "$d/src.torrent" "$d/src.ckpt"
  seed_pid=$FLEET_PID
  for ((i = 0; i < 600; i++)); do
    grep -qs '^seeding' "$d/seed.log" && break; sleep 0.05
  done
  logs=() fpids=() trace_pid= cpu_pid=
  if [[ -n "${FLEET_BENCH_LOGS:-}" ]]; then
    fleet_trace 0.1 >"$d/trace.raw" 2>/dev/null &
    trace_pid=$!
    # The machine's CPU counters every 0.1 s (builtins only but sleep).
    while :; do
      read -r line </proc/stat; echo "$EPOCHREALTIME $line"; sleep 0.1
    done >"$d/cpu.raw" 2>/dev/null &
    cpu_pid=$!
  fi
  # The fetches are launched into their namespaces first and held at a
  # lock until t0, so that the swarm's time starts, as T1's does, with
  # every receiver's process in place: launching 8 processes through
  # `ip netns exec` at once on 2 cores is the harness's cost, not the
  # swarm's (each host would start its own). What wksp_ctl does from its
  # exec on (its session, joining the workspace) is inside the time.
  exec {gate}>"$d/gate"
  flock -x "$gate"
  for ((i = 1; i <= m; i++)); do
    extra=()
    [[ "$mode" == keep ]] && extra=(--keep "$d/h$i/src.ckpt" --seed-after)
    # (The gate's own descriptor is closed first: it would keep the lock.)
    fleet_bg "$i" "$d/fetch$i.log" bash -c \
      'eval "exec $2>&-" && exec 9<"$1" && flock -s 9 && exec 9<&- &&
       shift 2 && exec "$@"' _ "$d/gate" "$gate" "$ctl" "${cc[@]}" "${peers[@]}" \
      --listen "$(fleet_ip "$i"):6881" --timeout 60 --deadline 600 \
      "${extra[@]}" fetch src "$d/src.torrent" -
    logs+=("$d/fetch$i.log") fpids+=("$FLEET_PID")
  done
  gate_ino=$(stat -c %i "$d/gate")
  for ((i = 0; i < 600; i++)); do  # until all m wait at the lock (30 s)
    (($(grep -c -- "-> FLOCK.*:$gate_ino " /proc/locks) >= m)) && break
    sleep 0.05
  done
  # The counters first: reading them takes a process or two per link.
  [[ -n "${FLEET_BENCH_LOGS:-}" ]] && qdisc0=$(qdisc_counts)
  t0=$(now)
  [[ -n "${FLEET_BENCH_LOGS:-}" ]] && stat0=$(head -n 1 /proc/stat)
  flock -u "$gate" && exec {gate}>&-  # every fetch starts
  if wait_all 600 "${logs[@]}"; then
    tsw=$(echo "$(now) - $t0" | bc -l)
  else
    tsw=nan
    tail -n 3 "${logs[@]}" >&2
  fi
  if [[ -n "$trace_pid" ]]; then
    # CPU seconds each process used up to here (the origin's since it
    # started seeding, just before t0), and the machine's CPU time busy
    # and in all over the swarm: whether the cores were the limit.
    stat1=$(head -n 1 /proc/stat)
    hz=$(getconf CLK_TCK)
    {
      for ((i = 0; i <= m; i++)); do
        p=$seed_pid; ((i)) && p=${fpids[i - 1]}
        awk -v h="$i" -v hz="$hz" '{ printf "host %d cpu %.2f s\n", h, ($14 + $15) / hz }' \
          "/proc/$p/stat" 2>/dev/null
      done | tee "$d/cpu.hosts"
      awk '{ s += $4 } END { printf "hosts alive at the end: %d, cpu %.2f s\n", NR, s }' "$d/cpu.hosts"
      # user nice system idle iowait irq softirq steal: idle+iowait is idle.
      echo "$stat0" "$stat1" | awk -v hz="$hz" -v n="$(nproc)" '{
        for (i = 2; i <= 9; i++) { d = $(i + 11) - $i; all += d; if (i == 5 || i == 6) idle += d }
        printf "machine busy %.2f of %.2f core-seconds (%d cores), softirq %.2f\n",
          (all - idle) / hz, all / hz, n, ($19 - $8) / hz }'
      # Then every 0.5 s of the swarm: seconds since its start, the share
      # of both cores busy (user nice system irq softirq steal).
      kill "$cpu_pid"; wait "$cpu_pid"
      awk -v t0="$t0" -v hz="$hz" -v n="$(nproc)" '$1 >= t0 {
        busy = $3 + $4 + $5 + $8 + $9 + $10
        if (seen && $1 - t >= 0.5) {
          printf "%.1f busy %.0f%%\n", $1 - t0, 100 * (busy - b) / hz / n / ($1 - t)
          seen = 0
        }
        if (!seen) { t = $1; b = busy; seen = 1 } }' "$d/cpu.raw"
    } >"$d/cpu.txt"
    kill "$trace_pid"; wait "$trace_pid"
    # Seconds since the swarm's start, then per host MB sent and received
    # since then.
    awk -v t0="$t0" 'NR == 1 { for (i = 2; i <= NF; i++) b[i] = $i }
      { printf "%.2f", $1 - t0
        for (i = 2; i <= NF; i++) printf " %.2f", ($i - b[i]) / 1e6
        print "" }' "$d/trace.raw" >"$d/traffic.txt"
    { echo "# host uplink_sent uplink_dropped downlink_sent downlink_dropped (packets)"
      paste -d ' ' <(echo "$qdisc0") <(qdisc_counts) |
        awk '{ print $1, $7 - $2, $8 - $3, $9 - $4, $10 - $5 }'
    } >"$d/qdisc.txt"
  fi
  for p in "${fpids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p"; done
  kill -TERM "$seed_pid"; wait "$seed_pid"
  if [[ -n "${FLEET_BENCH_LOGS:-}" ]]; then
    mkdir -p "$FLEET_BENCH_LOGS/$m" && cp "$d"/seed.log "$d"/fetch*.log \
      "$d"/traffic.txt "$d"/cpu.txt "$d"/qdisc.txt "$FLEET_BENCH_LOGS/$m/"
  fi
  up=$(sed -nE 's/^seed: uploaded ([0-9]+) bytes.*/\1/p' "$d/seed.log")
  printf '%-4s %-8s %-8.2f %-14.2f %-14s %-8.2f\n' "$m" "$mode" "$t1" \
    "$(echo "$ts / $t1" | bc -l)" \
    "$( [[ $tsw == nan ]] && echo nan || printf %.2f "$(echo "$tsw / $t1" | bc -l)")" \
    "$(echo "${up:-0} / $size" | bc -l)"
  fleet_down
  trap - EXIT
done
