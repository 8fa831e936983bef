#include "absl/strings/str_format.h"
#include "util/status.h"
#include "wksp/checkpt/internal.h"

namespace wk::wksp_checkpt::internal {

absl::Status Prefault(const wksp::Wksp& wksp, uint64_t lo, uint64_t hi,
                      io::PopulateFor what) {
  // Huge pages too: few faults to save there, but a workspace made sparse
  // on a hugetlbfs whose pool ran dry must fail here, not with SIGBUS.
  if (hi <= lo) return absl::OkStatus();
  // Mapped at both ends: most likely mapped whole (this process wrote or
  // restored it before), and populating again would only walk the page
  // tables (~0.08 s per GiB measured). Two pagemap reads decide.
  const uint8_t* p = wksp.laddr(lo);
  if (io::PagePresent(p) && io::PagePresent(p + (hi - lo - 1))) {
    return absl::OkStatus();
  }
  absl::Status st = io::Populate({p, hi - lo}, what);
  if (!st.ok()) [[unlikely]] {
    return Annotate(st, absl::StrFormat("pre-faulting workspace memory [%u, %u)", lo, hi));
  }
  return absl::OkStatus();
}

}  // namespace wk::wksp_checkpt::internal
