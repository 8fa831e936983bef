# A simulated fleet on one machine, for distrib's multi-host test and
# benchmark (sourced, not run). Needs root, iproute2 and tc.
#
# fleet_up HOSTS MBIT makes one network namespace per host and one router
# namespace joining them: host i has 10.231.i.2/24 on its eth0, a veth whose
# other end, hi, is 10.231.i.1 in the router, which forwards between them.
# The addresses exist only inside these namespaces: nothing reaches this
# machine's own network. Each host's link is shaped with `tc tbf` to MBIT
# Mbit/s in both directions (host egress = upload, router egress towards
# the host = download); no netem (not on these kernels), so no added delay.
# Each host gets a directory of its own, $FLEET_DIR/hI, holding its
# workspaces (WKSP_SHMEM_ROOT) and files.
#
# fleet_run I CMD... runs CMD in host I's namespace with its workspace root;
# fleet_bg I LOG CMD... the same in the background, its pid added to
# FLEET_PIDS; fleet_down stops those processes, then every process left in
# the namespaces (ours: nothing else runs there), and deletes the namespaces
# and the directory. Callers set `trap fleet_down EXIT` right after sourcing.
#
# Names carry this shell's pid, so several fleets can exist at once.

FLEET_NS="wkf$$"
FLEET_DIR=""
FLEET_HOSTS=0
FLEET_PIDS=()

fleet_ip() { echo "10.231.$1.2"; }

# Why a fleet cannot be made here (empty: it can).
fleet_unavailable() {
  if (( EUID != 0 )); then echo "needs root (network namespaces, tc)"; return; fi
  local t
  for t in ip tc; do
    command -v "$t" >/dev/null || { echo "needs '$t' (iproute2)"; return; }
  done
  if ! ip netns add "${FLEET_NS}probe" 2>/dev/null; then
    echo "cannot create network namespaces here (ip netns add failed)"; return
  fi
  ip netns del "${FLEET_NS}probe" 2>/dev/null
}

fleet_up() {
  local hosts=$1 mbit=$2 i ns r="${FLEET_NS}r"
  FLEET_DIR=$(mktemp -d "${TEST_TMPDIR:-/tmp}/fleet.XXXXXX") || return 1
  ip netns add "$r" || return 1
  ip -n "$r" link set lo up || return 1
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 || return 1
  for ((i = 0; i < hosts; i++)); do
    ns="${FLEET_NS}h$i"
    ip netns add "$ns" || return 1
    FLEET_HOSTS=$((i + 1))
    ip -n "$ns" link set lo up || return 1
    # Both ends are created inside the namespaces: no interface ever
    # appears in this machine's own namespace.
    ip link add name eth0 netns "$ns" type veth peer name "h$i" netns "$r" ||
      return 1
    ip -n "$ns" addr add "10.231.$i.2/24" dev eth0 || return 1
    ip -n "$r" addr add "10.231.$i.1/24" dev "h$i" || return 1
    ip -n "$ns" link set eth0 up || return 1
    ip -n "$r" link set "h$i" up || return 1
    ip -n "$ns" route add default via "10.231.$i.1" || return 1
    # tbf: bucket of 64 KB (several full-size segments: veth hands GSO
    # packets to the qdisc), at most 50 ms of queue.
    ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "${mbit}mbit" \
      burst 64kb latency 50ms || return 1
    ip netns exec "$r" tc qdisc add dev "h$i" root tbf rate "${mbit}mbit" \
      burst 64kb latency 50ms || return 1
    mkdir -p "$FLEET_DIR/h$i/shm" || return 1
  done
}

fleet_run() {
  local i=$1; shift
  ip netns exec "${FLEET_NS}h$i" env WKSP_SHMEM_ROOT="$FLEET_DIR/h$i/shm" "$@"
}

# fleet_bg I LOG CMD...: stdout and stderr to LOG; the pid is in FLEET_PID,
# CMD's own (ip netns exec and env exec it), so signals reach CMD.
fleet_bg() {
  local i=$1 log=$2; shift 2
  ip netns exec "${FLEET_NS}h$i" env WKSP_SHMEM_ROOT="$FLEET_DIR/h$i/shm" \
    "$@" >"$log" 2>&1 &
  FLEET_PID=$!
  FLEET_PIDS+=("$FLEET_PID")
}

# fleet_trace SECONDS (in the background: it execs): until killed, every SECONDS one line: the clock
# (date +%s.%N), then for each host the bytes it sent and received so far.
# Read in the router, from each host's veth end there (what the host sent is
# what that end received), by one shell: a sample costs no process per host,
# so 0.1 s steps hold even on a loaded machine.
fleet_trace() {
  exec ip netns exec "${FLEET_NS}r" bash -c '
    n=$1 step=$2
    while :; do
      line=$(date +%s.%N)
      for ((i = 0; i < n; i++)); do
        read -r up <"/sys/class/net/h$i/statistics/rx_bytes"
        read -r down <"/sys/class/net/h$i/statistics/tx_bytes"
        line+=" $up $down"
      done
      echo "$line"
      sleep "$step"
    done' trace "$FLEET_HOSTS" "$1"
}

fleet_down() {
  local p i ns pids
  for p in "${FLEET_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${FLEET_PIDS[@]}"; do
    # Bounded: a process that ignores SIGTERM for 5 s is killed.
    for ((i = 0; i < 50 && $(kill -0 "$p" 2>/dev/null; echo $?) == 0; i++)); do
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  FLEET_PIDS=()
  for ((i = 0; i < FLEET_HOSTS; i++)); do
    ns="${FLEET_NS}h$i"
    # Anything still in the namespace was started by us (by pid).
    pids=$(ip netns pids "$ns" 2>/dev/null)
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  FLEET_HOSTS=0
  ip netns del "${FLEET_NS}r" 2>/dev/null
  if [[ -n "$FLEET_DIR" ]]; then rm -rf "$FLEET_DIR"; FLEET_DIR=""; fi
  return 0
}
