#include "wksp/checkpt/format.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "util/fault.h"
#include "util/hash.h"
#include "wksp/geometry.h"

namespace wk::wksp_checkpt::format {
namespace {

absl::Status Bad(std::string_view what) {
  return absl::DataLossError(absl::StrFormat("corrupt checkpoint: %s", what));
}

// The info strings in file order with their size limits (NUL included).
struct InfoString {
  std::string Info::*field;
  uint64_t max;
};
constexpr InfoString kInfoStrings[] = {
    {&Info::app, kLogStrMax},    {&Info::thread, kLogStrMax},
    {&Info::host, kLogStrMax},   {&Info::cpu, kLogStrMax},
    {&Info::group, kLogStrMax},  {&Info::user, kLogStrMax},
    {&Info::path, kPathMax},     {&Info::binfo, kInfoStrMax},
    {&Info::uinfo, kInfoStrMax},
};
constexpr size_t kInfoStringCnt = std::size(kInfoStrings);
constexpr size_t kInfoSzOff = 72;  // sz_app; the others follow

}  // namespace

void EncodeHeader(const Header& h, uint8_t out[kHeaderSz]) {
  StoreU64(out + 0, kMagic);
  StoreU32(out + 8, static_cast<uint32_t>(h.style));
  StoreU32(out + 12, static_cast<uint32_t>(h.frame_style_compressed));
  StoreU32(out + 16, h.reserved);
  wksp::StoreNameField(reinterpret_cast<char*>(out + kHeaderNameOff), h.name);
  StoreU32(out + 60, h.seed);
  StoreU64(out + 64, h.part_max);
  StoreU64(out + 72, h.data_max);
}

absl::Status DecodeHeader(std::span<const uint8_t> in, Header* h) {
  // Counted by tests: each read of a checkpoint decodes its header once.
  (void)FaultPoint(FaultEvent::kHeader);
  if (in.size() < kHeaderSz) [[unlikely]]
    return Bad("header truncated");
  const uint8_t* p = in.data();
  if (LoadU64(p) != kMagic) [[unlikely]]
    return Bad("bad magic");
  h->style = static_cast<int32_t>(LoadU32(p + 8));
  h->frame_style_compressed =
      static_cast<checkpt::FrameStyle>(static_cast<int32_t>(LoadU32(p + 12)));
  h->reserved = LoadU32(p + 16);
  if (h->style != kFileStyleV2) [[unlikely]] {
    return Bad(
        absl::StrFormat("header style %d (want %d)", h->style, kFileStyleV2));
  }
  if (h->frame_style_compressed != checkpt::FrameStyle::kRaw &&
      h->frame_style_compressed != checkpt::FrameStyle::kLz4) [[unlikely]] {
    return Bad(absl::StrFormat("unknown frame style %d",
                               static_cast<int>(h->frame_style_compressed)));
  }
  if (h->reserved != 0) [[unlikely]]
    return Bad("header reserved field not 0");
  std::optional<std::string_view> name =
      wksp::NameInField(reinterpret_cast<const char*>(p + kHeaderNameOff));
  if (!name) [[unlikely]]
    return Bad("header has an invalid workspace name");
  h->name = *name;
  h->seed = LoadU32(p + 60);
  h->part_max = LoadU64(p + 64);
  h->data_max = LoadU64(p + 72);
  absl::Status geometry = wksp::Footprint(h->part_max, h->data_max).status();
  if (!geometry.ok()) [[unlikely]] {
    return Bad(absl::StrFormat("header %s", std::string(geometry.message())));
  }
  return absl::OkStatus();
}

void EncodeInfo(const Info& info, uint8_t out[kInfoSz], std::string* strings) {
  StoreU64(out + 0, info.mode);
  StoreU64(out + 8, static_cast<uint64_t>(info.wallclock));
  StoreU64(out + 16, info.app_id);
  StoreU64(out + 24, info.thread_id);
  StoreU64(out + 32, info.host_id);
  StoreU64(out + 40, info.cpu_id);
  StoreU64(out + 48, info.group_id);
  StoreU64(out + 56, info.tid);
  StoreU64(out + 64, info.user_id);
  strings->clear();
  for (size_t i = 0; i < kInfoStringCnt; ++i) {
    const std::string& s = info.*kInfoStrings[i].field;
    // Stop at an embedded NUL and truncate to the limit, so the reader's
    // "first NUL at sz-1" rule always holds.
    size_t len = std::min({s.size(), std::strlen(s.c_str()),
                           static_cast<size_t>(kInfoStrings[i].max - 1)});
    strings->append(s.data(), len);
    strings->push_back('\0');
    StoreU64(out + kInfoSzOff + 8 * i, len + 1);
  }
}

absl::Status DecodeInfoStruct(std::span<const uint8_t> in, Info* info,
                              uint64_t* strings_sz) {
  if (in.size() < kInfoSz) [[unlikely]]
    return Bad("info truncated");
  const uint8_t* p = in.data();
  info->mode = LoadU64(p + 0);
  info->wallclock = static_cast<int64_t>(LoadU64(p + 8));
  info->app_id = LoadU64(p + 16);
  info->thread_id = LoadU64(p + 24);
  info->host_id = LoadU64(p + 32);
  info->cpu_id = LoadU64(p + 40);
  info->group_id = LoadU64(p + 48);
  info->tid = LoadU64(p + 56);
  info->user_id = LoadU64(p + 64);
  uint64_t total = 0;
  for (size_t i = 0; i < kInfoStringCnt; ++i) {
    uint64_t sz = LoadU64(p + kInfoSzOff + 8 * i);
    if (sz == 0 || sz > kInfoStrings[i].max) [[unlikely]] {
      return Bad(absl::StrFormat("info string %d size %u not in [1, %u]", i, sz,
                                 kInfoStrings[i].max));
    }
    total += sz;
  }
  if (total > kInfoStrTotalMax) [[unlikely]]
    return Bad("info strings too large");
  *strings_sz = total;
  return absl::OkStatus();
}

absl::Status DecodeInfoStrings(std::span<const uint8_t> in, Info* info) {
  // Sizes were validated by DecodeInfoStruct; re-derive them from the
  // caller's layout: each string ends at its first NUL.
  size_t off = 0;
  for (size_t i = 0; i < kInfoStringCnt; ++i) {
    const void* nul = std::memchr(in.data() + off, 0, in.size() - off);
    if (!nul) [[unlikely]]
      return Bad("info string not NUL-terminated");
    size_t len = static_cast<const uint8_t*>(nul) - (in.data() + off);
    (info->*kInfoStrings[i].field)
        .assign(reinterpret_cast<const char*>(in.data() + off), len);
    off += len + 1;
  }
  if (off != in.size()) [[unlikely]]
    return Bad("info string sizes disagree");
  return absl::OkStatus();
}

void EncodeCmd(const Cmd& c, uint8_t out[kCmdSz]) {
  StoreU64(out + 0, c.a);
  StoreU64(out + 8, c.b);
  StoreU64(out + 16, c.c);
}

Cmd DecodeCmd(const uint8_t in[kCmdSz]) {
  return Cmd{LoadU64(in), LoadU64(in + 8), LoadU64(in + 16)};
}

void EncodeFooter(const Footer& f, uint8_t out[kFooterSz]) {
  StoreU64(out + 0, f.alloc_cnt);
  StoreU64(out + 8, f.cgroup_cnt);
  StoreU64(out + 16, f.volume_cnt);
  StoreU64(out + 24, f.frame_off);
  StoreU64(out + 32, f.checkpt_sz);
  StoreU64(out + 40, f.data_max);
  StoreU64(out + 48, f.part_max);
  StoreU32(out + 56, f.seed);
  std::memcpy(out + 60, f.name, wksp::kNameFieldSz);
  StoreU32(out + 100, f.reserved);
  StoreU32(out + 104, static_cast<uint32_t>(f.frame_style_compressed));
  StoreU32(out + 108, static_cast<uint32_t>(f.style));
  StoreU64(out + 112, f.unmagic);
}

Footer DecodeFooter(const uint8_t in[kFooterSz]) {
  Footer f;
  f.alloc_cnt = LoadU64(in + 0);
  f.cgroup_cnt = LoadU64(in + 8);
  f.volume_cnt = LoadU64(in + 16);
  f.frame_off = LoadU64(in + 24);
  f.checkpt_sz = LoadU64(in + 32);
  f.data_max = LoadU64(in + 40);
  f.part_max = LoadU64(in + 48);
  f.seed = LoadU32(in + 56);
  std::memcpy(f.name, in + 60, wksp::kNameFieldSz);
  f.reserved = LoadU32(in + 100);
  f.frame_style_compressed =
      static_cast<checkpt::FrameStyle>(static_cast<int32_t>(LoadU32(in + 104)));
  f.style = static_cast<int32_t>(LoadU32(in + 108));
  f.unmagic = LoadU64(in + 112);
  return f;
}

absl::Status CheckFooterMatchesHeader(const Footer& f, const Header& h,
                                      const uint8_t header_bytes[kHeaderSz]) {
  if (f.unmagic != ~kMagic) [[unlikely]]
    return Bad("footer bad unmagic");
  if (f.style != h.style ||
      f.frame_style_compressed != h.frame_style_compressed ||
      f.reserved != h.reserved || f.seed != h.seed ||
      f.part_max != h.part_max || f.data_max != h.data_max ||
      std::memcmp(f.name, header_bytes + kHeaderNameOff, wksp::kNameFieldSz) !=
          0) [[unlikely]] {
    return Bad("footer does not match header");
  }
  return absl::OkStatus();
}

absl::Status CheckInSource(const Alloc& a, const wksp::Limits& src) {
  if (a.tag == 0 || a.lo >= a.hi || a.lo < src.gaddr_lo || a.hi > src.gaddr_hi)
      [[unlikely]] {
    return Bad(absl::StrFormat(
        "allocation [%u, %u) tag %u outside the checkpoint's data region "
        "[%u, %u)",
        a.lo, a.hi, a.tag, src.gaddr_lo, src.gaddr_hi));
  }
  return absl::OkStatus();
}

std::vector<std::vector<uint32_t>> AssignCgroups(
    std::span<const Alloc> allocs) {
  uint64_t a = allocs.size();
  uint64_t g = std::min((a + kCgroupTarget - 1) / kCgroupTarget, kCgroupMax);
  std::vector<std::vector<uint32_t>> lists(g);
  if (g == 0) return lists;
  std::vector<uint64_t> load(g, 0);
  uint64_t last = 0, cur = 0;
  // Visit in descending lo and prepend, so each list ends up ascending; we
  // append and reverse at the end instead.
  for (uint64_t i = a; i-- > 0;) {
    const Alloc& p = allocs[i];
    uint64_t h = HashU64(p.lo);
    uint64_t c0 = last, c1 = cur, c2 = h % g, c3 = (h >> 32) % g;
    uint64_t x = load[c0] <= load[c1] ? c0 : c1;
    uint64_t y = load[c2] <= load[c3] ? c2 : c3;
    uint64_t k = load[x] <= load[y] ? x : y;
    cur = cur < g - 1 ? cur + 1 : 0;
    last = k;
    load[k] += kCmdSz + (p.hi - p.lo);
    lists[k].push_back(static_cast<uint32_t>(i));
  }
  for (auto& l : lists) std::reverse(l.begin(), l.end());
  return lists;
}

}  // namespace wk::wksp_checkpt::format
