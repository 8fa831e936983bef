// One checkpoint pass feeding several outputs (`--tee PATH ... checkpt W
// PATH|- ...`): the workspace is read and encoded once, under one hold of its
// lock, and every output receives the same bytes.
//
// Why this and not a shared lock: a checkpoint holds the workspace lock for
// its whole transfer, so two `checkpt W -` of one workspace run one after
// the other. One reader feeding N outputs gives N identical files for the
// price of one pass (one lock hold, one encode), without a second lock mode
// in shared memory. The cost: the outputs move at the pace of the slowest
// (a stalled reader of one holds up all, and the lock, as a lone stalled
// `checkpt W -` does today).
//
// Contract:
//   - Path outputs are PendingFiles (io/pending_file.h): each appears at its
//     path only complete, after the whole stream was written to it, published
//     (fsynced first under --durable yes) once the lock is released. A killed
//     process leaves nothing at any path.
//   - "-" (stdout) may be one of the outputs; it receives the stream as it is
//     made.
//   - An output that fails (a closed pipe, a full disk) is dropped at once
//     and reported by name; the others go on and are complete. When every
//     output failed, the checkpoint stops (the lock is released).
//   - Result: OK when every output is complete. Otherwise an error naming
//     each failed output with its cause and the outputs that are complete;
//     its class is the first failure's, except a closed pipe, which gives
//     kAborted (wksp_ctl exit 1, not the quiet 141 of a lone `checkpt W -`:
//     the other outputs exist and the user must learn which one is missing).
//   - Path outputs carry no chunk-index sidecar (PATH.wkspidx): a delta
//     against one reads it once instead.
#ifndef WKSPKIT_APPS_CHECKPT_TEE_H_
#define WKSPKIT_APPS_CHECKPT_TEE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::apps {

// Writes one checkpoint of `w` with `options` (base must be empty) to every
// path of `outputs` ("-" is stdout, at most once; paths distinct), files
// created with `options.mode`. `*bytes` gets the stream's length.
absl::Status CheckptTee(wksp::Wksp& w, const std::vector<std::string>& outputs,
                        const wksp_checkpt::CheckptOptions& options,
                        uint64_t* bytes);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_CHECKPT_TEE_H_
