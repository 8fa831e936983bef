// The io package in one include: descriptors and exact reads/writes
// (io/fd.h), buffered streams over a caller buffer (io/stream.h) and
// memory-mapped files (io/mmio.h), files published complete
// (io/pending_file.h). Prefer the narrow header where one is
// enough; this one exists for callers that use all three.
#ifndef WKSPKIT_IO_IO_H_
#define WKSPKIT_IO_IO_H_

#include "io/fd.h"
#include "io/mmio.h"
#include "io/pending_file.h"
#include "io/populate.h"
#include "io/prefetch.h"
#include "io/stream.h"

#endif  // WKSPKIT_IO_IO_H_
