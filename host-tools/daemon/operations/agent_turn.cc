// agent_turn — see agent_turn.h.
#include "daemon/operations/agent_turn.h"

#include <string>

namespace memhp::daemon::operations {

void AgentTurn::WaitingBehind(uint32_t ahead) { reply_(QueuedResponse(ahead)); }

}  // namespace memhp::daemon::operations
