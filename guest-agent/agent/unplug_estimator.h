// memhp-agent — UnplugEstimator: answers the host's UnplugEstimateRequest (a dry run).
//
// Reads, once per request, what the estimate rests on — the inventory (each block's state, zone
// and node), /proc/meminfo's MemAvailable, /proc/zoneinfo's free pages, the pins held now (the
// pin guard's scan, S22) and the hook scripts GOING_OFFLINE would run — and hands them to the
// pure EstimateUnplug (policy/unplug_estimate.h). Nothing is written to sysfs and no notifier
// event is sent: a dry run must leave the guest exactly as it was. (The pin scan removes a pin
// file nobody holds, as every scan of the pin guard does; that changes no memory.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/agent_settings.h"
#include "memhp/v1/agent.pb.h"
#include "policy/unplug_estimate.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

struct UnplugEstimatorOptions {
  uint64_t reserve_bytes = 0;  // the reserve guard's (ReserveGuardOptions.reserve_bytes)
  std::string pins_dir;        // the pin guard's folder
  uint64_t page_size = 4096;   // zoneinfo counts pages of this size
};

// The hook scripts that would run (HookScripts::ListHooks in production).
using HookLister = std::function<Result<std::vector<std::string>>()>;

class UnplugEstimator {
 public:
  // `settings` names each block's device (may be null: no names).
  UnplugEstimator(const SysfsReader& sysfs, UnplugEstimatorOptions options, HookLister hooks,
                  const AgentSettings* settings = nullptr);

  // A list: its blocks in its order (an absent one NOT_FOUND); a range: whole blocks, its
  // present blocks highest first (the virtio-mem driver's order). An amount, an empty or
  // malformed selection, more than kMaxBlocksPerRequest blocks, or an unknown path is EINVAL /
  // E2BIG; a read that fails is its Error (an estimate from half the facts would mislead).
  [[nodiscard]] Result<memhp::v1::UnplugEstimate> Estimate(const memhp::v1::UnplugEstimateRequest& request) const;

 private:
  const SysfsReader& sysfs_;
  UnplugEstimatorOptions options_;
  HookLister hooks_;
  const AgentSettings* settings_;
};

}  // namespace memhp::agent
