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
#include "memhpctl/cli_values.h"

namespace memhp::cli::args {

struct OptionSpec {
  std::string name;     // without the leading "--"
  std::string metavar;  // the value's name in help ("SIZE"); "" for a flag, which takes none
  std::string help;     // one line
  // Applies the option's value ("" for a flag); returns "" or the usage error.
  std::function<std::string(Command&, const std::string& value)> apply;
  char letter = 0;  // its one-letter form (-o), or 0 for none


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
// What a size option accepts (its value in bytes, cli_values.h).
struct SizeRule {
  uint64_t min = 1;  // 0: zero is a size this option takes
  uint64_t max = UINT64_MAX;
  uint64_t multiple = 1;  // e.g. 1 MiB where QEMU is given MiB
};
// --NAME SIZE (ParseSize, a bare number is bytes), within `rule`.
[[nodiscard]] OptionSpec Size(std::string name, std::string help, SizeRule rule,
                              std::function<void(Command&, uint64_t)> set);
// What a duration option accepts (cli_values.h), in milliseconds.
struct DurationRule {
  uint64_t min_ms = 1;
  uint64_t max_ms = 3'600'000;  // 1 h
  BareNumber bare = BareNumber::kSeconds;
};
// --NAME DURATION (ParseDuration: 30s, 500ms, 2m), within `rule`; `set` gets milliseconds.
[[nodiscard]] OptionSpec Duration(std::string name, std::string help, DurationRule rule,
                                  std::function<void(Command&, uint32_t)> set);
// --NAME WORD, one of `words` (its index handed to `set`). The metavar lists them, "a|b|c",
// unless one is given (for a list too long to read in the help's first column).
[[nodiscard]] OptionSpec Choice(std::string name, std::vector<std::string> words, std::string help,
                                std::function<void(Command&, size_t)> set, std::string metavar = "");
// `option` with a one-letter form too (-o LIST, -b), as lsmem spells it.
[[nodiscard]] OptionSpec WithLetter(char letter, OptionSpec option);
// --zone ZONE: policy, default, kernel or movable, for online and plug.
[[nodiscard]] OptionSpec Zone(std::string help, std::function<void(Command&, ZoneChoice)> set);

}  // namespace memhp::cli::args
