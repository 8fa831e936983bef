// A bounded lock-free MPMC queue of two-word items that lives in shared
// memory (e.g. a workspace allocation), so threads of different processes
// can pass allocations to each other. Vyukov's design: every slot carries a
// sequence number saying whose turn it is; producers and consumers claim
// positions with a CAS on the shared enqueue/dequeue counters.
//
// The memory is plain bytes: a Ring is a view (no ownership) over memory that
// Format() initialized once; any process may Attach() the same bytes at its
// own address. All shared words are accessed through std::atomic_ref.
//
// A process killed in the middle of Push leaves at most the slot it claimed
// unpublished; consumers then see the queue as empty from that slot on (they
// never read a half-written item). A kill in the middle of Pop loses that one
// item. Callers that survive kills (alloc_stress) therefore give each queue a
// single producer and a single consumer and stop using a queue whose peer
// died.
#ifndef WKSPKIT_APPS_RING_H_
#define WKSPKIT_APPS_RING_H_

#include <atomic>
#include <cstdint>

namespace wk::apps {

class Ring {
 public:
  struct Item {
    uint64_t a = 0, b = 0;
  };

  // Bytes needed for `cap` slots (cap a power of two >= 2); 64-byte aligned
  // memory is expected.
  static constexpr uint64_t Footprint(uint64_t cap) {
    return sizeof(Header) + cap * sizeof(Slot);
  }
  // Initializes `mem` (Footprint(cap) bytes) as an empty ring; no other user
  // may touch it until this returns, and the caller publishes it to them
  // (thread start, fork, or a release store of its address).
  static Ring Format(void* mem, uint64_t cap) {
    auto* h = static_cast<Header*>(mem);
    h->mask = cap - 1;
    h->enq = 0;
    h->deq = 0;
    Slot* s = reinterpret_cast<Slot*>(h + 1);
    for (uint64_t i = 0; i < cap; ++i) {
      std::atomic_ref<uint64_t>(s[i].seq).store(i, std::memory_order_relaxed);
    }
    return Ring(h);
  }
  static Ring Attach(void* mem) { return Ring(static_cast<Header*>(mem)); }

  uint64_t capacity() const { return h_->mask + 1; }

  // False when full.
  bool Push(const Item& item) {
    std::atomic_ref<uint64_t> enq(h_->enq);
    uint64_t pos = enq.load(std::memory_order_relaxed);
    for (;;) {
      Slot& s = slot(pos);
      uint64_t seq =
          std::atomic_ref<uint64_t>(s.seq).load(std::memory_order_acquire);
      auto diff = static_cast<int64_t>(seq - pos);
      if (diff == 0) {
        if (enq.compare_exchange_weak(pos, pos + 1,
                                      std::memory_order_relaxed)) {
          s.item = item;
          std::atomic_ref<uint64_t>(s.seq).store(pos + 1,
                                                 std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = enq.load(std::memory_order_relaxed);
      }
    }
  }

  // False when empty.
  bool Pop(Item* out) {
    std::atomic_ref<uint64_t> deq(h_->deq);
    uint64_t pos = deq.load(std::memory_order_relaxed);
    for (;;) {
      Slot& s = slot(pos);
      uint64_t seq =
          std::atomic_ref<uint64_t>(s.seq).load(std::memory_order_acquire);
      auto diff = static_cast<int64_t>(seq - (pos + 1));
      if (diff == 0) {
        if (deq.compare_exchange_weak(pos, pos + 1,
                                      std::memory_order_relaxed)) {
          *out = s.item;
          std::atomic_ref<uint64_t>(s.seq).store(pos + h_->mask + 1,
                                                 std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = deq.load(std::memory_order_relaxed);
      }
    }
  }

 private:
  struct alignas(64) Header {
    uint64_t mask;
    alignas(64) uint64_t enq;
    alignas(64) uint64_t deq;
  };
  struct Slot {
    uint64_t seq;
    Item item;
    uint64_t pad;
  };
  static_assert(sizeof(Slot) == 32);

  explicit Ring(Header* h) : h_(h) {}
  Slot& slot(uint64_t pos) const {
    return reinterpret_cast<Slot*>(h_ + 1)[pos & h_->mask];
  }

  Header* h_;
};

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_RING_H_
