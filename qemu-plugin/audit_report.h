// memhp-audit — the report as JSON: written to report=PATH at exit and carried in
// AuditReport.json on request. Hand-written (no JSON library in the plugin, which stays small);
// strings are escaped per RFC 8259. The shape:
//   {"armed": bool, "block_size": N, "vcpus": N, "outside_accesses": N,
//    "blocks": [{"start": N, "label": S, "state": "online"|"offline"|"unplugged",
//                "reads": N, "writes": N, "first_touch_ns": N|null}, ...],
//    "violations": {"total": N, "dropped": N, "max": N,
//                   "records": [{"page": N, "vcpu": N, "access": "read"|"write", "state": S,
//                                "label": S, "count": N, "first_ns": N, "last_ns": N}, ...]}}
// Addresses are guest-physical; times are CLOCK_MONOTONIC ns (first_touch_ns: ns since the plug).
#ifndef MEMHP_QEMU_PLUGIN_AUDIT_REPORT_H_
#define MEMHP_QEMU_PLUGIN_AUDIT_REPORT_H_

#include <string>
#include <string_view>

#include "audit_core.h"

namespace memhp::audit {

[[nodiscard]] std::string RenderJson(const Snapshot& snapshot);

// `text` as a JSON string literal, quotes included.
[[nodiscard]] std::string JsonString(std::string_view text);

}  // namespace memhp::audit

#endif  // MEMHP_QEMU_PLUGIN_AUDIT_REPORT_H_
