// memhp — who else onlines hot-added memory in this guest (pure: texts in, warnings out).
//
// memhp's policy only works if the agent is the one that onlines new blocks. Three things in
// a stock guest compete with it (Documentation/admin-guide/mm/memory-hotplug.rst, "Onlining
// and Offlining Memory Blocks"):
//   - /sys/devices/system/memory/auto_online_blocks other than "offline": the kernel onlines
//     every added block itself (mhp_default_online_type, mm/memory_hotplug.c);
//   - the kernel command line: memhp_default_state= sets that default at boot, and
//     memory_hotplug.online_policy= (contig-zones | auto-movable) makes the kernel, not the
//     writer, choose the zone of every block written "online";
//   - udev rules that write "online" to a memory block's `state` on ACTION=="add", as
//     distributions ship them (RHEL's 40-redhat.rules, SUSE's 80-hotplug-cpu-mem.rules,
//     Ubuntu cloud images' 40-vm-hotadd.rules).
// Each finding is a warning for the operator; the agent still runs, and reports what it then
// observes as transitions it did not make (docs/architecture.md, "Observed changes").
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace memhp::agent {

enum class OnlinerSource { kAutoOnlineBlocks, kKernelCommandLine, kUdevRule };

struct CompetingOnliner {
  OnlinerSource source = OnlinerSource::kAutoOnlineBlocks;
  std::string where;    // "auto_online_blocks", "kernel command line", "40-redhat.rules:9"
  std::string message;  // for people, never parsed
  // A udev rule only: the file's name and the physical lines (1-based, inclusive) of the rule
  // that onlines, so --take-onlining can mask exactly that rule (udev_rule_mask.h).
  std::string rule_file;
  std::size_t first_line = 0;
  std::size_t last_line = 0;
};

// auto_online_blocks: the file's text ("" when it could not be read: no warning).
// cmdline: /proc/cmdline's text. udev_rules: file name -> contents, e.g. every *.rules file of
// /usr/lib/udev/rules.d and /etc/udev/rules.d (the caller reads them; the names are quoted back).
// Warnings come in that order: auto_online_blocks, command line, rule files by name and line.
[[nodiscard]] std::vector<CompetingOnliner> FindCompetingOnliners(
    std::string_view auto_online_blocks, std::string_view cmdline,
    const std::map<std::string, std::string>& udev_rules);

}  // namespace memhp::agent
