#!/usr/bin/env bash
# Runs a copy of testdata/fd_wksp_ctl_script.sh, an operator script in
# fd_wksp_ctl's style, unchanged, with wksp_ctl as its tool and a
# Firedancer-layout --shmem-path (DIR/.normal); then checks that its
# workspaces lived there and are gone.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
script="${TEST_SRCDIR}/${TEST_WORKSPACE}/testdata/fd_wksp_ctl_script.sh"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
unset WKSP_SHMEM_ROOT
mkdir -p "$tmp/fd/.normal" "$tmp/ckpt"
cp "$script" "$tmp/ops.sh"
# The tool as the script sees it: wksp_ctl, noting after each call which
# regions are in the Firedancer-layout directory.
cat >"$tmp/ctl" <<WRAP
#!/usr/bin/env bash
"$ctl" "\$@"; rc=\$?
ls "$tmp/fd/.normal" >>"$tmp/seen"
exit \$rc
WRAP
chmod +x "$tmp/ctl"
out=$(FD_WKSP_CTL="$tmp/ctl" SHMEM="$tmp/fd" CKPT_DIR="$tmp/ckpt" bash "$tmp/ops.sh" 2>&1); rc=$?
echo "$out"
fails=0
[[ $rc -eq 0 && "$(tail -1 <<<"$out")" == pass ]] || { echo "FAIL the script: rc=$rc"; fails=1; }
# fd_wksp_ctl's checkpt-query layout at verbose 0, style 2 for the default v3.
grep -qE "^	style                  2 +$" <<<"$out" || { echo "FAIL checkpt-query layout"; fails=1; }
grep -q "^0 1 2 3$" <<<"$out" || { echo "FAIL supported-styles"; fails=1; }
# The script's `rm` of its checkpoint leaves the checkpoint's index sidecar
# (CHECKPOINT_FORMAT.md §9.2), which a Firedancer script does not know of:
# expected, and harmless (it names the file it describes and is never
# trusted for another one).
[[ -f "$tmp/ckpt/ops.checkpt.wkspidx" ]] || { echo "FAIL no index sidecar"; fails=1; }
rm -f "$tmp/ckpt/ops.checkpt.wkspidx"
left=$(ls -A "$tmp/fd" "$tmp/fd/.normal" "$tmp/ckpt" | grep -v '^\(\.normal\|.*:\)$' | grep .)
[[ -z "$left" ]] || { echo "FAIL left behind: $left"; fails=1; }
grep -qx ops_wksp "$tmp/seen" && grep -qx ops_wksp2 "$tmp/seen" \
  || { echo "FAIL the workspaces were not in --shmem-path's .normal"; fails=1; }
rm -rf "$tmp/fd" "$tmp/ckpt" "$tmp/ops.sh" "$tmp/ctl" "$tmp/seen"
[[ $fails -eq 0 ]] && echo "all passed"
exit $fails
