// fleet_view — every VM memhp serves on this host, one row each (memhpctl list), and the status
// of all of them at once (memhpctl --all status).
//
// A VM is a state folder (vm/state_dir.h); what memhpctl learnt about it is its memhpd's status
// answer, or why there is none (no memhpd, memhpd not answering). The views never fail: a VM
// that could not be asked is a row that says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

struct FleetEntry {
  std::string name;
  long memhpd_pid = 0;  // 0: no living memhpd
  long qemu_pid = 0;    // 0: no living QEMU that memhp launched (attached or libvirt: none)
  std::optional<memhp::v1::VmStatus> status;  // memhpd's answer
  std::string error;    // why there is no status, when memhpd lives but did not answer
};

// "libvirt", "qemu" (launched by memhp) or "qemu-attached"; "-" when nothing answered.
[[nodiscard]] std::string FleetEngine(const FleetEntry& entry);
// "running", "paused", ... (QEMU's run state), "no memhpd", "not answering", "stopped".
[[nodiscard]] std::string FleetState(const FleetEntry& entry);

// A table: NAME ENGINE STATE MEMORY AGENT (libvirt: also the domain and URI).
[[nodiscard]] std::string RenderFleetText(const std::vector<FleetEntry>& entries);
// {"vms": [{"name", "engine", "state", "memory_bytes", "agent_connected", "memhpd_pid",
//           "qemu_pid", "domain", "uri", "error"}]}
[[nodiscard]] std::string RenderFleetJson(const std::vector<FleetEntry>& entries);

// memhpctl --all status: each VM's status under a heading line, or the reason it has none.
[[nodiscard]] std::string RenderAllStatusText(const std::vector<FleetEntry>& entries);
// {"vms": [{"name", "ok", "status" | "error"}]}
[[nodiscard]] std::string RenderAllStatusJson(const std::vector<FleetEntry>& entries);

}  // namespace memhp::ctl
