// Text and JSON formats of wksp_ctl's reports (see output.h).
#include "apps/output.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace wk::apps {
namespace {

using Json = nlohmann::ordered_json;

std::string U64(uint64_t v) { return absl::StrFormat("%u", v); }

Json Object() {
  Json j = Json::object();
  j["schema_version"] = kJsonSchemaVersion;
  return j;
}

std::string Line(const Json& j) {
  // Invalid UTF-8 (a name or info text is bytes) becomes U+FFFD rather than
  // an exception or invalid output.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Json UsageObj(const wksp::Usage& u) {
  Json j;
  j["total_max"] = u.total_max;
  j["total_cnt"] = u.total_cnt;
  j["total_sz"] = u.total_sz;
  j["free_cnt"] = u.free_cnt;
  j["free_sz"] = u.free_sz;
  j["used_cnt"] = u.used_cnt;
  j["used_sz"] = u.used_sz;
  j["largest_free"] = u.largest_free;
  return j;
}

Json PartsArray(const std::vector<wksp::PartitionInfo>& parts) {
  Json a = Json::array();
  for (const auto& p : parts) {
    Json e;
    e["lo"] = p.lo;
    e["hi"] = p.hi;
    e["sz"] = p.hi - p.lo;
    e["tag"] = p.tag;
    a.push_back(std::move(e));
  }
  return a;
}

template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json Procs(const std::vector<ProcRef>& procs) {
  Json a = Json::array();
  for (const ProcRef& p : procs) {
    Json e;
    e["pid"] = p.pid;
    e["cmd"] = p.cmd.empty() ? Json(nullptr) : Json(p.cmd);
    a.push_back(std::move(e));
  }
  return a;
}

// Short forms for list's LOCK and RESTORING columns; the long forms
// (DescribeLockHolder/DescribeRestoreMark) are in the messages of the
// commands that meet them.
std::string LockText(const std::optional<wksp::LockHolder>& h) {
  if (!h) return "-";
  if (!h->same_pid_ns) {
    return absl::StrFormat("tid %u of pid:[%u]", h->tid, h->pid_ns);
  }
  return absl::StrFormat("%u(%s)", h->pid,
                         h->liveness == wksp::Liveness::kDead ? "dead"
                         : h->cmd.empty()                     ? "?"
                                                              : h->cmd);
}

std::string MarkText(const std::optional<wksp::RestoreMark>& m) {
  if (!m) return "-";
  return absl::StrFormat("%s by %u", m->in_progress ? "running" : "killed",
                         m->pid);
}

}  // namespace

std::string UsageText(std::string_view name, uint64_t tag,
                      const wksp::Usage& u) {
  return absl::StrFormat(
      "wksp %s\n"
      "\t%20u bytes total (%u partitions of %u)\n"
      "\t%20u bytes used  (%u allocations)\n"
      "\t%20u bytes free  (%u partitions, largest %u bytes)\n"
      "\t%20u bytes tag %u (%u allocations)\n",
      name, u.total_sz, u.total_cnt, u.total_max, u.used_sz, u.used_cnt,
      u.free_sz, u.free_cnt, u.largest_free, u.tagged_sz, tag, u.tagged_cnt);
}

std::string UsageJson(std::string_view name, uint64_t tag,
                      const wksp::Usage& u) {
  Json j = Object();
  j["wksp"] = name;
  j["usage"] = UsageObj(u);
  j["tag"] = tag;
  j["tagged_cnt"] = u.tagged_cnt;
  j["tagged_sz"] = u.tagged_sz;
  return Line(j);
}

std::vector<wksp::PartitionInfo> WithFreeGaps(
    const std::vector<wksp::PartitionInfo>& used, uint64_t lo, uint64_t hi) {
  std::vector<wksp::PartitionInfo> all;
  uint64_t at = lo;
  for (const auto& p : used) {
    if (p.lo > at) all.push_back({at, p.lo, 0});
    all.push_back(p);
    at = p.hi;
  }
  if (at < hi) all.push_back({at, hi, 0});
  return all;
}

std::string QueryText(const WkspSummary& s) {
  std::string out = absl::StrFormat(
      "wksp %s\n"
      "\t%-12s %u\n\t%-12s %u\n\t%-12s %u\n\t%-12s [%u, %u)\n\t%-12s %u\n"
      "\t%-12s %s\n",
      s.name, "seed", s.seed, "part_max", s.part_max, "data_max", s.data_max,
      "gaddr", s.gaddr_lo, s.gaddr_hi, "footprint", s.footprint, "page_size",
      s.page_size);
  const wksp::Usage& u = s.usage;
  absl::StrAppendFormat(&out,
                        "\t%-12s %u of %u partitions, %u bytes\n"
                        "\t%-12s %u allocations, %u bytes\n"
                        "\t%-12s %u partitions, %u bytes, largest %u\n",
                        "total", u.total_cnt, u.total_max, u.total_sz, "used",
                        u.used_cnt, u.used_sz, "free", u.free_cnt, u.free_sz,
                        u.largest_free);
  for (const auto& p : s.partitions) {
    if (p.tag) {
      absl::StrAppendFormat(&out, "\tpartition [%u, %u) sz %u tag %u\n", p.lo,
                            p.hi, p.hi - p.lo, p.tag);
    } else {
      absl::StrAppendFormat(&out, "\tpartition [%u, %u) sz %u free\n", p.lo,
                            p.hi, p.hi - p.lo);
    }
  }
  return out;
}

std::string QueryJson(const WkspSummary& s) {
  Json j = Object();
  j["wksp"] = s.name;
  j["seed"] = s.seed;
  j["part_max"] = s.part_max;
  j["data_max"] = s.data_max;
  j["gaddr_lo"] = s.gaddr_lo;
  j["gaddr_hi"] = s.gaddr_hi;
  j["footprint"] = s.footprint;
  j["page_size"] = s.page_size;
  j["usage"] = UsageObj(s.usage);
  j["partitions"] = PartsArray(s.partitions);
  return Line(j);
}

std::string CheckptJson(std::string_view path, int verbose,
                        const wksp_checkpt::CheckptDescription& d) {
  const wksp_checkpt::Preview& p = d.preview;
  const bool v2 = p.style != wksp_checkpt::Style::kV1;
  Json j = Object();
  j["path"] = path;
  j["verbose"] = verbose;
  // The style as the user writes it (3 for v3), as checkpt-verify says it;
  // the numbers the file stores are in the text form.
  j["style"] = wksp_checkpt::StyleNumber(p.style);
  j["wksp"] = p.name;
  j["seed"] = p.seed;
  j["part_max"] = p.part_max;
  j["data_max"] = p.data_max;
  if (verbose >= 1 && d.has_info) {
    j["magic"] = absl::StrFormat("%016x", d.magic);
    j["wallclock_ns"] = d.wallclock;
    const struct {
      const char* key;
      uint64_t id;
      const std::string* text;
    } rows[] = {
        {"app", d.app_id, &d.app},       {"thread", d.thread_id, &d.thread},
        {"host", d.host_id, &d.host},    {"cpu", d.cpu_id, &d.cpu},
        {"group", d.group_id, &d.group}, {"user", d.user_id, &d.user}};
    for (const auto& r : rows) {
      j[absl::StrCat(r.key, "_id")] = r.id;
      j[r.key] = *r.text;
    }
    j["tid"] = d.tid;
  }
  if (verbose >= 2 && d.has_info) {
    // v1 stores no mode and no path.
    j["mode"] = v2 ? Json(absl::StrFormat("%03o", d.mode)) : Json(nullptr);
    j["info_path"] = v2 ? Json(d.path) : Json(nullptr);
    j["binfo"] = d.binfo;
    j["uinfo"] = d.uinfo;
  }
  if (verbose >= 3 && d.has_allocs) {
    uint64_t bytes = 0, largest = 0;
    for (const auto& a : d.allocs) {
      bytes += a.hi - a.lo;
      largest = std::max(largest, a.hi - a.lo);
    }
    // v1 has no frames, so no cgroups, volumes or seals.
    j["file_sz"] = v2 ? Json(d.file_sz) : Json(nullptr);
    j["cgroup_cnt"] = v2 ? Json(d.cgroups) : Json(nullptr);
    j["volume_cnt"] = v2 ? Json(d.volumes) : Json(nullptr);
    j["sealed"] = v2 && d.sealed;
    j["alloc_cnt"] = d.allocs.size();
    j["alloc_sz"] = bytes;
    j["largest_alloc"] = largest;
    j["free_sz"] = p.data_max - bytes;
    if (verbose >= 4) j["allocations"] = PartsArray(d.allocs);
  }
  return Line(j);
}

std::string FormatProcs(const std::vector<ProcRef>& procs) {
  std::string out;
  for (const ProcRef& p : procs) {
    absl::StrAppendFormat(&out, "%s%u(%s)", out.empty() ? "" : ", ", p.pid,
                          p.cmd.empty() ? "?" : p.cmd);
  }
  return out;
}

std::string ListText(const std::vector<ListEntry>& entries) {
  std::string out =
      absl::StrFormat("%-20s %-8s %14s %14s %-14s %-10s %s\n", "NAME", "PAGES",
                      "SIZE", "USED", "LOCK", "RESTORING", "ATTACHED");
  for (const ListEntry& e : entries) {
    if (!e.is_wksp) {
      absl::StrAppendFormat(&out, "%-20s %-8s %14u %14s %s\n",
                            e.name, e.page_size, e.file_sz, "-", e.error);
      continue;
    }
    std::string used = e.used_sz ? U64(*e.used_sz) : "?";
    std::vector<std::string> attached;
    for (const ProcRef& p : e.attached) {
      attached.push_back(
          absl::StrFormat("%u(%s)", p.pid, p.cmd.empty() ? "?" : p.cmd));
    }
    absl::StrAppendFormat(
        &out, "%-20s %-8s %14u %14s %-14s %-10s %s\n", e.name, e.page_size,
        e.footprint, used, LockText(e.lock), MarkText(e.mark),
        attached.empty() ? "-" : absl::StrJoin(attached, ","));
  }
  return out;
}

std::string ListJson(const std::vector<ListEntry>& entries) {
  Json j = Object();
  Json a = Json::array();
  for (const ListEntry& e : entries) {
    // Every key in every entry; what a region that is not a workspace (or
    // one not readable) cannot tell is null.
    const bool w = e.is_wksp;
    Json o;
    o["wksp"] = e.name;
    o["page_size"] = e.page_size;
    o["path"] = e.path;
    o["file_sz"] = e.file_sz;
    o["is_wksp"] = w;
    o["error"] = w ? Json(nullptr) : Json(e.error);
    o["footprint"] = w ? Json(e.footprint) : Json(nullptr);
    o["part_max"] = w ? Json(e.part_max) : Json(nullptr);
    o["data_max"] = w ? Json(e.data_max) : Json(nullptr);
    o["used_sz"] = OrNull(e.used_sz);
    o["used_cnt"] = OrNull(e.used_cnt);
    Json lock = nullptr;
    if (e.lock) {
      const wksp::LockHolder& h = *e.lock;
      lock = Json::object();
      lock["pid"] = h.pid;
      lock["tid"] = h.tid;
      lock["same_pid_ns"] = h.same_pid_ns;
      lock["cmd"] = h.cmd.empty() ? Json(nullptr) : Json(h.cmd);
      // null: in another pid namespace, so not knowable from here.
      lock["alive"] = h.liveness == wksp::Liveness::kUnknown
                          ? Json(nullptr)
                          : Json(h.liveness == wksp::Liveness::kAlive);
    }
    o["lock"] = std::move(lock);
    Json mark = nullptr;
    if (e.mark) {
      mark = Json::object();
      mark["pid"] = e.mark->pid;
      mark["in_progress"] = e.mark->in_progress;
    }
    o["restore_mark"] = std::move(mark);
    o["attached"] = Procs(e.attached);
    a.push_back(std::move(o));
  }
  j["workspaces"] = std::move(a);
  return Line(j);
}

std::string VerifyJson(std::string_view path,
                       const wksp_checkpt::VerifyReport& r, double seconds) {
  Json j = Object();
  j["path"] = std::string(path);
  j["ok"] = true;
  j["style"] = wksp_checkpt::StyleNumber(r.style);
  j["sealed"] = r.sealed;
  j["alloc_cnt"] = r.allocs;
  j["alloc_sz"] = r.data_bytes;
  j["file_sz"] = r.file_bytes;
  j["seconds"] = seconds;
  return Line(j);
}

std::string AllocJson(std::string_view name, uint64_t gaddr, uint64_t sz,
                      uint64_t align, uint64_t tag) {
  Json j = Object();
  j["wksp"] = name;
  j["gaddr"] = gaddr;
  j["sz"] = sz;
  j["align"] = align;
  j["tag"] = tag;
  return Line(j);
}

std::string InfoJson(std::string_view name, uint64_t tag,
                     std::optional<wksp::PartitionInfo> part) {
  Json j = Object();
  j["wksp"] = name;
  j["tag"] = tag;
  j["gaddr"] = part ? Json(part->lo) : Json(nullptr);
  j["sz"] = part ? Json(part->hi - part->lo) : Json(nullptr);
  return Line(j);
}

std::string TagQueryJson(std::string_view name, uint64_t gaddr, uint64_t tag) {
  Json j = Object();
  j["wksp"] = name;
  j["gaddr"] = gaddr;
  j["tag"] = tag ? Json(tag) : Json(nullptr);  // null: no allocation there
  return Line(j);
}

std::string StylesJson(const std::vector<int>& styles) {
  Json j = Object();
  j["styles"] = styles;
  return Line(j);
}

std::string VersionJson(std::string_view version) {
  Json j = Object();
  j["version"] = version;
  return Line(j);
}

std::string TorrentJson(std::string_view info_hash, std::string_view seed_ep,
                        const std::vector<std::string>& companions) {
  Json j = Object();
  j["info_hash"] = info_hash;
  j["listen"] = seed_ep.empty() ? Json(nullptr) : Json(seed_ep);
  if (!companions.empty()) j["companions"] = companions;
  return Line(j);
}

}  // namespace wk::apps
