#!/usr/bin/env bash
# Reserves huge and gigantic pages and mounts hugetlbfs for the test suite,
# then puts everything back. Used by .ci/run; safe to run by hand.
#
#   tools/hugepages.sh setup STATE_DIR     reserve + mount what it can
#   tools/hugepages.sh teardown STATE_DIR  undo exactly what setup did
#
# setup never fails the build: a page size it cannot provide (not root, too
# little free memory, the kernel could not find contiguous memory) is skipped
# with a line saying why, and the tests for it skip with a message too.
# It writes STATE_DIR/bazel_flags: the --sandbox_writable_path flags the
# tests need to create files in the mounts it made or found (Bazel's sandbox
# shows other mounts read-only), and a --test_env naming them.
# Mounts it makes are /mnt/wksp-ci/hugetlbfs-{2M,1G}; two concurrent setups
# on one machine share them, and the first teardown removes them.
# Sizes: WKSP_CI_HUGE_PAGES (default 256 x 2 MiB = 512 MiB) and
# WKSP_CI_GIGANTIC_PAGES (default 2 x 1 GiB).
set -euo pipefail

cmd="${1:-}" state="${2:-}"
if [[ -z $cmd || -z $state ]]; then
  echo "usage: tools/hugepages.sh setup|teardown STATE_DIR" >&2
  exit 2
fi
mkdir -p "$state"

sysdir() { echo "/sys/kernel/mm/hugepages/hugepages-${1}kB"; }
# First hugetlbfs mount with this page size (option pagesize=2M / 1024M / 1G).
find_mount() {
  local kb=$1 dev dir type opts rest
  while read -r dev dir type opts rest; do
    [[ $type == hugetlbfs ]] || continue
    local ps="" o
    IFS=, read -r -a o <<<"$opts"
    for x in "${o[@]}"; do [[ $x == pagesize=* ]] && ps=${x#pagesize=}; done
    case "$ps" in
      2M) ((kb == 2048)) && { echo "$dir"; return; } ;;
      1024M | 1G) ((kb == 1048576)) && { echo "$dir"; return; } ;;
      "") ((kb == $(awk '/Hugepagesize/ {print $2}' /proc/meminfo))) && { echo "$dir"; return; } ;;
    esac
  done </proc/mounts
  return 0
}

# setup_one LABEL KB COUNT MOUNT_OPT
setup_one() {
  local label=$1 kb=$2 want=$3 opt=$4 dir
  dir="$(sysdir "$kb")"
  if [[ ! -d $dir ]]; then
    echo "hugepages: $label pages skipped: the kernel has no $dir" | tee -a "$state/summary"
    return
  fi
  local orig free avail_kb
  orig=$(cat "$dir/nr_hugepages")
  free=$(cat "$dir/free_hugepages")
  if ((free < want)); then
    if ((EUID != 0)); then
      echo "hugepages: $label pages skipped: $free free, $want wanted, and only root can reserve more" | tee -a "$state/summary"
      return
    fi
    avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
    # Keep at least 4 GiB free for the build and the other tests.
    if ((avail_kb - (want - free) * kb < 4 * 1024 * 1024)); then
      echo "hugepages: $label pages skipped: reserving $((want - free)) would leave under 4 GiB of memory" | tee -a "$state/summary"
      return
    fi
    echo "$orig" >"$state/orig_$kb"
    echo $((orig + want - free)) >"$dir/nr_hugepages" 2>/dev/null || true
    free=$(cat "$dir/free_hugepages")
    if ((free < want)); then
      echo "$orig" >"$dir/nr_hugepages" || true
      rm -f "$state/orig_$kb"
      echo "hugepages: $label pages skipped: the kernel found only $free of $want (memory fragmented)" | tee -a "$state/summary"
      return
    fi
  fi
  local mnt
  mnt="$(find_mount "$kb")"
  if [[ -z $mnt ]]; then
    if ((EUID != 0)); then
      echo "hugepages: $label pages reserved but not mounted: only root can mount hugetlbfs" | tee -a "$state/summary"
      return
    fi
    mnt="/mnt/wksp-ci/hugetlbfs-$opt"
    mkdir -p "$mnt"
    mount -t hugetlbfs -o "pagesize=$opt" none "$mnt"
    echo "$mnt" >"$state/mounted_$kb"
  fi
  printf -- '--sandbox_writable_path=%s\n' "$mnt" >>"$state/bazel_flags"
  mounts+=("$mnt")
  echo "hugepages: $label pages: $(cat "$dir/free_hugepages") free, hugetlbfs at $mnt" | tee -a "$state/summary"
}

teardown_one() {
  local kb=$1 dir
  dir="$(sysdir "$kb")"
  if [[ -f $state/mounted_$kb ]]; then
    local mnt
    mnt="$(cat "$state/mounted_$kb")"
    # Files left by a crashed test would pin pages: remove them first.
    find "$mnt" -mindepth 1 -delete 2>/dev/null || true
    umount "$mnt" && rmdir "$mnt"
    rmdir /mnt/wksp-ci 2>/dev/null || true
    rm -f "$state/mounted_$kb"
  fi
  if [[ -f $state/orig_$kb ]]; then
    cat "$state/orig_$kb" >"$dir/nr_hugepages"
    rm -f "$state/orig_$kb"
  fi
}

mounts=()
case "$cmd" in
  setup)
    : >"$state/bazel_flags"
    : >"$state/summary"
    setup_one "2 MiB" 2048 "${WKSP_CI_HUGE_PAGES:-256}" 2M
    setup_one "1 GiB" 1048576 "${WKSP_CI_GIGANTIC_PAGES:-2}" 1G
    # Part of the test actions' key, so a result cached without these mounts
    # (its huge-page tests skipped) is not reused with them, and vice versa.
    mount_list="$(IFS=:; echo "${mounts[*]:-none}")"
    printf -- '--test_env=WKSP_CI_HUGETLBFS=%s\n' "$mount_list" >>"$state/bazel_flags"
    ;;
  teardown)
    teardown_one 2048
    teardown_one 1048576
    ;;
  *)
    echo "tools/hugepages.sh: unknown command $cmd (setup or teardown)" >&2
    exit 2
    ;;
esac
