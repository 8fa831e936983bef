#!/usr/bin/env bash
# distrib with other BitTorrent software, on loopback (ports chosen at run
# time, every wait bounded, every process and file removed at the end):
#   - torrent-create --hybrid is deterministic (two runs, same bytes) and its
#     v2 info-hash differs from the v2-only torrent's (the v1 part is in the
#     info dict);
#   - our seed announces to Debian's opentracker (--tracker); aria2c (which
#     reads only v1 torrents), given a magnet link, finds it there and takes
#     the info dict from it (ut_metadata), byte for byte; and downloads the
#     file byte-identical, where its version computes hybrid info-hashes
#     right (Debian 12's 1.36.0 does not: skipped, with the reason);
#   - our fetch, given the tracker and no --peer, finds the seed and restores
#     the workspace;
#   - the v1-only companion (--v1-only torrent-create, or torrent-v1 from the
#     hybrid: the same bytes) is deterministic, its hash the SHA-1 of its
#     info dict; the seed serves it beside the hybrid (--companion) and
#     Debian 12's aria2c 1.36.0 downloads it byte-identical through the
#     tracker; a fetch of it is refused, naming the fix;
#   - transmission-cli 3.00 downloads the v1-only torrent byte-identical too,
#     from a seed of it alone, in a network namespace of its own (root):
#     transmission ignores peers on 127.0.0.0/8 (its isMartianAddr) and
#     keeps one peer per IP address, so the seed and it sit on two addresses
#     of that namespace's loopback device; nothing leaves the namespace.
# aria2c, opentracker and transmission-cli come from Debian's aria2,
# opentracker and transmission-cli packages (./bazelw installs them);
# without aria2c or opentracker the test passes, printing why; without
# transmission-cli or the rights to make a namespace, its part is skipped,
# printing why.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
for t in aria2c opentracker python3; do
  if ! command -v "$t" >/dev/null; then
    echo "SKIPPED: the interop test needs $t (Debian packages aria2, opentracker)"
    exit 0
  fi
done
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/interop.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {  # FILE REGEX SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---- a 2 MiB checkpoint and its hybrid torrent ---------------------------
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
args=(new src 16M normal 0 600)
for ((i = 0; i < 32; i++)); do args+=(alloc src 0 64K); done
i=0 fill=()
for a in $("$ctl" "${args[@]}"); do i=$((i + 1)); fill+=(memset "$a" "$i"); done
"$ctl" "${fill[@]}" || fail memset
"$ctl" -q --deterministic checkpt src "$tmp/src.ckpt" 644 2 "" || exit 1
read -r v2 v1 < <("$ctl" --hybrid torrent-create "$tmp/src.ckpt" "$tmp/h.torrent")
read -r v2b v1b < <("$ctl" --hybrid torrent-create "$tmp/src.ckpt" "$tmp/h2.torrent")
read -r v2only rest < <("$ctl" torrent-create "$tmp/src.ckpt" "$tmp/v2.torrent")
if [[ ${#v2} -eq 64 && ${#v1} -eq 40 && -z "$rest" ]] &&
  cmp -s "$tmp/h.torrent" "$tmp/h2.torrent" && [[ "$v2$v1" == "$v2b$v1b" ]]; then
  ok "hybrid torrent deterministic (v2 $v2, v1 $v1)"
else
  fail "hybrid torrent: '$v2' '$v1' / '$v2b' '$v1b', or the files differ"
fi
# The SHA-1 of the info dict's bytes as FILE holds them (a torrent's v1
# info-hash).
info_sha1() {
  python3 - "$1" <<'EOF'
import hashlib, sys
b = open(sys.argv[1], "rb").read()
def end(i):  # the index after the bencoded value at i
    c = b[i:i + 1]
    if c in (b"d", b"l"):
        i += 1
        while b[i:i + 1] != b"e":
            i = end(i)
        return i + 1
    if c == b"i":
        return b.index(b"e", i) + 1
    n = b.index(b":", i)
    return n + 1 + int(b[i:n])
i = b.index(b"4:infod") + 6
print(hashlib.sha1(b[i:end(i)]).hexdigest())
EOF
}
# The v1 info-hash is the SHA-1 of the info dict's bytes as written.
own=$(info_sha1 "$tmp/h.torrent")
[[ "$own" == "$v1" ]] && ok "v1 info-hash is the SHA-1 of the info dict" ||
  fail "v1 info-hash $v1, SHA-1 of the info dict $own"
[[ "$v2only" != "$v2" ]] && ok "v2-only and hybrid info-hashes differ" ||
  fail "v2-only torrent has the hybrid's info-hash"
# The v1-only companion: from the file (twice) and from the hybrid's SHA-1s.
read -r v1o rest < <("$ctl" --v1-only torrent-create "$tmp/src.ckpt" "$tmp/v1.torrent")
read -r v1ob < <("$ctl" --v1-only torrent-create "$tmp/src.ckpt" "$tmp/v1b.torrent")
read -r v1oc < <("$ctl" torrent-v1 "$tmp/h.torrent" "$tmp/v1c.torrent")
if [[ ${#v1o} -eq 40 && -z "$rest" && "$v1o" == "$v1ob" && "$v1o" == "$v1oc" &&
  "$v1o" != "$v1" ]] && cmp -s "$tmp/v1.torrent" "$tmp/v1b.torrent" &&
  cmp -s "$tmp/v1.torrent" "$tmp/v1c.torrent"; then
  ok "v1-only torrent deterministic, the same from the hybrid (v1 $v1o)"
else
  fail "v1-only torrent: '$v1o' '$rest' / '$v1ob' / '$v1oc', or the files differ"
fi
own=$(info_sha1 "$tmp/v1.torrent")
[[ "$own" == "$v1o" ]] && ok "v1-only info-hash is the SHA-1 of its info dict" ||
  fail "v1-only info-hash $v1o, SHA-1 of the info dict $own"

# ---- the tracker: opentracker, whitelisting the torrent's info-hashes -----
# (Debian builds it with a whitelist; it drops root to nobody in a chroot.)
ot="$tmp/ot"
mkdir -p "$ot" && chmod 755 "$ot"
printf '%s\n%s\n%s\n' "$v1" "${v2:0:40}" "$v1o" >"$ot/whitelist.txt"
chmod 644 "$ot/whitelist.txt"
printf 'access.whitelist whitelist.txt\n' >"$ot/ot.conf"
tport=$(free_port)
opentracker -i 127.0.0.1 -p "$tport" -P "$tport" -f "$ot/ot.conf" -d "$ot" \
  -u nobody >"$tmp/ot.log" 2>&1 &
pids+=($!)
tracker="http://127.0.0.1:$tport/announce"
# seeders the tracker (at HOST:PORT, default ours) lists for info-hash
# (hex): "complete" of its scrape.
scrape() {  # HASH [HOST:PORT]
  python3 - "${2:-127.0.0.1:$tport}" "$1" <<'EOF'
import re, sys, urllib.parse, urllib.request
at, h = sys.argv[1], bytes.fromhex(sys.argv[2])
try:
    r = urllib.request.urlopen("http://%s/scrape?info_hash=%s"
                               % (at, urllib.parse.quote(h)), timeout=0.5).read()
    m = re.search(rb"8:completei(\d+)e", r)
    print(m.group(1).decode() if m else 0)
except OSError:
    print(0)
EOF
}

# ---- our seed announces to it --------------------------------------------
# It serves the hybrid and, on the same port, its v1-only companion.
"$ctl" --listen 127.0.0.1:0 --tracker "$tracker" --companion "$tmp/v1.torrent" \
  seed "$tmp/h.torrent" "$tmp/src.ckpt" >"$tmp/seed.log" 2>&1 &
pids+=($!)
wait_for "$tmp/seed.log" '^seeding ' 30 || { fail "seed"; cat "$tmp/seed.log"; exit 1; }
read -r _ _ seed_h seed_c rest < <(grep '^seeding ' "$tmp/seed.log")
[[ "$seed_h" == "$v2" && "$seed_c" == "$v1o" && -z "$rest" ]] &&
  ok "seed serves the hybrid and its v1-only companion" ||
  fail "seed line: $(grep '^seeding ' "$tmp/seed.log")"
# Bounded: 50 tries of at most 0.5 s each and a 0.2 s pause.
for ((i = 0; i < 50; i++)); do
  [[ "$(scrape "$v1")" -ge 1 && "$(scrape "$v1o")" -ge 1 ]] && break
  sleep 0.2
done
((i < 50)) && ok "seed announced both torrents to opentracker" ||
  { fail "the tracker never listed the seed"; cat "$tmp/ot.log"; }

# ---- aria2c ---------------------------------------------------------------
aopts=(--listen-port="$(free_port)" --enable-dht=false --enable-dht6=false
  --bt-enable-lpd=false --enable-peer-exchange=false --seed-time=0
  --bt-stop-timeout=15 --file-allocation=none --summary-interval=0
  --console-log-level=warn --log-level=info)
# 1. A magnet link (v1 info-hash and our tracker): aria2c finds our seed
#    through the tracker and takes the info dict from it over ut_metadata
#    (BEP 9), checking its SHA-1 against the link's hash; --bt-save-metadata
#    keeps the bytes it received, which must be our info dict exactly.
enc_tracker=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$tracker")
mkdir -p "$tmp/meta"
if timeout 60 aria2c "${aopts[@]}" -d "$tmp/meta" --bt-metadata-only=true \
  --bt-save-metadata=true -l "$tmp/meta.debug" \
  "magnet:?xt=urn:btih:$v1&tr=$enc_tracker" >"$tmp/meta.log" 2>&1 &&
  [[ -f "$tmp/meta/$v1.torrent" && "$(info_sha1 "$tmp/meta/$v1.torrent")" == "$v1" ]]; then
  ok "aria2c took the hybrid info dict from our seed by magnet link (ut_metadata), SHA-1 $v1"
else
  fail "aria2c magnet metadata"; tail -5 "$tmp/meta.log"
  grep -iE "metadata|tracker|error" "$tmp/meta.debug" | head -20
fi
# 2. The download. aria2 1.36.0 (Debian 12) parses bencode with a parser
#    that drops a dictionary member whose key is empty (aria2 issue 1903;
#    fixed by commit ba36a38a, pull request 1905, first released in 1.37.0),
#    and it derives a torrent's info-hash by re-encoding the parsed info
#    dict (bittorrent_helper.cc, processRootDictionary). BEP 52's file tree
#    keys every file's entry by "", so for any hybrid torrent it computes
#    the SHA-1 of a dict without those entries: a hash no peer or tracker
#    knows. Every route goes through that parser: a .torrent file (-T or a
#    path), and a magnet link too: the metadata it took above, raw and
#    checked, is wrapped into a torrent (metadata2Torrent) and parsed again
#    (UTMetadataPostDownloadHandler), so the download group announces the
#    wrong hash (the tracker refuses it: not whitelisted) and refuses our
#    seed's connections under the right one ("Unknown info hash"). Where
#    aria2c computes the hash right, the download runs for real and must be
#    byte-identical.
a2hash=$(aria2c -S "$tmp/h.torrent" | sed -nE 's/^Info Hash: ([0-9a-f]{40})$/\1/p')
if [[ "$a2hash" != "$v1" ]]; then
  echo "SKIPPED aria2c download: $(aria2c --version | head -1) computes the" \
    "hybrid torrent's info-hash as $a2hash, not $v1: its bencode parser drops" \
    "BEP 52's empty file-tree key (aria2 issue 1903, fixed in 1.37.0 by pull" \
    "request 1905), from a .torrent and from magnet metadata alike; an aria2c" \
    "1.37.0 or later first on PATH runs the download (docs/DISTRIBUTION.md" \
    "says how to build one from Debian 13's source package); 1.36.0 takes" \
    "the v1-only companion instead (below)"
elif timeout 90 aria2c "${aopts[@]}" -d "$tmp/aria" --bt-tracker="$tracker" \
  -l "$tmp/aria.debug" "$tmp/h.torrent" >"$tmp/aria.log" 2>&1 &&
  cmp -s "$tmp/src.ckpt" "$tmp/aria/checkpt"; then
  ok "$(aria2c --version | head -1) downloaded the hybrid torrent from our seed, byte-identical"
else
  fail "aria2c"; tail -5 "$tmp/aria.log"; grep -iE "peer|tracker|announce|error|fail" "$tmp/aria.debug" | head -40
fi

# 3. The v1-only companion, which every aria2c reads right (no BEP 52 keys):
#    Debian 12's 1.36.0 downloads it from our seed through the tracker.
a2hash=$(aria2c -S "$tmp/v1.torrent" | sed -nE 's/^Info Hash: ([0-9a-f]{40})$/\1/p')
if [[ "$a2hash" == "$v1o" ]] &&
  timeout 90 aria2c "${aopts[@]}" -d "$tmp/aria1" --bt-tracker="$tracker" \
    -l "$tmp/aria1.debug" "$tmp/v1.torrent" >"$tmp/aria1.log" 2>&1 &&
  cmp -s "$tmp/src.ckpt" "$tmp/aria1/checkpt"; then
  ok "$(aria2c --version | head -1) downloaded the v1-only companion from our seed, byte-identical"
else
  fail "aria2c v1-only (its hash $a2hash, ours $v1o)"; tail -5 "$tmp/aria1.log"
  grep -iE "peer|tracker|announce|error|fail" "$tmp/aria1.debug" | head -40
fi

# 4. The companion by magnet link: the metadata has no "" key to lose, so
#    the download group keeps the right hash.
if timeout 90 aria2c "${aopts[@]}" -d "$tmp/aria1m" -l "$tmp/aria1m.debug" \
  "magnet:?xt=urn:btih:$v1o&tr=$enc_tracker" >"$tmp/aria1m.log" 2>&1 &&
  cmp -s "$tmp/src.ckpt" "$tmp/aria1m/checkpt"; then
  ok "aria2c downloaded the v1-only companion by magnet link, byte-identical"
else
  fail "aria2c v1-only magnet"; tail -5 "$tmp/aria1m.log"
  grep -iE "metadata|peer|tracker|error|fail" "$tmp/aria1m.debug" | head -40
fi

# ---- our fetch refuses the v1-only torrent, naming the fix ----------------
export WKSP_SHMEM_ROOT="$tmp/shm3"
mkdir -p "$WKSP_SHMEM_ROOT"
if ! "$ctl" new v 16M normal 0 600 --tracker "$tracker" --timeout 5 \
  fetch v "$tmp/v1.torrent" - >"$tmp/fetch1.log" 2>&1 &&
  grep -q "v1-only torrent.*fetch the hybrid or v2 torrent" "$tmp/fetch1.log"; then
  ok "fetch refuses the v1-only torrent"
else
  fail "fetch of the v1-only torrent"; cat "$tmp/fetch1.log"
fi

# ---- transmission-cli 3.00, in a network namespace of its own --------------
# Inside: lo up with 10.99.0.1 (tracker, our seed of the v1-only torrent
# alone) and 10.99.0.2 (transmission); every process of it stopped on exit.
tr_part() {
  set -u
  ip link set lo up && ip addr add 10.99.0.1/32 dev lo &&
    ip addr add 10.99.0.2/32 dev lo || return 1
  kids=()  # not local: the EXIT trap runs after tr_part returned
  trap 'kill -TERM "${kids[@]}" 2>/dev/null; wait' EXIT
  opentracker -i 10.99.0.1 -p 6969 -P 6969 -f "$ot/ot.conf" -d "$ot" -u nobody \
    >"$tmp/tr.ot.log" 2>&1 &
  kids+=($!)
  "$ctl" --listen 10.99.0.1:0 --tracker http://10.99.0.1:6969/announce \
    seed "$tmp/v1.torrent" "$tmp/src.ckpt" >"$tmp/tr.seed.log" 2>&1 &
  kids+=($!)
  wait_for "$tmp/tr.seed.log" '^seeding ' 30 || return 1
  # transmission announces once (then every half hour): the seed first.
  local i
  for ((i = 0; i < 50; i++)); do
    [[ "$(scrape "$v1o" 10.99.0.1:6969)" -ge 1 ]] && break
    sleep 0.2
  done
  # transmission-cli seeds on after the download; its --finish script
  # marks the download complete (every piece checked against its SHA-1).
  timeout 90 transmission-cli -g "$tmp/trcfg" -w "$tmp/trdl" -p 51413 -M \
    -f "$tmp/trcfg/done.sh" "$tmp/v1tr.torrent" >"$tmp/tr.log" 2>&1 &
  kids+=($!)
  wait_for "$tmp/trcfg/done" done 90
}
if ! command -v transmission-cli >/dev/null || ! command -v ip >/dev/null; then
  echo "SKIPPED transmission: needs transmission-cli (Debian package" \
    "transmission-cli) and ip (iproute2)"
elif ! unshare -n true 2>/dev/null; then
  echo "SKIPPED transmission: cannot make a network namespace (unshare -n:" \
    "root or CAP_SYS_ADMIN); transmission ignores peers on 127.0.0.0/8"
else
  mkdir -p "$tmp/trcfg" "$tmp/trdl"
  printf '%s\n' '{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,' \
    '"port-forwarding-enabled": false, "utp-enabled": false,' \
    '"blocklist-enabled": false, "rpc-enabled": false,' \
    '"bind-address-ipv4": "10.99.0.2", "message-level": 2}' >"$tmp/trcfg/settings.json"
  printf '#!/bin/sh\necho done >%q\n' "$tmp/trcfg/done" >"$tmp/trcfg/done.sh"
  chmod +x "$tmp/trcfg/done.sh"
  # transmission-cli takes no tracker option: a copy of the torrent names
  # it (outside the info dict: the same info-hash, checked).
  cp "$tmp/v1.torrent" "$tmp/v1tr.torrent"
  transmission-edit -a http://10.99.0.1:6969/announce "$tmp/v1tr.torrent" >/dev/null
  trhash=$(transmission-show "$tmp/v1tr.torrent" | sed -nE 's/^ *Hash: ([0-9a-f]{40})$/\1/p')
  export ctl tmp ot v1o
  # In the background, so the test's cleanup stops it (and it its own).
  timeout 150 unshare -n bash -c "$(declare -f wait_for scrape tr_part); tr_part" &
  pids+=($!)
  wait $!
  trrc=$?
  if [[ "$trhash" == "$v1o" && $trrc -eq 0 ]] &&
    cmp -s "$tmp/src.ckpt" "$tmp/trdl/checkpt"; then
    ok "$(transmission-cli --version 2>&1 | head -1) downloaded the v1-only torrent from our seed, byte-identical"
  else
    fail "transmission (its hash $trhash, ours $v1o; exit $trrc)"
    tr '\r' '\n' <"$tmp/tr.log" 2>/dev/null | grep -v Progress | tail -20
    cat "$tmp/tr.seed.log" 2>/dev/null
  fi
fi

# ---- our fetch finds the seed through the tracker alone -------------------
export WKSP_SHMEM_ROOT="$tmp/shm2"
mkdir -p "$WKSP_SHMEM_ROOT"
if "$ctl" new src 16M normal 0 600 --tracker "$tracker" --listen 127.0.0.1:0 \
  --timeout 30 --deadline 60 fetch src "$tmp/h.torrent" - >"$tmp/fetch.log" 2>&1 &&
  "$ctl" -q --deterministic checkpt src "$tmp/dst.ckpt" 644 2 "" &&
  cmp -s "$tmp/src.ckpt" "$tmp/dst.ckpt"; then
  ok "fetch through the tracker restored the workspace"
else
  fail "fetch through the tracker"; cat "$tmp/fetch.log"
fi

((fails == 0)) && echo PASS || echo "$fails failure(s)"
exit $((fails > 0))
