// Private to wksp/checkpt: the readers of the v2/v3 frames
// (CHECKPOINT_FORMAT.md §4), one per kind, shared by the mapped scan
// (scan_v2.cc; print and the file restore use it) and the stream restore
// (restore_v2_stream.cc). Each reads over a checkpt::Reader from its current
// offset, checks what the frame itself can tell, and names the frame in its
// errors, e.g. "corrupt v2/v3 checkpoint (appendix): ...". What frames must
// say about each other (offsets, counts) is for the callers.
#ifndef WKSPKIT_WKSP_CHECKPT_FRAMES_H_
#define WKSPKIT_WKSP_CHECKPT_FRAMES_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkpt/checkpt.h"
#include "wksp/checkpt/format.h"
#include "wksp/geometry.h"

namespace wk::wksp_checkpt::internal {

// A semantic error: DataLoss "corrupt v2/v3 checkpoint: <what>".
absl::Status Bad(std::string_view what);
// A failure of the frame layer (which names the I/O or LZ4 problem) while
// reading `where`.
absl::Status At(const absl::Status& st, std::string_view where);

// The info frame: the struct, then its strings. Returns the frame's end.
absl::StatusOr<uint64_t> ReadInfo(checkpt::Reader& r, checkpt::FrameStyle fs,
                                  format::Info* info);

// Every other frame but the footer holds commands, and its first command
// says which kind it is (a cgroup, an appendix, the volumes). Opens the
// frame and reads that command; `where` names the frame for errors.
struct CommandFrame {
  uint64_t off = 0;  // reader offset of the frame
  format::Cmd first;
};
absl::StatusOr<CommandFrame> OpenCommandFrame(checkpt::Reader& r,
                                              checkpt::FrameStyle fs,
                                              std::string_view where);

// The commands of a cgroup frame that began with `first`: allocation
// commands, each inside the source's data region (format::CheckInSource) and
// passed to `each`, until the data command. Leaves the frame open before the
// allocations' data. A failure of `each` is returned as it is.
absl::Status ReadCgroupCommands(
    checkpt::Reader& r, const format::Cmd& first, const wksp::Limits& src,
    absl::FunctionRef<absl::Status(const format::Alloc&)> each);

// The rest of an appendix frame that began with `first`: the offset and the
// allocation count of each cgroup of its volume (at most kCgroupMax), and
// the offset of the previous volume's appendix (0 for the first volume).
// Closes the frame; returns its end.
struct Appendix {
  uint64_t prev = 0;
  std::vector<uint64_t> offs, cnts;
};
absl::StatusOr<uint64_t> ReadAppendix(checkpt::Reader& r,
                                      const format::Cmd& first, Appendix* out);

// The rest of the volumes frame that began with `first`; *last_app is the
// offset of the last volume's appendix (0 with no volume). Closes the
// frame; returns its end.
absl::StatusOr<uint64_t> ReadVolumes(checkpt::Reader& r,
                                     const format::Cmd& first,
                                     uint64_t* last_app);

// The footer frame (RAW), checked against the header and its bytes
// (format::CheckFooterMatchesHeader).
absl::Status ReadFooter(checkpt::Reader& r, const format::Header& h,
                        std::span<const uint8_t> header_bytes,
                        format::Footer* out);

}  // namespace wk::wksp_checkpt::internal

#endif  // WKSPKIT_WKSP_CHECKPT_FRAMES_H_
