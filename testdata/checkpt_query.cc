#include "testdata/checkpt_query.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

namespace wk::testdata {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "testdata: %s\n", what.c_str());
  std::abort();
}

// White space runs made one space, none at either end.
std::string Squeeze(const std::string& s) {
  std::istringstream in(s);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

// A field line: one tab, then something other than a tab.
bool IsFieldLine(const std::string& line) {
  return line.size() >= 2 && line[0] == '\t' && line[1] != '\t';
}

uint64_t Num(const std::string& s, int base = 10) {
  return std::stoull(s, nullptr, base);
}

}  // namespace

QueryReport ParseQueryReport(const std::string& text) {
  static const std::regex kFirst(R"(checkpt \S+ \(verbose (\d+)\))");
  static const std::regex kPartition(
      R"(partition\s+\[0x([0-9a-f]+),\s*0x([0-9a-f]+)\)\s+sz\s+(\d+)\s+tag\s+(\d+))");
  static const std::regex kGaddr(
      R"(gaddr\s+\[0x([0-9a-f]+),\s*0x([0-9a-f]+)\))");
  static const std::regex kUsed(
      R"((\d+) bytes used \(\s*(\d+) \w+, largest\s+(\d+) bytes\))");
  static const std::regex kFree(R"((\d+) bytes free.*)");
  static const std::regex kErrors(R"((\d+) errors detected)");
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  QueryReport r;
  std::smatch m;
  if (lines.empty() || !std::regex_match(lines[0], m, kFirst)) {
    Die("no checkpt-query report: " + text.substr(0, 80));
  }
  r.verbose = std::stoi(m[1]);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (!IsFieldLine(lines[i])) Die("stray line: " + lines[i]);
    const std::string line = Squeeze(lines[i]);
    if (std::regex_match(line, m, kPartition)) {
      RefAlloc a{Num(m[1], 16), Num(m[2], 16), Num(m[4])};
      if (Num(m[3]) != a.hi - a.lo) Die("partition size disagrees: " + line);
      r.partitions.push_back(a);
    } else if (std::regex_match(line, m, kGaddr)) {
      r.gaddr_lo = Num(m[1], 16);
      r.gaddr_hi = Num(m[2], 16);
    } else if (std::regex_match(line, m, kUsed)) {
      r.used_bytes = Num(m[1]);
      r.used_cnt = Num(m[2]);
      r.largest = Num(m[3]);
    } else if (std::regex_match(line, m, kFree)) {
      r.free_bytes = Num(m[1]);
    } else if (std::regex_match(line, m, kErrors)) {
      r.errors = Num(m[1]);
    } else if (size_t sp = line.find(' '); sp != std::string::npos) {
      r.fields[line.substr(0, sp)] = line.substr(sp + 1);
    } else {
      // A text block: the lines up to the next field line, each without
      // the two tabs the first (or, in our reports, every) one starts with.
      std::string block;
      size_t j = i + 1;
      for (; j < lines.size() && !IsFieldLine(lines[j]); ++j) {
        std::string t = lines[j];
        if (t.rfind("\t\t", 0) == 0) t.erase(0, 2);
        block += (j > i + 1 ? "\n" : "") + t;
      }
      while (!block.empty() && block.back() == '\n') block.pop_back();
      r.fields[line] = block;
      i = j - 1;
    }
  }
  return r;
}

std::string RefQueryText(int style, int verbose) {
  std::string path = RefPath("checkpt-query_v" + std::to_string(style) +
                             "_verbose" + std::to_string(verbose) + ".txt");
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace wk::testdata
