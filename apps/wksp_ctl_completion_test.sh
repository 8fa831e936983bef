#!/usr/bin/env bash
# The bash completion (generated from the command table, apps/completion.cc)
# as a user meets it: path arguments complete files (checkpt-verify <TAB>
# offers files, not command names), "-" where a path may be stdin/stdout,
# the distribution commands and settings, fixed values of settings.
set -uo pipefail
completion="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl.bash-completion"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT" "$tmp/files"
: >"$WKSP_SHMEM_ROOT/w1"
: >"$tmp/files/a.ckpt"
: >"$tmp/files/b.torrent"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
# comp WORDS...: what completion offers for the last word, sorted, in
# $tmp/files.
comp() {
  (cd "$tmp/files" && bash -c 'source "$1"; shift; COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _wksp_ctl
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
    _ "$completion" "$@" 2>&1)
}
expect_eq() {
  if [[ "$2" != "$3" ]]; then fail "$1: got '$2', want '$3'"; else ok "$1"; fi
}
expect_eq verify-files "$(comp wksp_ctl checkpt-verify "")" "- a.ckpt b.torrent"
expect_eq verify-prefix "$(comp wksp_ctl checkpt-verify a)" "a.ckpt"
expect_eq query-path "$(comp wksp_ctl checkpt-query "")" "- a.ckpt b.torrent"
expect_eq query-verbose "$(comp wksp_ctl checkpt-query a.ckpt "")" "0 1 2 3 4"
expect_eq checkpt-path "$(comp wksp_ctl checkpt w1 "")" "- a.ckpt b.torrent"
expect_eq restore-new-no-dash "$(comp wksp_ctl restore-new x "")" "a.ckpt b.torrent"
expect_eq restore-new-name-free "$(comp wksp_ctl restore-new "")" ""
expect_eq torrent-create-files "$(comp wksp_ctl torrent-create a.ckpt "")" "a.ckpt b.torrent"
expect_eq seed-files "$(comp wksp_ctl seed b)" "b.torrent"
expect_eq fetch-wksp "$(comp wksp_ctl fetch w)" "w1"
expect_eq fetch-torrent "$(comp wksp_ctl fetch w1 b)" "b.torrent"
expect_eq keep-file "$(comp wksp_ctl --keep a)" "a.ckpt"
expect_eq after-setting "$(comp wksp_ctl --keep a.ckpt fet)" "fetch"
expect_eq seal-values "$(comp wksp_ctl --seal "")" "no yes"
expect_eq progress-values "$(comp wksp_ctl --progress n)" "never numeric"
expect_eq settings "$(comp wksp_ctl --s)" "--seal --seconds --seed-after"
expect_eq force "$(comp wksp_ctl --fo)" "--force"
expect_eq distrib-commands "$(comp wksp_ctl se)" "seed"
expect_eq after-verify "$(comp wksp_ctl checkpt-verify a.ckpt che)" "check checkpt checkpt-merge checkpt-query checkpt-verify"
rm -rf "$tmp/files" "$WKSP_SHMEM_ROOT/w1"
[[ $fails -eq 0 ]] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
