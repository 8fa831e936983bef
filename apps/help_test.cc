// The help text names every command and setting the command line accepts,
// so a new entry in the command table cannot go undocumented in --help.
#include <string>
#include <string_view>

#include "apps/commands.h"
#include "gtest/gtest.h"

namespace wk::apps {
namespace {

// `word` appears in `text` delimited as a command-line word: after a line
// start, a space or '|', and before a space, a line end, '=' or '|'.
bool NamesWord(std::string_view text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string_view::npos;
       at = text.find(word, at + 1)) {
    const char before = at == 0 ? '\n' : text[at - 1];
    const size_t end = at + word.size();
    const char after = end == text.size() ? '\n' : text[end];
    const bool starts = before == '\n' || before == ' ' || before == '|';
    const bool ends =
        after == '\n' || after == ' ' || after == '=' || after == '|';
    if (starts && ends) return true;
  }
  return false;
}

TEST(HelpTest, NamesEveryCommandAndSetting) {
  const std::string_view help = kHelpText;
  for (std::string_view name : CommandNames()) {
    EXPECT_TRUE(NamesWord(help, name)) << "help text lacks " << name;
  }
}

TEST(HelpTest, WordMatchIsDelimited) {
  EXPECT_TRUE(NamesWord("  --seal yes|no", "--seal"));
  EXPECT_FALSE(NamesWord("  --sealed", "--seal"));
  EXPECT_FALSE(NamesWord("restore-new", "restore"));
}

}  // namespace
}  // namespace wk::apps
