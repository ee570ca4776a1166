// memory_devices — QEMU's answers about memory, as memhp's wire types. Pure: JSON in, values out.
//
//   query-memory-devices       -> [MemoryDevice]  (qapi/machine.json MemoryDeviceInfo; a union
//                                 on "type": dimm, nvdimm, virtio-pmem, virtio-mem, sgx-epc)
//   query-memory-size-summary  -> base and plugged memory
//   query-status               -> run state ("prelaunch", "running", "paused", ...)
//   the greeting               -> version
//
// Answers of the wrong shape are errors, not defaults: a peer's mistake must not read as "no
// memory" or "size 0". Each known "type" needs every member QEMU's schema marks mandatory
// (qapi/machine.json: PCDIMMDeviceInfo, VirtioMEMDeviceInfo, VirtioPMEMDeviceInfo,
// SgxEPCDeviceInfo; only "id" is optional), with its type. `node` and `slot` are -1 for kinds
// that have none (virtio-pmem has no node; only DIMMs have slots). A "type" this build does not
// know is kept as MEMORY_DEVICE_KIND_OTHER with its qmp_type and whatever of id/memdev/size it
// carries (of the right type when present); its layout is not guessed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memhp/v1/control.pb.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_protocol.h"

namespace memhp::qmp {

// The "return" value of query-memory-devices.
[[nodiscard]] memhp::Result<std::vector<memhp::v1::MemoryDevice>> ParseMemoryDevices(
    const JsonNode& value);

struct MemorySizeSummary {
  uint64_t base_memory = 0;
  uint64_t plugged_memory = 0;  // 0 when QEMU left it out (machines without memory hotplug)
};

// The "return" value of query-memory-size-summary.
[[nodiscard]] memhp::Result<MemorySizeSummary> ParseMemorySizeSummary(const JsonNode& value);

struct RunStatus {
  std::string status;  // QAPI RunState, verbatim
  bool running = false;
};

// The "return" value of query-status.
[[nodiscard]] memhp::Result<RunStatus> ParseStatus(const JsonNode& value);

// Each fills the QemuInfo fields it knows and leaves the others alone.
void ApplyTo(const MemorySizeSummary& summary, memhp::v1::QemuInfo& info);
void ApplyTo(const RunStatus& status, memhp::v1::QemuInfo& info);
void ApplyTo(const Greeting& greeting, memhp::v1::QemuInfo& info);

}  // namespace memhp::qmp
