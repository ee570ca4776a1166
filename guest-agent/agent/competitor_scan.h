// memhp-agent — the competing onliners of the running guest: reads what policy/
// competing_onliners.h judges (auto_online_blocks, /proc/cmdline, the udev rule folders).
//
// A file that cannot be read is no competitor found, but it is said in the log: a guest whose
// rules could not be read was not checked, and the operator should know that.
#pragma once

#include <vector>

#include "policy/competing_onliners.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// Every competitor FindCompetingOnliners() sees in the tree under `sysfs`'s root.
[[nodiscard]] std::vector<CompetingOnliner> ScanCompetingOnliners(const SysfsReader& sysfs);

}  // namespace memhp::agent
