// memhp-agent — the command line, parsed into what main() needs (README, "The agent").
//
//   memhp-agent [--port-name NAME | --socket PATH] [--sysfs-root DIR] [--policy POLICY]
//               [--movable-ratio PERCENT] [--event-backlog N] [--reserve-mib MIB]
//               [--hooks-dir DIR] [--pins-dir DIR] [--version]
//
// A value that does not parse, or is out of range, is an error naming the option and the value:
// never a default. --help is GLib's: it prints the options and exits 0 inside the parser.
#pragma once

#include <string>
#include <vector>

#include "agent/agent_daemon.h"
#include "sysfs/result.h"

namespace memhp::agent {

struct AgentOptions {
  std::string port_name = "org.memhp.agent.0";  // the virtio-serial port, by name
  std::string socket_path;                      // "" = the port; else this unix socket (tests)
  AgentDaemonConfig daemon;
  bool version = false;  // print the version and exit
};

// args[0] is the program name. A usage error (exit status 2) is an Error with EINVAL.
[[nodiscard]] Result<AgentOptions> ParseAgentOptions(const std::vector<std::string>& args);

}  // namespace memhp::agent
