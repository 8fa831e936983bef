// Byte layout of a workspace in shared memory. Every process that joins maps
// these same bytes, so the structs below are the wire format between
// processes of one build: fixed sizes, no pointers, indices instead.
//
//   [0, 128)                    Header
//   [128, gaddr_lo)             PartInfo slot records
//   [gaddr_lo, gaddr_hi)        data region (wksp/geometry.h)
//   gaddr_hi                    one guard byte
//
// A slot is in exactly one of three states:
//   idle  - not part of the partitioning; on the idle stack (linked through
//           `parent`), tag 0.
//   free  - a partition with tag 0; in the free treap (keyed by size; equal
//           sizes hang off the treap node in a doubly linked `same` list).
//   used  - a partition with tag != 0; in the used treap (keyed by lo).
// Free and used partitions are linked in address order through prev/next and
// tile [gaddr_lo, gaddr_hi) exactly; two free partitions are never adjacent.
//
// Crash safety rests on one rule: the tag word is the commit point. A used
// slot's lo/hi are written before its tag becomes nonzero, and freeing clears
// the tag before anything else. Everything else (links, treaps, idle stack)
// can be rebuilt from the (lo, hi, tag) of the tagged slots alone.
#ifndef WKSPKIT_WKSP_INTERNAL_LAYOUT_H_
#define WKSPKIT_WKSP_INTERNAL_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#include "util/hash.h"
#include "wksp/geometry.h"
#include "wksp/name.h"

namespace wk::wksp::internal {

// Slot index; kNull marks "no slot". part_max <= kNull, so every real slot
// index is < kNull.
using Idx = uint32_t;
inline constexpr Idx kNull = 0xFFFFFFFFu;

// "WWKSPKT2": version 2 added the lock holder's pid namespace and the
// restore mark (version 1 kept gaddr_lo/gaddr_hi where they now live).
inline constexpr uint64_t kMagic = 0x32544B50534B5757ULL;
static_assert(kPartMaxLimit == kNull);

// Values of Header::op: what metadata change is in progress (0 = none).
// A lock taken over from a dead owner with op != 0 always triggers a rebuild,
// except with a restore mark set: then the workspace is reset to empty.
enum Op : uint32_t {
  kOpNone = 0,
  kOpAlloc = 1,
  kOpFree = 2,
  kOpReset = 3,
  kOpRebuild = 4,
  kOpRestore = 5,  // between BeginRestoreLocked and RebuildLocked
};

// Lock and restore-mark identities pack a pid namespace (the inode number of
// /proc/self/ns/pid, which the kernel allocates as 32 bits) with an id that
// is only meaningful inside it. 0 = none.
inline constexpr uint64_t PackIdentity(uint32_t pid_ns, uint32_t id) {
  return (uint64_t{pid_ns} << 32) | id;
}
inline constexpr uint32_t IdentityNs(uint64_t v) {
  return static_cast<uint32_t>(v >> 32);
}
inline constexpr uint32_t IdentityId(uint64_t v) {
  return static_cast<uint32_t>(v);
}

struct Header {
  uint64_t magic;     // 0: kMagic once initialized (written last at create)
  uint64_t part_max;  // 8
  uint64_t data_max;  // 16
  // The lock holder's process id in its own namespace and when it took the
  // lock: for reports only (written just after the lock word, so a reader
  // may briefly see the previous holder's).
  uint32_t lock_pid;        // 24
  uint32_t restore_since;   // 28: unix seconds the restore mark was set
  int64_t lock_since;       // 32: unix ns the holder took the lock
  char name[kNameFieldSz];  // 40: NUL terminated
  uint32_t seed;            // 80: treap priority seed
  Idx idle_top;             // 84
  Idx part_head;            // 88: lowest-address partition
  Idx part_tail;            // 92: highest-address partition
  Idx used_root;            // 96
  Idx free_root;            // 100
  uint32_t op;              // 104: Op in progress (written under the lock)
  uint32_t corrupt;         // 108: 1 after a recovery whose rebuild failed
  uint64_t lock;  // 112: 0 = free, else PackIdentity(pid ns, tid) of owner
  // 120: 0, else PackIdentity(pid ns, pid) of a restore that has started
  // writing; cleared when it succeeds or the workspace is reset.
  uint64_t restore;
};
static_assert(sizeof(Header) == kHeaderSize);
static_assert(offsetof(Header, name) == 40);
static_assert(offsetof(Header, seed) == 80);
static_assert(offsetof(Header, lock) == 112);
static_assert(offsetof(Header, restore) == 120);

struct PartInfo {
  uint64_t lo;       // 0: first byte (gaddr)
  uint64_t hi;       // 8: one past the last byte
  uint64_t tag;      // 16: 0 = free or idle, else the allocation's tag
  Idx prev;          // 24: address-order neighbours
  Idx next;          // 28
  Idx left;          // 32: treap children
  Idx right;         // 36
  Idx parent;        // 40: treap parent; idle stack link; previous in same list
  Idx same;          // 44: next partition of the same size (free treap only)
  uint32_t prio;     // 48: treap priority, a function of (seed, slot)
  uint32_t in_same;  // 52: 1 if in a same-size list rather than the treap
  uint64_t reserved;  // 56
};
static_assert(sizeof(PartInfo) == kPartInfoSize);

// Views one joined workspace's metadata. Cheap to copy; does not own.
struct Region {
  uint8_t* base = nullptr;  // the workspace's first byte
  Header* hdr = nullptr;
  PartInfo* pinfo = nullptr;  // pinfo[0, part_max)
  uint64_t part_max = 0;      // copies of immutable header fields
  uint64_t gaddr_lo = 0;
  uint64_t gaddr_hi = 0;
};

// Priority of `slot` under `seed`: deterministic, spread by a bijective hash.
// The seed goes in the high half so different seeds never just permute the
// same priorities among slots.
inline uint32_t SlotPrio(uint32_t seed, uint64_t slot) {
  return static_cast<uint32_t>(HashU64((uint64_t{seed} << 32) | slot) >> 32);
}

}  // namespace wk::wksp::internal

#endif  // WKSPKIT_WKSP_INTERNAL_LAYOUT_H_
