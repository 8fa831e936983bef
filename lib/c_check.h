/* A tiny assertion helper for the C tests of the C API (C11): each CHECK
 * failure prints where, what, and the library's last error, then exits 1. */
#ifndef WKSPKIT_LIB_C_CHECK_H_
#define WKSPKIT_LIB_C_CHECK_H_

#include <stdio.h>
#include <stdlib.h>

#include "wkspkit/wkspkit.h"

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "%s:%d: CHECK(%s) failed (last error %s: %s)\n", \
              __FILE__, __LINE__, #cond,                               \
              wkspkit_err_name(wkspkit_last_error_code()),             \
              wkspkit_last_error());                                   \
      exit(1);                                                         \
    }                                                                  \
  } while (0)

/* `call` returns `want` (a wkspkit_err_t); on a failure the message must be
 * non-empty, on success empty. */
#define CHECK_ERR(call, want)                                              \
  do {                                                                     \
    wkspkit_err_t got_ = (call);                                           \
    if (got_ != (want)) {                                                  \
      fprintf(stderr, "%s:%d: %s returned %s, want %s (last error: %s)\n", \
              __FILE__, __LINE__, #call, wkspkit_err_name(got_),           \
              wkspkit_err_name(want), wkspkit_last_error());               \
      exit(1);                                                             \
    }                                                                      \
    CHECK(wkspkit_last_error_code() == got_);                              \
    CHECK((got_ == WKSPKIT_OK) == (wkspkit_last_error()[0] == '\0'));      \
  } while (0)

#define CHECK_OK(call) CHECK_ERR(call, WKSPKIT_OK)

#endif /* WKSPKIT_LIB_C_CHECK_H_ */
