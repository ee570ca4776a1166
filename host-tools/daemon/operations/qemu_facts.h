// qemu_facts — what QEMU (and the agent, when there is one) say about the VM's memory before an
// operation decides anything. The parsers are pure; GatherFacts asks everyone at once.
//
// QEMU 7.2 has no "maxmem"/"slots" machine properties; it exposes them as `qom-get /machine
// memory` = {"size": ram_size, "slots": N, "max-size": maxmem} (hw/core/machine.c,
// machine_get_mem). The node count comes from HMP `info numa` ("2 nodes\r\n..."), as QMP 7.2
// has no node query that works without a running guest. Asking QEMU rather than the launcher
// means an attached VM, which memhp did not start, gets the same checks.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/agent_channel.h"
#include "daemon/operations/admission.h"
#include "memhp/v1/agent.pb.h"
#include "qmp/qmp_client.h"

namespace memhp::daemon::operations {

struct MachineMemory {
  uint64_t size = 0;
  uint32_t slots = 0;
  uint64_t max_size = 0;
};

// The "return" of `qom-get /machine memory`.
[[nodiscard]] qmp::ParseResult<MachineMemory> ParseMachineMemory(const JsonNode& value);
// The text `info numa` prints: "<N> nodes" on its first line.
[[nodiscard]] std::optional<uint32_t> ParseInfoNumaNodeCount(const std::string& text);
// The child object names of a `qom-list /objects` "return" (entries whose type is "child<...>").
[[nodiscard]] std::vector<std::string> ParseQomChildren(const JsonNode& value);
// Per node, movable and kernel bytes from a zone report.
[[nodiscard]] std::vector<NodeZones> NodeZonesFrom(const memhp::v1::ZoneReport& report);

struct FactsTimeouts {
  std::chrono::milliseconds qmp{10000};
  std::chrono::milliseconds agent{3000};
};

// Asks QEMU (query-memory-devices, query-memory-size-summary, qom-get /machine memory,
// qom-list /objects, info numa) and, when connected, the agent (a zone report and its policy)
// all at once; `done` gets what was learnt plus the problems met. query-memory-devices failing
// is a problem the caller should not go on with (`devices_ok` false).
struct GatheredFacts {
  AdmissionFacts facts;
  bool devices_ok = false;
  std::vector<std::string> problems;
};

void GatherFacts(qmp::QmpClient& qmp, AgentChannel& agent, FactsTimeouts timeouts,
                 std::function<void(GatheredFacts)> done);

}  // namespace memhp::daemon::operations
