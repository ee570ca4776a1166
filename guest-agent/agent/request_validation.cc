// memhp-agent — ValidateRequest (see request_validation.h).
#include "agent/request_validation.h"

#include <string>

#include "policy/device_map.h"

namespace memhp::agent {
namespace {

Status CheckNode(const std::string& name, int32_t node) {
  if (node < 0 || node >= kMaxNumaNodes) {
    return Error::Invalid(name + ": node " + std::to_string(node) + " is out of range (0 to " +
                          std::to_string(kMaxNumaNodes - 1) + ")");
  }
  return OkStatus();
}

Status CheckSelection(const memhp::v1::BlockSelection& selection) {
  if (selection.has_amount()) return CheckNode("amount", selection.amount().node());
  return OkStatus();
}

// The intent's own fields. Whole blocks and the device kind's fitness need the guest's block
// size and are PlugIntentSlot::Take's.
Status CheckIntent(const memhp::v1::PlugIntent& intent) {
  const std::string name = "plug intent for '" + intent.device_id() + "'";
  if (intent.device_id().empty() || intent.device_id().size() > kMaxDeviceIdBytes) {
    return Error::Invalid(name + ": a device id of 1 to " + std::to_string(kMaxDeviceIdBytes) +
                          " bytes is needed");
  }
  if (!memhp::v1::MemoryDeviceKind_IsValid(intent.kind())) {
    return Error::Invalid(name + ": unknown kind " + std::to_string(intent.kind()));
  }
  if (!memhp::v1::OnlineTarget_IsValid(intent.target())) {
    return Error::Invalid(name + ": unknown target " + std::to_string(intent.target()) +
                          " (UNSPECIFIED asks for the policy; DEFAULT, KERNEL, MOVABLE name a zone)");
  }
  if (Status node = CheckNode(name, intent.node()); !node.ok()) return node;
  if (intent.deadline_ms() == 0 || intent.deadline_ms() > kMaxIntentDeadlineMs) {
    return Error::Invalid(name + ": deadline_ms " + std::to_string(intent.deadline_ms()) +
                          " is out of range (1 to " + std::to_string(kMaxIntentDeadlineMs) + ")");
  }
  if (intent.size() != 0 && intent.start() > UINT64_MAX - intent.size()) {
    return Error::Invalid(name + ": range start " + std::to_string(intent.start()) + " size " +
                          std::to_string(intent.size()) + " wraps around the address space");
  }
  if (intent.expected_size() > kMaxIntentBytes) {
    return Error::Invalid(name + ": expected_size " + std::to_string(intent.expected_size()) +
                          " is above the limit of " + std::to_string(kMaxIntentBytes));
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
        if (Status node = CheckNode(name, d.node()); !node.ok()) return node;
      }
      return OkStatus();
    case memhp::v1::AgentRequest::kIntent:
      return CheckIntent(request.intent());
    case memhp::v1::AgentRequest::kEstimate:  // the selection and the path are the estimator's
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
