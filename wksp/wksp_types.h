// Plain value types of the workspace API (see wksp.h), in their own public
// target so the allocator internals can use them without the Wksp class.
#ifndef WKSPKIT_WKSP_WKSP_TYPES_H_
#define WKSPKIT_WKSP_WKSP_TYPES_H_

#include <cstdint>

namespace wk::wksp {

// One partition: [lo, hi) with its tag (nonzero for an allocation).
struct PartitionInfo {
  uint64_t lo = 0, hi = 0, tag = 0;
  friend bool operator==(const PartitionInfo&, const PartitionInfo&) = default;
};

struct Usage {
  uint64_t total_max = 0;                // part_max
  uint64_t total_cnt = 0, total_sz = 0;  // partitions (free + used)
  uint64_t free_cnt = 0, free_sz = 0;
  uint64_t used_cnt = 0, used_sz = 0;
  uint64_t tagged_cnt = 0, tagged_sz = 0;  // used with a tag in the query
  uint64_t largest_free = 0;               // size of the largest free partition
};

}  // namespace wk::wksp

#endif  // WKSPKIT_WKSP_WKSP_TYPES_H_
