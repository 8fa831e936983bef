/* The C ABI of wkspkit/wkspkit.h, frozen (x86-64 Linux, C11): the size and
 * field offsets of every public struct and the values of the error classes
 * and constants. Failing to compile here means a change breaks programs
 * built against the released header: either undo it or bump
 * WKSPKIT_VERSION_MAJOR (and the SONAME) as docs/LIBRARY.md says, then
 * update these numbers. Appending a field to an *_opts_t struct is allowed
 * (struct_size versions them): update its size here in the same change. */
#include <stddef.h>

#include "wkspkit/wkspkit.h"

static void Layouts(void) {
  _Static_assert(sizeof(wkspkit_create_opts_t) == 32, "wkspkit_create_opts_t");
  _Static_assert(offsetof(wkspkit_create_opts_t, page_size) == 8,
                 "wkspkit_create_opts_t.page_size");
  _Static_assert(offsetof(wkspkit_create_opts_t, seed) == 16,
                 "wkspkit_create_opts_t.seed");
  _Static_assert(offsetof(wkspkit_create_opts_t, mode) == 20,
                 "wkspkit_create_opts_t.mode");
  _Static_assert(offsetof(wkspkit_create_opts_t, cpu_idx) == 24,
                 "wkspkit_create_opts_t.cpu_idx");
  _Static_assert(sizeof(wkspkit_join_opts_t) == 8, "wkspkit_join_opts_t");
  _Static_assert(offsetof(wkspkit_join_opts_t, read_only) == 4,
                 "wkspkit_join_opts_t.read_only");
  _Static_assert(sizeof(wkspkit_info_t) == 104, "wkspkit_info_t");
  _Static_assert(offsetof(wkspkit_info_t, seed) == 40, "wkspkit_info_t.seed");
  _Static_assert(offsetof(wkspkit_info_t, part_max) == 48,
                 "wkspkit_info_t.part_max");
  _Static_assert(offsetof(wkspkit_info_t, data_max) == 56,
                 "wkspkit_info_t.data_max");
  _Static_assert(offsetof(wkspkit_info_t, gaddr_lo) == 64,
                 "wkspkit_info_t.gaddr_lo");
  _Static_assert(offsetof(wkspkit_info_t, gaddr_hi) == 72,
                 "wkspkit_info_t.gaddr_hi");
  _Static_assert(offsetof(wkspkit_info_t, footprint) == 80,
                 "wkspkit_info_t.footprint");
  _Static_assert(offsetof(wkspkit_info_t, page_size) == 88,
                 "wkspkit_info_t.page_size");
  _Static_assert(offsetof(wkspkit_info_t, read_only) == 96,
                 "wkspkit_info_t.read_only");
  _Static_assert(sizeof(wkspkit_partition_t) == 24, "wkspkit_partition_t");
  _Static_assert(offsetof(wkspkit_partition_t, hi) == 8,
                 "wkspkit_partition_t.hi");
  _Static_assert(offsetof(wkspkit_partition_t, tag) == 16,
                 "wkspkit_partition_t.tag");
  _Static_assert(sizeof(wkspkit_usage_t) == 80, "wkspkit_usage_t");
  _Static_assert(offsetof(wkspkit_usage_t, total_cnt) == 8,
                 "wkspkit_usage_t.total_cnt");
  _Static_assert(offsetof(wkspkit_usage_t, free_cnt) == 24,
                 "wkspkit_usage_t.free_cnt");
  _Static_assert(offsetof(wkspkit_usage_t, used_cnt) == 40,
                 "wkspkit_usage_t.used_cnt");
  _Static_assert(offsetof(wkspkit_usage_t, tagged_cnt) == 56,
                 "wkspkit_usage_t.tagged_cnt");
  _Static_assert(offsetof(wkspkit_usage_t, largest_free) == 72,
                 "wkspkit_usage_t.largest_free");
  _Static_assert(sizeof(wkspkit_lock_holder_t) == 48, "wkspkit_lock_holder_t");
  _Static_assert(offsetof(wkspkit_lock_holder_t, pid) == 4,
                 "wkspkit_lock_holder_t.pid");
  _Static_assert(offsetof(wkspkit_lock_holder_t, pid_ns) == 8,
                 "wkspkit_lock_holder_t.pid_ns");
  _Static_assert(offsetof(wkspkit_lock_holder_t, same_pid_ns) == 12,
                 "wkspkit_lock_holder_t.same_pid_ns");
  _Static_assert(offsetof(wkspkit_lock_holder_t, since_unix_ns) == 16,
                 "wkspkit_lock_holder_t.since_unix_ns");
  _Static_assert(offsetof(wkspkit_lock_holder_t, liveness) == 24,
                 "wkspkit_lock_holder_t.liveness");
  _Static_assert(offsetof(wkspkit_lock_holder_t, cmd) == 28,
                 "wkspkit_lock_holder_t.cmd");
  _Static_assert(sizeof(wkspkit_restore_mark_t) == 32,
                 "wkspkit_restore_mark_t");
  _Static_assert(offsetof(wkspkit_restore_mark_t, pid_ns) == 4,
                 "wkspkit_restore_mark_t.pid_ns");
  _Static_assert(offsetof(wkspkit_restore_mark_t, same_pid_ns) == 8,
                 "wkspkit_restore_mark_t.same_pid_ns");
  _Static_assert(offsetof(wkspkit_restore_mark_t, since_unix_s) == 16,
                 "wkspkit_restore_mark_t.since_unix_s");
  _Static_assert(offsetof(wkspkit_restore_mark_t, in_progress) == 24,
                 "wkspkit_restore_mark_t.in_progress");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, index) == 56,
                 "wkspkit_checkpt_opts_t.index");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, cancel) == 64,
                 "wkspkit_checkpt_opts_t.cancel");
  _Static_assert(sizeof(wkspkit_checkpt_opts_t) == 72,
                 "wkspkit_checkpt_opts_t");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, style) == 4,
                 "wkspkit_checkpt_opts_t.style");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, mode) == 8,
                 "wkspkit_checkpt_opts_t.mode");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, uinfo) == 16,
                 "wkspkit_checkpt_opts_t.uinfo");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, threads) == 24,
                 "wkspkit_checkpt_opts_t.threads");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, durable) == 28,
                 "wkspkit_checkpt_opts_t.durable");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, deterministic) == 32,
                 "wkspkit_checkpt_opts_t.deterministic");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, sealed) == 36,
                 "wkspkit_checkpt_opts_t.sealed");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, progress) == 40,
                 "wkspkit_checkpt_opts_t.progress");
  _Static_assert(offsetof(wkspkit_checkpt_opts_t, progress_arg) == 48,
                 "wkspkit_checkpt_opts_t.progress_arg");
  _Static_assert(offsetof(wkspkit_restore_opts_t, cancel) == 32,
                 "wkspkit_restore_opts_t.cancel");
  _Static_assert(sizeof(wkspkit_restore_opts_t) == 40,
                 "wkspkit_restore_opts_t");
  _Static_assert(offsetof(wkspkit_restore_opts_t, set_seed) == 4,
                 "wkspkit_restore_opts_t.set_seed");
  _Static_assert(offsetof(wkspkit_restore_opts_t, seed) == 8,
                 "wkspkit_restore_opts_t.seed");
  _Static_assert(offsetof(wkspkit_restore_opts_t, threads) == 12,
                 "wkspkit_restore_opts_t.threads");
  _Static_assert(offsetof(wkspkit_restore_opts_t, progress) == 16,
                 "wkspkit_restore_opts_t.progress");
  _Static_assert(offsetof(wkspkit_restore_opts_t, progress_arg) == 24,
                 "wkspkit_restore_opts_t.progress_arg");
  _Static_assert(sizeof(wkspkit_preview_t) == 64, "wkspkit_preview_t");
  _Static_assert(offsetof(wkspkit_preview_t, seed) == 4,
                 "wkspkit_preview_t.seed");
  _Static_assert(offsetof(wkspkit_preview_t, part_max) == 8,
                 "wkspkit_preview_t.part_max");
  _Static_assert(offsetof(wkspkit_preview_t, data_max) == 16,
                 "wkspkit_preview_t.data_max");
  _Static_assert(offsetof(wkspkit_preview_t, name) == 24,
                 "wkspkit_preview_t.name");
  _Static_assert(sizeof(wkspkit_verify_report_t) == 32,
                 "wkspkit_verify_report_t");
  _Static_assert(offsetof(wkspkit_verify_report_t, sealed) == 4,
                 "wkspkit_verify_report_t.sealed");
  _Static_assert(offsetof(wkspkit_verify_report_t, allocs) == 8,
                 "wkspkit_verify_report_t.allocs");
  _Static_assert(offsetof(wkspkit_verify_report_t, data_bytes) == 16,
                 "wkspkit_verify_report_t.data_bytes");
  _Static_assert(offsetof(wkspkit_verify_report_t, file_bytes) == 24,
                 "wkspkit_verify_report_t.file_bytes");
  _Static_assert(sizeof(wkspkit_err_t) == 4, "wkspkit_err_t");
}

static void Constants(void) {
  _Static_assert(WKSPKIT_OK == 0, "ok");
  _Static_assert(WKSPKIT_ERR_INVALID_ARGUMENT == 1, "err");
  _Static_assert(WKSPKIT_ERR_NOT_FOUND == 2, "err");
  _Static_assert(WKSPKIT_ERR_ALREADY_EXISTS == 3, "err");
  _Static_assert(WKSPKIT_ERR_PERMISSION_DENIED == 4, "err");
  _Static_assert(WKSPKIT_ERR_RESOURCE_EXHAUSTED == 5, "err");
  _Static_assert(WKSPKIT_ERR_FAILED_PRECONDITION == 6, "err");
  _Static_assert(WKSPKIT_ERR_DATA_LOSS == 7, "err");
  _Static_assert(WKSPKIT_ERR_CANCELLED == 8, "err");
  _Static_assert(WKSPKIT_ERR_BUSY == 9, "err");
  _Static_assert(WKSPKIT_ERR_IO == 10, "err");
  _Static_assert(WKSPKIT_ERR_UNSUPPORTED == 11, "err");
  _Static_assert(WKSPKIT_ERR_INTERNAL == 12, "err");
  _Static_assert(WKSPKIT_STYLE_DEFAULT == 0 && WKSPKIT_STYLE_V1 == 1 &&
                     WKSPKIT_STYLE_V2 == 2 && WKSPKIT_STYLE_V3 == 3,
                 "styles");
  _Static_assert(WKSPKIT_LIVENESS_ALIVE == 0 && WKSPKIT_LIVENESS_DEAD == 1 &&
                     WKSPKIT_LIVENESS_UNKNOWN == 2,
                 "liveness");
  _Static_assert(WKSPKIT_PAGE_NORMAL == 4096 && WKSPKIT_PAGE_HUGE == 2097152 &&
                     WKSPKIT_PAGE_GIGANTIC == 1073741824,
                 "page sizes");
  _Static_assert(WKSPKIT_NAME_MAX == 39 && WKSPKIT_UINFO_MAX == 16383 &&
                     WKSPKIT_ALIGN_DEFAULT == 4096,
                 "limits");
  _Static_assert(WKSPKIT_VERSION_MAJOR == 0, "major: see the comment above");
}

int main(void) {
  Layouts();
  Constants();
  return 0;
}
