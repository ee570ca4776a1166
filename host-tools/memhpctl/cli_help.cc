// memhpctl — the help texts, generated from the verb table (verb_table.h): `memhpctl help`
// lists every verb's summary; `memhpctl help VERB` (or `memhpctl VERB --help`) shows one verb's
// usage and every option it takes, one per line.
#include <algorithm>
#include <string_view>
#include <string>
#include <vector>

#include "memhpctl/cli_args.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {
namespace {

constexpr size_t kWidth = 100;  // wrap usage lines here; one option per line regardless

constexpr const char* kExitCodes = "exit codes: 0 done, 1 failed or refused, 2 usage error, 3 timed out or partly done\n";

// How values are written (cli_values.h), the same for every option that takes one: each line
// with the metavars it explains.
struct ValueLine {
  std::vector<std::string_view> metavars;  // empty: always shown
  std::string_view text;
};
const ValueLine kValues[] = {
    {{"SIZE"},
     "  SIZE      bytes: a bare number is bytes; K/M/G/T and KiB/MiB/GiB/TiB are binary, KB/MB/GB/TB SI\n"
     "            (as virsh reads them), e.g. 256M, 1GiB, 0x10000000\n"},
    {{"START:SIZE"}, "  START     an address: hex (0x140000000) or a SIZE\n"},
    {{"DURATION"}, "  DURATION  500ms, 30s, 2m, 1h; a bare number is seconds (--block-timeout needs its unit)\n"},
    {{"IDS"}, "  IDS       memory block ids and ranges: 40-47,50\n"},
    {{}, "  --        ends the options: every word after it is a word\n"},
};

// The "values:" paragraph for `options` (nullptr: every line).
std::string ValuesText(const std::vector<args::OptionSpec>* options) {
  std::string out = "values:\n";
  for (const ValueLine& line : kValues) {
    bool shown = options == nullptr || line.metavars.empty();
    for (const args::OptionSpec& o : options ? *options : std::vector<args::OptionSpec>{}) {
      for (std::string_view m : line.metavars) shown = shown || o.metavar == m;
    }
    if (shown) out += line.text;
  }
  return out;
}

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
  for (const args::OptionSpec& o : options) width = std::max(width, o.name.size() + o.metavar.size() + 3 + (o.letter ? 4 : 0));
  std::string out;
  for (const args::OptionSpec& o : options) {
    // "--output LIST, -o": the long name first, so every line starts "  --NAME".
    std::string left = "--" + o.name + (o.takes_value() ? " " + o.metavar : "") +
                       (o.letter ? std::string(", -") + o.letter : std::string());
    left.resize(width, ' ');
    out += "  " + left + "  " + o.help + "\n";
  }
  return out;
}

}  // namespace

std::string UsageText() {
  std::string out =
      "usage: memhpctl [--vm NAME | --all] [--state-root DIR] [-j|--json] [-q|--quiet] COMMAND [options]\n"
      "       memhpctl -h|--help | -V|--version\n\ncommands:\n";
  size_t width = 0;
  for (const VerbSpec& row : VerbTable()) width = std::max(width, row.name.size());
  for (const VerbSpec& row : VerbTable()) {
    std::string name(row.name);
    name.resize(width, ' ');
    out += "  " + name + "  " + std::string(row.summary) + "\n";
  }
  out += "\nmemhpctl COMMAND --help (or memhpctl help COMMAND): that command's usage and options.\n";
  out += "\nglobal options:\n" + OptionLines(GlobalOptionSpecs());
  out += "  -h, --help        this text; after a COMMAND, its own help\n";
  out += "  -V, --version     memhpctl's version\n";
  out += "\n" + ValuesText(nullptr) + "\n" + kExitCodes;
  return out;
}

std::string VerbUsageText(Verb verb) {
  const VerbSpec& row = SpecOf(verb);
  std::string out = WrappedUsage(row) + "\n" + std::string(row.summary) + "\n\n";
  out += row.options.empty() ? "options: none of its own\n" : "options:\n" + OptionLines(row.options);
  out += "\nglobal options: --vm NAME, --all (status), --state-root DIR, -j|--json, -q|--quiet (memhpctl help)\n";
  out += "\n" + ValuesText(&row.options) + "\n" + kExitCodes;
  return out;
}

}  // namespace memhp::cli
