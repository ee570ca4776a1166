// qemu_facts — QEMU's answers about the machine's memory layout, as values. Pure: JSON and HMP
// text in, values out; the QMP adapter (qmp_memory_devices.h) and memhpd's start-up limits
// (supervisor.cc) ask the questions.
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

#include "base/result.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_protocol.h"

namespace memhp::daemon::qemu {

struct MachineMemory {
  uint64_t size = 0;
  uint32_t slots = 0;
  uint64_t max_size = 0;
};

// The "return" of `qom-get /machine memory`.
[[nodiscard]] Result<MachineMemory> ParseMachineMemory(const JsonNode& value);
// The text `info numa` prints: "<N> nodes" on its first line.
[[nodiscard]] std::optional<uint32_t> ParseInfoNumaNodeCount(const std::string& text);
// The child object names of a `qom-list /objects` "return" (entries whose type is "child<...>").
[[nodiscard]] std::vector<std::string> ParseQomChildren(const JsonNode& value);

}  // namespace memhp::daemon::qemu
