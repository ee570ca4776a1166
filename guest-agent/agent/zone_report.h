// memhp-agent — the zone/node report (agent.proto ZoneReport): where the guest's memory is,
// node by node and zone by zone.
//
// Sources: /proc/zoneinfo (present/managed/free pages of every zone the kernel prints for a
// node, populated or not — mm/vmstat.c zoneinfo_show()), the node masks has_memory
// (N_MEMORY, S13) and has_normal_memory (N_NORMAL_MEMORY, S12) under
// /sys/devices/system/node, and MemTotal/MemAvailable from /proc/meminfo. Sent on request
// (ZoneReportRequest) and, coalesced, after block changes (HotplugWatcher), with the memory
// pressure of that moment (pressure_report.h) when it could be read.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_parse.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// Pure assembly: one NodeReport per node in `nodes` (ascending id) plus any node zoneinfo
// names that the masks do not (a kernel without node/ in sysfs); each with its zones in
// zoneinfo's order.
[[nodiscard]] memhp::v1::ZoneReport AssembleZoneReport(const std::vector<memhp::v1::Node>& nodes,
                                                       const std::vector<ZoneInfoEntry>& zoneinfo,
                                                       const MemInfo& meminfo, uint64_t page_size,
                                                       uint64_t read_at_unix_ns);

// Reads the three sources under `sysfs` and assembles them. Any read or parse failure is the
// Error (a report with missing parts would mislead the host's placement).
[[nodiscard]] Result<memhp::v1::ZoneReport> ReadZoneReport(const SysfsReader& sysfs,
                                                           uint64_t page_size,
                                                           const WallClockNs& clock = SystemWallClockNs);

// How the watcher and the handler get a report (ReadZoneReport in production).
using ZoneReportSource = std::function<Result<memhp::v1::ZoneReport>()>;

}  // namespace memhp::agent
