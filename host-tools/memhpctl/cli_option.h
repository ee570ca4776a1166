// memhpctl — one command-line option: its name, its value's name and its help line (for the
// generated help, verb_table.h), and how it changes a Command. The builders below make the
// common kinds, each checking its value and naming the option and the value when it is wrong.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memhpctl/cli_args.h"

namespace memhp::cli::args {

struct OptionSpec {
  std::string name;     // without the leading "--"
  std::string metavar;  // the value's name in help ("SIZE"); "" for a flag, which takes none
  std::string help;     // one line
  // Applies the option's value ("" for a flag); returns "" or the usage error.
  std::function<std::string(Command&, const std::string& value)> apply;

  [[nodiscard]] bool takes_value() const { return !metavar.empty(); }
};

// Parses a whole decimal number within [lo, hi]; nullopt for anything else ("12x", "", "-1").
[[nodiscard]] std::optional<uint64_t> ParseNumber(const std::string& text, uint64_t lo, uint64_t hi);

// QEMU's id_wellformed() (util/id.c): a letter, then letters, digits, '-', '.', '_'.
[[nodiscard]] bool IsDeviceId(const std::string& id);
inline constexpr std::string_view kDeviceIdRule = "is not a QEMU device id (a letter, then letters, digits, -._)";

// --NAME, no value.
[[nodiscard]] OptionSpec Flag(std::string name, std::string help, std::function<void(Command&)> set);
// --NAME VALUE, any text.
[[nodiscard]] OptionSpec Text(std::string name, std::string metavar, std::string help,
                              std::function<void(Command&, const std::string&)> set);
// --NAME VALUE, a whole number in [lo, hi].
[[nodiscard]] OptionSpec Number(std::string name, std::string metavar, std::string help, uint64_t lo,
                                uint64_t hi, std::function<void(Command&, uint64_t)> set);
// --NAME SIZE, bytes with K/M/G/T binary suffixes (ParseSize); 0 only when allow_zero.
[[nodiscard]] OptionSpec Size(std::string name, std::string help, bool allow_zero,
                              std::function<void(Command&, uint64_t)> set);
// --NAME WORD, one of `words` (its index handed to `set`). The metavar lists them, "a|b|c",
// unless one is given (for a list too long to read in the help's first column).
[[nodiscard]] OptionSpec Choice(std::string name, std::vector<std::string> words, std::string help,
                                std::function<void(Command&, size_t)> set, std::string metavar = "");
// --zone ZONE: policy, default, kernel or movable, for online and plug.
[[nodiscard]] OptionSpec Zone(std::string help, std::function<void(Command&, ZoneChoice)> set);

}  // namespace memhp::cli::args
