// agent_turn — a change the agent makes to the guest (block online/offline, a policy change)
// as one turn of the operation queue, so it never runs beside a plug, unplug or resize: S18
// (one hotplug operation at a time) and S21 (block state changes under the one lock) held on
// the host as the agent holds them in the guest. While it waits it tells its client how many
// operations are ahead ("queued", as operations do); its turn is the request and its answer.
#pragma once

#include <functional>

#include "daemon/control_server.h"
#include "daemon/operations/operation_queue.h"

namespace memhp::daemon::operations {

class AgentTurn : public Queueable {
 public:
  // `run(done)` sends the request and answers the client, then calls done.
  using Run = std::function<void(std::function<void()> done)>;
  AgentTurn(Run run, ControlReply reply) : run_(std::move(run)), reply_(std::move(reply)) {}

  void StartTurn(std::function<void()> done) override { run_(std::move(done)); }
  void WaitingBehind(uint32_t ahead) override;

 private:
  Run run_;
  ControlReply reply_;
};

}  // namespace memhp::daemon::operations
