// agent_passthrough — requests to the agent that memhpd passes on and answers with the agent's
// result: the policy (memhpctl policy), the zone report (memhpctl zones), block online/offline
// (memhpctl online/offline). No agent: ERROR_CODE_UNAVAILABLE; the agent's own errors (an agent
// that does not know the request answers UNSUPPORTED) are passed on as they are.
//
// The ones that change the guest — online, offline, a policy change — run as turns of the
// operation queue (agent_turn.h), one at a time with plug, unplug and resize (S18/S21 on the
// host side); reading the policy or the zones changes nothing and does not wait.
#pragma once

#include <chrono>
#include <functional>

#include "daemon/control_server.h"
#include "daemon/ports/guest_agent.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

// `done` runs after the answer has been sent.
void ForwardPolicy(GuestAgent& agent, const memhp::v1::PolicyCommand& command, ControlReply reply,
                   std::function<void()> done = {});
void ForwardZoneReport(GuestAgent& agent, ControlReply reply);
// `command` must hold online or offline.
void ForwardBlockOp(GuestAgent& agent, const memhp::v1::BlockOpCommand& command, ControlReply reply,
                    std::function<void()> done = {});

// Whether a policy command changes the policy (a set with a name or a ratio), or only reads it.
[[nodiscard]] bool ChangesPolicy(const memhp::v1::PolicyCommand& command);

}  // namespace memhp::daemon::operations
