/* Tests of the C API, written in C11 against wkspkit/wkspkit.h only: every
 * function, its success and its error paths (NULL, bad handles, bad sizes,
 * a missing file, a corrupt file, a too-small workspace). Workspaces live
 * under $TEST_TMPDIR (wkspkit_set_shmem_root); each test names its own. */
#define _GNU_SOURCE
#include "wkspkit/wkspkit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/c_check.h"

static char g_tmp[512]; /* $TEST_TMPDIR */
static char g_shm[600]; /* workspaces live here */

static const uint64_t kMiB = 1024 * 1024;

/* A workspace name unique to this process and `what`. */
static const char *Name(const char *what) {
  static char buf[4][WKSPKIT_NAME_MAX + 1];
  static int next;
  char *b = buf[next++ % 4];
  snprintf(b, sizeof buf[0], "c%ld-%s", (long)getpid(), what);
  return b;
}

static const char *TmpPath(const char *what) {
  static char buf[4][700];
  static int next;
  char *b = buf[next++ % 4];
  snprintf(b, sizeof buf[0], "%s/%s", g_tmp, what);
  return b;
}

static int FileExists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Reads all of `path` into a malloc'd buffer; *n receives its size. */
static unsigned char *ReadAll(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  CHECK(fseek(f, 0, SEEK_END) == 0);
  long sz = ftell(f);
  CHECK(sz >= 0);
  rewind(f);
  unsigned char *b = malloc((size_t)sz + 1);
  CHECK(b != NULL);
  CHECK(fread(b, 1, (size_t)sz, f) == (size_t)sz);
  fclose(f);
  *n = (size_t)sz;
  return b;
}

static void WriteAll(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    CHECK(w > 0);
    p += w;
    n -= (size_t)w;
  }
}

static wkspkit_wksp_t *Anon(const char *name, uint64_t part_max,
                            uint64_t data_max) {
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_create_anonymous(name, part_max, data_max, NULL, &w));
  CHECK(w != NULL);
  return w;
}

/* Fills allocation `g` of `sz` bytes with a pattern from `seed`. */
static void Fill(wkspkit_wksp_t *w, uint64_t g, uint64_t sz, unsigned seed) {
  unsigned char *p = wkspkit_laddr(w, g);
  CHECK(p != NULL);
  for (uint64_t i = 0; i < sz; ++i) p[i] = (unsigned char)(i * 31 + seed);
}

static int SameBytes(wkspkit_wksp_t *a, wkspkit_wksp_t *b, uint64_t g,
                     uint64_t sz) {
  return memcmp(wkspkit_laddr(a, g), wkspkit_laddr(b, g), sz) == 0;
}

/* ---- errors, version -------------------------------------------------- */

static void TestVersionAndErrors(void) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", WKSPKIT_VERSION_MAJOR,
           WKSPKIT_VERSION_MINOR, WKSPKIT_VERSION_PATCH);
  CHECK(strcmp(wkspkit_version(), want) == 0);

  CHECK(strcmp(wkspkit_err_name(WKSPKIT_OK), "WKSPKIT_OK") == 0);
  CHECK(strcmp(wkspkit_err_name(WKSPKIT_ERR_DATA_LOSS),
               "WKSPKIT_ERR_DATA_LOSS") == 0);
  for (int e = WKSPKIT_ERR_INVALID_ARGUMENT; e <= WKSPKIT_ERR_INTERNAL; ++e)
    CHECK(strncmp(wkspkit_err_name((wkspkit_err_t)e), "WKSPKIT_ERR_", 12) == 0);
  CHECK(strcmp(wkspkit_err_name((wkspkit_err_t)999), "unknown error") == 0);

  /* A failure sets code and message; the next successful call clears both;
   * reading them does not. */
  uint64_t fp = 0;
  CHECK_ERR(wkspkit_footprint(0, 4096, &fp), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(wkspkit_last_error(), "part_max") != NULL);
  CHECK(wkspkit_last_error_code() == WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(wkspkit_last_error_code() == WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(wkspkit_last_error_wksp_reset() == 0);
  CHECK(fp == 0); /* out parameters untouched on failure */
  CHECK_OK(wkspkit_footprint(16, 4096, &fp));
  CHECK(wkspkit_last_error()[0] == '\0');
  CHECK(fp >= 4096 + 16 * 64);
  CHECK_ERR(wkspkit_footprint(16, 0, &fp), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_footprint(16, 4096, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);

  CHECK(wkspkit_part_max_est(fp, 64) > 0);
  CHECK(wkspkit_part_max_est(0, 64) == 0);
  CHECK(wkspkit_part_max_est(fp, 0) == 0);
  CHECK(wkspkit_data_max_est(fp, 16) >= 4096);
  CHECK(wkspkit_data_max_est(fp, 16) < fp);
  CHECK(wkspkit_data_max_est(16, 16) == 0);
}

/* ---- shared-memory root, lifecycle ------------------------------------- */

static void TestShmemRoot(void) {
  CHECK_ERR(wkspkit_set_shmem_root("relative/dir"),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(wkspkit_last_error(), "relative") != NULL);
  CHECK_OK(wkspkit_set_shmem_root(g_shm));
  /* A named workspace is a file under the root; the library ignores the
   * variable wksp_ctl reads. */
  CHECK(setenv("WKSP_SHMEM_ROOT", "/nonexistent-wkspkit-root", 1) == 0);
  const char *name = Name("root");
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_create(name, 4, 64 * 1024, NULL, &w));
  char path[800];
  snprintf(path, sizeof path, "%s/%s", g_shm, name);
  CHECK(FileExists(path));
  CHECK_OK(wkspkit_delete(name));
  CHECK(!FileExists(path));
  wkspkit_leave(w);
  CHECK(unsetenv("WKSP_SHMEM_ROOT") == 0);
}

static void TestLifecycle(void) {
  const char *name = Name("life");
  wkspkit_create_opts_t co;
  wkspkit_create_opts_init(&co);
  CHECK(co.struct_size == sizeof co);
  CHECK(co.page_size == WKSPKIT_PAGE_NORMAL && co.mode == 0600 &&
        co.cpu_idx == -1);
  co.seed = 77;
  co.mode = 0640;

  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_create(name, 8, 1 * kMiB, &co, &w));
  wkspkit_info_t info;
  CHECK_OK(wkspkit_info(w, &info));
  CHECK(strcmp(info.name, name) == 0);
  CHECK(info.seed == 77 && info.part_max == 8 && info.data_max == kMiB);
  CHECK(info.gaddr_hi - info.gaddr_lo == kMiB);
  CHECK(info.page_size == WKSPKIT_PAGE_NORMAL && info.read_only == 0);
  uint64_t fp = 0;
  CHECK_OK(wkspkit_footprint(8, kMiB, &fp));
  CHECK(info.footprint == fp);
  char path[800];
  snprintf(path, sizeof path, "%s/%s", g_shm, name);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);

  /* The name is taken; nothing changes. */
  wkspkit_wksp_t *dup = NULL;
  CHECK_ERR(wkspkit_create(name, 8, kMiB, NULL, &dup),
            WKSPKIT_ERR_ALREADY_EXISTS);
  CHECK(dup == NULL);

  /* A second join sees the first's writes at the same gaddr. */
  uint64_t g = 0;
  CHECK_OK(wkspkit_alloc(w, 0, 100, 5, &g));
  strcpy(wkspkit_laddr(w, g), "hello");
  wkspkit_wksp_t *j = NULL;
  CHECK_OK(wkspkit_join(name, NULL, &j));
  CHECK(wkspkit_laddr(j, g) != wkspkit_laddr(w, g));
  CHECK(strcmp(wkspkit_laddr(j, g), "hello") == 0);
  uint64_t tag = 0;
  CHECK_OK(wkspkit_tag(j, g, &tag));
  CHECK(tag == 5);
  wkspkit_leave(j);

  /* Read-only: reads work, changes fail. */
  wkspkit_join_opts_t jo;
  wkspkit_join_opts_init(&jo);
  CHECK(jo.struct_size == sizeof jo && jo.read_only == 0);
  jo.read_only = 1;
  wkspkit_wksp_t *ro = NULL;
  CHECK_OK(wkspkit_join(name, &jo, &ro));
  CHECK_OK(wkspkit_info(ro, &info));
  CHECK(info.read_only == 1);
  CHECK(strcmp(wkspkit_laddr(ro, g), "hello") == 0);
  uint64_t g2 = 0;
  CHECK_ERR(wkspkit_alloc(ro, 0, 100, 5, &g2), WKSPKIT_ERR_FAILED_PRECONDITION);
  CHECK_ERR(wkspkit_free(ro, g), WKSPKIT_ERR_FAILED_PRECONDITION);
  wkspkit_leave(ro);

  /* Delete removes the name; the join keeps working. */
  CHECK_OK(wkspkit_delete(name));
  CHECK_ERR(wkspkit_delete(name), WKSPKIT_ERR_NOT_FOUND);
  CHECK_ERR(wkspkit_join(name, NULL, &j), WKSPKIT_ERR_NOT_FOUND);
  CHECK(strstr(wkspkit_last_error(), name) != NULL);
  CHECK(strcmp(wkspkit_laddr(w, g), "hello") == 0);
  CHECK_OK(wkspkit_free(w, g));
  wkspkit_leave(w);
  wkspkit_leave(NULL); /* allowed */

  /* Bad arguments. */
  CHECK_ERR(wkspkit_create(NULL, 8, kMiB, NULL, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create(name, 8, kMiB, NULL, NULL),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create("-bad", 8, kMiB, NULL, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create("a/b", 8, kMiB, NULL, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create("x123456789012345678901234567890123456789", 8, kMiB,
                           NULL, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create(name, 0, kMiB, NULL, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create(name, 8, 0, NULL, &w), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_create_anonymous(name, 8, 0, NULL, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  co.page_size = 8192;
  CHECK_ERR(wkspkit_create(name, 8, kMiB, &co, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(wkspkit_last_error(), "page_size") != NULL);
  wkspkit_create_opts_init(&co);
  co.struct_size = 0; /* not initialized */
  CHECK_ERR(wkspkit_create(name, 8, kMiB, &co, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(wkspkit_last_error(), "struct_size") != NULL);
  co.struct_size = sizeof co + 8; /* from a newer header than the library */
  CHECK_ERR(wkspkit_create(name, 8, kMiB, &co, &w),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  /* An older, shorter struct: the fields it lacks take their defaults. */
  wkspkit_create_opts_init(&co);
  co.seed = 9;
  co.page_size = 12345; /* beyond struct_size: ignored */
  co.struct_size = (uint32_t)offsetof(wkspkit_create_opts_t, page_size);
  CHECK_OK(wkspkit_create_anonymous(name, 8, kMiB, &co, &w));
  CHECK_OK(wkspkit_info(w, &info));
  CHECK(info.page_size == WKSPKIT_PAGE_NORMAL && info.seed == 0);
  wkspkit_leave(w);
  CHECK_ERR(wkspkit_join(NULL, NULL, &j), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_join(name, NULL, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_delete(NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_delete("-bad"), WKSPKIT_ERR_INVALID_ARGUMENT);

  /* Huge pages: a workspace in a hugetlbfs mount if one is there, else
   * NOT_FOUND naming what to mount. */
  wkspkit_create_opts_init(&co);
  co.page_size = WKSPKIT_PAGE_HUGE;
  wkspkit_err_t e = wkspkit_create_anonymous(name, 8, kMiB, &co, &w);
  if (e == WKSPKIT_OK) {
    CHECK_OK(wkspkit_info(w, &info));
    CHECK(info.page_size == WKSPKIT_PAGE_HUGE);
    wkspkit_leave(w);
  } else {
    CHECK(e == WKSPKIT_ERR_RESOURCE_EXHAUSTED || e == WKSPKIT_ERR_NOT_FOUND ||
          e == WKSPKIT_ERR_UNSUPPORTED);
    CHECK(wkspkit_last_error()[0] != '\0');
  }
}

/* ---- allocator ---------------------------------------------------------- */

static void TestAllocator(void) {
  wkspkit_wksp_t *w = Anon(Name("alloc"), 16, kMiB);
  wkspkit_info_t info;
  CHECK_OK(wkspkit_info(w, &info));

  uint64_t a = 0, b = 0, c = 0;
  CHECK_OK(wkspkit_alloc(w, 0, 1000, 7, &a));
  CHECK(a >= info.gaddr_lo && a + 1000 <= info.gaddr_hi);
  CHECK(a % WKSPKIT_ALIGN_DEFAULT == 0);
  CHECK_OK(wkspkit_alloc(w, 64, 3000, 7, &b));
  CHECK(b % 64 == 0);
  CHECK_OK(wkspkit_alloc(w, 0, 5000, 9, &c));

  /* Translation, both ways, and its edges. */
  unsigned char *p = wkspkit_laddr(w, a);
  CHECK(p != NULL);
  CHECK(wkspkit_gaddr(w, p) == a);
  CHECK(wkspkit_gaddr(w, p + 10) == a + 10);
  CHECK(wkspkit_laddr(w, 0) == NULL);
  CHECK(wkspkit_laddr(w, info.gaddr_hi + 1) == NULL);
  CHECK(wkspkit_laddr(w, info.gaddr_hi) != NULL);
  CHECK(wkspkit_gaddr(w, NULL) == 0);
  CHECK(wkspkit_gaddr(w, &info) == 0);
  CHECK(wkspkit_laddr(NULL, a) == NULL);
  CHECK(wkspkit_gaddr(NULL, p) == 0);

  /* Tags. */
  uint64_t tag = 1;
  CHECK_OK(wkspkit_tag(w, a + 999, &tag));
  CHECK(tag == 7);
  CHECK_OK(wkspkit_tag(w, c, &tag));
  CHECK(tag == 9);
  CHECK_OK(wkspkit_tag(w, info.gaddr_hi - 1, &tag)); /* free space */
  CHECK(tag == 0);
  CHECK_ERR(wkspkit_tag(w, a, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);

  /* Memset fills the whole allocation. */
  CHECK_OK(wkspkit_memset(w, b + 5, 0xAB));
  const unsigned char *pb = wkspkit_laddr(w, b);
  for (int i = 0; i < 3000; ++i) CHECK(pb[i] == 0xAB);
  CHECK_ERR(wkspkit_memset(w, info.gaddr_hi - 1, 1), WKSPKIT_ERR_NOT_FOUND);

  /* Usage. */
  wkspkit_usage_t u;
  const uint64_t seven = 7;
  CHECK_OK(wkspkit_usage(w, &seven, 1, &u));
  CHECK(u.total_max == 16 && u.used_cnt == 3);
  CHECK(u.used_sz == 1000 + 3000 + 5000);
  CHECK(u.tagged_cnt == 2 && u.tagged_sz == 4000);
  CHECK(u.free_sz + u.used_sz == kMiB && u.total_sz == kMiB);
  CHECK(u.largest_free > 0 && u.largest_free <= u.free_sz);
  CHECK_OK(wkspkit_usage(w, NULL, 0, &u));
  CHECK(u.tagged_cnt == 0);
  CHECK_ERR(wkspkit_usage(w, NULL, 1, &u), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_usage(w, NULL, 0, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);

  /* Tag query: count first, then fill; a short array gets the first ones. */
  size_t cnt = 99;
  CHECK_OK(wkspkit_tag_query(w, &seven, 1, NULL, 0, &cnt));
  CHECK(cnt == 2);
  wkspkit_partition_t parts[2];
  CHECK_OK(wkspkit_tag_query(w, &seven, 1, parts, 2, &cnt));
  CHECK(cnt == 2);
  CHECK(parts[0].lo == a && parts[0].hi == a + 1000 && parts[0].tag == 7);
  CHECK(parts[1].lo == b && parts[1].hi == b + 3000);
  memset(parts, 0, sizeof parts);
  CHECK_OK(wkspkit_tag_query(w, &seven, 1, parts, 1, &cnt));
  CHECK(cnt == 2 && parts[0].lo == a && parts[1].lo == 0);
  const uint64_t none = 12345;
  CHECK_OK(wkspkit_tag_query(w, &none, 1, parts, 2, &cnt));
  CHECK(cnt == 0);
  CHECK_ERR(wkspkit_tag_query(w, &seven, 1, NULL, 2, &cnt),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_tag_query(w, &seven, 1, parts, 2, NULL),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  const uint64_t zero = 0;
  CHECK_ERR(wkspkit_tag_query(w, &zero, 1, parts, 2, &cnt),
            WKSPKIT_ERR_INVALID_ARGUMENT);

  /* Free, double free, tag free. */
  CHECK_OK(wkspkit_free(w, c + 17));
  CHECK_ERR(wkspkit_free(w, c), WKSPKIT_ERR_NOT_FOUND);
  CHECK_ERR(wkspkit_free(w, 1), WKSPKIT_ERR_INVALID_ARGUMENT);
  uint64_t freed = 0;
  CHECK_OK(wkspkit_tag_free(w, &seven, 1, &freed));
  CHECK(freed == 2);
  CHECK_OK(wkspkit_tag_free(w, &seven, 1, NULL));
  CHECK_ERR(wkspkit_tag_free(w, NULL, 3, &freed), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_OK(wkspkit_usage(w, NULL, 0, &u));
  CHECK(u.used_cnt == 0 && u.free_sz == kMiB);

  /* Bad sizes, alignments and tags; the workspace is unchanged. */
  uint64_t g = 0;
  CHECK_ERR(wkspkit_alloc(w, 0, 0, 1, &g), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_alloc(w, 3, 10, 1, &g), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_alloc(w, 0, 10, 0, &g), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_alloc(w, 0, UINT64_MAX, 1, &g),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_alloc(w, 0, 2 * kMiB, 1, &g),
            WKSPKIT_ERR_RESOURCE_EXHAUSTED);
  CHECK_ERR(wkspkit_alloc(w, 0, 10, 1, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(g == 0);
  CHECK_OK(wkspkit_usage(w, NULL, 0, &u));
  CHECK(u.used_cnt == 0 && u.free_cnt == 1);

  /* Reset and verify. */
  CHECK_OK(wkspkit_alloc(w, 0, 10, 1, &g));
  CHECK_OK(wkspkit_verify(w));
  CHECK_OK(wkspkit_reset(w, 4242));
  CHECK_OK(wkspkit_info(w, &info));
  CHECK(info.seed == 4242);
  CHECK_OK(wkspkit_usage(w, NULL, 0, &u));
  CHECK(u.used_cnt == 0);
  CHECK_OK(wkspkit_verify(w));
  wkspkit_leave(w);

  /* Too small a workspace: out of bytes, and out of partition slots long
   * before out of bytes. Each failure leaves the workspace as it was. */
  w = Anon(Name("small"), 2, kMiB);
  CHECK_OK(wkspkit_alloc(w, 1, kMiB, 1, &g)); /* the whole region: 1 slot */
  CHECK_ERR(wkspkit_alloc(w, 0, 1, 1, &g), WKSPKIT_ERR_RESOURCE_EXHAUSTED);
  wkspkit_leave(w);
  w = Anon(Name("few"), 8, kMiB);
  int n = 0;
  wkspkit_err_t e;
  while ((e = wkspkit_alloc(w, 0, 4096, 1, &g)) == WKSPKIT_OK) ++n;
  CHECK(e == WKSPKIT_ERR_RESOURCE_EXHAUSTED);
  CHECK(strstr(wkspkit_last_error(), "part_max") != NULL);
  CHECK(n > 0 && n < 8);
  CHECK_OK(wkspkit_usage(w, NULL, 0, &u));
  CHECK(u.used_cnt == (uint64_t)n);
  CHECK_OK(wkspkit_verify(w));
  wkspkit_leave(w);
}

/* ---- handles ------------------------------------------------------------ */

static void TestBadHandles(void) {
  /* Something that is not a handle: refused, never used. */
  uint64_t fake_storage[16] = {0};
  wkspkit_wksp_t *fake = (wkspkit_wksp_t *)fake_storage;
  wkspkit_wksp_t *handles[2] = {NULL, fake};
  for (int i = 0; i < 2; ++i) {
    wkspkit_wksp_t *h = handles[i];
    uint64_t v = 0;
    size_t n = 0;
    int flag = 0;
    wkspkit_info_t info;
    wkspkit_usage_t u;
    wkspkit_lock_holder_t lh;
    wkspkit_restore_mark_t rm;
    wkspkit_partition_t part;
    const wkspkit_err_t bad = WKSPKIT_ERR_INVALID_ARGUMENT;
    CHECK_ERR(wkspkit_info(h, &info), bad);
    CHECK(strstr(wkspkit_last_error(), "handle") != NULL);
    CHECK_ERR(wkspkit_alloc(h, 0, 8, 1, &v), bad);
    CHECK_ERR(wkspkit_free(h, 4096), bad);
    CHECK_ERR(wkspkit_tag(h, 4096, &v), bad);
    CHECK_ERR(wkspkit_tag_query(h, &v, 1, &part, 1, &n), bad);
    CHECK_ERR(wkspkit_tag_free(h, &v, 1, &v), bad);
    CHECK_ERR(wkspkit_memset(h, 4096, 0), bad);
    CHECK_ERR(wkspkit_usage(h, NULL, 0, &u), bad);
    CHECK_ERR(wkspkit_reset(h, 0), bad);
    CHECK_ERR(wkspkit_verify(h), bad);
    CHECK_ERR(wkspkit_lock_holder(h, &lh, &flag), bad);
    CHECK_ERR(wkspkit_restore_mark(h, &rm, &flag), bad);
    CHECK_ERR(wkspkit_checkpt(h, TmpPath("never"), NULL), bad);
    CHECK_ERR(wkspkit_checkpt_fd(h, 1, NULL), bad);
    CHECK_ERR(wkspkit_restore(h, TmpPath("never"), NULL), bad);
    CHECK_ERR(wkspkit_restore_fd(h, 0, NULL), bad);
    CHECK(wkspkit_laddr(h, 4096) == NULL);
    CHECK(wkspkit_gaddr(h, fake_storage) == 0);
    wkspkit_leave(h); /* ignored */
  }
  CHECK(!FileExists(TmpPath("never")));
  for (int i = 0; i < 16; ++i) CHECK(fake_storage[i] == 0);
}

/* ---- checkpoint and restore --------------------------------------------- */

typedef struct {
  uint64_t calls, last_done, last_total;
  int decreased;
} ProgressLog;

static void OnProgress(void *arg, uint64_t done, uint64_t total) {
  ProgressLog *log = arg;
  if (done < log->last_done) log->decreased = 1;
  log->calls++;
  log->last_done = done;
  log->last_total = total;
}

enum { kAllocs = 6 };
static const uint64_t kSizes[kAllocs] = {4096, 1,    300000, 2 * 1024 * 1024,
                                         77,   65536};

/* A source workspace with kAllocs patterned allocations; *g receives them. */
static wkspkit_wksp_t *Source(const char *name, uint64_t g[kAllocs]) {
  wkspkit_create_opts_t co;
  wkspkit_create_opts_init(&co);
  co.seed = 31;
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_create_anonymous(name, 64, 8 * kMiB, &co, &w));
  for (int i = 0; i < kAllocs; ++i) {
    CHECK_OK(wkspkit_alloc(w, 0, kSizes[i], 100 + (uint64_t)i, &g[i]));
    Fill(w, g[i], kSizes[i], (unsigned)i);
  }
  return w;
}

static void ExpectRestored(wkspkit_wksp_t *src, wkspkit_wksp_t *dst,
                           const uint64_t g[kAllocs]) {
  for (int i = 0; i < kAllocs; ++i) {
    uint64_t tag = 0;
    CHECK_OK(wkspkit_tag(dst, g[i], &tag));
    CHECK(tag == 100 + (uint64_t)i);
    CHECK(SameBytes(src, dst, g[i], kSizes[i]));
  }
  wkspkit_usage_t u;
  CHECK_OK(wkspkit_usage(dst, NULL, 0, &u));
  CHECK(u.used_cnt == kAllocs);
  CHECK_OK(wkspkit_verify(dst));
}

static uint64_t DataBytes(void) {
  uint64_t n = 0;
  for (int i = 0; i < kAllocs; ++i) n += kSizes[i];
  return n;
}

static void TestCheckptRestorePath(void) {
  uint64_t g[kAllocs];
  wkspkit_wksp_t *src = Source(Name("src"), g);
  for (int style = WKSPKIT_STYLE_DEFAULT; style <= WKSPKIT_STYLE_V3; ++style) {
    char file[64];
    snprintf(file, sizeof file, "style%d.ckpt", style);
    const char *path = TmpPath(file);
    wkspkit_checkpt_opts_t co;
    wkspkit_checkpt_opts_init(&co);
    CHECK(co.struct_size == sizeof co && co.threads == 1 && co.durable == 1 &&
          co.sealed == 1 && co.mode == 0600 && co.deterministic == 0 &&
          co.index == 1);
    ProgressLog plog = {0};
    co.style = style;
    co.threads = 2;
    co.uinfo = "C API test";
    co.mode = 0640;
    co.progress = OnProgress;
    co.progress_arg = &plog;
    CHECK_OK(wkspkit_checkpt(src, path, &co));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    CHECK(plog.calls > 0 && !plog.decreased);
    CHECK(plog.last_done == DataBytes() && plog.last_total == DataBytes());

    /* Never replaces a file. */
    CHECK_ERR(wkspkit_checkpt(src, path, &co), WKSPKIT_ERR_ALREADY_EXISTS);

    wkspkit_preview_t pv;
    CHECK_OK(wkspkit_preview(path, &pv));
    CHECK(pv.style == (style == 0 ? WKSPKIT_STYLE_V3 : style));
    CHECK(pv.seed == 31 && pv.part_max == 64 && pv.data_max == 8 * kMiB);
    CHECK(strcmp(pv.name, Name("src")) == 0);

    wkspkit_verify_report_t vr;
    CHECK_OK(wkspkit_verify_checkpt(path, 0, &vr));
    CHECK(vr.style == pv.style && vr.allocs == kAllocs &&
          vr.data_bytes == DataBytes() &&
          vr.file_bytes == (uint64_t)st.st_size);
    CHECK(vr.sealed == (pv.style != WKSPKIT_STYLE_V1));
    CHECK_OK(wkspkit_verify_checkpt(path, 1, NULL));

    /* Restore into a larger workspace of another seed, with progress. */
    wkspkit_wksp_t *dst = Anon(Name("dst"), 64, 16 * kMiB);
    uint64_t junk = 0;
    CHECK_OK(wkspkit_alloc(dst, 0, 12345, 1, &junk)); /* replaced */
    wkspkit_restore_opts_t ro;
    wkspkit_restore_opts_init(&ro);
    CHECK(ro.struct_size == sizeof ro && ro.threads == 1 && ro.set_seed == 0);
    ProgressLog rlog = {0};
    ro.threads = 3;
    ro.progress = OnProgress;
    ro.progress_arg = &rlog;
    CHECK_OK(wkspkit_restore(dst, path, &ro));
    CHECK(wkspkit_last_error_wksp_reset() == 0);
    ExpectRestored(src, dst, g);
    CHECK(rlog.calls > 0 && !rlog.decreased && rlog.last_done == DataBytes());
    wkspkit_info_t info;
    CHECK_OK(wkspkit_info(dst, &info));
    CHECK(info.seed == 0); /* kept the target's */
    ro.set_seed = 1;
    ro.seed = 999;
    ro.progress = NULL;
    CHECK_OK(wkspkit_restore(dst, path, &ro));
    CHECK_OK(wkspkit_info(dst, &info));
    CHECK(info.seed == 999);
    ExpectRestored(src, dst, g);
    wkspkit_leave(dst);

    /* Too small: fewer slots than allocations, or a smaller data region.
     * Checked before writing: the target is untouched. */
    wkspkit_wksp_t *few = Anon(Name("few"), 4, 16 * kMiB);
    CHECK_OK(wkspkit_alloc(few, 0, 100, 55, &junk));
    wkspkit_err_t fe = wkspkit_restore(few, path, NULL);
    CHECK(fe == WKSPKIT_ERR_RESOURCE_EXHAUSTED ||
          fe == WKSPKIT_ERR_FAILED_PRECONDITION);
    CHECK(strstr(wkspkit_last_error(), "partition") != NULL);
    CHECK(wkspkit_last_error_wksp_reset() == 0);
    uint64_t tag = 0;
    CHECK_OK(wkspkit_tag(few, junk, &tag));
    CHECK(tag == 55);
    wkspkit_leave(few);
    wkspkit_wksp_t *narrow = Anon(Name("narrow"), 128, kMiB);
    wkspkit_err_t e = wkspkit_restore(narrow, path, NULL);
    CHECK(e == WKSPKIT_ERR_FAILED_PRECONDITION ||
          e == WKSPKIT_ERR_RESOURCE_EXHAUSTED);
    CHECK(wkspkit_last_error()[0] != '\0');
    wkspkit_usage_t u;
    CHECK_OK(wkspkit_usage(narrow, NULL, 0, &u));
    CHECK(u.used_cnt == 0);
    wkspkit_leave(narrow);
    CHECK(unlink(path) == 0);
  }

  /* Deterministic files are identical; unsealed ones say so. */
  wkspkit_checkpt_opts_t co;
  wkspkit_checkpt_opts_init(&co);
  co.deterministic = 1;
  co.style = WKSPKIT_STYLE_V3;
  CHECK_OK(wkspkit_checkpt(src, TmpPath("det1.ckpt"), &co));
  co.threads = 2;
  co.durable = 0;
  CHECK_OK(wkspkit_checkpt(src, TmpPath("det2.ckpt"), &co));
  size_t n1 = 0, n2 = 0;
  unsigned char *b1 = ReadAll(TmpPath("det1.ckpt"), &n1);
  unsigned char *b2 = ReadAll(TmpPath("det2.ckpt"), &n2);
  CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
  /* A sealed v2/v3 file gets its index sidecar unless asked not to. */
  CHECK(FileExists(TmpPath("det1.ckpt.wkspidx")));
  co.index = 0;
  CHECK_OK(wkspkit_checkpt(src, TmpPath("noindex.ckpt"), &co));
  CHECK(FileExists(TmpPath("noindex.ckpt")));
  CHECK(!FileExists(TmpPath("noindex.ckpt.wkspidx")));
  co.index = 1;
  free(b1);
  free(b2);
  co.sealed = 0;
  co.style = WKSPKIT_STYLE_V2;
  CHECK_OK(wkspkit_checkpt(src, TmpPath("unsealed.ckpt"), &co));
  wkspkit_verify_report_t vr;
  CHECK_OK(wkspkit_verify_checkpt(TmpPath("unsealed.ckpt"), 1, &vr));
  CHECK(vr.sealed == 0 && vr.allocs == kAllocs);

  /* Bad options leave nothing at the path. */
  wkspkit_checkpt_opts_init(&co);
  co.style = 7;
  CHECK_ERR(wkspkit_checkpt(src, TmpPath("bad.ckpt"), &co),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK(strstr(wkspkit_last_error(), "style") != NULL);
  co.style = -1;
  CHECK_ERR(wkspkit_checkpt(src, TmpPath("bad.ckpt"), &co),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  wkspkit_checkpt_opts_init(&co);
  char *long_info = malloc(WKSPKIT_UINFO_MAX + 2);
  CHECK(long_info != NULL);
  memset(long_info, 'x', WKSPKIT_UINFO_MAX + 1);
  long_info[WKSPKIT_UINFO_MAX + 1] = '\0';
  co.uinfo = long_info;
  CHECK_ERR(wkspkit_checkpt(src, TmpPath("bad.ckpt"), &co),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  long_info[WKSPKIT_UINFO_MAX] = '\0'; /* exactly the limit: fine */
  CHECK_OK(wkspkit_checkpt(src, TmpPath("long.ckpt"), &co));
  free(long_info);
  CHECK_ERR(wkspkit_checkpt(src, NULL, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_checkpt(src, TmpPath("no/such/dir/x.ckpt"), NULL),
            WKSPKIT_ERR_NOT_FOUND);
  CHECK(!FileExists(TmpPath("bad.ckpt")));

  /* Missing and corrupt files. */
  wkspkit_wksp_t *dst = Anon(Name("dst2"), 64, 16 * kMiB);
  wkspkit_preview_t pv;
  wkspkit_verify_report_t vr2;
  CHECK_ERR(wkspkit_preview(TmpPath("missing.ckpt"), &pv),
            WKSPKIT_ERR_NOT_FOUND);
  CHECK(strstr(wkspkit_last_error(), "missing.ckpt") != NULL);
  CHECK_ERR(wkspkit_verify_checkpt(TmpPath("missing.ckpt"), 1, &vr2),
            WKSPKIT_ERR_NOT_FOUND);
  CHECK_ERR(wkspkit_restore(dst, TmpPath("missing.ckpt"), NULL),
            WKSPKIT_ERR_NOT_FOUND);
  CHECK_ERR(wkspkit_preview(NULL, &pv), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_preview(TmpPath("det1.ckpt"), NULL),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_verify_checkpt(NULL, 1, &vr2),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_restore(dst, NULL, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  FILE *f = fopen(TmpPath("garbage.ckpt"), "wb");
  CHECK(f != NULL);
  for (int i = 0; i < 100000; ++i) fputc((i * 7919) & 0xFF, f);
  fclose(f);
  CHECK_ERR(wkspkit_preview(TmpPath("garbage.ckpt"), &pv),
            WKSPKIT_ERR_DATA_LOSS);
  CHECK_ERR(wkspkit_verify_checkpt(TmpPath("garbage.ckpt"), 1, &vr2),
            WKSPKIT_ERR_DATA_LOSS);
  CHECK_ERR(wkspkit_restore(dst, TmpPath("garbage.ckpt"), NULL),
            WKSPKIT_ERR_DATA_LOSS);
  CHECK(wkspkit_last_error_wksp_reset() == 0);

  /* A damaged data frame of a sealed v3 file: verify names it, a restore
   * finds it only while writing, so the target ends reset to empty. */
  size_t n = 0;
  unsigned char *bytes = ReadAll(TmpPath("det1.ckpt"), &n);
  bytes[n / 2] ^= 0x5A;
  bytes[n / 2 + 1] ^= 0xA5;
  int fd = open(TmpPath("damaged.ckpt"), O_WRONLY | O_CREAT | O_EXCL, 0600);
  CHECK(fd >= 0);
  WriteAll(fd, bytes, n);
  close(fd);
  free(bytes);
  CHECK_ERR(wkspkit_verify_checkpt(TmpPath("damaged.ckpt"), 1, &vr2),
            WKSPKIT_ERR_DATA_LOSS);
  uint64_t junk = 0;
  CHECK_OK(wkspkit_alloc(dst, 0, 100, 5, &junk));
  wkspkit_err_t e = wkspkit_restore(dst, TmpPath("damaged.ckpt"), NULL);
  CHECK(e == WKSPKIT_ERR_DATA_LOSS);
  wkspkit_usage_t u;
  if (wkspkit_last_error_wksp_reset()) {
    CHECK_OK(wkspkit_usage(dst, NULL, 0, &u));
    CHECK(u.used_cnt == 0);
  } else { /* found before writing: untouched */
    uint64_t tag = 0;
    CHECK_OK(wkspkit_tag(dst, junk, &tag));
    CHECK(tag == 5);
  }
  wkspkit_leave(dst);
  wkspkit_leave(src);
}

/* Checkpoint into a pipe (a child process reads it), and restore from one. */
static void TestCheckptRestoreFd(void) {
  uint64_t g[kAllocs];
  wkspkit_wksp_t *src = Source(Name("fsrc"), g);

  /* To a regular file's descriptor, then back from one. */
  int fd = open(TmpPath("fd.ckpt"), O_RDWR | O_CREAT | O_EXCL, 0600);
  CHECK(fd >= 0);
  wkspkit_checkpt_opts_t co;
  wkspkit_checkpt_opts_init(&co);
  co.style = WKSPKIT_STYLE_V2;
  CHECK_OK(wkspkit_checkpt_fd(src, fd, &co));
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  wkspkit_verify_report_t vr;
  CHECK_OK(wkspkit_verify_checkpt_fd(fd, 2, &vr));
  CHECK(vr.style == WKSPKIT_STYLE_V2 && vr.allocs == kAllocs);
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  wkspkit_wksp_t *dst = Anon(Name("fdst"), 64, 8 * kMiB);
  ProgressLog rlog = {0};
  wkspkit_restore_opts_t ro;
  wkspkit_restore_opts_init(&ro);
  ro.progress = OnProgress;
  ro.progress_arg = &rlog;
  CHECK_OK(wkspkit_restore_fd(dst, fd, &ro));
  ExpectRestored(src, dst, g);
  CHECK(rlog.calls > 0 && !rlog.decreased);
  close(fd);
  CHECK_ERR(wkspkit_checkpt_fd(src, -1, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_restore_fd(dst, -1, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_verify_checkpt_fd(-1, 1, NULL),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_checkpt_fd(src, fd, NULL), /* closed */
            WKSPKIT_ERR_INVALID_ARGUMENT);

  /* Through a pipe: the checkpoint of the source streams into a restore. */
  size_t n = 0;
  unsigned char *bytes = ReadAll(TmpPath("fd.ckpt"), &n);
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    close(p[0]);
    int rc = wkspkit_checkpt_fd(src, p[1], &co) == WKSPKIT_OK ? 0 : 1;
    _exit(rc);
  }
  close(p[1]);
  CHECK_OK(wkspkit_reset(dst, 0));
  CHECK_OK(wkspkit_restore_fd(dst, p[0], NULL));
  close(p[0]);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ExpectRestored(src, dst, g);

  /* A stream cut in the middle: the restore finds out while writing and
   * resets the target. */
  CHECK(pipe(p) == 0);
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    close(p[0]);
    WriteAll(p[1], bytes, n / 2);
    _exit(0);
  }
  close(p[1]);
  CHECK_ERR(wkspkit_restore_fd(dst, p[0], NULL), WKSPKIT_ERR_DATA_LOSS);
  CHECK(wkspkit_last_error_wksp_reset() == 1);
  close(p[0]);
  CHECK(waitpid(child, &status, 0) == child);
  wkspkit_usage_t u;
  CHECK_OK(wkspkit_usage(dst, NULL, 0, &u));
  CHECK(u.used_cnt == 0);
  CHECK(wkspkit_last_error_wksp_reset() == 0); /* cleared by the next call */

  /* Verify of a stream. */
  CHECK(pipe(p) == 0);
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    close(p[0]);
    WriteAll(p[1], bytes, n);
    _exit(0);
  }
  close(p[1]);
  CHECK_OK(wkspkit_verify_checkpt_fd(p[0], 1, &vr));
  CHECK(vr.allocs == kAllocs && vr.file_bytes == n);
  close(p[0]);
  CHECK(waitpid(child, &status, 0) == child);
  free(bytes);
  wkspkit_leave(dst);
  wkspkit_leave(src);
}

/* ---- lock holder, restore mark, cancellation (in child processes) -------- */

static void TestLockHolder(void) {
  const char *name = Name("lock");
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_create(name, 16, 8 * kMiB, NULL, &w));
  wkspkit_lock_holder_t h;
  memset(&h, 0x11, sizeof h);
  int held = 7;
  CHECK_OK(wkspkit_lock_holder(w, &h, &held));
  CHECK(held == 0 && h.pid == 0x11111111u); /* untouched */
  CHECK_ERR(wkspkit_lock_holder(w, NULL, &held), WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_lock_holder(w, &h, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);
  uint64_t g = 0;
  CHECK_OK(wkspkit_alloc(w, 0, 4 * kMiB, 1, &g)); /* more than a pipe holds */

  /* A child checkpoints into a pipe nobody reads yet: it holds the lock
   * until the pipe is drained. Its first bytes say it has the lock. */
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    close(p[0]);
    wkspkit_wksp_t *cw = NULL;
    if (wkspkit_join(name, NULL, &cw) != WKSPKIT_OK) _exit(2);
    wkspkit_checkpt_opts_t co;
    wkspkit_checkpt_opts_init(&co);
    co.style = WKSPKIT_STYLE_V2;
    _exit(wkspkit_checkpt_fd(cw, p[1], &co) == WKSPKIT_OK ? 0 : 1);
  }
  close(p[1]);
  unsigned char buf[65536];
  CHECK(read(p[0], buf, 1) == 1);
  CHECK_OK(wkspkit_lock_holder(w, &h, &held));
  CHECK(held == 1);
  CHECK(h.pid == (uint32_t)child && h.same_pid_ns == 1);
  CHECK(h.liveness == WKSPKIT_LIVENESS_ALIVE);
  CHECK(h.since_unix_ns > 0 && h.tid != 0);
  CHECK(strlen(h.cmd) < sizeof h.cmd);
  ssize_t r;
  while ((r = read(p[0], buf, sizeof buf)) > 0) {
  }
  close(p[0]);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_OK(wkspkit_lock_holder(w, &h, &held));
  CHECK(held == 0);
  CHECK_OK(wkspkit_delete(name));
  wkspkit_leave(w);
}

static void TestRestoreMark(void) {
  uint64_t g[kAllocs];
  wkspkit_wksp_t *src = Source(Name("msrc"), g);
  int fd = open(TmpPath("mark.ckpt"), O_RDWR | O_CREAT | O_EXCL, 0600);
  CHECK(fd >= 0);
  wkspkit_checkpt_opts_t co;
  wkspkit_checkpt_opts_init(&co);
  co.style = WKSPKIT_STYLE_V2;
  CHECK_OK(wkspkit_checkpt_fd(src, fd, &co));
  close(fd);
  size_t n = 0;
  unsigned char *bytes = ReadAll(TmpPath("mark.ckpt"), &n);

  const char *name = Name("mark");
  wkspkit_wksp_t *w = NULL;
  CHECK_OK(wkspkit_create(name, 64, 8 * kMiB, NULL, &w));
  wkspkit_restore_mark_t m;
  int marked = 7;
  CHECK_OK(wkspkit_restore_mark(w, &m, &marked));
  CHECK(marked == 0);
  CHECK_ERR(wkspkit_restore_mark(w, NULL, &marked),
            WKSPKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(wkspkit_restore_mark(w, &m, NULL), WKSPKIT_ERR_INVALID_ARGUMENT);

  /* A child restores from a pipe that stops half way: it marks the
   * workspace and waits for the rest, which never comes; it is killed. */
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    close(p[1]);
    wkspkit_wksp_t *cw = NULL;
    if (wkspkit_join(name, NULL, &cw) != WKSPKIT_OK) _exit(2);
    (void)wkspkit_restore_fd(cw, p[0], NULL);
    _exit(3);
  }
  close(p[0]);
  WriteAll(p[1], bytes, n / 2);
  /* Wait (bounded) for the child's mark to appear: the condition itself,
   * polled, not a fixed sleep. */
  for (int i = 0; i < 20000; ++i) {
    CHECK_OK(wkspkit_restore_mark(w, &m, &marked));
    if (marked) break;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  CHECK(marked == 1);
  CHECK(m.pid == (uint32_t)child && m.in_progress == 1 && m.same_pid_ns == 1);
  CHECK(m.since_unix_s > 0);
  CHECK(kill(child, SIGKILL) == 0);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  close(p[1]);

  CHECK_OK(wkspkit_restore_mark(w, &m, &marked));
  CHECK(marked == 1 && m.in_progress == 0 && m.pid == (uint32_t)child);
  uint64_t ga = 0;
  CHECK_ERR(wkspkit_alloc(w, 0, 10, 1, &ga), WKSPKIT_ERR_DATA_LOSS);
  CHECK_ERR(wkspkit_verify(w), WKSPKIT_ERR_DATA_LOSS);
  CHECK_ERR(wkspkit_checkpt(w, TmpPath("of-marked.ckpt"), NULL),
            WKSPKIT_ERR_DATA_LOSS);
  CHECK(!FileExists(TmpPath("of-marked.ckpt")));
  /* A successful restore clears it. */
  CHECK_OK(wkspkit_restore(w, TmpPath("mark.ckpt"), NULL));
  CHECK_OK(wkspkit_restore_mark(w, &m, &marked));
  CHECK(marked == 0);
  ExpectRestored(src, w, g);
  CHECK_OK(wkspkit_delete(name));
  wkspkit_leave(w);
  wkspkit_leave(src);
  free(bytes);
}

static void TestCancel(void) {
  uint64_t g[kAllocs];
  wkspkit_wksp_t *src = Source(Name("csrc"), g);
  CHECK(wkspkit_cancel_signal() == 0);
  /* Cancellation is process-wide and one-way: exercised in a child. */
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    wkspkit_request_cancel(0); /* ignored: no signal */
    CHECK(wkspkit_cancel_signal() == 0);
    wkspkit_request_cancel(SIGTERM);
    wkspkit_request_cancel(SIGINT); /* the first request wins */
    CHECK(wkspkit_cancel_signal() == SIGTERM);
    CHECK_ERR(wkspkit_checkpt(src, TmpPath("cancelled.ckpt"), NULL),
              WKSPKIT_ERR_CANCELLED);
    CHECK(strstr(wkspkit_last_error(), "SIGTERM") != NULL);
    CHECK(!FileExists(TmpPath("cancelled.ckpt")));
    _exit(0);
  }
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(wkspkit_cancel_signal() == 0);
  wkspkit_leave(src);
}

/* Sets the int that `arg` points to on the first report: a caller stopping
 * its own call midway. */
static void CancelOnProgress(void *arg, uint64_t done, uint64_t total) {
  (void)done;
  (void)total;
  __atomic_store_n((int *)arg, 1, __ATOMIC_RELAXED);
}

/* Sets *flag at the first progress report that counts some but not all of
 * the restored bytes, and records that count. */
typedef struct {
  int *flag;
  uint64_t set_at_done;
} MidwayCancel;

static void CancelOnFirstBytes(void *arg, uint64_t done, uint64_t total) {
  MidwayCancel *mc = arg;
  if (done == 0 || (total != 0 && done >= total)) return;
  if (__atomic_exchange_n(mc->flag, 1, __ATOMIC_RELAXED) == 0)
    mc->set_at_done = done;
}

/* A call's own cancel flag stops that call only: the process is not
 * cancelled, and the next call without the flag works. */
static void TestCallCancel(void) {
  uint64_t g[kAllocs];
  wkspkit_wksp_t *src = Source(Name("ccsrc"), g);
  int flag = 1;
  wkspkit_checkpt_opts_t co;
  wkspkit_checkpt_opts_init(&co);
  CHECK(co.cancel == NULL);
  co.cancel = &flag;
  CHECK_ERR(wkspkit_checkpt(src, TmpPath("call-cancel.ckpt"), &co),
            WKSPKIT_ERR_CANCELLED);
  CHECK(strstr(wkspkit_last_error(), "cancelled by the caller") != NULL);
  CHECK(!FileExists(TmpPath("call-cancel.ckpt")));
  CHECK(wkspkit_cancel_signal() == 0);

  /* Set midway, from a worker thread's progress report. */
  flag = 0;
  co.style = WKSPKIT_STYLE_V2;
  co.threads = 2;
  co.progress = CancelOnProgress;
  co.progress_arg = &flag;
  CHECK_ERR(wkspkit_checkpt(src, TmpPath("call-cancel.ckpt"), &co),
            WKSPKIT_ERR_CANCELLED);
  CHECK(flag == 1);
  CHECK(!FileExists(TmpPath("call-cancel.ckpt")));

  /* The same options without the flag: the process goes on working. */
  co.cancel = NULL;
  CHECK_OK(wkspkit_checkpt(src, TmpPath("call-cancel.ckpt"), &co));

  /* A restore stopped before it writes leaves the target untouched. */
  wkspkit_wksp_t *dst = Anon(Name("ccdst"), 64, 8 * kMiB);
  uint64_t keep = 0;
  CHECK_OK(wkspkit_alloc(dst, 0, 4096, 7, &keep));
  wkspkit_restore_opts_t ro;
  wkspkit_restore_opts_init(&ro);
  CHECK(ro.cancel == NULL);
  flag = 1;
  ro.cancel = &flag;
  CHECK_ERR(wkspkit_restore(dst, TmpPath("call-cancel.ckpt"), &ro),
            WKSPKIT_ERR_CANCELLED);
  CHECK(wkspkit_last_error_wksp_reset() == 0);
  uint64_t tag = 0;
  CHECK_OK(wkspkit_tag(dst, keep, &tag));
  CHECK(tag == 7);
  int fd = open(TmpPath("call-cancel.ckpt"), O_RDONLY);
  CHECK(fd >= 0);
  CHECK_ERR(wkspkit_restore_fd(dst, fd, &ro), WKSPKIT_ERR_CANCELLED);
  close(fd);
  /* An options struct from before the field (its struct_size ends before
   * it) is read without it. */
  ro.struct_size = (uint32_t)offsetof(wkspkit_restore_opts_t, cancel);
  CHECK_OK(wkspkit_restore(dst, TmpPath("call-cancel.ckpt"), &ro));
  ExpectRestored(src, dst, g);

  /* Stopped midway by its own flag, set from the progress report of the
   * first bytes written: the target ends reset to empty, unmarked and
   * usable, and the same restore without the flag then completes. */
  wkspkit_restore_opts_init(&ro);
  MidwayCancel mc = {&flag, 0};
  flag = 0;
  ro.cancel = &flag;
  ro.progress = CancelOnFirstBytes;
  ro.progress_arg = &mc;
  CHECK_ERR(wkspkit_restore(dst, TmpPath("call-cancel.ckpt"), &ro),
            WKSPKIT_ERR_CANCELLED);
  CHECK(flag == 1);
  CHECK(mc.set_at_done > 0 && mc.set_at_done < DataBytes());
  CHECK(strstr(wkspkit_last_error(), "cancelled by the caller") != NULL);
  CHECK(wkspkit_last_error_wksp_reset() == 1);
  wkspkit_usage_t u;
  CHECK_OK(wkspkit_usage(dst, NULL, 0, &u));
  CHECK(u.used_cnt == 0);
  wkspkit_restore_mark_t rm;
  int marked = -1;
  CHECK_OK(wkspkit_restore_mark(dst, &rm, &marked));
  CHECK(marked == 0);
  CHECK(wkspkit_cancel_signal() == 0);
  ro.cancel = NULL;
  CHECK_OK(wkspkit_restore(dst, TmpPath("call-cancel.ckpt"), &ro));
  ExpectRestored(src, dst, g);
  CHECK(wkspkit_cancel_signal() == 0);
  CHECK(unlink(TmpPath("call-cancel.ckpt")) == 0);
  unlink(TmpPath("call-cancel.ckpt.wkspidx"));
  wkspkit_leave(dst);
  wkspkit_leave(src);
}

/* A message longer than the record is cut to 2047 bytes ending in "...";
 * the next success clears it. */
static void TestLongMessage(void) {
  static char path[3001];
  memset(path, 'x', sizeof path - 1);
  path[0] = '/';
  path[sizeof path - 1] = '\0';
  wkspkit_preview_t p;
  CHECK(wkspkit_preview(path, &p) != WKSPKIT_OK);
  const char *m = wkspkit_last_error();
  const size_t n = strlen(m);
  CHECK(n == 2047);
  CHECK(strcmp(m + n - 3, "...") == 0);
  CHECK(strstr(m, "xxxxxxxxxxxxxxxx") != NULL); /* the path is in it */
  uint64_t fp = 0;
  CHECK_OK(wkspkit_footprint(16, kMiB, &fp));
  CHECK(wkspkit_last_error()[0] == '\0');
}

/* The SIGBUS handler: installed by the first restore of a mapped file unless
 * the program opted out. Each case in a fresh child (it is process-wide) of
 * a process that has not restored yet (main runs this first). 10: the
 * handler is what it was before; 11: the library installed its own. */
static int SigbusHandlerAfterRestore(int guard, const char *path) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    struct sigaction before, after;
    CHECK(sigaction(SIGBUS, NULL, &before) == 0);
    wkspkit_set_sigbus_guard(guard);
    wkspkit_wksp_t *w = NULL;
    CHECK_OK(wkspkit_create_anonymous("sigbus", 64, 8 * kMiB, NULL, &w));
    CHECK_OK(wkspkit_restore(w, path, NULL));
    CHECK(sigaction(SIGBUS, NULL, &after) == 0);
    _exit(after.sa_handler == before.sa_handler ? 10 : 11);
  }
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void TestSigbusGuard(void) {
  uint64_t g[kAllocs];
  wkspkit_wksp_t *src = Source(Name("bsrc"), g);
  wkspkit_checkpt_opts_t co;
  wkspkit_checkpt_opts_init(&co);
  co.style = WKSPKIT_STYLE_V2;
  CHECK_OK(wkspkit_checkpt(src, TmpPath("sigbus.ckpt"), &co));
  CHECK(SigbusHandlerAfterRestore(1, TmpPath("sigbus.ckpt")) == 11);
  CHECK(SigbusHandlerAfterRestore(0, TmpPath("sigbus.ckpt")) == 10);
  wkspkit_leave(src);
}

int main(void) {
  const char *tmp = getenv("TEST_TMPDIR");
  CHECK(tmp != NULL && strlen(tmp) < 400);
  snprintf(g_tmp, sizeof g_tmp, "%s", tmp);
  snprintf(g_shm, sizeof g_shm, "%s/shm", tmp);
  CHECK(mkdir(g_shm, 0700) == 0 || errno == EEXIST);
  CHECK_OK(wkspkit_set_shmem_root(g_shm));

  TestSigbusGuard(); /* first: before this process restores anything */
  TestVersionAndErrors();
  TestShmemRoot();
  TestLifecycle();
  TestAllocator();
  TestBadHandles();
  TestCheckptRestorePath();
  TestCheckptRestoreFd();
  TestLockHolder();
  TestRestoreMark();
  TestLongMessage();
  TestCallCancel();
  TestCancel();
  printf("wkspkit_test: all C API tests passed\n");
  return 0;
}
