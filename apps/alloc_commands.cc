// wksp_ctl's commands on allocations and their memory: alloc, free, tag-free,
// memset.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "util/bits.h"
#include "util/status.h"
#include "wksp/wksp.h"

namespace wk::apps {

absl::StatusOr<Action> Alloc(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t align, ParseU64(a[1], "align"));
  if (align && !IsPow2(align)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad align \"%s\": must be 0 or a power of two", a[1]));
  }
  WK_ASSIGN_OR_RETURN(uint64_t sz, ParseSize(a[2], "sz"));
  if (sz == 0) return absl::InvalidArgumentError("bad sz \"0\": must be >= 1");
  const uint64_t tag = s.tag;
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(name));
    WK_ASSIGN_OR_RETURN(uint64_t gaddr, w.Alloc(align, sz, tag));
    if (json) return Print(AllocJson(w.name(), gaddr, sz, align, tag));
    return Print(FormatGaddr(w.name(), gaddr) + "\n");
  });
}

absl::StatusOr<Action> Free(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(GaddrRef ref, ParseGaddr(a[0]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(ref.name));
    return w.Free(ref.gaddr);
  });
}

absl::StatusOr<Action> TagFree(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t tag, TagArg(a[1]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(name));
    uint64_t tags[] = {tag};
    return w.TagFree(tags).status();
  });
}

absl::StatusOr<Action> Memset(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(GaddrRef ref, ParseGaddr(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t c, ParseRange(a[1], "byte", 0, 255));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(ref.name));
    return w.Memset(ref.gaddr, static_cast<int>(c));
  });
}

}  // namespace wk::apps
