// memhpctl — the verbs, as one table: each row is a verb's name, its one-line summary and
// usage, the options it takes, the words it takes, what it needs once parsed, and the function
// that runs it. The parser (cli_args.cc), the help (cli_help.cc) and the dispatch
// (run_command_line.cc) all read this table, so a new verb is a row here (plus its Verb value
// and options struct in cli_args.h and its handler in commands.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "memhpctl/cli_args.h"
#include "memhpctl/cli_option.h"

namespace memhp::cli {

// What a verb made of a word that is not an option (unplug's ID, qmp's COMMAND).
struct WordOutcome {
  bool taken = false;  // false: the word is unexpected after this verb
  std::string error;   // taken but wrong: the usage error
};

struct VerbSpec {
  Verb verb;
  std::string_view name;
  std::string_view summary;  // one line, for `memhpctl help`
  std::string_view usage;    // the synopsis after "memhpctl", starting with the name
  std::vector<args::OptionSpec> options;
  // Words after the verb; nullptr: none is taken.
  std::function<WordOutcome(Command&, const std::string& word)> take_word;
  // What the verb needs once every word was read: "" when the command is complete; nullptr:
  // nothing beyond its options.
  std::function<std::string(const Command&)> check;
  // Runs the verb; returns its exit code (cli_args.h).
  int (*run)(const Command&);
};

// Every verb, in the order `memhpctl help` lists them.
[[nodiscard]] const std::vector<VerbSpec>& VerbTable();
// The row named `name`, or nullptr.
[[nodiscard]] const VerbSpec* FindVerb(std::string_view name);
// The row of `verb` (every Verb has one).
[[nodiscard]] const VerbSpec& SpecOf(Verb verb);
// The options every verb takes: --vm, --state-root, --json, --quiet.
[[nodiscard]] const std::vector<args::OptionSpec>& GlobalOptionSpecs();

}  // namespace memhp::cli
