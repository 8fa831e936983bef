// The command table drives the documentation: the bash completion is
// generated from it (and must equal apps/wksp_ctl.bash-completion), and
// --help, the man page (docs/wksp_ctl.1) and the manual (docs/wksp_ctl.md)
// must each show every command and setting with its arguments, so a new
// row in the table cannot go undocumented anywhere.
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "apps/commands.h"
#include "gtest/gtest.h"

namespace wk::apps {
namespace {

std::string ReadRunfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::ifstream in(
      absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "", "/", path),
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `word` appears in `text` delimited as a command-line word: after a line
// start, a space, '|', '`', '(' or ',', and before a space, a line end, '=',
// '|', '`', ',' or ')'.
bool NamesWord(std::string_view text, std::string_view word) {
  constexpr std::string_view kBefore = "\n |`(,";
  constexpr std::string_view kAfter = "\n =|`,)";
  for (size_t at = text.find(word); at != std::string_view::npos;
       at = text.find(word, at + 1)) {
    const char before = at == 0 ? '\n' : text[at - 1];
    const size_t end = at + word.size();
    const char after = end == text.size() ? '\n' : text[end];
    if (kBefore.find(before) != std::string_view::npos &&
        kAfter.find(after) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// How the documents write a row: "name args" (lower case), or the name.
std::string Synopsis(const CommandSynopsis& c) {
  std::string s(c.name);
  if (!c.args.empty()) s += " " + std::string(c.args);
  return s;
}

// The man page as plain words: font changes, quotes and macro names gone,
// "\-" as "-", runs of spaces as one.
std::string ManText(std::string man) {
  man = absl::StrReplaceAll(man, {{"\\fB", ""},
                                  {"\\fI", ""},
                                  {"\\fR", ""},
                                  {"\\fP", ""},
                                  {"\\-", "-"},
                                  {"\"", ""},
                                  {"\n.BI ", "\n"},
                                  {"\n.BR ", "\n"},
                                  {"\n.B ", "\n"},
                                  {"\n.I ", "\n"}});
  std::string out;
  for (char c : man) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return absl::AsciiStrToLower(out);
}

void ExpectShowsEveryRow(std::string_view doc_name, std::string_view text) {
  for (const CommandSynopsis& c : CommandSynopses()) {
    EXPECT_TRUE(NamesWord(text, Synopsis(c)))
        << doc_name << " lacks " << (c.setting ? "setting" : "command") << " '"
        << Synopsis(c) << "'";
  }
}

TEST(DocsTest, HelpShowsEveryCommandAndSetting) {
  ExpectShowsEveryRow("--help", absl::AsciiStrToLower(kHelpText));
}

TEST(DocsTest, ManPageShowsEveryCommandAndSetting) {
  const std::string man = ReadRunfile("docs/wksp_ctl.1");
  ASSERT_FALSE(man.empty());
  ExpectShowsEveryRow("docs/wksp_ctl.1", ManText(man));
}

TEST(DocsTest, ManualShowsEveryCommandAndSetting) {
  std::string md = ReadRunfile("docs/wksp_ctl.md");
  ASSERT_FALSE(md.empty());
  // Table cells escape '|'.
  md = absl::AsciiStrToLower(absl::StrReplaceAll(md, {{"\\|", "|"}}));
  ExpectShowsEveryRow("docs/wksp_ctl.md", md);
}

TEST(DocsTest, CompletionIsGeneratedFromTheTable) {
  EXPECT_EQ(ReadRunfile("apps/wksp_ctl.bash-completion"), BashCompletion())
      << "regenerate: bazel run //apps:wksp_ctl_docgen -- completion > "
         "apps/wksp_ctl.bash-completion";
}

TEST(DocsTest, WordMatchIsDelimited) {
  EXPECT_TRUE(NamesWord("  --seal yes|no", "--seal"));
  EXPECT_TRUE(NamesWord("`--json` / `--text`", "--text"));
  EXPECT_FALSE(NamesWord("  --sealed", "--seal"));
  EXPECT_FALSE(NamesWord("restore-new", "restore"));
  EXPECT_EQ(ManText("x\n.BI new \" wksp page_sz\"\n"), "x\nnew wksp page_sz\n");
}

}  // namespace
}  // namespace wk::apps
