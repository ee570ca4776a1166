// memhpctl — the help texts, generated from the verb table (verb_table.h): `memhpctl help`
// lists every verb's summary; `memhpctl help VERB` (or `memhpctl VERB --help`) shows one verb's
// usage and every option it takes, one per line.
#include <algorithm>
#include <string>
#include <vector>

#include "memhpctl/cli_args.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {
namespace {

constexpr size_t kWidth = 100;  // wrap usage lines here; one option per line regardless

constexpr const char* kExitCodes = "exit codes: 0 done, 1 failed or refused, 2 usage error, 3 timed out or partly done\n";

// The usage's words, a bracketed or parenthesized group ("[--audit [--audit-arm X]]") or a
// quoted one kept whole, so a wrapped line never splits an option from its value.
std::vector<std::string> UsageWords(std::string_view usage) {
  std::vector<std::string> words;
  std::string word;
  int depth = 0;
  char quote = 0;  // the open quote, if any
  for (char ch : usage) {
    if (quote) {
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '[' || ch == '(') {
      ++depth;
    } else if (ch == ']' || ch == ')') {
      --depth;
    } else if (ch == ' ' && depth == 0) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    word += ch;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// "usage: memhpctl [global options] USAGE", wrapped under the verb.
std::string WrappedUsage(const VerbSpec& row) {
  const std::string lead = "usage: memhpctl [global options] ";
  const std::string indent(lead.size() + row.name.size() + 1, ' ');
  std::string out = lead;
  size_t column = lead.size();
  bool first = true;
  for (const std::string& word : UsageWords(row.usage)) {
    if (!first && column + 1 + word.size() > kWidth) {
      out += "\n" + indent;
      column = indent.size();
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  return out + "\n";
}

// "  --name METAVAR   help", the help column aligned over `options`.
std::string OptionLines(const std::vector<args::OptionSpec>& options) {
  size_t width = 0;
  for (const args::OptionSpec& o : options) width = std::max(width, o.name.size() + o.metavar.size() + 3);
  std::string out;
  for (const args::OptionSpec& o : options) {
    std::string left = "--" + o.name + (o.takes_value() ? " " + o.metavar : "");
    left.resize(width, ' ');
    out += "  " + left + "  " + o.help + "\n";
  }
  return out;
}

}  // namespace

std::string UsageText() {
  std::string out = "usage: memhpctl [--vm NAME] [--state-root DIR] [--json] COMMAND [options]\n\ncommands:\n";
  size_t width = 0;
  for (const VerbSpec& row : VerbTable()) width = std::max(width, row.name.size());
  for (const VerbSpec& row : VerbTable()) {
    std::string name(row.name);
    name.resize(width, ' ');
    out += "  " + name + "  " + std::string(row.summary) + "\n";
  }
  out += "\nmemhpctl COMMAND --help (or memhpctl help COMMAND): that command's usage and options.\n";
  out += "\nglobal options:\n" + OptionLines(GlobalOptionSpecs());
  out += std::string("\n") + kExitCodes;
  return out;
}

std::string VerbUsageText(Verb verb) {
  const VerbSpec& row = SpecOf(verb);
  std::string out = WrappedUsage(row) + "\n" + std::string(row.summary) + "\n\n";
  out += row.options.empty() ? "options: none of its own\n" : "options:\n" + OptionLines(row.options);
  out += "\nglobal options: --vm NAME, --state-root DIR, --json (memhpctl help)\n";
  out += kExitCodes;
  return out;
}

}  // namespace memhp::cli
