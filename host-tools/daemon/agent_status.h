// agent_status — what memhpd knows of the agent, as the status answer's AgentStatus. Shared by
// the QEMU and the libvirt supervisors (supervisor.h, libvirt/libvirt_supervisor.h).
#pragma once

#include "daemon/agent_channel.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon {

void FillAgentStatus(const AgentChannel& agent, memhp::v1::AgentStatus* out);

}  // namespace memhp::daemon
