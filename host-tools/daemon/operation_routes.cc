// memhpd — RouteOperation (see operation_routes.h).
#include "daemon/operation_routes.h"

#include <deque>
#include <utility>

namespace memhp::daemon {

bool RouteOperation(const memhp::v1::ControlRequest& request, ControlReply& reply,
                    operations::OperationService& operations, WatchHub& watch, const AgentChannel& agent) {
  switch (request.op_case()) {
    case memhp::v1::ControlRequest::kBlockOp:
      operations.BlockOp(request.block_op(), std::move(reply));
      return true;
    // The three transactions are tapped so that `watch` sees their request and their end.
    case memhp::v1::ControlRequest::kPlug:
      operations.Plug(request.plug(), watch.TapOperation(request, std::move(reply)));
      return true;
    case memhp::v1::ControlRequest::kUnplug:
      operations.Unplug(request.unplug(), watch.TapOperation(request, std::move(reply)));
      return true;
    case memhp::v1::ControlRequest::kResize:
      operations.Resize(request.resize(), watch.TapOperation(request, std::move(reply)));
      return true;
    case memhp::v1::ControlRequest::kPolicy:
      operations.Policy(request.policy(), std::move(reply));
      return true;
    case memhp::v1::ControlRequest::kZones:
      operations.Zones(std::move(reply));
      return true;
    case memhp::v1::ControlRequest::kDryRun:
      operations.DryRun(request.dry_run(), std::move(reply));
      return true;
    case memhp::v1::ControlRequest::kAutoscale:
      operations.Autoscale(request.autoscale(), std::move(reply));
      return true;
    // The stream: the recent agent events first when asked, then everything from now on, until
    // the client leaves (watch_hub.h). No final answer is ever sent.
    case memhp::v1::ControlRequest::kWatch:
      watch.Subscribe(std::move(reply), request.watch().replay_recent() ? agent.recent_events()
                                                                         : std::deque<memhp::v1::AgentEvent>{});
      return true;
    default:
      return false;
  }
}

}  // namespace memhp::daemon
