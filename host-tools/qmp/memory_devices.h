// memory_devices — QEMU's answers about memory, as memhp's wire types. Pure: JSON in, values out.
//
//   query-memory-devices       -> [MemoryDevice]  (qapi/machine.json MemoryDeviceInfo; a union
//                                 on "type": dimm, nvdimm, virtio-pmem, virtio-mem, sgx-epc)
//   query-memory-size-summary  -> base and plugged memory
//   query-status               -> run state ("prelaunch", "running", "paused", ...)
//   the greeting               -> version
//
// Only the shape that identifies an entry is required (an array of objects with a string
// "type"). Below that, fields are taken when present: QEMU 7.2 always sends the ones its schema
// marks mandatory, and one odd device should not cost the whole inventory. Absent numbers keep
// the proto default, except `node` and `slot`, which are -1 when QEMU gave none (virtio-pmem
// has no node; only DIMMs have slots). A "type" this build does not know is kept as
// MEMORY_DEVICE_KIND_OTHER with its qmp_type and whatever of id/memdev/size it carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memhp/v1/control.pb.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_protocol.h"

namespace memhp::qmp {

// The "return" value of query-memory-devices.
[[nodiscard]] ParseResult<std::vector<memhp::v1::MemoryDevice>> ParseMemoryDevices(
    const JsonNode& value);

struct MemorySizeSummary {
  uint64_t base_memory = 0;
  uint64_t plugged_memory = 0;  // 0 when QEMU left it out (machines without memory hotplug)
};

// The "return" value of query-memory-size-summary.
[[nodiscard]] ParseResult<MemorySizeSummary> ParseMemorySizeSummary(const JsonNode& value);

struct RunStatus {
  std::string status;  // QAPI RunState, verbatim
  bool running = false;
};

// The "return" value of query-status.
[[nodiscard]] ParseResult<RunStatus> ParseStatus(const JsonNode& value);

// Each fills the QemuInfo fields it knows and leaves the others alone.
void ApplyTo(const MemorySizeSummary& summary, memhp::v1::QemuInfo& info);
void ApplyTo(const RunStatus& status, memhp::v1::QemuInfo& info);
void ApplyTo(const Greeting& greeting, memhp::v1::QemuInfo& info);

}  // namespace memhp::qmp
