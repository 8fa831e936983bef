#!/bin/bash
# An operator script written the way fd_wksp_ctl scripts are: Firedancer's
# boot flags on every call, numeric page sizes, CPU strides, octal modes, hex
# sizes, several commands per call. It must run unchanged with wksp_ctl in
# place of fd_wksp_ctl (apps/fd_compat_test.sh runs a copy of it).
#
# FD_WKSP_CTL: the tool.  SHMEM: the --shmem-path (normal pages go in
# $SHMEM/.normal).  CKPT_DIR: where checkpoints go.
set -euo pipefail

CTL=${FD_WKSP_CTL:?set FD_WKSP_CTL}
SHMEM=${SHMEM:?set SHMEM}
CKPT_DIR=${CKPT_DIR:?set CKPT_DIR}
BOOT=(--log-path "" --log-level-stderr 3 --log-level-logfile 0 --shmem-path "$SHMEM")

WKSP=ops_wksp
WKSP2=ops_wksp2
CKPT=$CKPT_DIR/ops.checkpt

echo "Creating $WKSP (1024 pages of 4096 bytes near cpus 0,2,4,6)"
"$CTL" "${BOOT[@]}" new "$WKSP" 1024 4096 0-6/2 0600

echo "Allocating"
GADDR=$("$CTL" "${BOOT[@]}" tag 1234 alloc "$WKSP" 4096 0x10000)
"$CTL" "${BOOT[@]}" tag 1235 alloc "$WKSP" 0 65536 tag 1236 alloc "$WKSP" 64 0x1000 >/dev/null
"$CTL" "${BOOT[@]}" memset "$GADDR" 0x5a
TAG=$("$CTL" "${BOOT[@]}" tag-query "$GADDR")
[ "$TAG" = "1234" ] || { echo "tag-query $GADDR: got $TAG"; exit 1; }
"$CTL" "${BOOT[@]}" usage "$WKSP" 1234 query "$WKSP" >/dev/null
"$CTL" "${BOOT[@]}" tag-free "$WKSP" 1236 check "$WKSP" verify "$WKSP"

echo "Checkpointing to $CKPT"
"$CTL" "${BOOT[@]}" supported-styles
"$CTL" "${BOOT[@]}" checkpt "$WKSP" "$CKPT" 0640 0 "ops script"
"$CTL" "${BOOT[@]}" checkpt-query "$CKPT" 0
"$CTL" "${BOOT[@]}" checkpt-query "$CKPT" 1 >/dev/null

echo "Restoring into $WKSP2"
"$CTL" "${BOOT[@]}" new "$WKSP2" 1024 normal 0 0600 restore "$WKSP2" "$CKPT" - verify "$WKSP2"
INFO=$("$CTL" "${BOOT[@]}" info "$WKSP2" 1234)
[ "$INFO" = "${GADDR/$WKSP/$WKSP2} 65536" ] || { echo "info $WKSP2 1234: got $INFO"; exit 1; }

echo "Cleaning up"
"$CTL" "${BOOT[@]}" reset "$WKSP" rebuild "$WKSP" - delete "$WKSP" delete "$WKSP2"
rm -f "$CKPT"
echo pass
