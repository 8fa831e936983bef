// The fuzz target for everything that reads a checkpoint file (testonly):
// preview, print at every verbosity, and restore through each reader (the
// memory-mapped file, the single-pass stream) into one small workspace.
// Whatever the bytes, none of this may crash, and the workspace must verify
// after each restore (restored, untouched or reset).
//
// LLVMFuzzerTestOneInput (checkpt_fuzz.cc) runs ReadEveryWay and aborts when
// the workspace fails to verify, which is how libFuzzer learns of it; with
// --config=fuzz that makes a fuzzer, in other builds fuzz_main.cc replays
// the files named on its command line. checkpt_fuzz_test calls ReadEveryWay
// itself and checks every outcome.
#ifndef WKSPKIT_WKSP_CHECKPT_CHECKPT_FUZZ_H_
#define WKSPKIT_WKSP_CHECKPT_CHECKPT_FUZZ_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace wk::wksp_checkpt::fuzz {

// The workspace inputs are restored into: small, so hostile geometry is
// refused quickly. A checkpoint of a workspace with these limits restores.
inline constexpr uint64_t kTargetPartMax = 64;
inline constexpr uint64_t kTargetDataMax = uint64_t{1} << 20;

// What each reader made of one input.
struct Outcome {
  bool previewed = false;
  int printed = 0;           // verbosity levels 0..4 printed without error
  absl::Status mapped;       // Restore of the file
  absl::Status stream;       // RestoreFd of it as a stream
  absl::Status verified;     // the workspace after both: first Verify failure
  uint64_t allocations = 0;  // in the workspace after the stream restore
};

Outcome ReadEveryWay(std::span<const uint8_t> input);

}  // namespace wk::wksp_checkpt::fuzz

#endif  // WKSPKIT_WKSP_CHECKPT_CHECKPT_FUZZ_H_
