// memhp-agent — UnplugEstimator (see unplug_estimator.h).
#include "agent/unplug_estimator.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

#include "agent/block_operator.h"
#include "handlers/pin_guard.h"

namespace memhp::agent {
namespace {

Result<std::vector<uint32_t>> SelectedIds(const memhp::v1::BlockSelection& selection, const memhp::v1::Inventory& inv) {
  const uint64_t bs = inv.block_size_bytes();
  std::vector<uint32_t> ids;
  switch (selection.selector_case()) {
    case memhp::v1::BlockSelection::kBlocks:
      if (static_cast<size_t>(selection.blocks().ids_size()) > kMaxBlocksPerRequest) {
        return Error{E2BIG, "more than " + std::to_string(kMaxBlocksPerRequest) + " blocks in one estimate"};
      }
      if (selection.blocks().ids_size() == 0) return Error::Invalid("an estimate of no blocks");
      ids.assign(selection.blocks().ids().begin(), selection.blocks().ids().end());
      return ids;
    case memhp::v1::BlockSelection::kRange: {
      const auto& range = selection.range();
      if (bs == 0 || range.size() == 0 || range.start() % bs != 0 || range.size() % bs != 0 ||
          range.start() > UINT64_MAX - range.size()) {
        return Error::Invalid("the range must be whole memory blocks of " + std::to_string(bs) + " bytes");
      }
      if (range.size() / bs > kMaxBlocksPerRequest || range.start() / bs + range.size() / bs > UINT32_MAX) {
        return Error{E2BIG, "the range spans more than " + std::to_string(kMaxBlocksPerRequest) + " blocks"};
      }
      const uint64_t first = range.start() / bs;
      const uint64_t end = first + range.size() / bs;
      for (const auto& b : inv.blocks()) {
        if (b.id() >= first && b.id() < end) ids.push_back(b.id());
      }
      std::sort(ids.rbegin(), ids.rend());
      return ids;
    }
    case memhp::v1::BlockSelection::kAmount:
    case memhp::v1::BlockSelection::SELECTOR_NOT_SET:
      break;
  }
  return Error::Invalid("an estimate takes a block list or a range");
}

}  // namespace

UnplugEstimator::UnplugEstimator(const SysfsReader& sysfs, UnplugEstimatorOptions options, HookLister hooks,
                                 const AgentSettings* settings)
    : sysfs_(sysfs), options_(std::move(options)), hooks_(std::move(hooks)), settings_(settings) {}

Result<memhp::v1::UnplugEstimate> UnplugEstimator::Estimate(const memhp::v1::UnplugEstimateRequest& request) const {
  if (request.path() != memhp::v1::ESTIMATE_PATH_AGENT && request.path() != memhp::v1::ESTIMATE_PATH_DRIVER) {
    return Error::Invalid("an estimate needs a path (AGENT or DRIVER), not " + std::to_string(request.path()));
  }
  Result<memhp::v1::Inventory> inventory = sysfs_.ReadInventory();
  if (!inventory.ok()) return std::move(inventory).error();
  Result<std::vector<uint32_t>> ids = SelectedIds(request.selection(), *inventory);
  if (!ids.ok()) return std::move(ids).error();
  Result<MemInfo> meminfo = sysfs_.ReadMemInfo();
  if (!meminfo.ok()) return std::move(meminfo).error();
  Result<std::vector<ZoneInfoEntry>> zones = sysfs_.ReadZoneInfo();
  if (!zones.ok()) return std::move(zones).error();

  EstimateFacts facts;
  facts.block_size_bytes = inventory->block_size_bytes();
  facts.mem_available_bytes = meminfo->mem_available_bytes;
  facts.reserve_bytes = options_.reserve_bytes;
  const uint64_t page = options_.page_size;
  for (const ZoneInfoEntry& z : *zones) {
    facts.free_bytes += z.free_pages * page;
    if (z.zone == memhp::v1::ZONE_MOVABLE) facts.movable_free_bytes += z.free_pages * page;
  }
  if (request.path() == memhp::v1::ESTIMATE_PATH_AGENT) {
    // The pin guard's own scan, so the estimate sees the pins it would see.
    Result<std::vector<HeldPin>> pins = ScanPins(options_.pins_dir, facts.block_size_bytes);
    if (!pins.ok()) return Error{pins.error().errno_value, "pins: " + pins.error().message};
    for (const HeldPin& p : *pins) facts.pins.push_back(PinnedSpan{p.file, p.range.start, p.range.end});
    if (hooks_) {
      Result<std::vector<std::string>> hooks = hooks_();
      if (!hooks.ok()) return Error{hooks.error().errno_value, "hooks: " + hooks.error().message};
      facts.hooks = std::move(hooks).value();
    }
  }

  std::map<uint32_t, const memhp::v1::MemoryBlock*> by_id;
  for (const auto& b : inventory->blocks()) by_id[b.id()] = &b;
  std::vector<EstimateBlock> blocks;
  blocks.reserve(ids->size());
  for (uint32_t id : *ids) {
    EstimateBlock e;
    e.id = id;
    if (auto it = by_id.find(id); it != by_id.end()) {
      e.state = it->second->state();
      e.zone = it->second->zone();
      e.node = it->second->node();
      if (settings_) e.device_id = settings_->DeviceIdOf(id);
    } else {
      e.present = false;
    }
    blocks.push_back(std::move(e));
  }
  return EstimateUnplug(blocks, facts, request.path(), request.all_or_nothing());
}

}  // namespace memhp::agent
