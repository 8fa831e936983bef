#!/usr/bin/env bash
# Drives wksp_ctl end to end: outputs, exit statuses and error messages.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
fails=0
check() {  # check NAME EXPECTED_RC GREP_PATTERN -- ARGS...
  local name=$1 want_rc=$2 pattern=$3; shift 4
  local out rc
  out=$("$ctl" "$@" 2>&1); rc=$?
  if [[ $rc -ne $want_rc ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: rc=$rc (want $want_rc), output:"; echo "$out"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
check help 0 "supported-styles" -- help
check styles 0 "^0 1 2 3$" -- supported-styles
check chain 0 "usage:" -- supported-styles help
check unknown 1 "unknown command 'bogus'" -- bogus
check stops-at-failure 1 "unknown command" -- supported-styles bogus help
check no-args 1 "usage:" --
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
