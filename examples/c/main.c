/* wkspkit from C: create a workspace, allocate and write, checkpoint it,
 * restore the checkpoint into a second workspace, compare.
 *
 *   example_c [DIR]   the checkpoint goes to DIR (default /tmp) and is
 *                     removed at the end
 *
 * Like wksp_ctl, it puts named workspaces under $WKSP_SHMEM_ROOT when that is
 * set (the library reads no environment variable: the program decides).
 * Exit status 0 when the restored copy is identical. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wkspkit/wkspkit.h>

/* Prints what failed and the library's message, and exits. */
static void Must(wkspkit_err_t err, const char *what) {
  if (err == WKSPKIT_OK) return;
  fprintf(stderr, "example_c: %s: %s: %s\n", what, wkspkit_err_name(err),
          wkspkit_last_error());
  exit(1);
}

enum { kAllocs = 3 };
static const uint64_t kSizes[kAllocs] = {4096, 100000, 3 << 20};

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  const char *root = getenv("WKSP_SHMEM_ROOT");
  if (root != NULL) Must(wkspkit_set_shmem_root(root), "shmem root");

  char name[WKSPKIT_NAME_MAX + 1], path[4096];
  snprintf(name, sizeof name, "example-c-%ld", (long)getpid());
  snprintf(path, sizeof path, "%s/%s.ckpt", dir, name);

  /* A named workspace: 64 partition slots, 16 MiB of data. */
  wkspkit_wksp_t *src = NULL;
  Must(wkspkit_create(name, 64, 16 << 20, NULL, &src), "create");

  /* Allocate and write; gaddrs name the allocations in any process. */
  uint64_t gaddr[kAllocs];
  for (int i = 0; i < kAllocs; ++i) {
    Must(wkspkit_alloc(src, 0, kSizes[i], 1000 + (uint64_t)i, &gaddr[i]),
         "alloc");
    unsigned char *p = wkspkit_laddr(src, gaddr[i]);
    for (uint64_t j = 0; j < kSizes[i]; ++j)
      p[j] = (unsigned char)(j * 7 + (uint64_t)i);
  }
  snprintf(wkspkit_laddr(src, gaddr[0]), 64, "hello from C");

  /* Checkpoint: v3 (LZ4), two threads, with a note. */
  wkspkit_checkpt_opts_t co;
  wkspkit_checkpt_opts_init(&co);
  co.style = WKSPKIT_STYLE_V3;
  co.threads = 2;
  co.uinfo = "examples/c";
  Must(wkspkit_checkpt(src, path, &co), "checkpt");

  /* Restore into a second (anonymous) workspace of the file's geometry. */
  wkspkit_preview_t pv;
  Must(wkspkit_preview(path, &pv), "preview");
  wkspkit_wksp_t *dst = NULL;
  Must(wkspkit_create_anonymous("example-copy", pv.part_max, pv.data_max, NULL,
                                &dst),
       "create copy");
  wkspkit_restore_opts_t ro;
  wkspkit_restore_opts_init(&ro);
  ro.threads = 2;
  Must(wkspkit_restore(dst, path, &ro), "restore");

  /* Compare. */
  int same = 1;
  uint64_t bytes = 0;
  for (int i = 0; i < kAllocs; ++i) {
    uint64_t tag = 0;
    Must(wkspkit_tag(dst, gaddr[i], &tag), "tag");
    same &= tag == 1000 + (uint64_t)i;
    same &= memcmp(wkspkit_laddr(src, gaddr[i]), wkspkit_laddr(dst, gaddr[i]),
                   kSizes[i]) == 0;
    bytes += kSizes[i];
  }
  printf("example_c: wkspkit %s: restored %d allocations (%" PRIu64
         " bytes): %s; first says \"%s\"\n",
         wkspkit_version(), kAllocs, bytes, same ? "identical" : "DIFFERENT",
         (const char *)wkspkit_laddr(dst, gaddr[0]));

  wkspkit_leave(dst);
  wkspkit_leave(src);
  Must(wkspkit_delete(name), "delete");
  unlink(path);
  return same ? 0 : 1;
}
