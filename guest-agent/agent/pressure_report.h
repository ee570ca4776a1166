// memhp-agent — the memory-pressure report (agent.proto MemoryPressure): how hard the guest is
// pressed for memory right now.
//
// Sources: /proc/pressure/memory (PSI: the share of time tasks stalled on memory, averaged over
// 10, 60 and 300 s, and the total stall time), MemTotal/MemAvailable from /proc/meminfo, and
// the reclaim (pgscan_*, pgsteal_*) and OOM-kill counters of /proc/vmstat. A kernel without PSI
// gives a report with psi_available false and the rest filled. Sent with every zone report, and
// as an event when the agent's PSI trigger fires or pressure has gone (pressure_watch.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "memhp/v1/agent.pb.h"
#include "sysfs/result.h"
#include "sysfs/sysfs_parse.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// Pure assembly of what the three sources said.
[[nodiscard]] memhp::v1::MemoryPressure AssemblePressure(const std::optional<PsiMemory>& psi,
                                                         const MemInfo& meminfo,
                                                         const ReclaimCounters& reclaim,
                                                         memhp::v1::PressureCause cause,
                                                         uint64_t read_at_unix_ns);

// Reads the three sources under `sysfs`; any read or parse failure but a missing PSI is the Error.
[[nodiscard]] Result<memhp::v1::MemoryPressure> ReadPressure(const SysfsReader& sysfs,
                                                             memhp::v1::PressureCause cause,
                                                             const WallClockNs& clock = SystemWallClockNs);

// How the watch gets a report (ReadPressure in production).
using PressureSource = std::function<Result<memhp::v1::MemoryPressure>(memhp::v1::PressureCause)>;

}  // namespace memhp::agent
