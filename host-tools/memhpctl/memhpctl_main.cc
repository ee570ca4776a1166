// memhpctl — entry point: parse the command line, run the verb, exit with its code.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "memhp_config.h"
#include "memhpctl/cli_args.h"
#include "memhpctl/commands.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const memhp::cli::ParseOutcome parsed = memhp::cli::ParseCommandLine(args);
  if (!parsed.command) {
    std::fprintf(stderr, "memhpctl: %s\n", parsed.error.c_str());
    return memhp::cli::kExitUsage;
  }
  const memhp::cli::Command& command = *parsed.command;
  switch (command.verb) {
    case memhp::cli::Verb::kHelp:
      std::fputs(memhp::cli::UsageText().c_str(), stdout);
      return memhp::cli::kExitOk;
    case memhp::cli::Verb::kVersion:
      std::printf("memhpctl %s\n", MEMHP_VERSION);
      return memhp::cli::kExitOk;
    case memhp::cli::Verb::kLaunch:
      return memhp::cli::RunLaunch(command);
    case memhp::cli::Verb::kAttach:
      return memhp::cli::RunAttach(command);
    case memhp::cli::Verb::kStatus:
      return memhp::cli::RunStatus(command);
    case memhp::cli::Verb::kStop:
      return memhp::cli::RunStop(command);
    case memhp::cli::Verb::kQmp:
      return memhp::cli::RunQmp(command);
    case memhp::cli::Verb::kOnline:
    case memhp::cli::Verb::kOffline:
      return memhp::cli::RunBlockOp(command);
    case memhp::cli::Verb::kEvents:
      return memhp::cli::RunEvents(command);
    case memhp::cli::Verb::kPlug:
      return memhp::cli::RunPlug(command);
    case memhp::cli::Verb::kUnplug:
      return memhp::cli::RunUnplug(command);
    case memhp::cli::Verb::kResize:
      return memhp::cli::RunResize(command);
    case memhp::cli::Verb::kPolicy:
      return memhp::cli::RunPolicy(command);
    case memhp::cli::Verb::kZones:
      return memhp::cli::RunZones(command);
    case memhp::cli::Verb::kWatch:
      return memhp::cli::RunWatch(command);
    case memhp::cli::Verb::kAudit:
      return memhp::cli::RunAudit(command);
  }
  return memhp::cli::kExitUsage;
}
