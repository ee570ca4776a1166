// audit_view — how `memhpctl audit` shows the memhp-audit plugin's report (AuditReport,
// proto/memhp/v1/audit.proto), and the heat figures `memhpctl status` borrows from it. Pure
// functions; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "memhp/v1/audit.pb.h"

namespace memhp::ctl {

// Tables for people, ending with "\n": a header (armed, block size, totals), heat per block
// (reads, writes, a bar scaled to the hottest block, time to first use), then the violations.
// Blocks of unplugged ranges that saw no access are counted, not listed.
[[nodiscard]] std::string RenderAuditText(const memhp::v1::AuditReport& report);

// One JSON object and "\n": protobuf's proto3 JSON mapping of the report (snake_case names,
// every scalar printed; 64-bit integers are JSON strings, as that mapping says).
[[nodiscard]] std::string RenderAuditJson(const memhp::v1::AuditReport& report);

// Reads + writes of every block labelled `label` (a device id); nullopt when no block is.
[[nodiscard]] std::optional<uint64_t> LabelHeat(const memhp::v1::AuditReport& report,
                                                std::string_view label);

// A count for a narrow column: "0", "999", "1.2K", "35M", "4.1G".
[[nodiscard]] std::string FormatCount(uint64_t count);

}  // namespace memhp::ctl
