// The fault hook every build has: none installed (see fault.h).
#include "util/fault.h"

namespace wk {

namespace fault_internal {
std::atomic<FaultHook> g_hook{nullptr};
}  // namespace fault_internal

FaultHook SetFaultHook(FaultHook hook) {
  return fault_internal::g_hook.exchange(hook);
}

}  // namespace wk
