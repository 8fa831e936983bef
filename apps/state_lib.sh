# The state id of a workspace, for shell tests that compare states
# (allocations, tags and bytes; not its name or seed) through wksp_ctl.
# Source it after setting ctl (the binary) and d (a scratch folder):
# `state W` prints the state id that a full checkpoint's index sidecar
# records (bytes 56-71, CHECKPOINT_FORMAT.md §9.2), or "none" when W cannot
# be checkpointed; its files in $d are removed.
state() {
  local f="$d/state.$RANDOM"
  "$ctl" -q checkpt "$1" "$f" 0600 3 "" >/dev/null 2>&1 || { echo none; return; }
  od -An -tx1 -j56 -N16 "$f.wkspidx" | tr -d ' \n'
  rm -f "$f" "$f.wkspidx"
}
