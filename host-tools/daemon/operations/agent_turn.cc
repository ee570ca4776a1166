// agent_turn — see agent_turn.h.
#include "daemon/operations/agent_turn.h"

#include <string>

namespace memhp::daemon::operations {

void AgentTurn::WaitingBehind(uint32_t ahead) {
  memhp::v1::ControlResponse response;
  auto* progress = response.mutable_progress();
  progress->set_step("queued");
  progress->set_detail(std::to_string(ahead) + " operation(s) ahead");
  progress->set_queued_behind(ahead);
  reply_(std::move(response));
}

}  // namespace memhp::daemon::operations
