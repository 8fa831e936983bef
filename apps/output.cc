// Text and JSON formats of wksp_ctl's reports (see output.h).
#include "apps/output.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace wk::apps {
namespace {

using Json = nlohmann::ordered_json;

// A 64-bit quantity, exact for every JSON reader (see output.h).
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
  j["total_sz"] = U64(u.total_sz);
  j["free_cnt"] = u.free_cnt;
  j["free_sz"] = U64(u.free_sz);
  j["used_cnt"] = u.used_cnt;
  j["used_sz"] = U64(u.used_sz);
  j["largest_free"] = U64(u.largest_free);
  return j;
}

Json PartsArray(const std::vector<wksp::PartitionInfo>& parts) {
  Json a = Json::array();
  for (const auto& p : parts) {
    Json e;
    e["lo"] = U64(p.lo);
    e["hi"] = U64(p.hi);
    e["sz"] = U64(p.hi - p.lo);
    e["tag"] = U64(p.tag);
    a.push_back(std::move(e));
  }
  return a;
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
  j["tag"] = U64(tag);
  j["tagged_cnt"] = u.tagged_cnt;
  j["tagged_sz"] = U64(u.tagged_sz);
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
  j["data_max"] = U64(s.data_max);
  j["gaddr_lo"] = U64(s.gaddr_lo);
  j["gaddr_hi"] = U64(s.gaddr_hi);
  j["footprint"] = U64(s.footprint);
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
  j["style"] = wksp_checkpt::StoredStyle(p.style);
  j["name"] = p.name;
  j["seed"] = p.seed;
  j["part_max"] = p.part_max;
  j["data_max"] = U64(p.data_max);
  if (v2) j["frame_style_compressed"] = wksp_checkpt::StoredFrameStyle(p.style);
  if (verbose >= 1 && d.has_info) {
    j["magic"] = absl::StrFormat("%016x", d.magic);
    j["wallclock"] = absl::StrFormat("%d", d.wallclock);
    const struct {
      const char* key;
      uint64_t id;
      const std::string* text;
    } rows[] = {
        {"app", d.app_id, &d.app},       {"thread", d.thread_id, &d.thread},
        {"host", d.host_id, &d.host},    {"cpu", d.cpu_id, &d.cpu},
        {"group", d.group_id, &d.group}, {"tid", d.tid, nullptr},
        {"user", d.user_id, &d.user}};
    for (const auto& r : rows) {
      j[absl::StrCat(r.key, "_id")] = U64(r.id);
      if (r.text) j[r.key] = *r.text;
    }
  }
  if (verbose >= 2 && d.has_info) {
    if (v2) {
      j["mode"] = absl::StrFormat("%03o", d.mode);
      j["info_path"] = d.path;
    }
    j["binfo"] = d.binfo;
    j["uinfo"] = d.uinfo;
  }
  if (verbose >= 3 && d.has_allocs) {
    uint64_t bytes = 0, largest = 0;
    for (const auto& a : d.allocs) {
      bytes += a.hi - a.lo;
      largest = std::max(largest, a.hi - a.lo);
    }
    if (v2) {
      j["file_sz"] = U64(d.file_sz);
      j["cgroup_cnt"] = d.cgroups;
      j["volume_cnt"] = d.volumes;
      j["sealed"] = d.sealed;
    }
    j["alloc_cnt"] = d.allocs.size();
    j["alloc_bytes"] = U64(bytes);
    j["largest_alloc"] = U64(largest);
    j["free_bytes"] = U64(p.data_max - bytes);
    if (verbose >= 4) j["allocations"] = PartsArray(d.allocs);
  }
  return Line(j);
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
    absl::StrAppendFormat(
        &out, "%-20s %-8s %14u %14s %-14s %-10s %s\n", e.name, e.page_size,
        e.footprint, used, e.lock, e.mark,
        e.attached.empty() ? "-" : absl::StrJoin(e.attached, ","));
  }
  return out;
}

std::string ListJson(const std::vector<ListEntry>& entries) {
  Json j = Object();
  Json a = Json::array();
  for (const ListEntry& e : entries) {
    Json o;
    o["name"] = e.name;
    o["page_size"] = e.page_size;
    o["path"] = e.path;
    o["file_sz"] = U64(e.file_sz);
    o["is_wksp"] = e.is_wksp;
    if (!e.is_wksp) {
      o["error"] = e.error;
    } else {
      o["footprint"] = U64(e.footprint);
      o["part_max"] = e.part_max;
      o["data_max"] = U64(e.data_max);
      if (e.used_sz) o["used_sz"] = U64(*e.used_sz);
      if (e.used_cnt) o["used_cnt"] = *e.used_cnt;
      o["lock"] = e.lock;
      o["restore_mark"] = e.mark;
      o["attached"] = e.attached;
    }
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
  j["allocs"] = U64(r.allocs);
  j["data_bytes"] = U64(r.data_bytes);
  j["file_bytes"] = U64(r.file_bytes);
  j["seconds"] = seconds;
  return Line(j);
}

}  // namespace wk::apps
