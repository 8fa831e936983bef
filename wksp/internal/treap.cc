// Treap mechanics shared by the used and free treaps: rotations keep parent
// links exact so that removal and in-order walks need no stack.
#include "wksp/internal/treap.h"

#include "util/bits.h"

namespace wk::wksp::internal {
namespace {

uint64_t SizeOf(const PartInfo& q) { return q.hi - q.lo; }

// Points whatever referenced `old_child` (its parent's child link or the
// root) at `new_child`. `parent` is old_child's parent.
void ReplaceChild(TreapRef t, Idx parent, Idx old_child, Idx new_child) {
  if (parent == kNull) {
    *t.root = new_child;
  } else if (t.p[parent].left == old_child) {
    t.p[parent].left = new_child;
  } else {
    t.p[parent].right = new_child;
  }
}

// Rotates x above its parent y, keeping in-order order.
void RotateUp(TreapRef t, Idx x) {
  PartInfo* p = t.p;
  Idx y = p[x].parent;
  Idx g = p[y].parent;
  if (p[y].left == x) {
    Idx b = p[x].right;
    p[y].left = b;
    if (b != kNull) p[b].parent = y;
    p[x].right = y;
  } else {
    Idx b = p[x].left;
    p[y].right = b;
    if (b != kNull) p[b].parent = y;
    p[x].left = y;
  }
  p[y].parent = x;
  p[x].parent = g;
  ReplaceChild(t, g, y, x);
}

void SiftUp(TreapRef t, Idx i) {
  PartInfo* p = t.p;
  while (p[i].parent != kNull && p[p[i].parent].prio < p[i].prio) {
    RotateUp(t, i);
  }
}

// Rotates i down until its children all have lower or equal priority.
void SiftDown(TreapRef t, Idx i) {
  PartInfo* p = t.p;
  for (;;) {
    Idx l = p[i].left, r = p[i].right;
    Idx c = l;
    if (c == kNull || (r != kNull && p[r].prio > p[c].prio)) c = r;
    if (c == kNull || p[c].prio <= p[i].prio) return;
    RotateUp(t, c);
  }
}

// Removes treap node i (not a list member) by rotating it down to a leaf.
void TreapRemove(TreapRef t, Idx i) {
  PartInfo* p = t.p;
  for (;;) {
    Idx l = p[i].left, r = p[i].right;
    if (l == kNull && r == kNull) break;
    Idx c = l == kNull ? r : r == kNull ? l : (p[r].prio > p[l].prio ? r : l);
    RotateUp(t, c);
  }
  ReplaceChild(t, p[i].parent, i, kNull);
  p[i].parent = kNull;
}

void ClearLinks(PartInfo& q) {
  q.left = q.right = q.parent = q.same = kNull;
  q.in_same = 0;
}

}  // namespace

Idx TreapFirst(const PartInfo* p, Idx i) {
  if (i == kNull) return kNull;
  while (p[i].left != kNull) i = p[i].left;
  return i;
}

Idx TreapNext(const PartInfo* p, Idx i) {
  if (p[i].right != kNull) return TreapFirst(p, p[i].right);
  Idx c = i, u = p[i].parent;
  while (u != kNull && p[u].right == c) {
    c = u;
    u = p[u].parent;
  }
  return u;
}

void UsedInsert(TreapRef t, Idx i) {
  PartInfo* p = t.p;
  ClearLinks(p[i]);
  uint64_t key = p[i].lo;
  Idx y = kNull;
  for (Idx x = *t.root; x != kNull;) {
    y = x;
    x = key < p[x].lo ? p[x].left : p[x].right;
  }
  p[i].parent = y;
  if (y == kNull) {
    *t.root = i;
  } else if (key < p[y].lo) {
    p[y].left = i;
  } else {
    p[y].right = i;
  }
  SiftUp(t, i);
}

void UsedRemove(TreapRef t, Idx i) {
  TreapRemove(t, i);
  ClearLinks(t.p[i]);
}

Idx UsedFind(TreapRef t, uint64_t g) {
  const PartInfo* p = t.p;
  Idx x = *t.root;
  while (x != kNull) {
    if (g < p[x].lo) {
      x = p[x].left;
    } else if (g >= p[x].hi) {
      x = p[x].right;
    } else {
      return x;
    }
  }
  return kNull;
}

void FreeInsert(TreapRef t, Idx i) {
  PartInfo* p = t.p;
  ClearLinks(p[i]);
  uint64_t key = SizeOf(p[i]);
  Idx y = kNull;
  for (Idx x = *t.root; x != kNull;) {
    uint64_t xs = SizeOf(p[x]);
    if (key == xs) {
      // Join x's same-size list right behind x.
      Idx n = p[x].same;
      p[i].in_same = 1;
      p[i].parent = x;
      p[i].same = n;
      if (n != kNull) p[n].parent = i;
      p[x].same = i;
      return;
    }
    y = x;
    x = key < xs ? p[x].left : p[x].right;
  }
  p[i].parent = y;
  if (y == kNull) {
    *t.root = i;
  } else if (key < SizeOf(p[y])) {
    p[y].left = i;
  } else {
    p[y].right = i;
  }
  SiftUp(t, i);
}

void FreeRemove(TreapRef t, Idx i) {
  PartInfo* p = t.p;
  if (p[i].in_same) {
    Idx prev = p[i].parent, next = p[i].same;
    p[prev].same = next;
    if (next != kNull) p[next].parent = prev;
    ClearLinks(p[i]);
    return;
  }
  Idx m = p[i].same;
  if (m == kNull) {
    TreapRemove(t, i);
    ClearLinks(p[i]);
    return;
  }
  // Promote the first list member into i's place in the treap, then restore
  // the heap order, since m's priority is its own, not i's.
  Idx rest = p[m].same;
  p[m].in_same = 0;
  p[m].same = rest;
  if (rest != kNull) p[rest].parent = m;
  p[m].left = p[i].left;
  p[m].right = p[i].right;
  p[m].parent = p[i].parent;
  if (p[m].left != kNull) p[p[m].left].parent = m;
  if (p[m].right != kNull) p[p[m].right].parent = m;
  ReplaceChild(t, p[i].parent, i, m);
  ClearLinks(p[i]);
  SiftUp(t, m);
  SiftDown(t, m);
}

Idx FreeBestFit(TreapRef t, uint64_t sz) {
  const PartInfo* p = t.p;
  Idx best = kNull;
  for (Idx x = *t.root; x != kNull;) {
    if (SizeOf(p[x]) >= sz) {
      best = x;
      x = p[x].left;
    } else {
      x = p[x].right;
    }
  }
  if (best != kNull && p[best].same != kNull) return p[best].same;
  return best;
}

Idx FreeAlignedFit(TreapRef t, uint64_t sz, uint64_t align, uint64_t sz_max) {
  const PartInfo* p = t.p;
  Idx x = FreeBestFit(t, sz);
  if (x != kNull && p[x].in_same) {
    // Back to the treap node of that size so TreapNext can walk on.
    while (p[x].in_same) x = p[x].parent;
  }
  for (; x != kNull && SizeOf(p[x]) < sz_max; x = TreapNext(p, x)) {
    for (Idx y = x; y != kNull; y = p[y].same) {
      uint64_t r0 = AlignUp(p[y].lo, align);
      if (r0 >= p[y].lo && r0 < p[y].hi && p[y].hi - r0 >= sz) return y;
    }
  }
  return kNull;
}

}  // namespace wk::wksp::internal
