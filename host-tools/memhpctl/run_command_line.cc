// memhpctl — see run_command_line.h.
#include "memhpctl/run_command_line.h"

#include <cstdio>

#include "memhpctl/cli_args.h"
#include "memhpctl/verb_table.h"

namespace memhp::cli {

int RunCommandLine(const std::vector<std::string>& args) {
  const ParseOutcome parsed = ParseCommandLine(args);
  if (!parsed.command) {
    std::fprintf(stderr, "memhpctl: %s\n", parsed.error.c_str());
    return kExitUsage;
  }
  return SpecOf(parsed.command->verb).run(*parsed.command);
}

}  // namespace memhp::cli
