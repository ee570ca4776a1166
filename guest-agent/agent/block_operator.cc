// memhp-agent — BlockOperator (see block_operator.h).
#include "agent/block_operator.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <utility>

#include "notifier/memory_notify.h"
#include "policy/device_groups.h"
#include "policy/offline_choice.h"

namespace memhp::agent {
namespace {

using memhp::v1::BlockOpResult;
using memhp::v1::BlockResult;
using memhp::v1::MemoryBlock;

using Clock = std::chrono::steady_clock;

const MemoryBlock* FindBlock(const memhp::v1::Inventory& inventory, uint32_t id) {
  for (const MemoryBlock& b : inventory.blocks()) {
    if (b.id() == id) return &b;
  }
  return nullptr;
}

BlockResult MakeResult(uint32_t block, memhp::v1::BlockOutcome outcome, std::string detail,
                   int errno_value = 0) {
  BlockResult r;
  r.set_block(block);
  r.set_outcome(outcome);
  r.set_errno_value(errno_value);
  r.set_node(-1);
  r.set_detail(std::move(detail));
  return r;
}

bool Done(const BlockResult& r) {
  return r.outcome() == memhp::v1::BLOCK_OUTCOME_DONE || r.outcome() == memhp::v1::BLOCK_OUTCOME_ALREADY;
}

void Finish(BlockOpResult& op) {
  op.set_all_done(std::all_of(op.blocks().begin(), op.blocks().end(), Done));
}

// The kernel zone an "online_kernel" lands in: the first kernel zone valid_zones offers.
memhp::v1::Zone KernelZoneOf(const MemoryBlock& block) {
  for (int z : block.valid_zones()) {
    if (IsKernelZone(static_cast<memhp::v1::Zone>(z))) return static_cast<memhp::v1::Zone>(z);
  }
  return memhp::v1::ZONE_NORMAL;
}

// The zone a plain "online" lands in: the kernel's default, valid_zones' first entry.
memhp::v1::Zone DefaultZoneOf(const MemoryBlock& block) {
  return block.valid_zones_size() > 0 ? static_cast<memhp::v1::Zone>(block.valid_zones(0))
                                      : memhp::v1::ZONE_NORMAL;
}

// Maps the driver's answer to the wire's per-block outcome.
void Describe(const TransitionOutcome& outcome, BlockResult& r) {
  r.set_errno_value(outcome.errno_value);
  r.set_vetoed_by(outcome.vetoed_by);
  r.set_detail(outcome.message);
  switch (outcome.result) {
    case TransitionResult::kDone:
    case TransitionResult::kPostEventVetoReported:
      r.set_outcome(memhp::v1::BLOCK_OUTCOME_DONE);
      return;
    case TransitionResult::kVetoed:
    case TransitionResult::kReverted:
      r.set_outcome(memhp::v1::BLOCK_OUTCOME_VETOED);
      return;
    case TransitionResult::kWriteFailed:
      r.set_outcome(outcome.errno_value == ETIMEDOUT  ? memhp::v1::BLOCK_OUTCOME_TIMED_OUT
                    : outcome.errno_value == ENOENT ? memhp::v1::BLOCK_OUTCOME_NOT_FOUND
                                                    : memhp::v1::BLOCK_OUTCOME_FAILED);
      return;
    case TransitionResult::kRevertFailed:
    case TransitionResult::kRejected:
      r.set_outcome(memhp::v1::BLOCK_OUTCOME_FAILED);
      return;
  }
}

}  // namespace

BlockOperator::BlockOperator(const SysfsReader& sysfs, TransitionDriver& driver,
                             DeadlineSetter set_deadline, uint64_t page_size,
                             const PolicyConfig& policy, const DeviceMapTable* devices,
                             PlugIntentSlot* intent)
    : sysfs_(sysfs),
      driver_(driver),
      set_deadline_(std::move(set_deadline)),
      page_size_(page_size),
      policy_(policy),
      devices_(devices),
      intent_(intent) {}

void BlockOperator::NameDevices(BlockOpResult& op) const {
  const bool mapped = devices_ && !devices_->empty();
  const bool intended = intent_ && intent_->active();
  if (!mapped && !intended) return;
  for (BlockResult& r : *op.mutable_blocks()) {
    std::string id = mapped ? devices_->DeviceIdOf(r.block()) : std::string();
    if (id.empty() && intended) {
      if (const memhp::v1::PlugIntent* i = intent_->Find(r.block())) id = i->device_id();
    }
    r.set_device_id(std::move(id));
  }
}

Result<std::vector<uint32_t>> BlockOperator::Resolve(const memhp::v1::BlockSelection& selection,
                                                     const memhp::v1::Inventory& inventory,
                                                     bool for_offline) const {
  const uint64_t bs = inventory.block_size_bytes();
  std::vector<uint32_t> ids;
  switch (selection.selector_case()) {
    case memhp::v1::BlockSelection::kBlocks:
      if (static_cast<size_t>(selection.blocks().ids_size()) > kMaxBlocksPerRequest) {
        return Error{E2BIG, "more than " + std::to_string(kMaxBlocksPerRequest) + " blocks in one request"};
      }
      ids.assign(selection.blocks().ids().begin(), selection.blocks().ids().end());
      break;
    case memhp::v1::BlockSelection::kRange: {
      const auto& range = selection.range();
      if (bs == 0 || range.size() == 0 || range.start() % bs != 0 || range.size() % bs != 0) {
        return Error::Invalid("the range must be whole memory blocks of " + std::to_string(bs) + " bytes");
      }
      if (range.size() / bs > kMaxBlocksPerRequest || range.start() / bs + range.size() / bs > UINT32_MAX) {
        return Error{E2BIG, "the range spans more than " + std::to_string(kMaxBlocksPerRequest) + " blocks"};
      }
      for (uint64_t a = range.start(); a < range.start() + range.size(); a += bs) {
        ids.push_back(static_cast<uint32_t>(a / bs));
      }
      break;
    }
    case memhp::v1::BlockSelection::kAmount: {
      const auto& amount = selection.amount();
      const bool node_known = std::any_of(inventory.nodes().begin(), inventory.nodes().end(),
                                          [&](const auto& n) { return static_cast<int32_t>(n.id()) == amount.node(); });
      if (amount.bytes() == 0 || !node_known || bs == 0) {
        return Error::Invalid("an amount needs a known node and a size above zero");
      }
      if (for_offline) {
        std::vector<OfflineCandidate> candidates;
        for (const MemoryBlock& b : inventory.blocks()) {
          if (b.node() == amount.node() && b.state() == memhp::v1::BLOCK_STATE_ONLINE) {
            candidates.push_back(OfflineCandidate{.id = b.id(), .node = static_cast<uint32_t>(b.node()),
                                                  .zone = b.zone(), .device = std::nullopt, .pinned = false});
          }
        }
        ids = ChooseBlocksToOffline(
            OfflineRequest{.bytes = amount.bytes(), .node = static_cast<uint32_t>(amount.node()),
                           .block_size_bytes = bs, .boot_reserve_bytes = 0},
            candidates);
      } else {
        const uint64_t wanted = (amount.bytes() + bs - 1) / bs;
        for (const MemoryBlock& b : inventory.blocks()) {
          if (ids.size() >= wanted) break;
          if (b.node() == amount.node() && b.state() == memhp::v1::BLOCK_STATE_OFFLINE) ids.push_back(b.id());
        }
      }
      break;
    }
    case memhp::v1::BlockSelection::SELECTOR_NOT_SET:
      return Error::Invalid("no blocks selected");
  }
  return ids;
}

BlockResult BlockOperator::OnlineOne(const MemoryBlock& block, abi::OnlineType target,
                                     memhp::v1::Zone zone, EventOrigin origin, uint64_t request_id) {
  const auto started = Clock::now();
  BlockResult r = MakeResult(block.id(), memhp::v1::BLOCK_OUTCOME_FAILED, "");
  r.set_node(block.node());
  // The node's masks right now: each online may flip them for the next (S12, S13).
  bool has_memory = false;
  bool has_normal = false;
  if (Result<std::vector<memhp::v1::Node>> nodes = sysfs_.ReadNodes(); nodes.ok()) {
    for (const auto& n : *nodes) {
      if (static_cast<int32_t>(n.id()) == block.node()) {
        has_memory = n.has_memory();
        has_normal = n.has_normal_memory();
      }
    }
  }
  const Result<uint64_t> block_size = sysfs_.ReadBlockSize();
  Result<MemoryNotify> notify = ComputeMemoryNotify(BlockTransition{
      .action = BlockAction::kOnline,
      .start_address = block.start_address(),
      .block_size_bytes = block_size.ok() ? *block_size : 0,
      .page_size_bytes = page_size_,
      .node = static_cast<uint32_t>(std::max(block.node(), 0)),
      .zone = zone,
      .node_has_memory = has_memory,
      .node_has_normal_memory = has_normal,
      .node_present = {},
  });
  if (!notify.ok()) return MakeResult(block.id(), memhp::v1::BLOCK_OUTCOME_FAILED, notify.error().message, notify.error().errno_value);
  const TransitionOutcome outcome = driver_.Online(
      NotifyContext{.block = block.id(), .node = block.node(), .zone = zone, .origin = origin,
                    .request_id = request_id},
      *notify, target);
  Describe(outcome, r);
  if (Result<MemoryBlock> now = sysfs_.ReadBlock(block.id()); now.ok()) r.set_zone(now->zone());
  r.set_duration_us(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()));
  return r;
}

BlockResult BlockOperator::OfflineOne(const MemoryBlock& block, uint64_t request_id) {
  const auto started = Clock::now();
  BlockResult r = MakeResult(block.id(), memhp::v1::BLOCK_OUTCOME_FAILED, "");
  r.set_node(block.node());
  r.set_zone(block.zone());
  NodePresentPages present;
  if (Result<std::vector<ZoneInfoEntry>> zoneinfo = sysfs_.ReadZoneInfo(); zoneinfo.ok()) {
    if (auto sum = SumNodePresentPages(*zoneinfo, static_cast<uint32_t>(std::max(block.node(), 0))); sum.ok()) {
      present = *sum;
    }
  }
  // A block spanning zones (valid_zones "none": block 0 with DMA and DMA32) has no single zone;
  // it is kernel memory either way, which is all S12 needs to know.
  const memhp::v1::Zone zone = block.zone() == memhp::v1::ZONE_UNSPECIFIED ? memhp::v1::ZONE_NORMAL : block.zone();
  const Result<uint64_t> block_size = sysfs_.ReadBlockSize();
  Result<MemoryNotify> notify = ComputeMemoryNotify(BlockTransition{
      .action = BlockAction::kOffline,
      .start_address = block.start_address(),
      .block_size_bytes = block_size.ok() ? *block_size : 0,
      .page_size_bytes = page_size_,
      .node = static_cast<uint32_t>(std::max(block.node(), 0)),
      .zone = zone,
      .node_has_memory = false,
      .node_has_normal_memory = false,
      .node_present = present,
  });
  if (!notify.ok()) return MakeResult(block.id(), memhp::v1::BLOCK_OUTCOME_FAILED, notify.error().message, notify.error().errno_value);
  const TransitionOutcome outcome = driver_.Offline(
      NotifyContext{.block = block.id(), .node = block.node(), .zone = zone,
                    .origin = EventOrigin::kHostRequest, .request_id = request_id},
      *notify);
  Describe(outcome, r);
  r.set_duration_us(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()));
  return r;
}

Result<BlockOpResult> BlockOperator::OnlineBlocks(const std::vector<uint32_t>& ids,
                                                  memhp::v1::OnlineTarget target,
                                                  EventOrigin origin, uint64_t request_id) {
  // An unknown target is an error, never the policy's decision (request_validation.h).
  if (!memhp::v1::OnlineTarget_IsValid(target)) {
    return Error::Invalid("unknown online target " + std::to_string(target));
  }
  Result<memhp::v1::Inventory> inventory = sysfs_.ReadInventory();
  if (!inventory.ok()) return std::move(inventory).error();
  BlockOpResult op;
  // Blocks the policy decides for; grouped by device below (device_groups.h).
  std::vector<AddedBlock> by_policy;
  std::map<uint32_t, const MemoryBlock*> by_id;
  for (uint32_t id : ids) {
    const MemoryBlock* block = FindBlock(*inventory, id);
    if (!block) {
      *op.add_blocks() = MakeResult(id, memhp::v1::BLOCK_OUTCOME_NOT_FOUND, "no memory block " + std::to_string(id), ENOENT);
      continue;
    }
    if (block->state() != memhp::v1::BLOCK_STATE_ONLINE && block->node() < 0) {
      // S18: the kernel has not finished adding it (no node yet); writing state now would race
      // add_memory_resource(). The caller may try again.
      *op.add_blocks() = MakeResult(id, memhp::v1::BLOCK_OUTCOME_FAILED,
                                    "its add is not complete yet (no node link)", EAGAIN);
      continue;
    }
    if (block->state() == memhp::v1::BLOCK_STATE_ONLINE) {
      BlockResult r = MakeResult(id, memhp::v1::BLOCK_OUTCOME_ALREADY, "already online");
      r.set_zone(block->zone());
      r.set_node(block->node());
      *op.add_blocks() = r;
      continue;
    }
    switch (target) {
      case memhp::v1::ONLINE_TARGET_DEFAULT:
        *op.add_blocks() = OnlineOne(*block, abi::OnlineType::kOnline, DefaultZoneOf(*block), origin, request_id);
        break;
      case memhp::v1::ONLINE_TARGET_KERNEL:
        *op.add_blocks() = OnlineOne(*block, abi::OnlineType::kOnlineKernel, KernelZoneOf(*block), origin, request_id);
        break;
      case memhp::v1::ONLINE_TARGET_MOVABLE:
        *op.add_blocks() = OnlineOne(*block, abi::OnlineType::kOnlineMovable, memhp::v1::ZONE_MOVABLE, origin, request_id);
        break;
      case memhp::v1::ONLINE_TARGET_UNSPECIFIED:
      default: {  // only UNSPECIFIED gets here (checked above): the policy decides
        if (!by_id.emplace(id, block).second) break;  // named twice: decided once
        std::vector<memhp::v1::Zone> zones;
        for (int z : block->valid_zones()) zones.push_back(static_cast<memhp::v1::Zone>(z));
        by_policy.push_back(AddedBlock{.id = id, .node = block->node(), .valid_zones = zones});
        break;
      }
    }
  }
  if (!by_policy.empty()) {
    const bool mapped = devices_ && !devices_->empty();
    // The intent's device is a device too (its map has not come yet): grouped and accounted.
    PlugIntentSlot* intent = intent_ && intent_->active() ? intent_ : nullptr;
    // What each known device already has online: the kernel's per-group accounting.
    std::vector<DeviceUsage> usage;
    if (mapped || intent) {
      std::vector<OnlineBlock> online;
      for (const MemoryBlock& b : inventory->blocks()) {
        if (b.state() == memhp::v1::BLOCK_STATE_ONLINE) online.push_back({b.id(), b.node(), b.zone()});
      }
      const DeviceMapTable no_map;
      usage = AccountDevices(online, mapped ? *devices_ : no_map, intent);
    }
    for (const DeviceGroup& group : GroupByDevice(by_policy, mapped ? devices_ : nullptr, intent)) {
      PolicyInput input;
      input.config = policy_;
      input.block_size_bytes = inventory->block_size_bytes();
      input.page_size_bytes = page_size_;
      // Read for every group: the groups before it changed the zones' sizes.
      if (Result<std::vector<ZoneInfoEntry>> zoneinfo = sysfs_.ReadZoneInfo(); zoneinfo.ok()) {
        input.zoneinfo = std::move(zoneinfo).value();
      }
      FillGroupInput(group, usage, input);
      const OnlineDecision decision = Decide(input);
      const std::string reason =
          group.device_id.empty() ? decision.reason : group.device_id + ": " + decision.reason;
      for (const AddedBlock& added : group.blocks) {
        const MemoryBlock* b = by_id.at(added.id);
        if (decision.action == abi::OnlineType::kOffline) {
          BlockResult r = MakeResult(b->id(), memhp::v1::BLOCK_OUTCOME_LEFT_OFFLINE, reason);
          r.set_node(b->node());
          *op.add_blocks() = r;
          continue;
        }
        const memhp::v1::Zone zone = decision.zone != memhp::v1::ZONE_UNSPECIFIED ? decision.zone : DefaultZoneOf(*b);
        BlockResult r = OnlineOne(*b, decision.action, zone, origin, request_id);
        if (r.detail().empty()) r.set_detail(reason);
        if (r.outcome() == memhp::v1::BLOCK_OUTCOME_DONE) {
          AddToUsage(usage, group.device_id, group.kind, b->node(), r.zone(), inventory->block_size_bytes());
        }
        *op.add_blocks() = r;
      }
    }
  }
  NameDevices(op);
  Finish(op);
  return op;
}

Result<BlockOpResult> BlockOperator::Online(const memhp::v1::OnlineRequest& request, uint64_t request_id) {
  Result<memhp::v1::Inventory> inventory = sysfs_.ReadInventory();
  if (!inventory.ok()) return std::move(inventory).error();
  Result<std::vector<uint32_t>> ids = Resolve(request.selection(), *inventory, /*for_offline=*/false);
  if (!ids.ok()) return std::move(ids).error();
  return OnlineBlocks(*ids, request.target(), EventOrigin::kHostRequest, request_id);
}

Result<BlockOpResult> BlockOperator::OnlineByPolicy(const std::vector<uint32_t>& blocks) {
  return OnlineBlocks(blocks, memhp::v1::ONLINE_TARGET_UNSPECIFIED, EventOrigin::kPolicy, 0);
}

Result<BlockOpResult> BlockOperator::Offline(const memhp::v1::OfflineRequest& request, uint64_t request_id) {
  Result<memhp::v1::Inventory> inventory = sysfs_.ReadInventory();
  if (!inventory.ok()) return std::move(inventory).error();
  Result<std::vector<uint32_t>> ids = Resolve(request.selection(), *inventory, /*for_offline=*/true);
  if (!ids.ok()) return std::move(ids).error();
  set_deadline_(std::chrono::milliseconds(request.timeout_ms() ? request.timeout_ms() : kDefaultOfflineTimeoutMs));

  BlockOpResult op;
  std::vector<std::pair<size_t, const MemoryBlock*>> offlined;  // result index, block
  bool refused = false;
  for (uint32_t id : *ids) {
    const MemoryBlock* block = FindBlock(*inventory, id);
    if (refused) {
      *op.add_blocks() = MakeResult(id, memhp::v1::BLOCK_OUTCOME_SKIPPED, "not tried: an earlier block refused");
      continue;
    }
    if (!block) {
      *op.add_blocks() = MakeResult(id, memhp::v1::BLOCK_OUTCOME_NOT_FOUND, "no memory block " + std::to_string(id), ENOENT);
      refused = request.all_or_nothing();
      continue;
    }
    if (block->state() == memhp::v1::BLOCK_STATE_OFFLINE) {
      BlockResult r = MakeResult(id, memhp::v1::BLOCK_OUTCOME_ALREADY, "already offline");
      r.set_node(block->node());
      *op.add_blocks() = r;
      continue;
    }
    BlockResult r = OfflineOne(*block, request_id);
    if (r.outcome() == memhp::v1::BLOCK_OUTCOME_DONE) {
      offlined.emplace_back(static_cast<size_t>(op.blocks_size()), block);
    } else if (request.all_or_nothing()) {
      refused = true;
    }
    *op.add_blocks() = r;
  }
  if (refused && request.all_or_nothing()) {
    // Put back what this request took, newest first, each into the zone it left.
    for (auto it = offlined.rbegin(); it != offlined.rend(); ++it) {
      const MemoryBlock& block = *it->second;
      const bool movable = block.zone() == memhp::v1::ZONE_MOVABLE;
      const BlockResult back = OnlineOne(block, movable ? abi::OnlineType::kOnlineMovable : abi::OnlineType::kOnlineKernel,
                                         movable ? memhp::v1::ZONE_MOVABLE : KernelZoneOf(block),
                                         EventOrigin::kHostRequest, request_id);
      BlockResult& recorded = *op.mutable_blocks(static_cast<int>(it->first));
      if (back.outcome() == memhp::v1::BLOCK_OUTCOME_DONE) {
        recorded.set_outcome(memhp::v1::BLOCK_OUTCOME_ROLLED_BACK);
        recorded.set_detail("offlined, then onlined back: another block refused");
      } else {
        recorded.set_detail("offlined; onlining it back failed: " + back.detail());
      }
    }
  }
  NameDevices(op);
  Finish(op);
  return op;
}

}  // namespace memhp::agent
