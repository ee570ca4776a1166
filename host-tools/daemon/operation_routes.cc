// memhpd — OperationRoutes (see operation_routes.h).
#include "daemon/operation_routes.h"

#include <deque>
#include <utility>

namespace memhp::daemon {

bool RouteOperation(const memhp::v1::ControlRequest& request, ControlReply& reply,
                    operations::OperationService& operations_, WatchHub& watch_, const AgentChannel& agent_) {
  switch (request.op_case()) {
    case memhp::v1::ControlRequest::kBlockOp:
      operations_.BlockOp(request.block_op(), std::move(reply));
      return true;
    // The three transactions are tapped so that `watch` sees their request and their end.
    case memhp::v1::ControlRequest::kPlug:
      operations_.Plug(request.plug(), watch_.TapOperation(request, std::move(reply)));
      return true;
    case memhp::v1::ControlRequest::kUnplug:
      operations_.Unplug(request.unplug(), watch_.TapOperation(request, std::move(reply)));
      return true;
    case memhp::v1::ControlRequest::kResize:
      operations_.Resize(request.resize(), watch_.TapOperation(request, std::move(reply)));
      return true;
    case memhp::v1::ControlRequest::kPolicy:
      operations_.Policy(request.policy(), std::move(reply));
      return true;
    case memhp::v1::ControlRequest::kZones:
      operations_.Zones(std::move(reply));
      return true;
    case memhp::v1::ControlRequest::kDryRun:
      operations_.DryRun(request.dry_run(), std::move(reply));
      return true;
    case memhp::v1::ControlRequest::kAutoscale:
      operations_.Autoscale(request.autoscale(), std::move(reply));
      return true;
    // The stream: the recent agent events first when asked, then everything from now on, until
    // the client leaves (watch_hub.h). No final answer is ever sent.
    case memhp::v1::ControlRequest::kWatch:
      watch_.Subscribe(std::move(reply), request.watch().replay_recent() ? agent_.recent_events()
                                                                         : std::deque<memhp::v1::AgentEvent>{});
      return true;
    default:
      return false;
  }
}

}  // namespace memhp::daemon
