// memhp-agent — entry point: `memhp-agent pin ...` (pin_command.h), or the daemon: parse the
// options (agent_options.h), run the AgentDaemon (agent/agent_daemon.h), exit with its status.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_daemon.h"
#include "agent/channel_openers.h"
#include "agent_options.h"
#include "memhp_config.h"
#include "pin_command.h"

int main(int argc, char** argv) {
  // `memhp-agent pin ...`: take a pin from a shell (S22) instead of running the agent.
  if (argc > 1 && std::string_view(argv[1]) == "pin") return memhp::agent::RunPinCommand(argc - 1, argv + 1);
  const memhp::agent::Result<memhp::agent::AgentOptions> options =
      memhp::agent::ParseAgentOptions(std::vector<std::string>(argv, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "memhp-agent: %s\n", options.error().message.c_str());
    return 2;
  }
  if (options->version) {
    std::printf("memhp-agent %s\n", MEMHP_VERSION);
    return 0;
  }
  memhp::agent::AgentDaemon daemon(
      options->daemon,
      memhp::agent::AgentDaemonSeams{
          .open_channel = options->socket_path.empty()
                              ? memhp::agent::VirtioPortOpener(options->daemon.sysfs_root, options->port_name)
                              : memhp::agent::UnixSocketOpener(options->socket_path),
      });
  if (const memhp::agent::Status ran = daemon.Run(); !ran.ok()) {
    std::fprintf(stderr, "memhp-agent: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
}
