// agent_status — see agent_status.h.
#include "daemon/agent_status.h"

namespace memhp::daemon {

void FillAgentStatus(const AgentChannel& agent, memhp::v1::AgentStatus* out) {
  out->set_connected(agent.agent_connected());
  if (agent.hello()) *out->mutable_hello() = *agent.hello();
  if (agent.inventory()) *out->mutable_inventory() = *agent.inventory();
  out->set_last_seen_unix_ns(agent.last_seen_unix_ns());
  for (const auto& event : agent.recent_events()) *out->add_recent_events() = event;
  out->set_events_recorded(agent.stats().memory_events);
  out->set_duplicate_events(agent.stats().duplicates);
  out->set_guest_violations(agent.stats().violations);
  out->set_last_guest_violation(agent.last_violation());
  if (agent.pressure()) *out->mutable_pressure() = *agent.pressure();
  if (agent.policy()) *out->mutable_policy() = *agent.policy();
}

}  // namespace memhp::daemon
