// agent_passthrough — the agent's policy and zone report, asked through memhpd (memhpctl policy,
// memhpctl zones). Not operations: nothing in QEMU changes, so they do not queue. No agent:
// ERROR_CODE_UNAVAILABLE; an agent that does not know the request answers UNSUPPORTED, passed on.
#pragma once

#include <chrono>

#include "daemon/agent_channel.h"
#include "daemon/control_server.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

void ForwardPolicy(AgentChannel& agent, const memhp::v1::PolicyCommand& command, std::chrono::milliseconds timeout,
                   ControlReply reply);
void ForwardZoneReport(AgentChannel& agent, std::chrono::milliseconds timeout, ControlReply reply);

}  // namespace memhp::daemon::operations
