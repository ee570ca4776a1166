// dry_run — see dry_run.h.
#include "daemon/operations/dry_run.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include "daemon/operations/admission.h"

namespace memhp::daemon::operations {
namespace {

Error Refused(memhp::v1::ErrorCode code, int err, std::string message) {
  Error e{err, std::move(message)};
  e.code = code;
  return e;
}

memhp::v1::UnplugEstimateRequest RangeRequest(uint64_t start, uint64_t size, memhp::v1::EstimatePath path,
                                              bool all_or_nothing) {
  memhp::v1::UnplugEstimateRequest r;
  r.mutable_selection()->mutable_range()->set_start(start);
  r.mutable_selection()->mutable_range()->set_size(size);
  r.set_path(path);
  r.set_all_or_nothing(all_or_nothing);
  return r;
}

// The first block that would stop the estimate's blocks, for the headline.
std::string FirstBlocker(const memhp::v1::UnplugEstimate& e) {
  for (const auto& b : e.blocks()) {
    switch (b.verdict()) {
      case memhp::v1::ESTIMATE_VERDICT_WOULD_GO:
      case memhp::v1::ESTIMATE_VERDICT_ALREADY_OFFLINE:
      case memhp::v1::ESTIMATE_VERDICT_NOT_FOUND:
      case memhp::v1::ESTIMATE_VERDICT_SKIPPED:
        continue;
      default:
        return "block " + std::to_string(b.block()) + ": " + b.reason();
    }
  }
  return {};
}

}  // namespace

Result<DryRunPlan> PlanDryRun(const memhp::v1::DryRunCommand& command,
                              const std::vector<memhp::v1::MemoryDevice>& devices, uint64_t guest_block_size) {
  const std::string& id = command.device_id();
  const auto device = std::find_if(devices.begin(), devices.end(), [&](const auto& d) { return d.id() == id; });
  if (id.empty() || device == devices.end()) {
    return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, ENOENT, "no memory device '" + id + "'");
  }
  if (guest_block_size == 0) {
    return Refused(memhp::v1::ERROR_CODE_UNAVAILABLE, ENOTCONN,
                   "the guest's block size is not known: a dry run needs the agent");
  }
  const uint64_t bs = guest_block_size;
  DryRunPlan plan;
  memhp::v1::DryRunResult& r = plan.result;
  r.set_kind(command.kind());
  r.set_device_id(id);
  r.set_node(device->node());
  r.set_address(device->address());
  r.set_size_now(device->size());

  if (command.kind() == memhp::v1::OPERATION_KIND_UNPLUG) {
    if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_DIMM) {
      return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                     id + " is not a DIMM; a virtio-mem device shrinks (resize --dry-run)");
    }
    if (device->address() % bs != 0 || device->size() % bs != 0 || device->size() == 0) {
      return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                     id + " is not whole guest blocks of " + FormatBytes(bs));
    }
    r.set_asked_bytes(device->size());
    plan.estimate = RangeRequest(device->address(), device->size(), memhp::v1::ESTIMATE_PATH_AGENT, true);
    return plan;
  }
  if (command.kind() != memhp::v1::OPERATION_KIND_RESIZE) {
    return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, EINVAL, "a dry run is of an unplug or a resize");
  }
  if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
    return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                   id + " is not a virtio-mem device; a DIMM is unplugged (unplug --dry-run)");
  }
  const uint64_t requested = command.requested_size();
  if (device->block_size() == 0 || requested % device->block_size() != 0) {
    return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                   "requested size " + FormatBytes(requested) + " is not a multiple of " + id + "'s block-size " +
                       FormatBytes(device->block_size()));
  }
  if (requested > device->max_size()) {
    return Refused(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                   "requested size " + FormatBytes(requested) + " is over " + id + "'s max-size " +
                       FormatBytes(device->max_size()));
  }
  r.set_requested_size(requested);
  if (requested >= device->size()) return plan;  // a growth, or no change: nothing would go
  r.set_asked_bytes(device->size() - requested);
  // The whole guest blocks at or above the new size, up to the end of the region (the driver
  // unplugs from the top); a block the new size cuts keeps its lower part, so it is not asked.
  const uint64_t keep_end = device->address() + (requested + bs - 1) / bs * bs;
  const uint64_t region_end = device->address() + device->max_size() / bs * bs;
  if (keep_end < region_end) {
    plan.estimate = RangeRequest(keep_end, region_end - keep_end, memhp::v1::ESTIMATE_PATH_DRIVER, false);
    if (command.offline_first()) {
      plan.offline_first = RangeRequest(keep_end, region_end - keep_end, memhp::v1::ESTIMATE_PATH_AGENT, false);
    }
  }
  return plan;
}

memhp::v1::DryRunResult FinishDryRun(const DryRunPlan& plan, const std::optional<memhp::v1::UnplugEstimate>& estimate,
                                     const std::optional<memhp::v1::UnplugEstimate>& offline_first) {
  memhp::v1::DryRunResult r = plan.result;
  if (estimate) *r.mutable_estimate() = *estimate;
  if (offline_first) *r.mutable_offline_first() = *offline_first;
  const uint64_t could = estimate ? std::min(estimate->could_go_bytes(), r.asked_bytes()) : 0;
  const std::string blocker = estimate ? FirstBlocker(*estimate) : std::string();
  if (r.kind() == memhp::v1::OPERATION_KIND_UNPLUG) {
    const bool all = estimate && estimate->blocked_bytes() == 0 && could == r.asked_bytes();
    r.set_would_complete(all);
    r.set_could_go_bytes(all ? r.asked_bytes() : 0);
    r.set_size_reachable(all ? 0 : r.size_now());
    r.set_detail(all ? "unplug " + r.device_id() + " would go through: " + FormatBytes(r.asked_bytes()) +
                           " could be offlined now"
                     : "unplug " + r.device_id() + " would be refused" +
                           (blocker.empty() ? std::string() : " (" + blocker + ")") + " — nothing would change");
    return r;
  }
  r.set_could_go_bytes(could);
  const uint64_t reachable = std::max(r.requested_size(), r.size_now() > could ? r.size_now() - could : 0);
  r.set_size_reachable(r.asked_bytes() == 0 ? r.requested_size() : reachable);
  r.set_would_complete(r.size_reachable() == r.requested_size());
  if (r.asked_bytes() == 0) {
    r.set_detail("resize " + r.device_id() + " to " + FormatBytes(r.requested_size()) + " unplugs nothing");
  } else if (r.would_complete()) {
    r.set_detail("resize " + r.device_id() + " to " + FormatBytes(r.requested_size()) + " would go through: " +
                 FormatBytes(r.asked_bytes()) + " could be unplugged now");
  } else {
    r.set_detail("resize " + r.device_id() + " to " + FormatBytes(r.requested_size()) + " would stop at about " +
                 FormatBytes(r.size_reachable()) + ": " + FormatBytes(could) + " of " + FormatBytes(r.asked_bytes()) +
                 " could be unplugged now" + (blocker.empty() ? std::string() : " (" + blocker + ")"));
  }
  return r;
}

}  // namespace memhp::daemon::operations
