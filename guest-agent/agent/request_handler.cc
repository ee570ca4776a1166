// memhp-agent — RequestHandler (see request_handler.h).
#include "agent/request_handler.h"

#include <glib.h>

#include <cerrno>
#include <string>
#include <utility>

#include "agent/request_validation.h"
#include "memhp_config.h"

namespace memhp::agent {
namespace {

using memhp::v1::AgentRequest;
using memhp::v1::AgentResponse;
using memhp::v1::ErrorCode;

AgentResponse Fail(uint64_t id, ErrorCode code, std::string message, int errno_value = 0) {
  AgentResponse response;
  response.set_id(id);
  response.mutable_error()->set_code(code);
  response.mutable_error()->set_message(std::move(message));
  response.mutable_error()->set_errno_value(errno_value);
  return response;
}

}  // namespace

RequestHandler::RequestHandler(const SysfsReader& sysfs, AgentIdentity identity,
                               BlockOperator* operations, AgentSettings* settings,
                               ZoneReportSource zone_reports, const UnplugEstimator* estimator)
    : sysfs_(sysfs),
      identity_(std::move(identity)),
      operations_(operations),
      settings_(settings),
      zone_reports_(std::move(zone_reports)),
      estimator_(estimator) {}

memhp::v1::Hello RequestHandler::MakeHello() const {
  memhp::v1::Hello hello;
  hello.set_role(memhp::v1::PEER_ROLE_AGENT);
  hello.set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  hello.set_software_version(MEMHP_VERSION);
  hello.add_capabilities("ping");
  hello.add_capabilities("inventory");
  if (operations_) {
    hello.add_capabilities("online");
    hello.add_capabilities("offline");
    hello.add_capabilities("events");
  }
  hello.add_capabilities("zone_report");
  hello.add_capabilities("pressure");  // MemoryPressure in zone reports and as events
  if (settings_) {
    hello.add_capabilities("set_policy");
    hello.add_capabilities("device_map");
    hello.add_capabilities("intent");
  }
  if (estimator_) hello.add_capabilities("estimate");
  hello.set_agent_pid(identity_.pid);
  hello.set_policy(settings_ ? std::string(FormatPolicyKind(settings_->policy.kind)) : identity_.policy);
  if (settings_) hello.set_movable_ratio_percent(settings_->policy.movable_ratio_percent);
  for (const std::string& w : identity_.competing_onliners) hello.add_competing_onliners(w);
  hello.set_took_onlining_from(identity_.took_onlining_from);
  for (const std::string& m : identity_.masked_udev_rules) hello.add_masked_udev_rules(m);
  Result<memhp::v1::GuestInfo> guest =
      sysfs_.ReadGuestInfo(identity_.kernel_release, identity_.page_size);
  if (guest.ok()) {
    *hello.mutable_guest() = std::move(guest).value();
  } else {
    g_warning("hello without guest facts: %s", guest.error().message.c_str());
  }
  return hello;
}

AgentResponse RequestHandler::Handle(const AgentRequest& request) {
  const uint64_t id = request.id();
  if (id == 0) return Fail(0, memhp::v1::ERROR_CODE_MALFORMED, "request without an id");
  // Parse first: an enum value this build does not know, or a number out of the field's range,
  // is refused here and never reaches an operation as a fallback to the policy or a default.
  if (Status valid = ValidateRequest(request); !valid.ok()) {
    return Fail(id, memhp::v1::ERROR_CODE_INVALID_ARGUMENT, valid.error().message);
  }

  switch (request.op_case()) {
    case AgentRequest::kHello: {
      const auto& peer = request.hello();
      if (peer.protocol() != memhp::v1::AGENT_PROTOCOL_V1) {
        return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED,
                    "protocol " + std::to_string(peer.protocol()) + " not spoken; this agent speaks 1");
      }
      AgentResponse response;
      response.set_id(id);
      *response.mutable_hello() = MakeHello();
      return response;
    }
    case AgentRequest::kPing: {
      if (request.ping().payload().size() > kMaxPingPayload) {
        return Fail(id, memhp::v1::ERROR_CODE_TOO_LARGE,
                    "ping payload of " + std::to_string(request.ping().payload().size()) +
                        " bytes; at most " + std::to_string(kMaxPingPayload));
      }
      AgentResponse response;
      response.set_id(id);
      response.mutable_pong()->set_payload(request.ping().payload());
      return response;
    }
    case AgentRequest::kInventory: {
      Result<memhp::v1::Inventory> inventory = sysfs_.ReadInventory();
      if (!inventory.ok()) {
        return Fail(id, memhp::v1::ERROR_CODE_FAILED, inventory.error().message,
                    inventory.error().errno_value);
      }
      AgentResponse response;
      response.set_id(id);
      *response.mutable_inventory() = std::move(inventory).value();
      return response;
    }
    case AgentRequest::kOnline:
    case AgentRequest::kOffline: {
      if (!operations_) return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED, "this agent does not change memory");
      Result<memhp::v1::BlockOpResult> result =
          request.has_online() ? operations_->Online(request.online(), id)
                               : operations_->Offline(request.offline(), id);
      if (!result.ok()) {
        const int err = result.error().errno_value;
        return Fail(id, err == E2BIG ? memhp::v1::ERROR_CODE_TOO_LARGE
                        : err == EINVAL ? memhp::v1::ERROR_CODE_INVALID_ARGUMENT
                                        : memhp::v1::ERROR_CODE_FAILED,
                    result.error().message, err == EINVAL || err == E2BIG ? 0 : err);
      }
      AgentResponse response;
      response.set_id(id);
      *response.mutable_block_op() = std::move(result).value();
      return response;
    }
    case AgentRequest::kSetPolicy:
      return SetPolicy(id, request.set_policy());
    case AgentRequest::kDeviceMap:
      return TakeDeviceMap(id, request.device_map());
    case AgentRequest::kZoneReport:
      return ZoneReport(id);
    case AgentRequest::kIntent:
      return TakeIntent(id, request.intent());
    case AgentRequest::kEstimate: {
      if (!estimator_) return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED, "this agent makes no estimates");
      Result<memhp::v1::UnplugEstimate> estimate = estimator_->Estimate(request.estimate());
      if (!estimate.ok()) {
        const int err = estimate.error().errno_value;
        return Fail(id, err == E2BIG ? memhp::v1::ERROR_CODE_TOO_LARGE
                        : err == EINVAL ? memhp::v1::ERROR_CODE_INVALID_ARGUMENT
                                        : memhp::v1::ERROR_CODE_FAILED,
                    estimate.error().message, err == EINVAL || err == E2BIG ? 0 : err);
      }
      AgentResponse response;
      response.set_id(id);
      *response.mutable_estimate() = std::move(estimate).value();
      return response;
    }
    case AgentRequest::OP_NOT_SET:
      break;
  }
  return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED, "unknown request kind");
}

AgentResponse RequestHandler::SetPolicy(uint64_t id, const memhp::v1::SetPolicyRequest& request) {
  if (!settings_) return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED, "this agent's policy is fixed");
  // Check everything first, then change: a refused request leaves the policy as it was.
  PolicyConfig next = settings_->policy;
  if (!request.policy().empty()) {
    Result<PolicyKind> kind = ParsePolicyKind(request.policy());
    if (!kind.ok()) return Fail(id, memhp::v1::ERROR_CODE_INVALID_ARGUMENT, kind.error().message);
    next.kind = *kind;
  }
  if (request.movable_ratio_percent() > kMaxMovableRatioPercent) {
    return Fail(id, memhp::v1::ERROR_CODE_INVALID_ARGUMENT,
                "movable ratio " + std::to_string(request.movable_ratio_percent()) +
                    "% is above the limit of " + std::to_string(kMaxMovableRatioPercent) + "%");
  }
  if (request.movable_ratio_percent() != 0) next.movable_ratio_percent = request.movable_ratio_percent();
  if (next.kind != settings_->policy.kind ||
      next.movable_ratio_percent != settings_->policy.movable_ratio_percent) {
    g_message("onlining policy %s (ratio %u%%) -> %s (ratio %u%%), asked by the host",
              std::string(FormatPolicyKind(settings_->policy.kind)).c_str(),
              settings_->policy.movable_ratio_percent, std::string(FormatPolicyKind(next.kind)).c_str(),
              next.movable_ratio_percent);
  }
  settings_->policy = next;
  AgentResponse response;
  response.set_id(id);
  response.mutable_policy()->set_policy(std::string(FormatPolicyKind(next.kind)));
  response.mutable_policy()->set_movable_ratio_percent(next.movable_ratio_percent);
  return response;
}

AgentResponse RequestHandler::TakeDeviceMap(uint64_t id, const memhp::v1::DeviceMap& map) {
  if (!settings_) return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED, "this agent keeps no device map");
  Result<uint64_t> block_size = sysfs_.ReadBlockSize();
  if (!block_size.ok()) {
    return Fail(id, memhp::v1::ERROR_CODE_FAILED, block_size.error().message, block_size.error().errno_value);
  }
  Result<DeviceMapTable> table = DeviceMapTable::Validate(map, *block_size);
  if (!table.ok()) {
    const int err = table.error().errno_value;
    return Fail(id, err == E2BIG ? memhp::v1::ERROR_CODE_TOO_LARGE
                    : err == EINVAL ? memhp::v1::ERROR_CODE_INVALID_ARGUMENT
                                    : memhp::v1::ERROR_CODE_FAILED,
                "device map refused, the previous one is kept: " + table.error().message,
                err == EINVAL || err == E2BIG ? 0 : err);
  }
  settings_->devices = std::move(table).value();
  // A map naming the intent's device came after the hardware: the map is the truth from now on.
  if (settings_->intent.active() && settings_->intent.OnDeviceMap(settings_->devices)) {
    g_message("plug intent ends: the device map names its device");
  }
  AgentResponse response;
  response.set_id(id);
  response.mutable_device_map()->set_devices(static_cast<uint32_t>(settings_->devices.size()));
  return response;
}

AgentResponse RequestHandler::TakeIntent(uint64_t id, const memhp::v1::PlugIntent& intent) {
  if (!settings_) return Fail(id, memhp::v1::ERROR_CODE_UNSUPPORTED, "this agent takes no plug intents");
  Result<uint64_t> block_size = sysfs_.ReadBlockSize();
  if (!block_size.ok()) {
    return Fail(id, memhp::v1::ERROR_CODE_FAILED, block_size.error().message, block_size.error().errno_value);
  }
  const memhp::v1::PlugIntent* before = settings_->intent.active();
  const std::string replaced = before ? " (replaces the intent of operation " +
                                            std::to_string(before->operation_id()) + ")"
                                      : std::string();
  if (Status taken = settings_->intent.Take(intent, *block_size); !taken.ok()) {
    const int err = taken.error().errno_value;
    return Fail(id, err == EINVAL ? memhp::v1::ERROR_CODE_INVALID_ARGUMENT : memhp::v1::ERROR_CODE_FAILED,
                "plug intent refused, the previous one is kept: " + taken.error().message,
                err == EINVAL ? 0 : err);
  }
  const std::string where =
      intent.size() != 0 ? "range " + std::to_string(intent.start()) + "+" + std::to_string(intent.size())
                         : std::to_string(intent.expected_size()) + " bytes of new blocks on node " +
                               std::to_string(intent.node());
  g_message("plug intent of operation %llu: %s (%s), %s, zone %s, for %u ms%s, asked by the host",
            static_cast<unsigned long long>(intent.operation_id()), intent.device_id().c_str(),
            memhp::v1::MemoryDeviceKind_Name(intent.kind()).c_str(), where.c_str(),
            memhp::v1::OnlineTarget_Name(intent.target()).c_str(), intent.deadline_ms(), replaced.c_str());
  AgentResponse response;
  response.set_id(id);
  response.mutable_intent();
  return response;
}

AgentResponse RequestHandler::ZoneReport(uint64_t id) const {
  Result<memhp::v1::ZoneReport> report =
      zone_reports_ ? zone_reports_() : ReadZoneReport(sysfs_, identity_.page_size);
  if (!report.ok()) {
    return Fail(id, memhp::v1::ERROR_CODE_FAILED, report.error().message, report.error().errno_value);
  }
  AgentResponse response;
  response.set_id(id);
  *response.mutable_zone_report() = std::move(report).value();
  return response;
}

}  // namespace memhp::agent
