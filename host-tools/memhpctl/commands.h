// memhpctl — what each verb does, given a parsed Command. Each returns a documented exit code
// (cli_args.h) and prints its result: a human line or table, or one JSON object with --json.
// The verb table (verb_table.cc) names each verb's function here.
#pragma once

#include "memhpctl/cli_args.h"

namespace memhp::cli {

[[nodiscard]] int RunLaunch(const Command& command);
[[nodiscard]] int RunAttach(const Command& command);
[[nodiscard]] int RunStatus(const Command& command);
[[nodiscard]] int RunStop(const Command& command);
// fleet_commands.cc: every VM of the state root.
[[nodiscard]] int RunList(const Command& command);
[[nodiscard]] int RunStatusAll(const Command& command);

}  // namespace memhp::cli

namespace memhp::cli {

// memory_commands.cc: verbs that change or inspect guest memory through memhpd.
[[nodiscard]] int RunQmp(const Command& command);
[[nodiscard]] int RunBlockOp(const Command& command);
[[nodiscard]] int RunEvents(const Command& command);

}  // namespace memhp::cli

namespace memhp::cli {

// operation_commands.cc: the operations and the event stream.
[[nodiscard]] int RunPlug(const Command& command);
[[nodiscard]] int RunUnplug(const Command& command);
[[nodiscard]] int RunResize(const Command& command);
[[nodiscard]] int RunPolicy(const Command& command);
[[nodiscard]] int RunZones(const Command& command);
[[nodiscard]] int RunWatch(const Command& command);
// autoscale_command.cc: memhpd's autoscaler for a virtio-mem device.
[[nodiscard]] int RunAutoscale(const Command& command);

}  // namespace memhp::cli

namespace memhp::cli {

// audit_command.cc: the memhp-audit plugin's report.
[[nodiscard]] int RunAudit(const Command& command);

// blocks_command.cc: every guest block, as lsmem shows it.
[[nodiscard]] int RunBlocks(const Command& command);
[[nodiscard]] int RunTimeline(const Command& command);  // timeline_command.cc
[[nodiscard]] int RunScenario(const Command& command);  // scenario_commands.cc

}  // namespace memhp::cli

namespace memhp::cli {

// info_commands.cc: the verbs that need no VM.
[[nodiscard]] int RunHelp(const Command& command);
[[nodiscard]] int RunVersion(const Command& command);

}  // namespace memhp::cli
