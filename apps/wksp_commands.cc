// wksp_ctl's commands that make, remove and look after a workspace: new,
// delete, check, verify, rebuild, reset.
#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/parse.h"
#include "util/bits.h"
#include "util/status.h"
#include "wksp/shmem.h"
#include "wksp/wksp.h"

namespace wk::apps {
namespace {

// Typical allocation size `new` sizes the partition slots for.
constexpr uint64_t kTypicalAllocSz = 64 * 1024;

// The geometry `new` creates: footprint in whole pages, part_max, data_max.
struct NewPlan {
  std::string name;
  uint64_t part_max = 0, data_max = 0;
  wksp::CreateOptions opt;
};

absl::StatusOr<NewPlan> PlanNew(const Settings& s, Args a) {
  NewPlan n;
  WK_ASSIGN_OR_RETURN(n.name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(wksp::PageSize page_size, ParsePageSizeArg(a[2]));
  WK_ASSIGN_OR_RETURN(std::vector<int> cpus, CpuSeqArg(a[3]));
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[4]));
  const uint64_t page = static_cast<uint64_t>(page_size);
  uint64_t bytes;
  if (HasSizeSuffix(a[1])) {
    WK_ASSIGN_OR_RETURN(bytes, ParseSize(a[1], "page_cnt"));
  } else {
    WK_ASSIGN_OR_RETURN(uint64_t pages, ParseU64(a[1], "page_cnt"));
    if (!MulChecked(pages, page, &bytes)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("page_cnt %u of %s pages overflows", pages,
                          wksp::PageSizeName(page_size)));
    }
  }
  uint64_t footprint;
  if (bytes == 0 || !AlignUpChecked(bytes, page, &footprint)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad page_cnt \"%s\": must give a nonzero size "
                        "below 2^64",
                        a[1]));
  }
  n.part_max = s.part_max ? s.part_max
                          : wksp::Wksp::PartMaxEst(footprint, kTypicalAllocSz);
  n.data_max = wksp::Wksp::DataMaxEst(footprint, n.part_max);
  if (n.part_max == 0 || n.data_max == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%u bytes is too small for a workspace with %s partition slots",
        footprint,
        n.part_max ? absl::StrFormat("%u", n.part_max) : std::string("any")));
  }
  n.opt.page_size = page_size;
  n.opt.mode = mode;
  n.opt.cpu_idx = cpus.front();
  return n;
}

// A command whose only argument is a workspace it joins and acts on.
template <absl::Status (*kOp)(wksp::Wksp&)>
absl::StatusOr<Action> OnWksp(Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  return Action([name]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinWarn(name));
    return kOp(w);
  });
}
absl::Status DoCheck(wksp::Wksp& w) { return w.Check(); }
absl::Status DoVerify(wksp::Wksp& w) { return w.Verify(); }
absl::Status DoReset(wksp::Wksp& w) { return w.Reset(w.seed()); }

}  // namespace

absl::StatusOr<Action> New(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(NewPlan n, PlanNew(s, a));
  return Action([n] {
    return wksp::Wksp::Create(n.name, n.part_max, n.data_max, n.opt).status();
  });
}

absl::StatusOr<Action> Delete(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  const bool force = s.force;
  return Action([name, force]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(std::string path, RegionPath(name));
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "refusing to delete %s: not a regular file, so not a workspace",
          path));
    }
    absl::StatusOr<wksp::Wksp> w = wksp::Wksp::Join(name, /*read_only=*/true);
    if (!w.ok() && !absl::IsDataLoss(w.status())) {
      // Could not look (permission, memory): no verdict on the file.
      return Annotate(w.status(),
                      absl::StrFormat("delete %s: cannot read its header",
                                      path));
    }
    if (!w.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "refusing to delete %s: a %u-byte file that is not a workspace (%s)",
          path, static_cast<uint64_t>(st.st_size), w.status().message()));
    }
    WK_RETURN_IF_ERROR(CheckAttached(name, path, "delete", force));
    return wksp::Wksp::Delete(name);
  });
}

absl::StatusOr<Action> Check(Settings&, Args a) { return OnWksp<DoCheck>(a); }

absl::StatusOr<Action> Verify(Settings&, Args a) { return OnWksp<DoVerify>(a); }

absl::StatusOr<Action> Reset(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  return Action([name]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(name));
    return DoReset(w);
  });
}

absl::StatusOr<Action> Rebuild(Settings&, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  WK_ASSIGN_OR_RETURN(std::optional<uint32_t> seed, ParseSeed(a[1]));
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(name));
    return w.Rebuild(seed.value_or(w.seed()));
  });
}

}  // namespace wk::apps
