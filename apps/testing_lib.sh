# Shared helpers of the shell tests that drive wksp_ctl or wksp_ctl_testing.
# Source it after setting ctl (the binary) and tmp (a folder this test owns):
# it counts failures in $fails, kills the processes listed in $pids (stopped
# ones too) and removes $tmp on exit.
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -CONT "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# poll SECONDS COMMAND...: runs COMMAND every 20 ms until it succeeds (0) or
# SECONDS pass (1).
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.02
  done
}
# check NAME EXPECTED_RC PATTERN -- ARGS...: exit status, and a line of
# stdout+stderr matching PATTERN (extended regex).
check() {
  local name=$1 want_rc=$2 pattern=$3; shift 4
  local out rc
  out=$("$ctl" "$@" 2>&1); rc=$?
  if [[ $rc -ne $want_rc ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$name: rc=$rc (want $want_rc), output:"; echo "$out" | cut -c1-400
  else
    ok "$name"
  fi
}
