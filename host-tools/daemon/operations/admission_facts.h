// admission_facts — what admission (admission.h) checks a plug against, joined from the
// hardware's facts and the agent's answers. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "daemon/operations/admission.h"
#include "daemon/operations/machine.h"
#include "memhp/v1/agent.pb.h"

namespace memhp::daemon::operations {

// Per node, movable and kernel (DMA, DMA32, Normal) bytes from a zone report.
[[nodiscard]] std::vector<NodeZones> NodeZonesFrom(const memhp::v1::ZoneReport& report);

// `agent_block_size`: the block size from the agent's hello, 0 when not known.
[[nodiscard]] AdmissionFacts AdmissionFactsFrom(const FactsGathered& gathered, uint64_t agent_block_size);

}  // namespace memhp::daemon::operations
