// XXH3 from Debian's libxxhash, through its runtime CPU dispatch on x86-64:
// XXH3_128bits, XXH3_128bits_update, ... then name the fastest variant the
// CPU runs (AVX-512, AVX2 or SSE2; same results). The plain entry points are
// built for SSE2 only: 13.5 GB/s on a 256 KiB in-cache buffer here, against
// 41.9 dispatched, which is what keeps the seals' cost small. Include this,
// not <xxhash.h>, wherever XXH3 is timed or used.
#ifndef WKSPKIT_UTIL_XXH3_H_
#define WKSPKIT_UTIL_XXH3_H_

#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h>  // also includes <xxhash.h>
#else
#include <xxhash.h>
#endif

#endif  // WKSPKIT_UTIL_XXH3_H_
