// wksp_ctl's bash completion, generated from the command table (see
// commands.h: BashCompletion). apps/wksp_ctl.bash-completion is this
// function's output; apps:docs_test fails when they differ.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "apps/command.h"
#include "apps/command_parsers.h"
#include "apps/commands.h"

namespace wk::apps {
namespace {

// What the completion offers for argument `i` of `c`, named `arg` in the
// table: a workspace (wk), a workspace address (wka), a checkpoint path
// that may be "-" for stdin/stdout (path), any other file (file), a page
// size (ps), a style, a verbose level, fixed words (w:a,b), or nothing.
std::string ArgKind(const Command& c, size_t i, std::string_view arg) {
  const int idx = static_cast<int>(i);
  if (idx == c.stdin_path || idx == c.stdout_path) return "path";
  // new and restore-new name a workspace that does not exist yet.
  if (arg == "wksp")
    return c.parse == New || c.parse == RestoreNew ? "any" : "wk";
  if (arg == "wksp:gaddr") return "wka";
  if (arg == "path" || arg == "file" || arg == "torrent" || arg == "hybrid")
    return "file";
  if (arg == "page_sz") return "ps";
  if (arg == "style") return "style";
  if (arg == "verbose") return "verbose";
  if (arg.find('|') != std::string_view::npos && arg != "seed|-") {
    std::string words(arg);
    for (char& ch : words) ch = ch == '|' ? ',' : ch;
    return "w:" + words;
  }
  return "any";
}

constexpr char kHead[] = R"(# bash completion for wksp_ctl (install as
# ~/.local/share/bash-completion/completions/wksp_ctl). Completes command
# and setting names, workspace names from the shared-memory directory, page
# sizes, styles, verbose levels, fixed values and file paths.
#
# Generated from wksp_ctl's command table (apps/command_table.cc) by
# `bazel run //apps:wksp_ctl_docgen -- completion`; apps:docs_test fails
# when this file differs from what the table gives. Edit the generator
# (apps/completion.cc), not this file.
_wksp_ctl() {
  local cur=${COMP_WORDS[COMP_CWORD]}
)";

constexpr char kTail[] = R"(  # Walk the line to find what the current word is.
  local i=1 want=cmd
  while ((i < COMP_CWORD)); do
    local spec=${argv[${COMP_WORDS[i]}]-}
    local -a specs=($spec)
    if ((i + ${#specs[@]} >= COMP_CWORD)); then
      want=${specs[COMP_CWORD - i - 1]}
      break
    fi
    ((i += 1 + ${#specs[@]}))
  done
  local root="${WKSP_SHMEM_ROOT:-/dev/shm}"
  case $want in
    cmd) COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
    wk | wka)
      local names
      names=$(cd "$root" 2>/dev/null && ls -1 2>/dev/null)
      COMPREPLY=($(compgen -W "$names" -- "$cur"))
      if [[ $want == wka ]]; then
        compopt -o nospace 2>/dev/null
        COMPREPLY=("${COMPREPLY[@]/%/:}")
      fi ;;
    ps) COMPREPLY=($(compgen -W "normal huge gigantic" -- "$cur")) ;;
    style) COMPREPLY=($(compgen -W "0 1 2 3" -- "$cur")) ;;
    verbose) COMPREPLY=($(compgen -W "0 1 2 3 4" -- "$cur")) ;;
    w:*) local alts=${want#w:}; COMPREPLY=($(compgen -W "${alts//,/ }" -- "$cur")) ;;
    path | file)
      local -a files=($(compgen -f -- "$cur"))
      COMPREPLY=("${files[@]}")
      [[ $want == path && -- == -"$cur"* ]] && COMPREPLY+=(-)
      compopt -o filenames 2>/dev/null ;;
    *) COMPREPLY=() ;;
  esac
}
complete -F _wksp_ctl wksp_ctl
)";

}  // namespace

std::string BashCompletion() {
  std::vector<std::string> names;
  std::vector<std::string> specs;
  for (const Command& c : CommandTable()) {
    names.push_back(c.name);
    if (c.argc == 0) continue;
    std::vector<std::string> kinds;
    std::vector<std::string> args =
        absl::StrSplit(c.args, ' ', absl::SkipEmpty());
    for (size_t i = 0; i < args.size(); ++i) {
      kinds.push_back(ArgKind(c, i, args[i]));
    }
    specs.push_back(absl::StrCat("    [", c.name, "]=\"",
                                 absl::StrJoin(kinds, " "), "\"\n"));
  }
  std::string out = kHead;
  // Command names, wrapped.
  out += "  local cmds=\"";
  size_t col = 14;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      if (col + 1 + names[i].size() > 78) {
        out += "\n   ";
        col = 3;
      }
      out += " ";
      ++col;
    }
    out += names[i];
    col += names[i].size();
  }
  out += "\"\n";
  out +=
      "  # Arguments per command and setting (wk: workspace, wka: address,\n"
      "  # path: a file or - for stdin/stdout, file: a file, ps: page size,\n"
      "  # w:a,b: one of those words, any: other).\n"
      "  local -A argv=(\n";
  for (const std::string& s : specs) out += s;
  out += "  )\n";
  out += kTail;
  return out;
}

}  // namespace wk::apps
