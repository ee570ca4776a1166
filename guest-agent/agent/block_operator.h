// memhp-agent — BlockOperator: the host's online and offline requests, block by block.
//
// A request names blocks (a list, a physical range, or an amount on a node); the operator
// resolves that against a fresh inventory, then drives each block through the notifier model
// (TransitionDriver: GOING_* -> write -> ONLINE/OFFLINE or CANCEL_*, S1-S6) with the
// memory_notify the kernel would compute (S10-S13), and answers one BlockResult per block — one
// bad block never fails the whole call (docs/architecture.md, "Errors").
//
// Offline is bounded in time per block (the kernel may retry forever; the writer interrupts it
// at the deadline) and may be all-or-nothing: when a block refuses, the blocks this request
// already offlined are onlined back into the zone they left, and the rest are not tried — the
// guest is as it was, which the host's DIMM unplug needs.
//
// One operation at a time (S18, S21): the agent runs requests one after another on its main
// loop, and a request never waits on the host, so the lock order host operation -> agent
// operation is never inverted (S19's lesson).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "notifier/transition_driver.h"
#include "policy/device_map.h"
#include "policy/online_policy.h"
#include "policy/plug_intent.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// The most blocks one request may name (a 512 GiB range of 128 MiB blocks).
inline constexpr size_t kMaxBlocksPerRequest = 4096;
inline constexpr uint32_t kDefaultOfflineTimeoutMs = 10000;

// Sets the sysfs writer's per-write deadline (SysfsBlockWriter in production).
using DeadlineSetter = std::function<void(std::chrono::milliseconds)>;

class BlockOperator {
 public:
  // `policy`, `devices` and `intent` are read at every decision, so the host's SetPolicyRequest,
  // DeviceMap and PlugIntent (AgentSettings) take effect at the next block; `devices` may be
  // null (no map), `intent` too (no intents: a new block in no range is the policy's alone).
  BlockOperator(const SysfsReader& sysfs, TransitionDriver& driver, DeadlineSetter set_deadline,
                uint64_t page_size, const PolicyConfig& policy,
                const DeviceMapTable* devices = nullptr, PlugIntentSlot* intent = nullptr);

  // A malformed selection (bad range, too many blocks, unknown node) is an Error with EINVAL /
  // E2BIG: nothing was tried. Otherwise one result per block.
  [[nodiscard]] Result<memhp::v1::BlockOpResult> Online(const memhp::v1::OnlineRequest& request,
                                                        uint64_t request_id);
  [[nodiscard]] Result<memhp::v1::BlockOpResult> Offline(const memhp::v1::OfflineRequest& request,
                                                         uint64_t request_id);

  // Onlines `blocks` (freshly added, offline) as the policy says; origin kPolicy. With a device
  // map, the policy decides per device (device_groups.h): a DIMM's blocks together, a
  // virtio-mem device's block by block, a device's DeviceRange.target before the policy. A
  // block in no range that the plug intent covers is decided as the intent's device's, with
  // its target (plug_intent.h).
  [[nodiscard]] Result<memhp::v1::BlockOpResult> OnlineByPolicy(const std::vector<uint32_t>& blocks);

 private:
  [[nodiscard]] Result<std::vector<uint32_t>> Resolve(const memhp::v1::BlockSelection& selection,
                                                      const memhp::v1::Inventory& inventory,
                                                      bool for_offline) const;
  [[nodiscard]] memhp::v1::BlockResult OnlineOne(const memhp::v1::MemoryBlock& block,
                                                 abi::OnlineType target, memhp::v1::Zone zone,
                                                 EventOrigin origin, uint64_t request_id);
  [[nodiscard]] memhp::v1::BlockResult OfflineOne(const memhp::v1::MemoryBlock& block,
                                                  uint64_t request_id);
  [[nodiscard]] Result<memhp::v1::BlockOpResult> OnlineBlocks(const std::vector<uint32_t>& ids,
                                                              memhp::v1::OnlineTarget target,
                                                              EventOrigin origin,
                                                              uint64_t request_id);

  const SysfsReader& sysfs_;
  TransitionDriver& driver_;
  DeadlineSetter set_deadline_;
  uint64_t page_size_;
  // Sets every result's device_id from the map, else from the intent.
  void NameDevices(memhp::v1::BlockOpResult& op) const;

  const PolicyConfig& policy_;
  const DeviceMapTable* devices_;
  PlugIntentSlot* intent_;
};

}  // namespace memhp::agent
