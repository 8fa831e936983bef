// Test and benchmark helpers for checkpt: data generators, random frame plans,
// writing a plan with any writer and checking it back with any reader, and
// temporary files.
#ifndef WKSPKIT_CHECKPT_TEST_UTIL_H_
#define WKSPKIT_CHECKPT_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "checkpt/checkpt.h"

namespace wk::checkpt::testing {

// n bytes made of 4 KiB pages: 2 KiB pseudo-random bytes then 2 KiB of
// repeated text (LZ4 roughly halves it). Different seeds, different noise.
std::vector<uint8_t> HalfCompressible(uint64_t n, uint64_t seed);

struct PlanBuf {
  bool meta = false;
  std::vector<uint8_t> bytes;
};
struct PlanFrame {
  FrameStyle style = FrameStyle::kRaw;  // as passed to Open (kDefault too)
  std::vector<PlanBuf> bufs;
};
using Plan = std::vector<PlanFrame>;

// A random checkpoint: `frames` frames of random style, each with random
// buffers of 0..200 KiB (mostly tiny, some exactly at the 64 KiB and ring
// boundaries), meta ones at most kMetaMax, with mixed compressibility.
Plan RandomPlan(uint64_t seed, int frames, uint64_t max_frame_bytes);

// Bytes a checkpoint of `plan` can take at most (an mmio region that fits).
uint64_t PlanBound(const Plan& plan);

// Writes every frame of `plan`; offsets gets each frame's open offset plus the
// final close offset.
absl::Status WritePlan(Writer& w, const Plan& plan,
                       std::vector<uint64_t>* offsets);
// Reads frames [first, last) of `plan` (the reader is positioned at frame
// `first`) and checks every byte; returns a description of the first
// mismatch. offsets: as WritePlan's, checked against Open/Close results.
absl::Status CheckPlan(Reader& r, const Plan& plan,
                       const std::vector<uint64_t>& offsets, size_t first,
                       size_t last);

// A file under TEST_TMPDIR (or /tmp), removed on destruction.
class TempFile {
 public:
  TempFile();
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }  // open read-write, owned

 private:
  std::string path_;
  int fd_ = -1;
};

// Whole contents of fd from offset 0.
std::vector<uint8_t> ReadAll(int fd);

}  // namespace wk::checkpt::testing

#endif  // WKSPKIT_CHECKPT_TEST_UTIL_H_
