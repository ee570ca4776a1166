// memhp-agent — ValidateRequest (see request_validation.h).
#include "agent/request_validation.h"

#include <string>

namespace memhp::agent {
namespace {

Status CheckSelection(const memhp::v1::BlockSelection& selection) {
  if (selection.has_amount()) {
    const int32_t node = selection.amount().node();
    if (node < 0 || node >= kMaxNumaNodes) {
      return Error::Invalid("amount: node " + std::to_string(node) + " is out of range (0 to " +
                            std::to_string(kMaxNumaNodes - 1) + ")");
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateRequest(const memhp::v1::AgentRequest& request) {
  switch (request.op_case()) {
    case memhp::v1::AgentRequest::kHello:
      if (!memhp::v1::PeerRole_IsValid(request.hello().role())) {
        return Error::Invalid("hello: unknown role " + std::to_string(request.hello().role()));
      }
      return OkStatus();
    case memhp::v1::AgentRequest::kOnline:
      if (!memhp::v1::OnlineTarget_IsValid(request.online().target())) {
        return Error::Invalid("online: unknown target " + std::to_string(request.online().target()) +
                              " (UNSPECIFIED asks for the policy; DEFAULT, KERNEL, MOVABLE name a zone)");
      }
      return CheckSelection(request.online().selection());
    case memhp::v1::AgentRequest::kOffline:
      if (request.offline().timeout_ms() > kMaxOfflineTimeoutMs) {
        return Error::Invalid("offline: timeout_ms " + std::to_string(request.offline().timeout_ms()) +
                              " is above the limit of " + std::to_string(kMaxOfflineTimeoutMs));
      }
      return CheckSelection(request.offline().selection());
    case memhp::v1::AgentRequest::kDeviceMap:
      for (int i = 0; i < request.device_map().devices_size(); ++i) {
        const memhp::v1::DeviceRange& d = request.device_map().devices(i);
        const std::string name = "device map: device #" + std::to_string(i) + " '" + d.device_id() + "'";
        if (!memhp::v1::MemoryDeviceKind_IsValid(d.kind())) {
          return Error::Invalid(name + ": unknown kind " + std::to_string(d.kind()));
        }
        if (!memhp::v1::OnlineTarget_IsValid(d.target())) {
          return Error::Invalid(name + ": unknown target " + std::to_string(d.target()));
        }
        if (d.node() < 0 || d.node() >= kMaxNumaNodes) {
          return Error::Invalid(name + ": node " + std::to_string(d.node()) + " is out of range (0 to " +
                                std::to_string(kMaxNumaNodes - 1) + ")");
        }
      }
      return OkStatus();
    case memhp::v1::AgentRequest::kIntent:
    case memhp::v1::AgentRequest::kPing:
    case memhp::v1::AgentRequest::kInventory:
    case memhp::v1::AgentRequest::kSetPolicy:  // a name (parsed by SetPolicy) and a bounded ratio
    case memhp::v1::AgentRequest::kZoneReport:
    case memhp::v1::AgentRequest::OP_NOT_SET:
      return OkStatus();
  }
  return OkStatus();
}

}  // namespace memhp::agent
