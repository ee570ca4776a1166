// zone_view — how `memhpctl zones` and `memhpctl policy` show the guest's memory by node and zone
// (agent.proto ZoneReport: /proc/zoneinfo, the node masks, /proc/meminfo) and the onlining policy.
// Pure functions; no I/O. (JSON: wire/proto_json.h.)
#pragma once

#include <string>

#include "memhp/v1/agent.pb.h"

namespace memhp::ctl {

// Per node: its N_MEMORY / N_NORMAL_MEMORY membership (S12/S13), then one row per zone the
// kernel printed with present / managed / free as sizes (pages x the guest's page size), then
// MemTotal and MemAvailable. Ends with "\n".
[[nodiscard]] std::string RenderZonesText(const memhp::v1::ZoneReport& report);

// "policy: auto-movable (auto-movable ratio: MOVABLE <= 301 % of KERNEL)\n", or for any other
// policy just its name: "policy: online_movable\n".
[[nodiscard]] std::string RenderPolicyText(const memhp::v1::PolicyState& state);

}  // namespace memhp::ctl
