// Test support for the Firedancer reference checkpoints in firedancer_ref/:
// their expected allocations (from the .allocs.tsv files) and the fill
// formula that produced every allocated byte (firedancer_ref/README.md).
#ifndef WKSPKIT_TESTDATA_REF_WORKSPACE_H_
#define WKSPKIT_TESTDATA_REF_WORKSPACE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace wk::testdata {

struct RefAlloc {
  uint64_t lo = 0, hi = 0, tag = 0;
};

struct RefWorkspace {
  std::string name;  // "ref"
  uint32_t seed = 0;
  uint64_t part_max = 0, data_max = 0;
  std::vector<RefAlloc> allocs;  // ascending lo
};

// Path of a file in firedancer_ref/ under the test's runfiles, e.g.
// RefPath("ref_v3.checkpt").
std::string RefPath(const std::string& file);

// Parses firedancer_ref/ref_v<style>.allocs.tsv; aborts the test binary with a
// message if the file is missing or malformed (test data is not user input).
RefWorkspace LoadRef(int style);

// The byte the reference workspace holds at global address g in an
// allocation with tag t.
uint8_t RefByte(uint64_t g, uint64_t tag);

// Fills out[0, hi-lo) with the reference bytes of allocation [lo, hi).
void RefFill(uint64_t lo, uint64_t hi, uint64_t tag, uint8_t* out);

}  // namespace wk::testdata

#endif  // WKSPKIT_TESTDATA_REF_WORKSPACE_H_
