// memhp-agent — taking over the onlining of hot-added memory (memhp-agent --take-onlining).
//
// The kernel onlines every block it adds itself when auto_online_blocks is not "offline"
// (mhp_default_online_type, set at boot by memhp_default_state= or
// CONFIG_MEMORY_HOTPLUG_DEFAULT_ONLINE; auto_online_blocks_store() in drivers/base/memory.c
// changes it at run time, for blocks added from then on). Writing "offline" there leaves every
// new block to the agent. The agent does it only when told to, says so in its log and in every
// hello (took_onlining_from), and never puts a value back: undoing it is the operator's (drop the
// option and write the old value, or reboot).
#pragma once

#include <string>

#include "sysfs/result.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// Whether the agent shares onlining with whatever else the guest has (it reports those as
// competing onliners) or takes it over at start.
enum class OnliningOwnership { kShare, kTakeOver };

// Writes "offline" to auto_online_blocks under `sysfs`'s root; returns what it said before
// ("offline" when nothing had to change, and then nothing is written).
[[nodiscard]] Result<std::string> TakeOverOnlining(const SysfsReader& sysfs);

}  // namespace memhp::agent
