// memhp-agent — the udev half of --take-onlining: a distribution's rule that onlines hot-added
// memory is masked for this boot by a copy in /run/udev/rules.d (policy/udev_rule_mask.h).
//
// Only a distribution's file is masked, one in /usr/lib/udev/rules.d or /lib/udev/rules.d. An
// operator's own rule in /etc/udev/rules.d, or somebody else's runtime rule in /run, is theirs:
// it is left alone, logged, and stays in the hello's competing onliners. The copy is made again
// at every start from the distribution's current file (and removed if that file no longer
// onlines memory), so a package update of the rule is followed at the next agent start.
//
// udev notices a changed rules folder by itself, within 3 s, at its next event
// (event_queue_start() in systemd's udevd.c checks the folders' timestamps); an operator who
// cannot wait runs `udevadm control --reload`.
#pragma once

#include <string>
#include <vector>

#include "sysfs/sysfs_reader.h"

namespace memhp::agent {

// Masks every distribution rule under `sysfs`'s root that onlines memory blocks; returns one
// line per rule masked, "40-vm-hotadd.rules:1: /run/udev/rules.d/40-vm-hotadd.rules". A file
// that cannot be written is logged and not in the answer (its rule stays a competitor).
[[nodiscard]] std::vector<std::string> MaskDistributionOnliningRules(const SysfsReader& sysfs);

}  // namespace memhp::agent
