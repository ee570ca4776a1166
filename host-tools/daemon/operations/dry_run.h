// dry_run — memhpctl unplug --dry-run / resize --dry-run: how much could be unplugged now, and
// what would stop the rest, changing nothing (docs/operations.md, "Dry run").
//
// memhpd knows which guest blocks are a device's (QEMU's address and size, the guest's block
// size from the agent's hello) and asks the agent to estimate those (agent.proto
// UnplugEstimateRequest); the agent answers from its own accounting. A DIMM unplug is the
// agent's all-or-nothing offline (ESTIMATE_PATH_AGENT); a virtio-mem shrink is the driver's
// (ESTIMATE_PATH_DRIVER: Linux's virtio-mem driver unplugs from the top of the device's region,
// outside the agent's notifier chain), and with --offline-first the agent's step before it is
// estimated too. The dry run does not wait for the operation queue: it describes the guest as
// it is at that moment, not after the operations still waiting.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

// What to ask the agent, and the answer's frame (device, sizes) before the estimate fills it.
struct DryRunPlan {
  memhp::v1::DryRunResult result;                              // kind, device, sizes asked
  std::optional<memhp::v1::UnplugEstimateRequest> estimate;    // none: nothing would be unplugged
  std::optional<memhp::v1::UnplugEstimateRequest> offline_first;  // RESIZE --offline-first
};

// Pure. Errors: ENOENT no such device (ERROR_CODE_NOT_FOUND), EINVAL a DIMM asked to resize, a
// virtio-mem device asked to unplug, a size that is not whole device blocks or over max-size,
// or no guest block size known (ERROR_CODE_INVALID_ARGUMENT / UNAVAILABLE).
[[nodiscard]] Result<DryRunPlan> PlanDryRun(const memhp::v1::DryRunCommand& command,
                                            const std::vector<memhp::v1::MemoryDevice>& devices,
                                            uint64_t guest_block_size);

// Pure: the plan's result with the agent's estimates and the sums, the reachable size and the
// headline.
[[nodiscard]] memhp::v1::DryRunResult FinishDryRun(
    const DryRunPlan& plan, const std::optional<memhp::v1::UnplugEstimate>& estimate,
    const std::optional<memhp::v1::UnplugEstimate>& offline_first);

}  // namespace memhp::daemon::operations
