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

const OptionSpec* FindLetter(const std::vector<OptionSpec>& options, char letter) {
  for (const OptionSpec& option : options) {
    if (option.letter != 0 && option.letter == letter) return &option;
  }
  return nullptr;
}

// The one-letter options: -h and -V ask for help or the version, -j and -q are --json and
// --quiet (GlobalOptionSpecs).
struct ShortFlag {
  std::optional<Verb> asks;  // help or version
  std::string long_name;     // else the global flag it stands for
};

std::optional<ShortFlag> FindShortFlag(char letter) {
  switch (letter) {
    case 'h': return ShortFlag{Verb::kHelp, ""};
    case 'V': return ShortFlag{Verb::kVersion, ""};
    case 'j':
    case 'J': return ShortFlag{std::nullopt, "json"};  // -J: lsmem's spelling
    case 'q': return ShortFlag{std::nullopt, "quiet"};
    default: return std::nullopt;
  }
}

std::string ShortFlagList() { return " (short options: -h help, -V version, -j or -J json, -q quiet, and a command's own)"; }

// Options memhpctl took once and takes no more, with what replaced them: a script that still
// passes one is told what to write instead.
std::string_view RetiredOption(std::string_view name) {
  if (name == "timeout-ms") return "write --block-timeout DURATION (e.g. --block-timeout 5s)";
  return "";
}

}  // namespace

ParseOutcome ParseCommandLine(const std::vector<std::string>& args) {
  Command command;
  const VerbSpec* verb = nullptr;
  const std::vector<OptionSpec>& globals = GlobalOptionSpecs();
  bool options_ended = false;  // after "--"

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!options_ended && arg == "--") {
      options_ended = true;
      continue;
    }
    const bool is_option = !options_ended && arg.size() > 1 && arg[0] == '-';
    if (!is_option) {
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
    std::string name;
    std::optional<std::string> inline_value;
    if (arg[1] != '-') {
      // Short flags, alone or bundled ("-jq").
      // The verb's own letters (blocks -o LIST -b) first: a letter that takes a value takes the
      // rest of the word (-oRANGE) or the next one.
      std::optional<Verb> asked;
      for (size_t k = 1; k < arg.size(); ++k) {
        if (const OptionSpec* own = verb ? FindLetter(verb->options, arg[k]) : nullptr) {
          std::string value;
          if (own->takes_value()) {
            if (k + 1 < arg.size()) {
              value = arg.substr(k + 1);
            } else if (i + 1 < args.size()) {
              value = args[++i];
            } else {
              return {std::nullopt, "-" + std::string(1, arg[k]) + " (--" + own->name + ") needs a value"};
            }
            k = arg.size();
          }
          if (std::string error = own->apply(command, value); !error.empty()) return {std::nullopt, error};
          continue;
        }
        const std::optional<ShortFlag> flag = FindShortFlag(arg[k]);
        if (!flag) return {std::nullopt, "unknown option -" + std::string(1, arg[k]) + ShortFlagList()};
        if (flag->asks) asked = *flag->asks;
        else if (std::string error = FindOption(globals, flag->long_name)->apply(command, ""); !error.empty()) {
          return {std::nullopt, error};
        }
      }
      if (!asked) continue;
      name = *asked == Verb::kHelp ? "help" : "version";
    } else {
      name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
    }
    if (name == "help" || name == "version") {
      // Help (or the version) wins over whatever else the line holds: the verb's help, when one
      // came before.
      if (inline_value) return {std::nullopt, "--" + name + " takes no value"};
      command.verb = name == "help" ? Verb::kHelp : Verb::kVersion;
      if (verb && name == "help") command.help.topic = verb->verb;
      return {command, ""};
    }
    const OptionSpec* spec = verb ? FindOption(verb->options, name) : nullptr;
    if (!spec) spec = FindOption(globals, name);
    if (!spec) {
      if (const std::string_view now = RetiredOption(name); !now.empty()) {
        return {std::nullopt, "--" + name + " is no more: " + std::string(now)};
      }
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
  if (command.global.all && verb->verb != Verb::kStatus) {
    return {std::nullopt, "--all works with status only (memhpctl --all status); '" + std::string(verb->name) +
                              "' acts on one VM (--vm NAME)"};
  }
  command.verb = verb->verb;
  if (verb->check) {
    if (std::string error = verb->check(command); !error.empty()) return {std::nullopt, error};
  }
  return {command, ""};
}

}  // namespace memhp::cli
