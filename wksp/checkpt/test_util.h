// Test helpers of the wksp/checkpt package: a workspace's used partitions and
// their bytes as one comparable value, so a test can say "the restore gave
// back exactly the source" or "a failed restore left the target untouched";
// PrintCheckpt's report captured as a string.
#ifndef WKSPKIT_WKSP_CHECKPT_TEST_UTIL_H_
#define WKSPKIT_WKSP_CHECKPT_TEST_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"
#include "wksp/wksp_admin.h"

namespace wk::wksp_checkpt::testutil {

// What PrintCheckpt(path, verbose) returned and wrote.
struct Printed {
  absl::Status status;
  std::string text;
};
inline Printed PrintToText(const std::string& path, int verbose) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  EXPECT_NE(out, nullptr);
  if (out == nullptr) return {absl::InternalError("open_memstream"), ""};
  Printed p;
  p.status = PrintCheckpt(path, verbose, out);
  fclose(out);
  p.text.assign(buf, len);
  free(buf);
  return p;
}

struct Snapshot {
  std::vector<wksp::PartitionInfo> parts;
  std::vector<std::vector<uint8_t>> bytes;
  bool operator==(const Snapshot&) const = default;
};

// Under the workspace lock; a failure to take it or to list the partitions
// fails the calling test and gives an empty snapshot.
inline Snapshot Snap(wksp::Wksp& w) {
  auto lock = w.Lock();
  EXPECT_TRUE(lock.ok()) << lock.status();
  auto parts = wksp::UsedPartitionsLocked(w);
  EXPECT_TRUE(parts.ok()) << parts.status();
  Snapshot s;
  if (!parts.ok()) return s;
  s.parts = *parts;
  for (const auto& p : s.parts) {
    s.bytes.emplace_back(w.laddr(p.lo), w.laddr(p.lo) + (p.hi - p.lo));
  }
  return s;
}

}  // namespace wk::wksp_checkpt::testutil

#endif  // WKSPKIT_WKSP_CHECKPT_TEST_UTIL_H_
