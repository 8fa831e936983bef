// wksp_ctl's incremental checkpoint commands (docs/wksp_ctl.md, "Incremental
// checkpoints"): the --base and --delta settings, apply, checkpt-merge, and
// what checkpt-query and checkpt-verify say of deltas and chains.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/output.h"
#include "apps/parse.h"
#include "apps/progress.h"
#include "nlohmann/json.hpp"
#include "util/clock.h"
#include "util/status.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::apps {
namespace {

std::string DeltaText(const std::string& path, int verbose,
                      const wksp_checkpt::DeltaDescription& d) {
  std::string s = absl::StrFormat(
      "delta checkpoint %s\n"
      "\tstyle                  %d (%s)\n"
      "\tname                   %s\n"
      "\tseed                   %u\n"
      "\tpart_max               %u\n"
      "\tdata_max               %u\n"
      "\tbase state             %s\n"
      "\tstate                  %s\n"
      "\tallocations            %u\n"
      "\tchunks changed         %u of %u (64 KiB chunks)\n",
      path, wksp_checkpt::StyleNumber(d.style),
      d.style == wksp_checkpt::Style::kV2 ? "chunks as is" : "LZ4 chunks",
      d.name, d.seed, d.part_max, d.data_max, d.base_id, d.state_id, d.allocs,
      d.changed, d.chunks);
  if (verbose >= 1) {
    absl::StrAppendFormat(&s,
                          "\tallocation bytes       %u\n"
                          "\tgroups                 %u\n"
                          "\tfile bytes             %u\n",
                          d.alloc_bytes, d.groups, d.file_bytes);
  }
  return s;
}

std::string DeltaJson(const std::string& path, int verbose,
                      const wksp_checkpt::DeltaDescription& d) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["schema_version"] = kJsonSchemaVersion;
  j["path"] = path;
  j["verbose"] = verbose;
  j["delta"] = true;
  j["style"] = wksp_checkpt::StyleNumber(d.style);
  j["name"] = d.name;
  j["seed"] = d.seed;
  j["part_max"] = absl::StrFormat("%u", d.part_max);
  j["data_max"] = absl::StrFormat("%u", d.data_max);
  j["base_state"] = d.base_id;
  j["state"] = d.state_id;
  j["allocations"] = absl::StrFormat("%u", d.allocs);
  j["chunks"] = absl::StrFormat("%u", d.chunks);
  j["chunks_changed"] = absl::StrFormat("%u", d.changed);
  if (verbose >= 1) {
    j["allocation_bytes"] = absl::StrFormat("%u", d.alloc_bytes);
    j["groups"] = absl::StrFormat("%u", d.groups);
    j["file_bytes"] = absl::StrFormat("%u", d.file_bytes);
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

}  // namespace

absl::StatusOr<Action> SetBase(Settings& s, Args a) {
  s.base = a[0];
  if (s.base == "-") s.base.clear();  // back to full checkpoints
  return Action();
}

absl::StatusOr<Action> AddDelta(Settings& s, Args a) {
  s.deltas.push_back(a[0]);
  return Action();
}

absl::StatusOr<Action> Apply(Settings& s, Args a) {
  WK_ASSIGN_OR_RETURN(std::string name, Name(a[0]));
  const std::string path = a[1];
  const Settings set = s;
  return Action([=]() -> absl::Status {
    WK_ASSIGN_OR_RETURN(wksp::Wksp w, JoinToWrite(name));
    Progress progress(absl::StrFormat("apply %s", w.name()), stderr,
                      set.progress);
    wksp_checkpt::RestoreOptions opt;
    opt.threads = set.threads;
    opt.progress = progress.Callback();
    WK_RETURN_IF_ERROR(wksp_checkpt::ApplyDelta(w, path, opt));
    WK_ASSIGN_OR_RETURN(wksp::Usage u, w.GetUsage());
    progress.Finish(u.used_sz, "");
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> CheckptMerge(Settings& s, Args a) {
  const std::string base = a[0], out = a[1];
  WK_ASSIGN_OR_RETURN(mode_t mode, ParseMode(a[2]));
  WK_ASSIGN_OR_RETURN(const wksp_checkpt::Style style, ParseStyle(a[3]));
  WK_ASSIGN_OR_RETURN(const std::string uinfo, ParseUinfo(a[4]));
  if (out == "-") {
    return absl::InvalidArgumentError("checkpt-merge writes to a path, not '-'");
  }
  const Settings set = s;
  s.deltas.clear();
  return Action([=]() -> absl::Status {
    std::vector<std::string> chain{base};
    chain.insert(chain.end(), set.deltas.begin(), set.deltas.end());
    wksp_checkpt::CheckptOptions opt;
    opt.style = style;
    opt.mode = mode;
    opt.uinfo = uinfo;
    opt.threads = set.threads;
    opt.durable = set.durable;
    opt.deterministic = set.deterministic;
    opt.sealed = set.sealed;
    return wksp_checkpt::MergeChain(chain, out, opt);
  });
}

absl::Status QueryDelta(const std::string& path, int verbose, bool json) {
  WK_ASSIGN_OR_RETURN(wksp_checkpt::DeltaDescription d,
                      wksp_checkpt::DescribeDelta(path));
  return Print(json ? DeltaJson(path, verbose, d) : DeltaText(path, verbose, d));
}

absl::Status VerifyDeltaOrChain(const std::string& path,
                                const std::vector<std::string>& deltas,
                                const Settings& set) {
  wksp_checkpt::VerifyOptions opt;
  opt.threads = set.threads;
  const int64_t t0 = MonotonicNs();
  if (deltas.empty()) {
    WK_ASSIGN_OR_RETURN(wksp_checkpt::DeltaDescription d,
                        wksp_checkpt::VerifyDelta(path, opt));
    const double dt =
        std::max(static_cast<double>(MonotonicNs() - t0) / 1e9, 1e-9);
    return Print(absl::StrFormat(
        "checkpt-verify %s: OK: delta, v%d, every checksum matches; %u "
        "allocations, %u of %u chunks stored (%u bytes), %u file bytes in "
        "%.3f s; base state %s, state %s\n",
        path, wksp_checkpt::StyleNumber(d.style), d.allocs, d.changed,
        d.chunks, d.changed_bytes, d.file_bytes, dt, d.base_id, d.state_id));
  }
  std::vector<std::string> chain{path};
  chain.insert(chain.end(), deltas.begin(), deltas.end());
  std::vector<std::string> lines;
  absl::Status st = wksp_checkpt::VerifyChain(chain, opt, &lines);
  std::string text;
  for (const auto& l : lines) absl::StrAppend(&text, l, "\n");
  if (st.ok()) {
    absl::StrAppendFormat(&text, "checkpt-verify: OK: chain of %u files\n",
                          chain.size());
  }
  WK_RETURN_IF_ERROR(Print(text));
  return st;
}

}  // namespace wk::apps
