#include "apps/boot_flags.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "wksp/shmem.h"

namespace wk::apps {
namespace {

std::vector<char*> Words(std::vector<std::string>& s) {
  std::vector<char*> w;
  for (auto& x : s) w.push_back(x.data());
  return w;
}

TEST(BootFlagsTest, StrippedFromAnywhereWithTheirValues) {
  std::vector<std::string> s = {"--log-path",
                                "",
                                "new",
                                "w",
                                "--log-level-stderr=2",
                                "1",
                                "--shmem-path",
                                "/mnt/.fd",
                                "normal",
                                "0",
                                "600",
                                "--log-app",
                                "x"};
  std::vector<char*> w = Words(s);
  BootFlags f;
  ASSERT_TRUE(StripBootFlags(w, &f).ok());
  std::vector<std::string> got(w.begin(), w.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"new", "w", "1", "normal", "0", "600"}));
  EXPECT_EQ(f.shmem_path, "/mnt/.fd");
}

TEST(BootFlagsTest, OthersAreKept) {
  std::vector<std::string> s = {"--json", "--log-pathx", "1", "--threads", "2"};
  std::vector<char*> w = Words(s);
  BootFlags f;
  ASSERT_TRUE(StripBootFlags(w, &f).ok());
  EXPECT_EQ(w.size(), 5u);
  EXPECT_TRUE(f.shmem_path.empty());
}

TEST(BootFlagsTest, MissingValueIsAnError) {
  std::vector<std::string> s = {"help", "--log-level-stderr"};
  std::vector<char*> w = Words(s);
  BootFlags f;
  absl::Status st = StripBootFlags(w, &f);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("--log-level-stderr"), std::string::npos);
}

TEST(BootFlagsTest, ShmemPathUsesFiredancersNormalSubdirectory) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  std::string base = std::string(tmp) + "/fdshm";
  ASSERT_EQ(system(("rm -rf " + base + " && mkdir -p " + base).c_str()), 0);
  ApplyBootFlags({base});
  EXPECT_EQ(wksp::ShmemRoot(), base);
  ASSERT_EQ(system(("mkdir " + base + "/.normal").c_str()), 0);
  ApplyBootFlags({base});
  EXPECT_EQ(wksp::ShmemRoot(), base + "/.normal");
  wksp::SetShmemRoot("");
  ASSERT_EQ(system(("rm -rf " + base).c_str()), 0);
}

}  // namespace
}  // namespace wk::apps
