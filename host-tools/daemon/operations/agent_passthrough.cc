// agent_passthrough — see agent_passthrough.h.
#include "daemon/operations/agent_passthrough.h"

#include "daemon/operations/machine.h"

namespace memhp::daemon::operations {
namespace {

// The agent's answer, or its error, as a control response; then `done`.
template <typename T>
Done<T> Answer(ControlReply reply, std::function<void(const T&, memhp::v1::ControlResponse&)> fill,
               std::function<void()> done) {
  return [reply = std::move(reply), fill = std::move(fill), done = std::move(done)](Result<T> r) {
    memhp::v1::ControlResponse response;
    if (r.ok()) {
      fill(r.value(), response);
    } else {
      *response.mutable_error() = ToProtoError(r.error(), memhp::v1::ERROR_CODE_FAILED);
      if (IsGone(r.error()) && response.error().message().rfind("agent", 0) != 0) {
        response.mutable_error()->set_message("agent: " + response.error().message());
      }
    }
    reply(std::move(response));
    if (done) done();
  };
}

bool Unavailable(GuestAgent& agent, const ControlReply& reply, const std::function<void()>& done) {
  if (agent.connected()) return false;
  memhp::v1::ControlResponse response;
  response.mutable_error()->set_code(memhp::v1::ERROR_CODE_UNAVAILABLE);
  response.mutable_error()->set_message("no agent is connected: the guest cannot be asked");
  reply(std::move(response));
  if (done) done();
  return true;
}

}  // namespace

bool ChangesPolicy(const memhp::v1::PolicyCommand& command) {
  return command.has_set() && (!command.set().policy().empty() || command.set().movable_ratio_percent() != 0);
}

void ForwardPolicy(GuestAgent& agent, const memhp::v1::PolicyCommand& command, ControlReply reply,
                   std::function<void()> done) {
  if (Unavailable(agent, reply, done)) return;
  // An empty SetPolicyRequest reads the policy in force.
  agent.Policy(command.set(), Answer<memhp::v1::PolicyState>(
                                  std::move(reply),
                                  [](const memhp::v1::PolicyState& p, memhp::v1::ControlResponse& out) {
                                    *out.mutable_policy() = p;
                                  },
                                  std::move(done)));
}

void ForwardZoneReport(GuestAgent& agent, ControlReply reply) {
  if (Unavailable(agent, reply, {})) return;
  agent.ZoneReport(Answer<memhp::v1::ZoneReport>(
      std::move(reply), [](const memhp::v1::ZoneReport& z, memhp::v1::ControlResponse& out) { *out.mutable_zones() = z; },
      {}));
}

void ForwardBlockOp(GuestAgent& agent, const memhp::v1::BlockOpCommand& command, ControlReply reply,
                    std::function<void()> done) {
  auto fill = [](const memhp::v1::BlockOpResult& b, memhp::v1::ControlResponse& out) { *out.mutable_block_op() = b; };
  const auto timeout = std::chrono::milliseconds(command.timeout_ms() ? command.timeout_ms() : 120000);
  if (command.has_online()) {
    agent.Online(command.online(), timeout,
                 Answer<memhp::v1::BlockOpResult>(std::move(reply), fill, std::move(done)));
  } else if (command.has_offline()) {
    agent.Offline(command.offline(), timeout,
                  Answer<memhp::v1::BlockOpResult>(std::move(reply), fill, std::move(done)));
  } else {
    memhp::v1::ControlResponse response;
    response.mutable_error()->set_code(memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
    response.mutable_error()->set_message("neither online nor offline");
    reply(std::move(response));
    if (done) done();
  }
}

}  // namespace memhp::daemon::operations
