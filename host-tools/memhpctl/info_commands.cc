// memhpctl — the verbs that need no VM: help (the texts are cli_help.cc's) and version.
#include <cstdio>

#include "memhp_config.h"
#include "memhpctl/commands.h"

namespace memhp::cli {

int RunHelp(const Command& command) {
  std::fputs((command.help.topic ? VerbUsageText(*command.help.topic) : UsageText()).c_str(), stdout);
  return kExitOk;
}

int RunVersion(const Command&) {
  std::printf("memhpctl %s\n", MEMHP_VERSION);
  return kExitOk;
}

}  // namespace memhp::cli
