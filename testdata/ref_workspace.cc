#include "testdata/ref_workspace.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace wk::testdata {
namespace {

constexpr char kText[] = "The quick brown fox jumps over the lazy dog. ";
constexpr uint64_t kTextLen = 45;
static_assert(sizeof(kText) - 1 == kTextLen);

uint64_t SplitMix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "testdata: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::string RefPath(const std::string& file) {
  // Bazel runs tests in the runfiles tree; TEST_SRCDIR/TEST_WORKSPACE locate
  // it even when the binary is started from elsewhere.
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::string rel = "testdata/firedancer_ref/" + file;
  if (srcdir && ws) return std::string(srcdir) + "/" + ws + "/" + rel;
  return rel;
}

RefWorkspace LoadRef(int style) {
  std::string path = RefPath("ref_v" + std::to_string(style) + ".allocs.tsv");
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  RefWorkspace ref;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream h(line);
      std::string word;
      while (h >> word) {
        if (word == "name") h >> ref.name;
        if (word == "seed") h >> ref.seed;
        if (word == "part_max") h >> ref.part_max;
        if (word == "data_max") h >> ref.data_max;
      }
      continue;
    }
    std::istringstream row(line);
    RefAlloc a;
    if (!(row >> a.lo >> a.hi >> a.tag) || a.hi <= a.lo) {
      Die("bad row in " + path + ": " + line);
    }
    ref.allocs.push_back(a);
  }
  if (ref.allocs.empty() || ref.part_max == 0) Die("no data in " + path);
  return ref;
}

uint8_t RefByte(uint64_t g, uint64_t tag) {
  if (((g >> 12) & 1) == 0) {
    return static_cast<uint8_t>(SplitMix64((g >> 3) ^ (tag << 56)) >>
                                (8 * (g & 7)));
  }
  return static_cast<uint8_t>(kText[(g + tag) % kTextLen]);
}

void RefFill(uint64_t lo, uint64_t hi, uint64_t tag, uint8_t* out) {
  for (uint64_t g = lo; g < hi; ++g) out[g - lo] = RefByte(g, tag);
}

}  // namespace wk::testdata
