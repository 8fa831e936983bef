// Intrusive treaps over PartInfo slot arrays (see layout.h).
//
// Used treap: keyed by lo; partitions never overlap, so a lookup by any
// gaddr finds the one partition containing it.
// Free treap: keyed by size (hi - lo). Only one partition per distinct size
// is a treap node; the others of that size hang off it in a doubly linked
// list (same/parent, in_same = 1), so equal sizes cost O(1) to add and
// remove and never unbalance the treap.
//
// Both are max-heaps on PartInfo::prio. The functions trust their inputs
// (indices in range, slot in the stated structure); verify.cc is what checks
// a possibly corrupt workspace. Expected cost O(log n) except where noted.
#ifndef WKSPKIT_WKSP_INTERNAL_TREAP_H_
#define WKSPKIT_WKSP_INTERNAL_TREAP_H_

#include <cstdint>

#include "wksp/internal/layout.h"

namespace wk::wksp::internal {

// A treap: the slot array and where its root index lives.
struct TreapRef {
  PartInfo* p;
  Idx* root;
};

// Used treap. `i` must not be in any treap; its lo/hi/prio are set.
void UsedInsert(TreapRef t, Idx i);
// `i` must be in the treap. Leaves i's treap links null.
void UsedRemove(TreapRef t, Idx i);
// The partition with lo <= g < hi, or kNull.
Idx UsedFind(TreapRef t, uint64_t g);

// Free treap. `i` must not be in any treap or list.
void FreeInsert(TreapRef t, Idx i);
// `i` must be in the treap or one of its lists.
void FreeRemove(TreapRef t, Idx i);
// A partition of the smallest size >= sz (a list member when the size has
// several, which is cheaper to remove), or kNull.
Idx FreeBestFit(TreapRef t, uint64_t sz);
// A free partition of size in [sz, sz_max) that can hold `sz` bytes starting
// at an address aligned to `align`, or kNull. Visits candidates in ascending
// size: O(number of free partitions in that size range). For the rare case
// where FreeBestFit(sz + align - 1) found nothing.
Idx FreeAlignedFit(TreapRef t, uint64_t sz, uint64_t align, uint64_t sz_max);

// In-order successor of treap node i (not of a list member), or kNull.
Idx TreapNext(const PartInfo* p, Idx i);
// Leftmost node of the treap rooted at i (i may be kNull).
Idx TreapFirst(const PartInfo* p, Idx i);

}  // namespace wk::wksp::internal

#endif  // WKSPKIT_WKSP_INTERNAL_TREAP_H_
