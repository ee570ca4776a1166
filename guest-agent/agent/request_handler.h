// memhp-agent — RequestHandler: answers the host's typed requests.
//
// Parse first, then dispatch: every AgentRequest gets exactly one AgentResponse
// naming its id. A request this build does not know (a newer host's op parses as an unknown
// field, so op is unset) is answered UNSUPPORTED, never a crash; a request without an id is
// MALFORMED. The agent offers typed memory operations only — there is no request that reads an
// arbitrary file or runs a command (docs/architecture.md, "The wires").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/agent_settings.h"
#include "agent/block_operator.h"
#include "agent/unplug_estimator.h"
#include "agent/zone_report.h"
#include "memhp/v1/agent.pb.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// Facts the handler cannot read from sysfs: uname(2) and sysconf(3) in production.
struct AgentIdentity {
  std::string kernel_release;
  uint64_t page_size = 4096;
  uint64_t pid = 0;
  std::string policy;  // the onlining policy's name (when no AgentSettings is given)
  std::vector<std::string> competing_onliners;  // found at start (competing_onliners.h)
  std::string took_onlining_from;  // auto_online_blocks before --take-onlining wrote "offline"
  std::vector<std::string> masked_udev_rules;  // --take-onlining's udev overrides (udev_takeover.h)
};

// The largest ping payload echoed; a bigger one is answered TOO_LARGE.
inline constexpr size_t kMaxPingPayload = 4096;
// The largest movable ratio a SetPolicyRequest may set (the kernel's auto_movable_ratio is an
// unsigned int percent; anything past this is a typo, not a policy).
inline constexpr uint32_t kMaxMovableRatioPercent = 100000;

class RequestHandler {
 public:
  // `operations` serves online/offline; without it (tests of the read-only requests) those are
  // answered UNSUPPORTED. `settings` serves set_policy, device_map and intent (UNSUPPORTED without);
  // zone_report is read through `zone_reports` (ReadZoneReport over `sysfs` when empty);
  // `estimator` serves estimate, the dry run (UNSUPPORTED without).
  RequestHandler(const SysfsReader& sysfs, AgentIdentity identity,
                 BlockOperator* operations = nullptr, AgentSettings* settings = nullptr,
                 ZoneReportSource zone_reports = {}, const UnplugEstimator* estimator = nullptr);

  [[nodiscard]] memhp::v1::AgentResponse Handle(const memhp::v1::AgentRequest& request);

  // The agent's own hello (also sent unprompted when the channel opens). Fails only if sysfs
  // cannot be read; the hello then carries no guest facts and the error is logged.
  [[nodiscard]] memhp::v1::Hello MakeHello() const;
  [[nodiscard]] Result<memhp::v1::Inventory> ReadInventory() const { return sysfs_.ReadInventory(); }

 private:
  [[nodiscard]] memhp::v1::AgentResponse SetPolicy(uint64_t id, const memhp::v1::SetPolicyRequest& request);
  [[nodiscard]] memhp::v1::AgentResponse TakeDeviceMap(uint64_t id, const memhp::v1::DeviceMap& map);
  [[nodiscard]] memhp::v1::AgentResponse TakeIntent(uint64_t id, const memhp::v1::PlugIntent& intent);
  [[nodiscard]] memhp::v1::AgentResponse ZoneReport(uint64_t id) const;

  const SysfsReader& sysfs_;
  AgentIdentity identity_;
  BlockOperator* operations_;
  AgentSettings* settings_;
  ZoneReportSource zone_reports_;
  const UnplugEstimator* estimator_;
};

}  // namespace memhp::agent
