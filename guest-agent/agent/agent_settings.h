// memhp-agent — AgentSettings: what the host may change while the agent runs.
//
// The onlining policy (SetPolicyRequest) and the device map (DeviceMap) start from the command
// line (policy) and empty (map), and are replaced by the host's requests. One object owned by
// the AgentDaemon, shared by reference with the BlockOperator (reads them at each decision) and
// the RequestHandler (changes them). All of it lives on the agent's one main loop (S18/S21), so
// a request never changes them under a running operation.
#pragma once

#include "policy/device_map.h"
#include "policy/online_policy.h"

namespace memhp::agent {

struct AgentSettings {
  PolicyConfig policy;
  DeviceMapTable devices;
};

}  // namespace memhp::agent
