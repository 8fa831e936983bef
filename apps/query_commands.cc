// wksp_ctl's reports on workspaces, which change nothing: list, info,
// tag-query, usage, query.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/list.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "util/status.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::apps {

absl::StatusOr<Action> List(Settings& s, Args) {
  const bool json = s.json;
  return Action([json]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(std::vector<ListEntry> entries, ListWorkspaces());
    return Print(json ? ListJson(entries) : ListText(entries));
  });
}

absl::StatusOr<Action> Info(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t tag, TagArg(a[1]));
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    uint64_t tags[] = {tag};
    WK_ASSIGN_OR_RETURN(std::vector<wksp::PartitionInfo> parts,
                        w.TagQuery(tags));
    std::optional<wksp::PartitionInfo> first;
    if (!parts.empty()) first = parts[0];
    if (json) return Print(InfoJson(w.name(), tag, first));
    if (!first) return Print("- 0\n");
    return Print(absl::StrFormat("%s %u\n", FormatGaddr(w.name(), first->lo),
                                 first->hi - first->lo));
  });
}

absl::StatusOr<Action> TagQuery(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(GaddrRef ref, ParseGaddr(a[0]));
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(ref.name));
    WK_ASSIGN_OR_RETURN(uint64_t tag, w.Tag(ref.gaddr));
    if (json) return Print(TagQueryJson(w.name(), ref.gaddr, tag));
    return Print(absl::StrFormat("%u\n", tag));
  });
}

absl::StatusOr<Action> UsageCmd(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(uint64_t tag, TagArg(a[1]));
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    uint64_t tags[] = {tag};
    WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage(tags));
    return Print(json ? UsageJson(w.name(), tag, u)
                      : UsageText(w.name(), tag, u));
  });
}

absl::StatusOr<Action> Query(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  const bool json = s.json;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    WkspSummary sum;
    {
      // One lock for both, so the list and the counts agree.
      WK_ASSIGN_OR_RETURN(wksp::LockGuard guard, w.Lock());
      WK_ASSIGN_OR_RETURN(std::vector<wksp::PartitionInfo> used,
                          wksp::UsedPartitionsLocked(w));
      WK_ASSIGN_OR_RETURN(sum.usage, wksp::UsageLocked(w));
      sum.partitions = WithFreeGaps(used, w.gaddr_lo(), w.gaddr_hi());
    }
    sum.name = std::string(w.name());
    sum.seed = w.seed();
    sum.part_max = w.part_max();
    sum.data_max = w.data_max();
    sum.gaddr_lo = w.gaddr_lo();
    sum.gaddr_hi = w.gaddr_hi();
    sum.footprint = w.footprint();
    sum.page_size = wksp::PageSizeName(w.page_size());
    return Print(json ? QueryJson(sum) : QueryText(sum));
  });
}

}  // namespace wk::apps
