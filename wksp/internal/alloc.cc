// Allocator core: best-fit split with full trimming, free with coalescing,
// and the partition-list walks behind usage and tag queries. The caller holds
// the lock (see core.h). The tag store is each operation's commit point, so
// a process killed anywhere in here leaves records a rebuild can use.
#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "util/bits.h"
#include "wksp/internal/core.h"
#include "wksp/internal/lock.h"
#include "wksp/internal/treap.h"

namespace wk::wksp::internal {
namespace {

TreapRef UsedTreap(const Region& r) { return {r.pinfo, &r.hdr->used_root}; }
TreapRef FreeTreap(const Region& r) { return {r.pinfo, &r.hdr->free_root}; }

Idx IdlePop(const Region& r) {
  Idx i = r.hdr->idle_top;
  r.hdr->idle_top = r.pinfo[i].parent;
  return i;
}

void IdlePush(const Region& r, Idx i) {
  PartInfo& q = r.pinfo[i];
  q.lo = q.hi = 0;
  q.prev = q.next = q.left = q.right = q.same = kNull;
  q.in_same = 0;
  q.parent = r.hdr->idle_top;
  r.hdr->idle_top = i;
}

// Makes idle slot j the free partition [lo, hi) just before partition i.
void LinkBefore(const Region& r, Idx i, Idx j, uint64_t lo, uint64_t hi) {
  PartInfo* p = r.pinfo;
  Idx before = p[i].prev;
  p[j].lo = lo;
  p[j].hi = hi;
  p[j].tag = 0;
  p[j].prev = before;
  p[j].next = i;
  p[i].prev = j;
  if (before == kNull) {
    r.hdr->part_head = j;
  } else {
    p[before].next = j;
  }
}

// Makes idle slot j the free partition [lo, hi) just after partition i.
void LinkAfter(const Region& r, Idx i, Idx j, uint64_t lo, uint64_t hi) {
  PartInfo* p = r.pinfo;
  Idx after = p[i].next;
  p[j].lo = lo;
  p[j].hi = hi;
  p[j].tag = 0;
  p[j].prev = i;
  p[j].next = after;
  p[i].next = j;
  if (after == kNull) {
    r.hdr->part_tail = j;
  } else {
    p[after].prev = j;
  }
}

// Unlinks partition j (a neighbour of i, already out of the free treap) and
// gives its range to i.
void Absorb(const Region& r, Idx i, Idx j) {
  PartInfo* p = r.pinfo;
  if (p[i].prev == j) {
    p[i].lo = p[j].lo;
    Idx before = p[j].prev;
    p[i].prev = before;
    if (before == kNull) {
      r.hdr->part_head = i;
    } else {
      p[before].next = i;
    }
  } else {
    p[i].hi = p[j].hi;
    Idx after = p[j].next;
    p[i].next = after;
    if (after == kNull) {
      r.hdr->part_tail = i;
    } else {
      p[after].prev = i;
    }
  }
  IdlePush(r, j);
}

uint64_t LargestFree(const Region& r) {
  const PartInfo* p = r.pinfo;
  Idx x = r.hdr->free_root;
  if (x == kNull) return 0;
  while (p[x].right != kNull) x = p[x].right;
  return p[x].hi - p[x].lo;
}

// Sorted copy of `tags` for membership tests.
std::vector<uint64_t> TagSet(std::span<const uint64_t> tags) {
  std::vector<uint64_t> set(tags.begin(), tags.end());
  std::sort(set.begin(), set.end());
  return set;
}

bool HasTag(const std::vector<uint64_t>& set, uint64_t tag) {
  return std::binary_search(set.begin(), set.end(), tag);
}

}  // namespace

absl::StatusOr<PartitionInfo> AllocLocked(const Region& r, uint64_t align,
                                          uint64_t sz, uint64_t tag) {
  PartInfo* p = r.pinfo;
  TreapRef ft = FreeTreap(r);
  const uint64_t worst = sz + align - 1;  // always fits once aligned
  Idx i = FreeBestFit(ft, worst);
  if (i == kNull && align > 1) [[unlikely]] {
    i = FreeAlignedFit(ft, sz, align, worst);
  }
  if (i == kNull) [[unlikely]] {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "workspace %s: no free partition can hold %u bytes aligned to %u "
        "(largest free partition is %u bytes)",
        r.hdr->name, sz, align, LargestFree(r)));
  }
  const uint64_t lo = p[i].lo, hi = p[i].hi;
  const uint64_t r0 = AlignUp(lo, align);
  const uint64_t r1 = r0 + sz;
  const int slots_needed = (r0 > lo) + (r1 < hi);
  Idx top = r.hdr->idle_top;
  bool have_slots =
      slots_needed == 0 ||
      (top != kNull && (slots_needed == 1 || p[top].parent != kNull));
  if (!have_slots) [[unlikely]] {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "workspace %s: all %u partition slots are in use, none left to trim "
        "a %u byte allocation (create the workspace with a larger part_max)",
        r.hdr->name, r.part_max, sz));
  }

  OrderedStore(&r.hdr->op, kOpAlloc);
  FreeRemove(ft, i);
  if (r0 > lo) {
    Idx j = IdlePop(r);
    LinkBefore(r, i, j, lo, r0);
    p[i].lo = r0;
    FreeInsert(ft, j);
  }
  if (r1 < hi) {
    Idx j = IdlePop(r);
    LinkAfter(r, i, j, r1, hi);
    p[i].hi = r1;
    FreeInsert(ft, j);
  }
  CriticalSectionPoint("alloc: trimmed, not yet tagged");
  OrderedStore(&p[i].tag, tag);  // the allocation exists from here on
  CriticalSectionPoint("alloc: tagged, not yet in the used treap");
  UsedInsert(UsedTreap(r), i);
  OrderedStore(&r.hdr->op, kOpNone);
  return PartitionInfo{r0, r1, tag};
}

void FreeLocked(const Region& r, Idx i) {
  PartInfo* p = r.pinfo;
  TreapRef ft = FreeTreap(r);
  OrderedStore(&r.hdr->op, kOpFree);
  OrderedStore(&p[i].tag, 0);  // the allocation is gone from here on
  CriticalSectionPoint("free: untagged, still in the used treap");
  UsedRemove(UsedTreap(r), i);
  Idx before = p[i].prev;
  if (before != kNull && p[before].tag == 0) {
    FreeRemove(ft, before);
    Absorb(r, i, before);
  }
  Idx after = p[i].next;
  if (after != kNull && p[after].tag == 0) {
    FreeRemove(ft, after);
    Absorb(r, i, after);
  }
  FreeInsert(ft, i);
  OrderedStore(&r.hdr->op, kOpNone);
}

Idx FindUsedLocked(const Region& r, uint64_t g) {
  return UsedFind(UsedTreap(r), g);
}

absl::Status PartitionListError(const Region& r, const char* what, Idx i,
                                uint64_t expected_lo) {
  if (i != kNull && i < r.part_max) {
    const PartInfo& q = r.pinfo[i];
    return absl::DataLossError(absl::StrFormat(
        "workspace %s corrupt: partition list %s at slot %u [%u, %u) "
        "(expected a partition starting at %u; data region [%u, %u))",
        r.hdr->name, what, i, q.lo, q.hi, expected_lo, r.gaddr_lo, r.gaddr_hi));
  }
  return absl::DataLossError(absl::StrFormat(
      "workspace %s corrupt: partition list %s at slot index %u (part_max "
      "%u, expected a partition starting at %u)",
      r.hdr->name, what, i, r.part_max, expected_lo));
}

absl::StatusOr<Usage> UsageLocked(const Region& r,
                                  std::span<const uint64_t> tags) {
  std::vector<uint64_t> set = TagSet(tags);
  Usage u;
  u.total_max = r.part_max;
  const PartInfo* p = r.pinfo;
  absl::Status status = WalkPartitionsLocked(r, [&](Idx i) {
    uint64_t sz = p[i].hi - p[i].lo;
    uint64_t tag = p[i].tag;
    if (tag == 0) {
      ++u.free_cnt;
      u.free_sz += sz;
      u.largest_free = std::max(u.largest_free, sz);
    } else {
      ++u.used_cnt;
      u.used_sz += sz;
      if (HasTag(set, tag)) {
        ++u.tagged_cnt;
        u.tagged_sz += sz;
      }
    }
  });
  if (!status.ok()) [[unlikely]]
    return status;
  u.total_cnt = u.free_cnt + u.used_cnt;
  u.total_sz = u.free_sz + u.used_sz;
  return u;
}

absl::StatusOr<std::vector<PartitionInfo>> UsedPartitionsLocked(
    const Region& r) {
  std::vector<PartitionInfo> out;
  const PartInfo* p = r.pinfo;
  absl::Status status = WalkPartitionsLocked(r, [&](Idx i) {
    if (p[i].tag != 0) out.push_back({p[i].lo, p[i].hi, p[i].tag});
  });
  if (!status.ok()) [[unlikely]]
    return status;
  return out;
}

}  // namespace wk::wksp::internal
