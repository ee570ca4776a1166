// memhpctl — the whole CLI but the process: parse the words, report a usage error, run the verb
// its table row names (verb_table.h). main() only hands it argv; tests call it directly.
#pragma once

#include <string>
#include <vector>

namespace memhp::cli {

// args excludes argv[0]. Returns the exit code (cli_args.h): kExitUsage, with "memhpctl: WHY"
// on stderr, when the words are not a command.
[[nodiscard]] int RunCommandLine(const std::vector<std::string>& args);

}  // namespace memhp::cli
