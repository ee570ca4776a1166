// status_view — how `memhpctl status` shows a VM: JSON for scripts, tables for people.
// Pure functions over a VmStatus (proto/memhp/v1/control.proto); no I/O.
//
// Both renderers share one aggregation (status_summary.h), so the text and the JSON "summary"
// never disagree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "memhp/v1/audit.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

// One JSON object, then "\n". It is protobuf's proto3 JSON mapping of the VmStatus with
// snake_case field names (as in the .proto), every scalar field printed even at its default,
// and enums as their names ("MEMORY_DEVICE_KIND_DIMM"). As that mapping documents, 64-bit
// integers (uint64 sizes and addresses, int64 pids) are JSON *strings*: "134217728". Unset
// sub-messages (e.g. agent.inventory before the first one) are absent.
//
// A top-level "summary" object (status_summary.h), derived here so scripts need not, holds
// JSON *numbers*:
//   "summary": {"agent_connected": bool, "block_size_bytes": n,
//               "nodes": [{"node": n, "online_blocks": n, "offline_blocks": n,
//                          "zones": {"DMA": n, "DMA32": n, "Normal": n, "Movable": n,
//                                    "Device": n}}, ...],
//               "devices": n, "plugged_bytes": n}
// "zones" counts online blocks and always names the five zones; a "-" member counts online
// blocks of unknown zone and appears only when there are some. Nodes come from the last
// inventory, stale when agent_connected is false; node -1 groups blocks no node links.
[[nodiscard]] std::string RenderStatusJson(const memhp::v1::VmStatus& status);
// With the memhp-audit plugin's report (a VM launched with --audit), also
//   "audit_heat": {"armed": bool, "devices": {"<device id>": reads + writes, ...}}
// (JSON numbers; only devices whose blocks the plugin watches).
[[nodiscard]] std::string RenderStatusJson(const memhp::v1::VmStatus& status,
                                           const memhp::v1::AuditReport* audit);

// Aligned tables for people: a VM/QEMU/agent header, the QEMU memory devices, then the guest's
// blocks per node from the agent's inventory (marked stale when the agent is not connected,
// absent when it never sent one). Ends with "\n".
[[nodiscard]] std::string RenderStatusText(const memhp::v1::VmStatus& status);
// With the plugin's report, the devices table gains a HEAT column: reads + writes of the
// device's blocks since the plugin was armed ("-" for a device it does not watch).
[[nodiscard]] std::string RenderStatusText(const memhp::v1::VmStatus& status,
                                           const memhp::v1::AuditReport* audit);

// A size in binary units: "0 B", "1023 B", "1 KiB", "128 MiB", "1.5 GiB", up to TiB. Exact
// when the value is a multiple of a quarter unit; otherwise rounded to two decimals.
[[nodiscard]] std::string FormatBytes(uint64_t bytes);

// A zone as the kernel prints it (mm/page_alloc.c zone_names[]): "DMA", "DMA32", "Normal",
// "Movable", "Device"; "-" for ZONE_UNSPECIFIED or a value this build does not know.
[[nodiscard]] std::string_view FormatZone(memhp::v1::Zone zone);

// A device kind as QEMU's query-memory-devices "type" spells it: "dimm", "nvdimm",
// "virtio-pmem", "virtio-mem", "sgx-epc"; for any other kind, the device's qmp_type verbatim
// (or "other" when QEMU gave none).
[[nodiscard]] std::string FormatDeviceKind(const memhp::v1::MemoryDevice& device);

}  // namespace memhp::ctl
