// wkspkit from C++ (wkspkit/wkspkit.hpp, C++17): create a workspace,
// allocate and write, checkpoint it, restore the checkpoint into a second
// workspace, compare.
//
//   example_cpp [DIR]   the checkpoint goes to DIR (default /tmp) and is
//                       removed at the end
//
// Named workspaces go under $WKSP_SHMEM_ROOT when that is set. Errors are
// wkspkit::Error exceptions. Exit status 0 when the copy is identical.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>
#include <wkspkit/wkspkit.hpp>

int main(int argc, char** argv) try {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  if (const char* root = std::getenv("WKSP_SHMEM_ROOT"))
    wkspkit::SetShmemRoot(root);
  const std::string name = "example-cpp-" + std::to_string(getpid());
  const std::string path = dir + "/" + name + ".ckpt";

  auto src = wkspkit::Workspace::Create(name, 64, 16 << 20);
  const std::vector<uint64_t> sizes = {4096, 100000, 3 << 20};
  std::vector<uint64_t> gaddrs;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const uint64_t g = src.Alloc(sizes[i], 2000 + i);
    auto* p = src.Laddr<unsigned char>(g);
    for (uint64_t j = 0; j < sizes[i]; ++j)
      p[j] = static_cast<unsigned char>(j * 5 + i);
    gaddrs.push_back(g);
  }
  std::snprintf(src.Laddr<char>(gaddrs[0]), 64, "hello from C++");

  uint64_t progress_calls = 0;
  wkspkit::CheckptOptions co;
  co.style = WKSPKIT_STYLE_V3;
  co.threads = 2;
  co.uinfo = "examples/cpp";
  co.progress = [&](uint64_t, uint64_t) { ++progress_calls; };
  src.Checkpt(path, co);

  const wkspkit_preview_t pv = wkspkit::Preview(path);
  auto dst = wkspkit::Workspace::CreateAnonymous("example-copy", pv.part_max,
                                                 pv.data_max);
  wkspkit::RestoreOptions ro;
  ro.threads = 2;
  dst.Restore(path, ro);

  bool same = true;
  for (size_t i = 0; i < sizes.size(); ++i) {
    same &= dst.Tag(gaddrs[i]) == 2000 + i;
    same &=
        std::memcmp(src.Laddr(gaddrs[i]), dst.Laddr(gaddrs[i]), sizes[i]) == 0;
  }
  const auto used = dst.Usage().used_cnt;
  std::cout << "example_cpp: wkspkit " << wkspkit_version() << ": restored "
            << used << " allocations: " << (same ? "identical" : "DIFFERENT")
            << "; first says \"" << dst.Laddr<char>(gaddrs[0]) << "\""
            << (progress_calls > 0 ? "" : " (no progress reported)") << "\n";

  wkspkit::Workspace::Delete(name);
  unlink(path.c_str());
  return same && progress_calls > 0 ? 0 : 1;
} catch (const wkspkit::Error& e) {
  std::cerr << "example_cpp: " << e.what() << "\n";
  return 1;
}
