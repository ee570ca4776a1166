// memhpd — the command line, parsed (memhpctl launch and attach build it; memhpctl/commands.cc).
//
//   memhpd --state-dir DIR [--name NAME] [--qmp PATH] [--agent PATH] [--qemu-pidfile PATH]
//          [--accel kvm|tcg] [--audit-socket PATH] [--audit-arm hello|request]
//   memhpd --state-dir DIR [--name NAME] --libvirt DOMAIN [--connect URI] [--on-stop leave|destroy]
//
// Anything unknown, missing or malformed is an error naming it (memhpd then exits 2): never a
// default in its place. --help is GLib's: it prints the options and exits 0 inside the parser.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace memhp::daemon {

struct MemhpdOptions {
  std::string state_dir;     // required
  std::string name = "default";
  std::string qmp_socket;    // "" = STATE_DIR/qmp.sock
  std::string agent_socket;  // "" = STATE_DIR/agent.sock
  std::string qemu_pidfile;  // "" = memhp did not launch QEMU
  std::string accel;         // for status only
  std::string audit_socket;  // "" = no memhp-audit plugin
  bool audit_arm_on_request = false;  // --audit-arm request; hello (the default) arms at the hello
  std::string libvirt_domain;  // "" = a QEMU over QMP; else the libvirt domain (name or UUID)
  std::string libvirt_uri = "qemu:///system";
  bool libvirt_stop_destroys = false;  // --on-stop destroy (a domain memhpctl launched); else leave it
};

// args[0] is the program name. Errors have EINVAL.
[[nodiscard]] Result<MemhpdOptions> ParseMemhpdOptions(const std::vector<std::string>& args);

}  // namespace memhp::daemon
