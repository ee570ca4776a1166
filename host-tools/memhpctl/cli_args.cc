// memhpctl — the command line (see cli_args.h): one parser for every verb, driven by the verb
// table (verb_table.h).
#include "memhpctl/cli_args.h"

#include "memhpctl/cli_option.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {
namespace {

using args::OptionSpec;

const OptionSpec* FindOption(const std::vector<OptionSpec>& options, const std::string& name) {
  for (const OptionSpec& option : options) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

}  // namespace

ParseOutcome ParseCommandLine(const std::vector<std::string>& args) {
  Command command;
  const VerbSpec* verb = nullptr;
  const std::vector<OptionSpec>& globals = GlobalOptionSpecs();

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      // Help wins over whatever else the line holds: the verb's, when one came before.
      command.verb = Verb::kHelp;
      if (verb) command.help.topic = verb->verb;
      return {command, ""};
    }
    if (arg.rfind("--", 0) != 0) {
      if (!verb) {
        verb = FindVerb(arg);
        if (!verb) return {std::nullopt, "unknown command '" + arg + "' (see memhpctl help)"};
        continue;
      }
      if (verb->take_word) {
        const WordOutcome word = verb->take_word(command, arg);
        if (!word.error.empty()) return {std::nullopt, word.error};
        if (word.taken) continue;
      }
      return {std::nullopt, "unexpected argument '" + arg + "' after '" + std::string(verb->name) + "'"};
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = verb ? FindOption(verb->options, name) : nullptr;
    if (!spec) spec = FindOption(globals, name);
    if (!spec) {
      return {std::nullopt, "unknown option --" + name +
                                (verb ? " for '" + std::string(verb->name) + "' (see memhpctl " +
                                            std::string(verb->name) + " --help)"
                                      : std::string())};
    }
    std::string value;
    if (spec->takes_value()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return {std::nullopt, "--" + name + " needs a value"};
      }
    } else if (inline_value) {
      return {std::nullopt, "--" + name + " takes no value"};
    }
    if (std::string error = spec->apply(command, value); !error.empty()) return {std::nullopt, error};
  }
  if (!verb) return {std::nullopt, "no command given (see memhpctl help)"};
  command.verb = verb->verb;
  if (verb->check) {
    if (std::string error = verb->check(command); !error.empty()) return {std::nullopt, error};
  }
  return {command, ""};
}

std::optional<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t shift = 0;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    default: break;
  }
  if (shift) digits.pop_back();
  auto n = args::ParseNumber(digits, 0, UINT64_MAX >> shift);
  if (!n) return std::nullopt;
  return *n << shift;
}

}  // namespace memhp::cli
