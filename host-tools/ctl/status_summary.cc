// status_summary — see status_summary.h.
#include "ctl/status_summary.h"

#include <utility>

namespace memhp::ctl {

namespace {

void CountBlock(const memhp::v1::MemoryBlock& block, NodeSummary& node) {
  switch (block.state()) {
    case memhp::v1::BLOCK_STATE_ONLINE:
      ++node.online_blocks;
      ++node.zones[block.zone()];
      return;
    case memhp::v1::BLOCK_STATE_GOING_OFFLINE:
      ++node.going_offline_blocks;
      break;
    case memhp::v1::BLOCK_STATE_OFFLINE:
      break;
    default:  // UNKNOWN, UNSPECIFIED, or a value from a newer agent
      ++node.unknown_state_blocks;
      break;
  }
  ++node.offline_blocks;
}

}  // namespace

StatusSummary Summarize(const memhp::v1::VmStatus& status) {
  StatusSummary summary;
  const memhp::v1::AgentStatus& agent = status.agent();
  summary.agent_connected = agent.connected();
  summary.has_inventory = agent.has_inventory();

  const memhp::v1::Inventory& inventory = agent.inventory();
  summary.block_size_bytes = inventory.block_size_bytes() != 0
                                 ? inventory.block_size_bytes()
                                 : agent.hello().guest().block_size_bytes();

  std::map<int32_t, NodeSummary> nodes;
  auto node_at = [&nodes](int32_t id) -> NodeSummary& {
    NodeSummary& node = nodes[id];
    node.node = id;
    return node;
  };
  for (const memhp::v1::Node& kernel_node : inventory.nodes()) {
    node_at(static_cast<int32_t>(kernel_node.id())).kernel_node = kernel_node;
  }
  for (const memhp::v1::MemoryBlock& block : inventory.blocks()) {
    CountBlock(block, node_at(block.node() < 0 ? -1 : block.node()));
  }
  summary.nodes.reserve(nodes.size());
  for (auto& [id, node] : nodes) summary.nodes.push_back(std::move(node));

  summary.devices = static_cast<size_t>(status.devices_size());
  for (const memhp::v1::MemoryDevice& device : status.devices()) {
    summary.plugged_bytes += device.size();
  }
  return summary;
}

}  // namespace memhp::ctl
