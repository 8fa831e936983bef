// The fuzz target (checkpt_fuzz.h).
#include "wksp/checkpt/checkpt_fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "io/fd.h"
#include "wksp/checkpt/wksp_checkpt.h"
#include "wksp/wksp.h"

namespace wk::wksp_checkpt::fuzz {
namespace {

wksp::Wksp& Target() {
  // Reused across inputs.
  static wksp::Wksp* w = [] {
    auto made =
        wksp::Wksp::CreateAnonymous("fuzz", kTargetPartMax, kTargetDataMax);
    if (!made.ok()) std::abort();
    return new wksp::Wksp(std::move(*made));
  }();
  return *w;
}

// A memfd holding `pad` zero bytes, then the input; aborts if that fails
// (the machine, not the input, is broken then).
io::Fd MemFile(std::span<const uint8_t> input, size_t pad) {
  io::Fd fd(memfd_create("checkpt_fuzz", MFD_CLOEXEC));
  const uint8_t zeros[1] = {};
  if (!fd.valid() || (pad && !io::WriteExact(fd.get(), zeros, pad).ok()) ||
      !io::WriteExact(fd.get(), input.data(), input.size()).ok()) {
    std::abort();
  }
  return fd;
}

void Keep(absl::Status* first, const absl::Status& st) {
  if (first->ok() && !st.ok()) *first = st;
}

}  // namespace

Outcome ReadEveryWay(std::span<const uint8_t> input) {
  Outcome o;
  // Path-based readers see the exact bytes; the stream restore reads a copy
  // from offset 1, which makes it take the single-pass path.
  io::Fd exact = MemFile(input, 0);
  io::Fd padded = MemFile(input, 1);
  const std::string path = absl::StrFormat("/proc/self/fd/%d", exact.get());
  o.previewed = PreviewCheckpt(path).ok();
  FILE* null = std::fopen("/dev/null", "w");
  for (int v = 0; v <= 4; ++v) o.printed += PrintCheckpt(path, v, null).ok();
  std::fclose(null);

  RestoreOptions opt;
  opt.threads = 2;
  o.mapped = Restore(Target(), path, opt);  // mapped, parallel
  Keep(&o.verified, Target().Verify());
  (void)lseek(padded.get(), 1, SEEK_SET);
  o.stream = RestoreFd(Target(), padded.get(), opt);  // single-pass stream
  Keep(&o.verified, Target().Verify());
  absl::StatusOr<wksp::Usage> u = Target().GetUsage();
  Keep(&o.verified, u.status());
  if (u.ok()) o.allocations = u->used_cnt;
  return o;
}

}  // namespace wk::wksp_checkpt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wk::wksp_checkpt::fuzz::Outcome o =
      wk::wksp_checkpt::fuzz::ReadEveryWay({data, size});
  if (!o.verified.ok()) {
    std::fprintf(stderr, "workspace failed verify after a restore: %s\n",
                 std::string(o.verified.message()).c_str());
    std::abort();
  }
  return 0;
}
