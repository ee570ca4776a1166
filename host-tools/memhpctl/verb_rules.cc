// memhpctl — see verb_rules.h.
#include "memhpctl/verb_rules.h"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "memhpctl/cli_option.h"
#include "memhpctl/cli_values.h"
#include "vm/state_dir.h"

namespace memhp::cli::rules {

using args::IsDeviceId;
using args::kDeviceIdRule;

std::string ApplyVm(Command& c, const std::string& v) {
  if (!vm::IsValidVmName(v)) return "--vm: '" + v + "' is not a VM name ([A-Za-z0-9._-], 1 to 32)";
  c.global.vm = v;
  return "";
}

std::string ApplyStateRoot(Command& c, const std::string& v) {
  if (v.empty() || v[0] != '/') return "--state-root takes an absolute path";
  c.global.state_root = v;
  return "";
}

std::string ApplyAgentArgs(Command& c, const std::string& v) {
  // It travels as memhp.agent_args="..." on the kernel command line, which has no escape for a
  // double quote.
  if (v.find('"') != std::string::npos) return "--agent-args cannot contain a double quote";
  c.launch.agent_args = v;
  return "";
}

std::string ApplyBlocks(Command& c, const std::string& v) {
  Result<std::vector<uint32_t>> ids = ParseBlockList(v);
  if (!ids.ok()) return "--blocks: " + ids.error().message;
  std::vector<uint32_t>& blocks = c.block_op.selection.blocks;
  if (!blocks.empty()) return "--blocks is given once (one list: 40-47,50)";
  blocks = std::move(ids).value();
  return "";
}

std::string ApplyRange(Command& c, const std::string& v) {
  // START:SIZE, or START-END with END the range's last byte, as lsmem's RANGE column prints it
  // ("0x0000000140000000-0x000000014fffffff").
  const size_t colon = v.find(':');
  const size_t dash = v.find('-');
  const size_t cut = colon != std::string::npos ? colon : dash;
  const std::optional<uint64_t> start = cut == std::string::npos ? std::nullopt : ParseSize(v.substr(0, cut));
  const std::optional<uint64_t> second = cut == std::string::npos ? std::nullopt : ParseSize(v.substr(cut + 1));
  std::optional<uint64_t> size;
  if (start && second) {
    if (cut == colon) {
      size = second;
    } else if (*second >= *start && *second - *start < UINT64_MAX) {
      size = *second - *start + 1;
    }
  }
  if (!size || *size == 0 || *start > UINT64_MAX - (*size - 1)) {
    return "--range takes START:SIZE or START-END (0x140000000:256M, 0x140000000-0x14fffffff), not '" + v + "'";
  }
  c.block_op.selection.range_start = *start;
  c.block_op.selection.range_size = *size;
  return "";
}

std::string ApplyPlugId(Command& c, const std::string& v) {
  if (!IsDeviceId(v)) return "--id: '" + v + "' " + std::string(kDeviceIdRule);
  c.plug.device_id = v;
  return "";
}

std::string ApplyBlockColumns(Command& c, const std::string& v) {
  Result<std::vector<ctl::BlockColumn>> columns = ctl::ParseBlockColumns(v, /*for_split=*/false);
  if (!columns.ok()) return "--output: " + columns.error().message;
  c.blocks.view.columns = std::move(columns).value();
  return "";
}

std::string ApplyBlockSplit(Command& c, const std::string& v) {
  Result<std::vector<ctl::BlockColumn>> columns = ctl::ParseBlockColumns(v, /*for_split=*/true);
  if (!columns.ok()) return "--split: " + columns.error().message;
  c.blocks.view.split = std::move(columns).value();
  c.blocks.view.split_given = true;
  return "";
}

namespace {

// A word the verb took: fine (no error) or wrong (the usage error).
WordOutcome Taken(std::string error = "") { return WordOutcome{true, std::move(error)}; }

// The device id word of unplug and resize: the first word only (a second is unexpected).
WordOutcome TakeDeviceId(std::string& id, const std::string& word) {
  if (!id.empty()) return {};
  if (!IsDeviceId(word)) return Taken("'" + word + "' " + std::string(kDeviceIdRule));
  id = word;
  return Taken();
}

}  // namespace

WordOutcome TakeUnplugId(Command& c, const std::string& word) { return TakeDeviceId(c.unplug.device_id, word); }

WordOutcome TakeResizeId(Command& c, const std::string& word) { return TakeDeviceId(c.resize.device_id, word); }

WordOutcome TakeQmpWord(Command& c, const std::string& word) {
  // qmp takes its command and its JSON arguments as words.
  for (std::string* slot : {&c.qmp.command, &c.qmp.arguments_json}) {
    if (slot->empty()) {
      *slot = word;
      return Taken();
    }
  }
  return {};
}

WordOutcome TakeHelpTopic(Command& c, const std::string& word) {
  if (c.help.topic) return {};
  const VerbSpec* topic = FindVerb(word);
  if (!topic) return Taken("unknown command '" + word + "' (see memhpctl help)");
  c.help.topic = topic->verb;
  return Taken();
}

std::string CheckLaunch(const Command& c) {
  if (c.launch.audit_arm_on_request && !c.launch.audit) return "--audit-arm goes with --audit";
  if (c.launch.audit && c.launch.engine_libvirt) {
    return "--audit cannot go with --engine libvirt: loading the plugin needs <qemu:commandline>, which taints the domain";
  }
  if (c.launch.memory_mib % (128ull * c.launch.nodes) != 0) return "--memory must split into whole 128 MiB blocks per node";
  return "";
}

std::string CheckAttach(const Command& c) {
  const AttachOptions& a = c.attach;
  if (!a.libvirt_domain.empty()) {
    if (!a.qmp.empty() || !a.agent.empty()) return "attach --libvirt takes no --qmp or --agent: libvirt owns them";
    return "";
  }
  if (!a.libvirt_uri.empty()) return "--connect goes with --libvirt DOMAIN";
  return a.qmp.empty() ? "attach needs --qmp PATH (QEMU's QMP socket) or --libvirt DOMAIN" : "";
}

std::string CheckQmp(const Command& c) {
  return c.qmp.command.empty() ? "qmp needs a command, e.g. memhpctl qmp query-memory-devices" : "";
}

std::string CheckSelection(const Command& c) {
  const BlockSelectionOptions& sel = c.block_op.selection;
  const int chosen = (!sel.blocks.empty()) + (sel.range_size > 0) + (sel.node >= 0 || sel.size > 0);
  if (chosen != 1) return "choose blocks with exactly one of --blocks, --range, or --node with --size";
  if ((sel.node >= 0) != (sel.size > 0)) return "--node and --size go together";
  return "";
}

std::string CheckPlug(const Command& c) {
  if (c.plug.size == 0) return "plug needs --size SIZE (e.g. 256M)";
  if (c.plug.node < 0) return "plug needs --node N";
  return "";
}

std::string CheckUnplug(const Command& c) {
  return c.unplug.device_id.empty() ? "unplug needs a device id, e.g. memhpctl unplug dimm1" : "";
}

WordOutcome TakeAutoscaleId(Command& c, const std::string& word) {
  return TakeDeviceId(c.autoscale.device_id, word);
}

std::string CheckAutoscale(const Command& c) {
  const AutoscaleOptions& a = c.autoscale;
  if (a.off) {
    if (a.min_given || a.max_given || a.step || a.quiet_ms || a.grow_psi_pct || a.grow_available_pct ||
        !a.device_id.empty()) {
      return "autoscale --off takes no other option and no device";
    }
    return "";
  }
  if (!a.min_given || !a.max_given) return "autoscale needs --min SIZE and --max SIZE (or --off), e.g. --min 0 --max 2G";
  if (a.min > a.max) return "autoscale: --min is above --max";
  return "";
}

std::string CheckResize(const Command& c) {
  if (c.resize.device_id.empty()) return "resize needs a device id, e.g. memhpctl resize vmem1 --size 512M";
  if (!c.resize.size_given) return "resize needs --size SIZE (the new requested size, e.g. 512M)";
  return "";
}

WordOutcome TakeTimelineInput(Command& c, const std::string& word) {
  if (!c.timeline.input.empty()) return {};
  c.timeline.input = word;
  return Taken();
}

std::string CheckTimeline(const Command& c) {
  if (c.timeline.input.empty()) return "timeline needs the recorded stream, e.g. memhpctl timeline watch.jsonl -o watch.svg";
  if (c.timeline.output.empty()) return "timeline needs -o FILE.svg (- for stdout)";
  return "";
}

WordOutcome TakeScenarioWord(Command& c, const std::string& word) {
  ScenarioOptions& s = c.scenario;
  if (s.action == ScenarioAction::kNone) {
    if (word == "run") s.action = ScenarioAction::kRun;
    else if (word == "compare") s.action = ScenarioAction::kCompare;
    else return {true, "scenario: '" + word + "' is not run or compare"};
    return Taken();
  }
  if (s.files.size() >= (s.action == ScenarioAction::kRun ? 1u : 2u)) return {};
  s.files.push_back(word);
  return Taken();
}

std::string CheckScenario(const Command& c) {
  const ScenarioOptions& s = c.scenario;
  switch (s.action) {
    case ScenarioAction::kNone: return "scenario needs run FILE or compare A.json B.json";
    case ScenarioAction::kRun:
      if (s.files.size() != 1) return "scenario run needs the scenario file, e.g. memhpctl scenario run grow-and-shrink.json";
      return "";
    case ScenarioAction::kCompare:
      if (s.files.size() != 2) return "scenario compare needs two reports: memhpctl scenario compare A.json B.json";
      if (!s.output.empty() || !s.svg.empty()) return "scenario compare takes no -o or --svg";
      return "";
  }
  return "";
}

std::string CheckAudit(const Command& c) {
  return c.audit.arm && c.audit.disarm ? "audit takes --arm or --disarm, not both" : "";
}

}  // namespace memhp::cli::rules
