// Integrity: the full metadata check, the rebuild from slot records, and
// reset. The caller holds the lock (see core.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "util/status.h"
#include "wksp/internal/core.h"
#include "wksp/internal/treap.h"
#include "wksp/name.h"

namespace wk::wksp::internal {
namespace {

// Where verify has seen each slot.
enum Mark : uint8_t { kUnseen = 0, kIdle = 1, kInList = 2, kInTreap = 3 };

absl::Status Corrupt(const Region& r, const std::string& what) {
  return absl::DataLossError(
      absl::StrFormat("workspace %s corrupt: %s", r.hdr->name, what));
}

// In-order walk of the treap at `root` without recursion. Checks index range,
// that each node is in the partition list and met once, parent links and
// heap order; calls visit(i) in key order.
template <class Visit>
absl::Status WalkTreap(const Region& r, Idx root, std::vector<uint8_t>& marks,
                       const char* which, Visit&& visit) {
  const PartInfo* p = r.pinfo;
  std::vector<Idx> stack;
  Idx cur = root, parent = kNull;
  for (;;) {
    while (cur != kNull) {
      if (cur >= r.part_max) {
        return Corrupt(r, absl::StrFormat("%s treap links to slot index %u "
                                          "(part_max %u)",
                                          which, cur, r.part_max));
      }
      if (marks[cur] != kInList) {
        return Corrupt(
            r,
            absl::StrFormat("%s treap reaches slot %u, which is %s", which, cur,
                            marks[cur] == kInTreap
                                ? "already in a treap (cycle or shared node)"
                                : "not in the partition list"));
      }
      const PartInfo& q = p[cur];
      if (q.parent != parent || q.in_same) {
        return Corrupt(
            r, absl::StrFormat("%s treap slot %u has parent %u (expected %u) "
                               "and in_same %u",
                               which, cur, q.parent, parent, q.in_same));
      }
      if (parent != kNull && p[parent].prio < q.prio) {
        return Corrupt(
            r, absl::StrFormat("%s treap heap order broken at slot %u", which,
                               cur));
      }
      marks[cur] = kInTreap;
      stack.push_back(cur);
      parent = cur;
      cur = q.left;
    }
    if (stack.empty()) return absl::OkStatus();
    Idx i = stack.back();
    stack.pop_back();
    WK_RETURN_IF_ERROR(visit(i));
    parent = i;
    cur = p[i].right;
  }
}

absl::Status VerifyHeader(const Region& r) {
  const Header* h = r.hdr;
  if (h->magic != kMagic) return Corrupt(r, "bad magic");
  if (h->part_max != r.part_max || h->data_max == 0 ||
      h->data_max != r.gaddr_hi - r.gaddr_lo) {
    return Corrupt(
        r, absl::StrFormat("header limits changed (part_max %u, data_max %u; "
                           "joined with %u, %u)",
                           h->part_max, h->data_max, r.part_max,
                           r.gaddr_hi - r.gaddr_lo));
  }
  if (!NameInField(h->name)) {
    return absl::DataLossError("workspace corrupt: bad name in header");
  }
  return absl::OkStatus();
}

// Slots seen in each state.
struct Counts {
  uint64_t idle = 0, free = 0, used = 0;
};

absl::Status VerifyIdleStack(const Region& r, std::vector<uint8_t>& marks,
                             Counts& n) {
  const PartInfo* p = r.pinfo;
  for (Idx i = r.hdr->idle_top; i != kNull; i = p[i].parent) {
    if (i >= r.part_max) {
      return Corrupt(r, absl::StrFormat("idle stack links to slot index %u "
                                        "(part_max %u)",
                                        i, r.part_max));
    }
    if (marks[i] != kUnseen) {
      return Corrupt(r,
                     absl::StrFormat("idle stack has a cycle at slot %u", i));
    }
    if (p[i].tag != 0) {
      return Corrupt(r,
                     absl::StrFormat("idle slot %u has tag %u", i, p[i].tag));
    }
    marks[i] = kIdle;
    ++n.idle;
  }
  return absl::OkStatus();
}

// The address-ordered list: tiles the region, no slot also idle, free
// partitions coalesced.
absl::Status VerifyPartitionList(const Region& r, std::vector<uint8_t>& marks,
                                 Counts& n) {
  const PartInfo* p = r.pinfo;
  absl::Status bad;
  bool last_free = false;
  WK_RETURN_IF_ERROR(WalkPartitionsLocked(r, [&](Idx i) {
    if (!bad.ok()) return;
    if (marks[i] != kUnseen) {
      bad = Corrupt(r,
                    absl::StrFormat("slot %u is both idle and a partition", i));
      return;
    }
    marks[i] = kInList;
    bool is_free = p[i].tag == 0;
    if (is_free && last_free) {
      bad = Corrupt(r, absl::StrFormat(
                           "free partitions not coalesced at slot %u [%u, %u)",
                           i, p[i].lo, p[i].hi));
    }
    last_free = is_free;
    (is_free ? n.free : n.used) += 1;
  }));
  return bad;
}

// The used treap: every allocation, in address order.
absl::Status VerifyUsedTreap(const Region& r, std::vector<uint8_t>& marks,
                             uint64_t used_cnt) {
  const PartInfo* p = r.pinfo;
  uint64_t seen = 0, last_hi = r.gaddr_lo;
  WK_RETURN_IF_ERROR(
      WalkTreap(r, r.hdr->used_root, marks, "used", [&](Idx i) -> absl::Status {
        if (p[i].tag == 0 || p[i].same != kNull || p[i].lo < last_hi) {
          return Corrupt(
              r,
              absl::StrFormat("used treap slot %u [%u, %u) tag %u out of order "
                              "or not an allocation",
                              i, p[i].lo, p[i].hi, p[i].tag));
        }
        last_hi = p[i].hi;
        ++seen;
        return absl::OkStatus();
      }));
  if (seen != used_cnt) {
    return Corrupt(r, absl::StrFormat("used treap holds %u of %u allocations",
                                      seen, used_cnt));
  }
  return absl::OkStatus();
}

// The same-size list hanging off free treap node i (size sz); counts its
// members into *seen.
absl::Status VerifySameList(const Region& r, std::vector<uint8_t>& marks, Idx i,
                            uint64_t sz, uint64_t* seen) {
  const PartInfo* p = r.pinfo;
  for (Idx prev = i, m = p[i].same; m != kNull; prev = m, m = p[m].same) {
    if (m >= r.part_max || marks[m] != kInList) {
      return Corrupt(
          r, absl::StrFormat("same-size list of slot %u reaches slot %u, "
                             "which is out of range, repeated or not free",
                             i, m));
    }
    const PartInfo& q = p[m];
    if (!q.in_same || q.parent != prev || q.tag != 0 || q.hi - q.lo != sz ||
        q.left != kNull || q.right != kNull) {
      return Corrupt(
          r,
          absl::StrFormat("same-size list of slot %u broken at slot %u", i, m));
    }
    marks[m] = kInTreap;
    ++*seen;
  }
  return absl::OkStatus();
}

// The free treap: every free partition, by size, equal sizes in lists.
absl::Status VerifyFreeTreap(const Region& r, std::vector<uint8_t>& marks,
                             uint64_t free_cnt) {
  const PartInfo* p = r.pinfo;
  uint64_t seen = 0, last_sz = 0;
  WK_RETURN_IF_ERROR(
      WalkTreap(r, r.hdr->free_root, marks, "free", [&](Idx i) -> absl::Status {
        uint64_t sz = p[i].hi - p[i].lo;
        if (p[i].tag != 0 || sz <= last_sz) {
          return Corrupt(
              r,
              absl::StrFormat("free treap slot %u [%u, %u) tag %u out of order "
                              "or not free",
                              i, p[i].lo, p[i].hi, p[i].tag));
        }
        last_sz = sz;
        ++seen;
        return VerifySameList(r, marks, i, sz, &seen);
      }));
  if (seen != free_cnt) {
    return Corrupt(
        r, absl::StrFormat("free treap holds %u of %u free partitions", seen,
                           free_cnt));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyLocked(const Region& r) {
  WK_RETURN_IF_ERROR(VerifyHeader(r));
  std::vector<uint8_t> marks(r.part_max, kUnseen);
  Counts n;
  WK_RETURN_IF_ERROR(VerifyIdleStack(r, marks, n));
  WK_RETURN_IF_ERROR(VerifyPartitionList(r, marks, n));
  if (n.idle + n.free + n.used != r.part_max) {
    return Corrupt(
        r, absl::StrFormat("%u idle + %u free + %u used slots != part_max %u "
                           "(slots lost)",
                           n.idle, n.free, n.used, r.part_max));
  }
  WK_RETURN_IF_ERROR(VerifyUsedTreap(r, marks, n.used));
  return VerifyFreeTreap(r, marks, n.free);
}

absl::Status RebuildLocked(const Region& r, uint32_t seed) {
  PartInfo* p = r.pinfo;
  const uint64_t pm = r.part_max;

  // Validate everything before the first write: the tagged slots, in
  // address order, must fit the workspace (wksp/geometry.h).
  std::vector<Idx> used;
  for (uint64_t i = 0; i < pm; ++i) {
    if (p[i].tag != 0) used.push_back(static_cast<Idx>(i));
  }
  std::sort(used.begin(), used.end(), [p](Idx a, Idx b) {
    return p[a].lo != p[b].lo ? p[a].lo < p[b].lo : a < b;
  });
  {
    std::vector<PartitionInfo> parts;
    parts.reserve(used.size());
    for (Idx u : used) parts.push_back({p[u].lo, p[u].hi, p[u].tag});
    absl::Status fit = CheckFit(parts, {pm, r.gaddr_lo, r.gaddr_hi}, used);
    if (!fit.ok()) [[unlikely]] {
      return Annotate(
          fit, absl::StrFormat("workspace %s: cannot rebuild", r.hdr->name));
    }
  }

  Header* h = r.hdr;
  OrderedStore(&h->op, kOpRebuild);
  std::vector<Idx> spare;
  spare.reserve(pm - used.size());
  for (uint64_t i = 0; i < pm; ++i) {
    p[i].prio = SlotPrio(seed, i);
    if (p[i].tag == 0) spare.push_back(static_cast<Idx>(i));
  }
  h->used_root = h->free_root = h->idle_top = kNull;
  h->part_head = h->part_tail = kNull;
  TreapRef ut{p, &h->used_root}, ft{p, &h->free_root};
  size_t next_spare = 0;
  Idx prev = kNull;
  auto append = [&](Idx i, uint64_t lo, uint64_t hi) {
    p[i].lo = lo;
    p[i].hi = hi;
    p[i].prev = prev;
    p[i].next = kNull;
    if (prev == kNull) {
      h->part_head = i;
    } else {
      p[prev].next = i;
    }
    prev = i;
  };
  auto add_free = [&](uint64_t lo, uint64_t hi) {
    Idx f = spare[next_spare++];
    append(f, lo, hi);
    FreeInsert(ft, f);
  };
  uint64_t g = r.gaddr_lo;
  for (Idx u : used) {
    if (p[u].lo > g) add_free(g, p[u].lo);
    append(u, p[u].lo, p[u].hi);
    UsedInsert(ut, u);
    g = p[u].hi;
  }
  if (g < r.gaddr_hi) add_free(g, r.gaddr_hi);
  h->part_tail = prev;
  // Idle slots: pushed high to low so the lowest index is popped first.
  for (size_t k = spare.size(); k > next_spare; --k) {
    PartInfo& q = p[spare[k - 1]];
    q.lo = q.hi = 0;
    q.prev = q.next = q.left = q.right = q.same = kNull;
    q.in_same = 0;
    q.parent = h->idle_top;
    h->idle_top = spare[k - 1];
  }
  __atomic_store_n(&h->seed, seed, __ATOMIC_RELAXED);
  h->corrupt = 0;
  OrderedStore(&h->op, kOpNone);
  return absl::OkStatus();
}

void ResetLocked(const Region& r, uint32_t seed) {
  OrderedStore(&r.hdr->op, kOpReset);
  for (uint64_t i = 0; i < r.part_max; ++i) r.pinfo[i].tag = 0;
  // With no allocations the rebuild needs one slot and part_max >= 1, so it
  // cannot fail.
  absl::Status status = RebuildLocked(r, seed);
  (void)status;
}

}  // namespace wk::wksp::internal
