// agent_passthrough — see agent_passthrough.h.
#include "daemon/operations/agent_passthrough.h"

namespace memhp::daemon::operations {
namespace {

// Sends `request`, answers with `fill` on success, the agent's own error or why there is none.
void Forward(AgentChannel& agent, memhp::v1::AgentRequest request, std::chrono::milliseconds timeout,
             ControlReply reply, std::function<bool(const memhp::v1::AgentResponse&, memhp::v1::ControlResponse&)> fill) {
  if (!agent.agent_connected()) {
    memhp::v1::ControlResponse response;
    response.mutable_error()->set_code(memhp::v1::ERROR_CODE_UNAVAILABLE);
    response.mutable_error()->set_message("no agent is connected: the guest cannot be asked");
    reply(std::move(response));
    return;
  }
  agent.Request(std::move(request), timeout, [reply, fill](AgentReply r) {
    memhp::v1::ControlResponse response;
    if (!r.response) {
      response.mutable_error()->set_code(r.error_code);
      response.mutable_error()->set_message("agent: " + r.error);
    } else if (r.response->has_error()) {
      *response.mutable_error() = r.response->error();
    } else if (!fill(*r.response, response)) {
      response.mutable_error()->set_code(memhp::v1::ERROR_CODE_MALFORMED);
      response.mutable_error()->set_message("the agent answered with another kind of result");
    }
    reply(std::move(response));
  });
}

}  // namespace

void ForwardPolicy(AgentChannel& agent, const memhp::v1::PolicyCommand& command, std::chrono::milliseconds timeout,
                   ControlReply reply) {
  memhp::v1::AgentRequest request;
  *request.mutable_set_policy() = command.set();  // empty: read the policy in force
  Forward(agent, std::move(request), timeout, std::move(reply),
          [](const memhp::v1::AgentResponse& in, memhp::v1::ControlResponse& out) {
            if (!in.has_policy()) return false;
            *out.mutable_policy() = in.policy();
            return true;
          });
}

void ForwardZoneReport(AgentChannel& agent, std::chrono::milliseconds timeout, ControlReply reply) {
  memhp::v1::AgentRequest request;
  request.mutable_zone_report();
  Forward(agent, std::move(request), timeout, std::move(reply),
          [](const memhp::v1::AgentResponse& in, memhp::v1::ControlResponse& out) {
            if (!in.has_zone_report()) return false;
            *out.mutable_zones() = in.zone_report();
            return true;
          });
}

}  // namespace memhp::daemon::operations
