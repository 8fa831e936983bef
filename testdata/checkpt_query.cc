#include "testdata/checkpt_query.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace wk::testdata {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "testdata: %s\n", what.c_str());
  std::abort();
}

// The words of s, split at white space and at any of `also`.
std::vector<std::string> Words(std::string s, const char* also = "") {
  for (char& c : s) {
    for (const char* a = also; *a; ++a) {
      if (c == *a) c = ' ';
    }
  }
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string word; in >> word;) w.push_back(word);
  return w;
}

std::string Join(const std::vector<std::string>& w, size_t from) {
  std::string out;
  for (size_t i = from; i < w.size(); ++i) out += (i > from ? " " : "") + w[i];
  return out;
}

// A field line: one tab, then something other than a tab.
bool IsFieldLine(const std::string& line) {
  return line.size() >= 2 && line[0] == '\t' && line[1] != '\t';
}

uint64_t Num(const std::string& s, int base = 10) {
  size_t end = 0;
  uint64_t v = 0;
  try {
    v = std::stoull(s, &end, base);
  } catch (...) {
    Die("not a number: " + s);
  }
  if (end != s.size()) Die("not a number: " + s);
  return v;
}

// The lines that are not "label value": allocations and usage. False if
// `w` is none of them.
bool ParseUsageLine(const std::string& line, QueryReport& r) {
  const std::vector<std::string> w = Words(line, "[,)(");
  if (w.size() == 7 && w[0] == "partition" && w[3] == "sz" && w[5] == "tag") {
    RefAlloc a{Num(w[1], 16), Num(w[2], 16), Num(w[6])};
    if (Num(w[4]) != a.hi - a.lo) Die("partition size disagrees: " + line);
    r.partitions.push_back(a);
  } else if (w.size() == 3 && w[0] == "gaddr" &&
             line.find('[') != std::string::npos) {
    r.gaddr_lo = Num(w[1], 16);
    r.gaddr_hi = Num(w[2], 16);
  } else if (w.size() >= 8 && w[1] == "bytes" && w[2] == "used" &&
             w[5] == "largest") {
    r.used_bytes = Num(w[0]);
    r.used_cnt = Num(w[3]);
    r.largest = Num(w[6]);
  } else if (w.size() >= 3 && w[1] == "bytes" && w[2] == "free") {
    r.free_bytes = Num(w[0]);
  } else if (w.size() == 3 && w[1] == "errors" && w[2] == "detected") {
    r.errors = Num(w[0]);
  } else {
    return false;
  }
  return true;
}

}  // namespace

QueryReport ParseQueryReport(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  QueryReport r;
  const std::vector<std::string> first =
      lines.empty() ? std::vector<std::string>() : Words(lines[0], "()");
  if (first.size() != 4 || first[0] != "checkpt" || first[2] != "verbose") {
    Die("no checkpt-query report: " + text.substr(0, 80));
  }
  r.verbose = static_cast<int>(Num(first[3]));
  for (size_t i = 1; i < lines.size(); ++i) {
    if (!IsFieldLine(lines[i])) Die("stray line: " + lines[i]);
    if (ParseUsageLine(lines[i], r)) continue;
    const std::vector<std::string> w = Words(lines[i]);
    if (w.size() > 1) {
      r.fields[w[0]] = Join(w, 1);
      continue;
    }
    // A text block: the lines up to the next field line, each without the
    // two tabs the first (or, in our reports, every) one starts with.
    std::string block;
    size_t j = i + 1;
    for (; j < lines.size() && !IsFieldLine(lines[j]); ++j) {
      std::string t = lines[j];
      if (t.rfind("\t\t", 0) == 0) t.erase(0, 2);
      block += (j > i + 1 ? "\n" : "") + t;
    }
    while (!block.empty() && block.back() == '\n') block.pop_back();
    r.fields[w[0]] = block;
    i = j - 1;
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
