/* The C side of wksp_ctl_shared_test.sh: a C program working on a workspace
 * wksp_ctl created, and on a checkpoint wksp_ctl wrote.
 *   shared_peer check NAME GADDR BYTE   joins NAME; the allocation at GADDR
 *       must be filled with BYTE; allocates 4096 bytes with tag 4321 holding
 *       "written by C" and prints their gaddr.
 *   shared_peer restore FILE GADDR      restores FILE into a new anonymous
 *       workspace of the geometry its preview gives; GADDR must hold
 *       "written by C" with tag 4321.
 * Like wksp_ctl, it takes the shared-memory root from $WKSP_SHMEM_ROOT. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/c_check.h"
#include "wkspkit/wkspkit.h"

static const char kText[] = "written by C";

static int Check(const char *name, uint64_t gaddr, int byte) {
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_join(name, NULL, &w));
  uint64_t tag = 0;
  CHECK_OK(wkspkit_tag(w, gaddr, &tag));
  CHECK(tag != 0);
  size_t cnt = 0;
  wkspkit_partition_t part[8];
  CHECK_OK(wkspkit_tag_query(w, &tag, 1, part, 8, &cnt));
  CHECK(cnt >= 1);
  int found = 0;
  for (size_t i = 0; i < cnt && i < 8; ++i) {
    if (part[i].lo <= gaddr && gaddr < part[i].hi) {
      found = 1;
      const unsigned char *p = wkspkit_laddr(w, part[i].lo);
      for (uint64_t j = 0; j < part[i].hi - part[i].lo; ++j)
        CHECK(p[j] == (unsigned char)byte);
    }
  }
  CHECK(found);
  uint64_t g = 0;
  CHECK_OK(wkspkit_alloc(w, 0, 4096, 4321, &g));
  memcpy(wkspkit_laddr(w, g), kText, sizeof kText);
  printf("%" PRIu64 "\n", g);
  wkspkit_leave(w);
  return 0;
}

static int Restore(const char *file, uint64_t gaddr) {
  wkspkit_preview_t pv;
  CHECK_OK(wkspkit_preview(file, &pv));
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(
      wkspkit_create_anonymous(pv.name, pv.part_max, pv.data_max, NULL, &w));
  wkspkit_restore_opts_t ro;
  wkspkit_restore_opts_init(&ro);
  ro.threads = 2;
  CHECK_OK(wkspkit_restore(w, file, &ro));
  uint64_t tag = 0;
  CHECK_OK(wkspkit_tag(w, gaddr, &tag));
  CHECK(tag == 4321);
  CHECK(strcmp(wkspkit_laddr(w, gaddr), kText) == 0);
  wkspkit_usage_t u;
  CHECK_OK(wkspkit_usage(w, NULL, 0, &u));
  printf("restored %" PRIu64 " allocations\n", u.used_cnt);
  wkspkit_leave(w);
  return 0;
}

int main(int argc, char **argv) {
  const char *root = getenv("WKSP_SHMEM_ROOT");
  if (root != NULL) CHECK_OK(wkspkit_set_shmem_root(root));
  if (argc == 5 && strcmp(argv[1], "check") == 0)
    return Check(argv[2], strtoull(argv[3], NULL, 0), atoi(argv[4]));
  if (argc == 4 && strcmp(argv[1], "restore") == 0)
    return Restore(argv[2], strtoull(argv[3], NULL, 0));
  fprintf(stderr,
          "usage: shared_peer check NAME GADDR BYTE | restore FILE GADDR\n");
  return 2;
}
