// Text and JSON formats of wksp_ctl's reports (see output.h).
#include "apps/output.h"

#include "absl/strings/str_format.h"

namespace wk::apps {
namespace {

// Builds one JSON object, keys in insertion order.
class Obj {
 public:
  Obj& U(std::string_view key, uint64_t v) {
    return Raw(key, absl::StrFormat("%u", v));
  }
  Obj& S(std::string_view key, std::string_view v) {
    return Raw(key, JsonString(v));
  }
  Obj& Raw(std::string_view key, std::string_view raw) {
    absl::StrAppendFormat(&s_, "%s%s:%s", s_.empty() ? "{" : ",",
                          JsonString(key), raw);
    return *this;
  }
  std::string Done() const { return s_.empty() ? "{}" : s_ + "}"; }

 private:
  std::string s_;
};

std::string UsageObj(const wksp::Usage& u) {
  return Obj()
      .U("total_max", u.total_max)
      .U("total_cnt", u.total_cnt)
      .U("total_sz", u.total_sz)
      .U("free_cnt", u.free_cnt)
      .U("free_sz", u.free_sz)
      .U("used_cnt", u.used_cnt)
      .U("used_sz", u.used_sz)
      .U("largest_free", u.largest_free)
      .Done();
}

std::string PartsArray(const std::vector<wksp::PartitionInfo>& parts) {
  std::string s = "[";
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    absl::StrAppendFormat(&s, "%s{\"lo\":%u,\"hi\":%u,\"sz\":%u,\"tag\":%u}",
                          i ? "," : "", p.lo, p.hi, p.hi - p.lo, p.tag);
  }
  return s + "]";
}

}  // namespace

std::string JsonString(std::string_view text) {
  std::string s = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      s += '\\';
      s += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      absl::StrAppendFormat(&s, "\\u%04x", c);
    } else {
      s += ch;
    }
  }
  return s + "\"";
}

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
  return Obj()
             .S("wksp", name)
             .Raw("usage", UsageObj(u))
             .U("tag", tag)
             .U("tagged_cnt", u.tagged_cnt)
             .U("tagged_sz", u.tagged_sz)
             .Done() +
         "\n";
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
  return Obj()
             .S("wksp", s.name)
             .U("seed", s.seed)
             .U("part_max", s.part_max)
             .U("data_max", s.data_max)
             .U("gaddr_lo", s.gaddr_lo)
             .U("gaddr_hi", s.gaddr_hi)
             .U("footprint", s.footprint)
             .S("page_size", s.page_size)
             .Raw("usage", UsageObj(s.usage))
             .Raw("partitions", PartsArray(s.partitions))
             .Done() +
         "\n";
}

std::string CheckptJson(std::string_view path, int verbose,
                        const wksp_checkpt::Preview& p,
                        const std::vector<wksp::PartitionInfo>* allocs,
                        bool list_allocs) {
  Obj o;
  o.S("path", path)
      .U("verbose", static_cast<uint64_t>(verbose))
      .U("style", static_cast<uint64_t>(wksp_checkpt::StoredStyle(p.style)))
      .U("frame_style_compressed",
         static_cast<uint64_t>(wksp_checkpt::StoredFrameStyle(p.style)))
      .S("name", p.name)
      .U("seed", p.seed)
      .U("part_max", p.part_max)
      .U("data_max", p.data_max);
  if (allocs) {
    uint64_t bytes = 0;
    for (const auto& a : *allocs) bytes += a.hi - a.lo;
    o.U("alloc_cnt", allocs->size()).U("alloc_bytes", bytes);
    if (list_allocs) o.Raw("allocations", PartsArray(*allocs));
  }
  return o.Done() + "\n";
}

}  // namespace wk::apps
