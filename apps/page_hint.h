// What first touches of a 4 KiB-page workspace cost a wksp_ctl checkpoint or
// restore, for their summary lines. Every process that maps a workspace
// touches each of its pages a first time; on some machines (VMs whose
// hypervisor builds its own page tables lazily) that first touch costs
// microseconds per 4 KiB page even when the page is populated, which makes
// it the bottleneck of a restore into a 4 KiB-page workspace. Huge pages
// pay it once per 2 MiB (docs/PERFORMANCE.md, "First touch").
#ifndef WKSPKIT_APPS_PAGE_HINT_H_
#define WKSPKIT_APPS_PAGE_HINT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "wksp/shmem.h"

namespace wk::apps {

// Seconds a first write to a populated 4 KiB page costs beyond a second
// write, measured now on `pages` pages of fresh private anonymous memory
// (populated with MADV_POPULATE_WRITE, as a restore does): about a
// millisecond where the cost is ~5 us a page. 0 when it cannot be measured
// or is not positive.
double FirstTouchSecondsPerPage(size_t pages = 256);

// The summary line's tail when first touches of a `page_size` workspace
// explain at least a quarter of an operation that moved `bytes` bytes in
// `seconds`, `per_page` being FirstTouchSecondsPerPage(): how much they
// took and what to do. Empty otherwise (huge or gigantic pages, a cheap
// first touch, a small operation).
std::string FirstTouchHint(wksp::PageSize page_size, uint64_t bytes,
                           double seconds, double per_page);

}  // namespace wk::apps

#endif  // WKSPKIT_APPS_PAGE_HINT_H_
