// memhpctl — the verbs that need no VM: help (the texts are cli_help.cc's) and version.
#include <cstdio>
#include <string>

#include "memhp_config.h"
#include "memhpctl/cli_call.h"
#include "memhpctl/commands.h"

namespace memhp::cli {

// Help and the version are asked for by name: --quiet does not silence them.
int RunHelp(const Command& command) {
  const std::string text = command.help.topic ? VerbUsageText(*command.help.topic) : UsageText();
  if (command.global.json) return PrintAnswer(command, kExitOk, "", "{\"help\": " + JsonString(text) + "}");
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

int RunVersion(const Command& command) {
  if (command.global.json) {
    return PrintAnswer(command, kExitOk, "", "{\"program\": \"memhpctl\", \"version\": " + JsonString(MEMHP_VERSION) + "}");
  }
  std::printf("memhpctl %s\n", MEMHP_VERSION);
  return kExitOk;
}

}  // namespace memhp::cli
