// admission_facts — see admission_facts.h.
#include "daemon/operations/admission_facts.h"

namespace memhp::daemon::operations {

std::vector<NodeZones> NodeZonesFrom(const memhp::v1::ZoneReport& report) {
  std::vector<NodeZones> out;
  const uint64_t page = report.page_size() ? report.page_size() : 4096;
  for (const auto& node : report.nodes()) {
    NodeZones z;
    z.node = node.node();
    for (const auto& zone : node.zones()) {
      const uint64_t bytes = zone.present_pages() * page;
      if (zone.zone() == memhp::v1::ZONE_MOVABLE) {
        z.movable_bytes += bytes;
      } else if (zone.zone() == memhp::v1::ZONE_DMA || zone.zone() == memhp::v1::ZONE_DMA32 ||
                 zone.zone() == memhp::v1::ZONE_NORMAL) {
        z.kernel_bytes += bytes;
      }
    }
    out.push_back(z);
  }
  return out;
}

AdmissionFacts AdmissionFactsFrom(const FactsGathered& gathered, uint64_t agent_block_size) {
  const HardwareFacts& hw = gathered.hardware;
  AdmissionFacts facts;
  facts.devices = hw.devices;
  facts.object_ids = hw.backend_ids;
  facts.base_memory = hw.base_memory;
  facts.plugged_memory = hw.plugged_memory;
  facts.max_memory = hw.max_memory;
  facts.slots = hw.slots;
  facts.node_count = hw.node_count;
  if (agent_block_size > 0) facts.guest_block_size = agent_block_size;
  if (gathered.zones) {
    if (gathered.zones->mem_available_bytes() > 0) facts.mem_available = gathered.zones->mem_available_bytes();
    facts.zones = NodeZonesFrom(*gathered.zones);
  }
  if (gathered.policy && gathered.policy->movable_ratio_percent() > 0) {
    facts.movable_ratio_percent = gathered.policy->movable_ratio_percent();
  }
  return facts;
}

}  // namespace memhp::daemon::operations
