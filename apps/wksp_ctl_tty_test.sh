#!/usr/bin/env bash
# The progress display in a real terminal: wksp_ctl runs under script(1),
# which gives it a pseudo-terminal and records every byte it draws; a small
# terminal model (carriage return, newline, erase-to-end-of-line) turns the
# recording into the lines a user would see. Checks the bar, the modes, and
# that `checkpt - | restore -` on one terminal never mixes two tools' text
# on one line.
set -uo pipefail
ctl="${TEST_SRCDIR}/${TEST_WORKSPACE}/apps/wksp_ctl"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
export WKSP_SHMEM_ROOT="$tmp/shm"
mkdir -p "$WKSP_SHMEM_ROOT"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
command -v script >/dev/null || { echo "FAIL script(1) (util-linux) is needed"; exit 1; }

# on_tty FILE CMD: runs CMD (a shell line) with a terminal as its stdin,
# stdout and stderr; FILE receives what it wrote to the terminal.
on_tty() { script -qfec "$2" "$1" >/dev/null </dev/null; }
# screen FILE: the lines FILE leaves on the screen.
screen() {
  awk 'BEGIN { RS = "\n"; esc = sprintf("%c[K", 27) }
       /^Script (started|done)/ { next }
       { line = ""; n = split($0, parts, "\r")
         for (i = 1; i <= n; i++) {
           p = parts[i]; k = index(p, esc)
           if (k) { line = substr(p, 1, k - 1) substr(p, k + 3) }
           else if (length(p)) { line = p substr(line, length(p) + 1) }
         }
         print line }' "$1"
}

g=$("$ctl" new w 256M normal 0 600 alloc w 0 100M alloc w 0 50M new w2 256M normal 0 600)
"$ctl" memset "${g%%$'\n'*}" 7 || fail "setup"

# A checkpoint on a terminal: a bar that ends at 100%, then the summary.
on_tty "$tmp/t1" "'$ctl' checkpt w '$tmp/a.ckpt' 600 3 x"
grep -q $'\r' "$tmp/t1" && grep -q $'\e\[K' "$tmp/t1" && ok "bar-redraws" || fail "no redraw in: $(cat -A "$tmp/t1")"
s=$(screen "$tmp/t1")
grep -qE "^checkpt w \[#{24}\] 100% 150.0 MiB / 150.0 MiB .*B/s  ETA 0s$" <<<"$s" && ok "bar-final" || fail "final bar: $s"
# (4 KiB pages: on a machine whose first touches are slow, the line ends with
# what they cost and what to do; apps/page_hint.h.)
grep -qE "^checkpt w: 157286400 bytes in [0-9.]+ s \([0-9.]+ GB/s\); file [0-9]+ bytes \([0-9.]+ [KM]iB\), [0-9.]+% of the data(; 4 KiB pages: first touches .* huge.*)?$" <<<"$s" \
  && ok "summary-with-ratio" || fail "summary: $s"
grep -q " [kMG]B " "$tmp/t1" && fail "decimal size units in the bar" || ok "iec-units"

# Modes: never (summary only), quiet (nothing), always (a bar on a file).
on_tty "$tmp/t2" "'$ctl' --progress=never restore w2 '$tmp/a.ckpt' -"
s=$(screen "$tmp/t2")
[[ $(grep -c . <<<"$s") -eq 1 ]] && grep -qE "^restore w2: 157286400 bytes" <<<"$s" && ! grep -q $'\e' "$tmp/t2" \
  && ok "progress-never" || fail "never: $(cat -A "$tmp/t2")"
on_tty "$tmp/t3" "'$ctl' -q restore w2 '$tmp/a.ckpt' -"
[[ -z "$(screen "$tmp/t3" | tr -d '[:space:]')" ]] && ok "quiet" || fail "quiet: $(cat -A "$tmp/t3")"
"$ctl" --progress always restore w2 "$tmp/a.ckpt" - 2>"$tmp/t4"
grep -q "restore w2 \[#" "$tmp/t4" && ok "progress-always" || fail "always: $(cat -A "$tmp/t4")"
"$ctl" restore w2 "$tmp/a.ckpt" - 2>"$tmp/t5"
[[ $(cat "$tmp/t5") == "restore w2: 157286400 bytes in "* ]] && ! grep -q $'\r' "$tmp/t5" \
  && ok "auto-not-a-terminal" || fail "auto on a file: $(cat -A "$tmp/t5")"

# Two tools on one terminal: exactly one draws a bar; every line on the
# screen belongs to one of them.
for style in 1 3; do
  on_tty "$tmp/p$style" "'$ctl' --threads 2 checkpt w - 600 $style x | '$ctl' --threads 2 restore w2 - -"
  s=$(screen "$tmp/p$style")
  raw=$(cat "$tmp/p$style")
  drew_c=0; drew_r=0
  grep -q $'\rcheckpt w ' <<<"$raw" && drew_c=1
  grep -q $'\rrestore w2 ' <<<"$raw" && drew_r=1
  [[ $((drew_c + drew_r)) -eq 1 ]] && ok "pipeline-one-bar-v$style" || fail "pipeline v$style: bars c=$drew_c r=$drew_r: $(cat -A "$tmp/p$style")"
  mixed=$(grep "checkpt w" <<<"$s" | grep "restore w2")
  [[ -z "$mixed" ]] && ok "pipeline-no-garbling-v$style" || fail "pipeline v$style mixed line: $mixed"
  grep -qE "^checkpt w: 157286400 bytes" <<<"$s" && grep -qE "^restore w2: 157286400 bytes" <<<"$s" \
    && ok "pipeline-summaries-v$style" || fail "pipeline v$style summaries: $s"
done

# Inside one large allocation the byte count moves: a restore fed the first
# 40 MB of a v2 checkpoint through a FIFO, whose first allocation is 100 MB,
# shows tens of MB done while it waits for the rest (it used to show 0 B
# until the allocation was complete).
"$ctl" -q checkpt w "$tmp/b.ckpt" 600 2 x || fail "v2 checkpt"
mkfifo "$tmp/fifo"
on_tty "$tmp/t6" "'$ctl' restore w2 '$tmp/fifo' -" &
tty_job=$!
exec 3<>"$tmp/fifo"  # read-write: opening does not wait for the reader
timeout 60 head -c 40000000 "$tmp/b.ckpt" >&3 || fail "feeding the FIFO"
moving=0
for ((i = 0; i < 400; ++i)); do  # 20 s at most
  screen "$tmp/t6" | grep -qE "^restore w2 [1-9][0-9]\.[0-9] MiB " && { moving=1; break; }
  sleep 0.05
done
[[ $moving -eq 1 ]] && ok "bar-moves-inside-an-allocation" || fail "inside an allocation: $(cat -A "$tmp/t6")"
timeout 60 tail -c +40000001 "$tmp/b.ckpt" >&3 || fail "feeding the FIFO"
exec 3>&-
wait "$tty_job"
grep -qE "^restore w2: 157286400 bytes" <<<"$(screen "$tmp/t6")" && ok "fifo-restore-done" || fail "fifo restore: $(screen "$tmp/t6")"

"$ctl" delete w delete w2 || fail "cleanup"
rm -f "$tmp"/t[1-6] "$tmp"/p[13] "$tmp/a.ckpt" "$tmp/b.ckpt" "$tmp/fifo"
[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all passed"
