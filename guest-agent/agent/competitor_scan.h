// memhp-agent — the competing onliners of the running guest: reads what policy/
// competing_onliners.h judges (auto_online_blocks, /proc/cmdline, the udev rule folders).
//
// A file that cannot be read is no competitor found, but it is said in the log: a guest whose
// rules could not be read was not checked, and the operator should know that.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/competing_onliners.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// One copy of a rule file: its folder (relative to the root, e.g. "usr/lib/udev/rules.d") and
// its text.
struct UdevRuleFile {
  std::string dir;
  std::string text;
};

// Every readable *.rules file of udev's folders under `sysfs`'s root, by name, each name's
// copies lowest precedence first: /usr/lib, /lib, /run, /etc (udev(7): the last one is the
// one udev reads, it hides the others).
[[nodiscard]] std::map<std::string, std::vector<UdevRuleFile>> ReadUdevRuleFiles(const SysfsReader& sysfs);

// Every competitor FindCompetingOnliners() sees in the tree under `sysfs`'s root.
[[nodiscard]] std::vector<CompetingOnliner> ScanCompetingOnliners(const SysfsReader& sysfs);

}  // namespace memhp::agent
