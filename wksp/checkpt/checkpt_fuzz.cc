// Fuzz target for everything that reads a checkpoint file: preview, print
// at every verbosity, and restore through each reader (memory-mapped file,
// single-pass stream). Whatever the bytes, none of them may crash, and the
// target workspace must verify afterwards (restored, untouched or reset).
//
// Built two ways: with --config=fuzz (clang, libFuzzer, ASan) it is a
// fuzzer; in normal builds fuzz_main.cc drives it over the files given on
// the command line, which checkpt_fuzz_test uses to replay a seed corpus.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace {

wk::wksp::Wksp& Target() {
  // Small, so hostile geometry is refused quickly; reused across inputs.
  static wk::wksp::Wksp* w = [] {
    auto made = wk::wksp::Wksp::CreateAnonymous("fuzz", 64, 1 << 20);
    if (!made.ok()) std::abort();
    return new wk::wksp::Wksp(std::move(*made));
  }();
  return *w;
}

void CheckTarget() {
  if (!Target().Verify().ok()) {
    std::fprintf(stderr, "workspace failed verify after a restore\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("checkpt_fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  // One byte of padding first: reading from offset 1 takes the stream path.
  uint8_t pad = 0;
  if (!wk::io::WriteExact(fd, &pad, 1).ok() ||
      !wk::io::WriteExact(fd, data, size).ok()) {
    std::abort();
  }
  const std::string path = absl::StrFormat("/proc/self/fd/%d", fd);
  FILE* null = std::fopen("/dev/null", "w");

  // Path-based readers see the padded file; give them the exact bytes too.
  int exact = memfd_create("checkpt_fuzz_exact", MFD_CLOEXEC);
  if (exact < 0 || !wk::io::WriteExact(exact, data, size).ok()) std::abort();
  const std::string exact_path = absl::StrFormat("/proc/self/fd/%d", exact);

  (void)wk::wksp_checkpt::PreviewCheckpt(exact_path);
  for (int v = 0; v <= 4; ++v)
    (void)wk::wksp_checkpt::PrintCheckpt(exact_path, v, null);

  wk::wksp_checkpt::RestoreOptions o;
  o.threads = 2;
  (void)wk::wksp_checkpt::Restore(Target(), exact_path, o);  // mapped, parallel
  CheckTarget();
  (void)lseek(fd, 1, SEEK_SET);
  (void)wk::wksp_checkpt::RestoreFd(Target(), fd, o);  // single-pass stream
  CheckTarget();

  std::fclose(null);
  close(exact);
  close(fd);
  return 0;
}
