// wksp_ctl_docgen: prints what the command table generates, for the files
// that hold it. `bazel run //apps:wksp_ctl_docgen -- completion >
// apps/wksp_ctl.bash-completion` after a change to the table;
// apps:docs_test fails until then.
#include <cstdio>
#include <cstring>
#include <string>

#include "apps/commands.h"

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "completion") == 0) {
    const std::string s = wk::apps::BashCompletion();
    return std::fwrite(s.data(), 1, s.size(), stdout) == s.size() ? 0 : 1;
  }
  std::fprintf(stderr, "usage: wksp_ctl_docgen completion\n");
  return 2;
}
