// memhpctl — the pieces the command-line parser is built from (internal to cli_args.cc and
// operation_args.cc): an option's spec, number and size options, and the operation verbs'
// options, words and checks, kept apart so cli_args.cc stays one readable parser.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "memhpctl/cli_args.h"

namespace memhp::cli::args {

struct OptionSpec {
  bool takes_value;
  // Applies the option; returns "" or an error message.
  std::function<std::string(Command&, const std::string& value)> apply;
};

// Parses a whole decimal number within [lo, hi]; nullopt for anything else ("12x", "", "-1").
[[nodiscard]] std::optional<uint64_t> ParseNumber(const std::string& text, uint64_t lo, uint64_t hi);

// --NAME takes a whole number in [lo, hi].
[[nodiscard]] OptionSpec Number(std::function<void(Command&, uint64_t)> set, std::string name, uint64_t lo,
                                uint64_t hi);

// The options of plug, unplug, resize, policy and watch (zones has none).
[[nodiscard]] std::map<std::string, OptionSpec> OperationVerbSpecs(Verb verb);

// A word after an operation verb (unplug ID, resize ID). Returns true when the word was taken;
// `error` is set when it was meant for the verb but is wrong.
[[nodiscard]] bool TakeOperationWord(Verb verb, const std::string& word, Command& command, std::string& error);

// What an operation verb needs once every word was read; "" when the command is complete.
[[nodiscard]] std::string CheckOperationCommand(const Command& command);

}  // namespace memhp::cli::args
