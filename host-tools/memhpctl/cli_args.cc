// memhpctl — the command line (see cli_args.h).
#include "memhpctl/cli_args.h"

#include <charconv>
#include <functional>
#include <map>

#include <glib.h>

#include "memhpctl/cli_option_spec.h"
#include "vm/state_dir.h"

namespace memhp::cli {
namespace args {

std::optional<uint64_t> ParseNumber(const std::string& text, uint64_t lo, uint64_t hi) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < lo || value > hi) return std::nullopt;
  return value;
}

OptionSpec Number(std::function<void(Command&, uint64_t)> set, std::string name, uint64_t lo, uint64_t hi) {
  return OptionSpec{true, [set, name, lo, hi](Command& c, const std::string& v) -> std::string {
                      auto n = ParseNumber(v, lo, hi);
                      if (n) {
                        set(c, *n);
                        return "";
                      }
                      return "--" + name + " takes a whole number from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", not '" + v + "'";
                    }};
}

}  // namespace args

namespace {

using args::Number;
using args::OptionSpec;
using args::ParseNumber;

std::map<std::string, OptionSpec> GlobalSpecs() {
  return {
      {"vm", {true, [](Command& c, const std::string& v) -> std::string {
                if (!vm::IsValidVmName(v)) return "--vm: '" + v + "' is not a VM name ([A-Za-z0-9._-], 1 to 32)";
                c.global.vm = v;
                return "";
              }}},
      {"state-root", {true, [](Command& c, const std::string& v) -> std::string {
                        if (v.empty() || v[0] != '/') return "--state-root takes an absolute path";
                        c.global.state_root = v;
                        return "";
                      }}},
      {"json", {false, [](Command& c, const std::string&) -> std::string {
                  c.global.json = true;
                  return "";
                }}},
  };
}

std::map<std::string, OptionSpec> VerbSpecs(Verb verb) {
  switch (verb) {
    case Verb::kLaunch:
      return {
          {"kernel", {true, [](Command& c, const std::string& v) { c.launch.kernel = v; return std::string(); }}},
          {"initrd", {true, [](Command& c, const std::string& v) { c.launch.initrd = v; return std::string(); }}},
          {"accel", {true, [](Command& c, const std::string& v) -> std::string {
                       if (v == "auto") c.launch.accel = Accel::kAuto;
                       else if (v == "kvm") c.launch.accel = Accel::kKvm;
                       else if (v == "tcg") c.launch.accel = Accel::kTcg;
                       else return "--accel takes auto, kvm or tcg, not '" + v + "'";
                       return "";
                     }}},
          {"boot-timeout", Number([](Command& c, uint64_t n) { c.launch.boot_timeout_s = static_cast<uint32_t>(n); }, "boot-timeout", 1, 3600)},
          {"memory", Number([](Command& c, uint64_t n) { c.launch.memory_mib = n; }, "memory", 256, 1 << 20)},
          {"nodes", Number([](Command& c, uint64_t n) { c.launch.nodes = static_cast<uint32_t>(n); }, "nodes", 1, 8)},
          {"slots", Number([](Command& c, uint64_t n) { c.launch.slots = static_cast<uint32_t>(n); }, "slots", 1, 256)},
          {"maxmem", Number([](Command& c, uint64_t n) { c.launch.maxmem_mib = n; }, "maxmem", 256, 1 << 24)},
          {"virtio-mem-max", Number([](Command& c, uint64_t n) { c.launch.virtio_mem_max_mib = n; }, "virtio-mem-max", 0, 1 << 24)},
          {"agent-args", {true, [](Command& c, const std::string& v) -> std::string {
                            // It travels as memhp.agent_args="..." on the kernel command line,
                            // which has no escape for a double quote.
                            if (v.find('"') != std::string::npos) return "--agent-args cannot contain a double quote";
                            c.launch.agent_args = v;
                            return "";
                          }}},
          {"kernel-append", {true, [](Command& c, const std::string& v) -> std::string {
                               // After memhp's own options, so e.g. memhp_default_state=... wins.
                               c.launch.kernel_append = v;
                               return "";
                             }}},
          {"audit", {false, [](Command& c, const std::string&) { c.launch.audit = true; return std::string(); }}},
          {"audit-arm", {true, [](Command& c, const std::string& v) -> std::string {
                           if (v != "hello" && v != "request") return "--audit-arm takes hello or request, not '" + v + "'";
                           c.launch.audit_arm_on_request = v == "request";
                           return "";
                         }}},
      };
    case Verb::kAttach:
      return {
          {"qmp", {true, [](Command& c, const std::string& v) { c.attach.qmp = v; return std::string(); }}},
          {"agent", {true, [](Command& c, const std::string& v) { c.attach.agent = v; return std::string(); }}},
      };
    case Verb::kStatus:
      return {
          {"no-refresh", {false, [](Command& c, const std::string&) { c.status.refresh = false; return std::string(); }}},
      };
    case Verb::kStop:
      return {
          {"timeout", Number([](Command& c, uint64_t n) { c.stop.timeout_s = static_cast<uint32_t>(n); }, "timeout", 1, 3600)},
      };
    case Verb::kQmp:
      return {
          {"timeout", Number([](Command& c, uint64_t n) { c.qmp.timeout_s = static_cast<uint32_t>(n); }, "timeout", 1, 3600)},
      };
    case Verb::kOnline:
    case Verb::kOffline: {
      std::map<std::string, OptionSpec> specs = {
          {"blocks", {true, [](Command& c, const std::string& v) -> std::string {
                        gchar** parts = g_strsplit(v.c_str(), ",", -1);
                        std::string error;
                        for (gchar** p = parts; *p && error.empty(); ++p) {
                          auto n = ParseNumber(*p, 0, UINT32_MAX);
                          if (!n) error = "--blocks takes block ids like 40,41, not '" + v + "'";
                          else c.block_op.selection.blocks.push_back(static_cast<uint32_t>(*n));
                        }
                        g_strfreev(parts);
                        return error;
                      }}},
          {"range", {true, [](Command& c, const std::string& v) -> std::string {
                       const size_t colon = v.find(':');
                       auto start = colon == std::string::npos ? std::nullopt : ParseSize(v.substr(0, colon));
                       auto size = colon == std::string::npos ? std::nullopt : ParseSize(v.substr(colon + 1));
                       if (!start || !size || *size == 0) return "--range takes START:SIZE (bytes; K/M/G), not '" + v + "'";
                       c.block_op.selection.range_start = *start;
                       c.block_op.selection.range_size = *size;
                       return "";
                     }}},
          {"node", Number([](Command& c, uint64_t n) { c.block_op.selection.node = static_cast<int32_t>(n); }, "node", 0, 4095)},
          {"size", {true, [](Command& c, const std::string& v) -> std::string {
                      auto n = ParseSize(v);
                      if (!n || *n == 0) return "--size takes a size like 256M, not '" + v + "'";
                      c.block_op.selection.size = *n;
                      return "";
                    }}},
      };
      if (verb == Verb::kOnline) {
        specs["zone"] = {true, [](Command& c, const std::string& v) -> std::string {
                           if (v == "policy") c.block_op.zone = ZoneChoice::kPolicy;
                           else if (v == "default") c.block_op.zone = ZoneChoice::kDefault;
                           else if (v == "kernel") c.block_op.zone = ZoneChoice::kKernel;
                           else if (v == "movable") c.block_op.zone = ZoneChoice::kMovable;
                           else return "--zone takes policy, default, kernel or movable, not '" + v + "'";
                           return "";
                         }};
      } else {
        specs["timeout-ms"] = Number([](Command& c, uint64_t n) { c.block_op.timeout_ms = static_cast<uint32_t>(n); }, "timeout-ms", 1, 3600000);
        specs["all-or-nothing"] = {false, [](Command& c, const std::string&) { c.block_op.all_or_nothing = true; return std::string(); }};
      }
      return specs;
    }
    case Verb::kPlug:
    case Verb::kUnplug:
    case Verb::kResize:
    case Verb::kPolicy:
    case Verb::kWatch:
      return args::OperationVerbSpecs(verb);
    case Verb::kAudit:
      return {
          {"arm", {false, [](Command& c, const std::string&) { c.audit.arm = true; return std::string(); }}},
          {"disarm", {false, [](Command& c, const std::string&) { c.audit.disarm = true; return std::string(); }}},
      };
    case Verb::kHelp:
    case Verb::kVersion:
    case Verb::kEvents:
    case Verb::kZones:
      return {};
  }
  return {};
}

std::optional<Verb> ParseVerb(const std::string& word) {
  static const std::map<std::string, Verb> verbs = {
      {"help", Verb::kHelp},     {"version", Verb::kVersion}, {"launch", Verb::kLaunch},
      {"attach", Verb::kAttach}, {"status", Verb::kStatus},   {"stop", Verb::kStop},
      {"qmp", Verb::kQmp},       {"online", Verb::kOnline},   {"offline", Verb::kOffline},
      {"events", Verb::kEvents},
      {"plug", Verb::kPlug},     {"unplug", Verb::kUnplug},   {"resize", Verb::kResize},
      {"policy", Verb::kPolicy}, {"zones", Verb::kZones},     {"watch", Verb::kWatch},
      {"audit", Verb::kAudit},
  };
  auto it = verbs.find(word);
  if (it == verbs.end()) return std::nullopt;
  return it->second;
}

const char* VerbName(Verb verb) {
  switch (verb) {
    case Verb::kHelp: return "help";
    case Verb::kVersion: return "version";
    case Verb::kLaunch: return "launch";
    case Verb::kAttach: return "attach";
    case Verb::kStatus: return "status";
    case Verb::kStop: return "stop";
    case Verb::kQmp: return "qmp";
    case Verb::kOnline: return "online";
    case Verb::kOffline: return "offline";
    case Verb::kEvents: return "events";
    case Verb::kPlug: return "plug";
    case Verb::kUnplug: return "unplug";
    case Verb::kResize: return "resize";
    case Verb::kPolicy: return "policy";
    case Verb::kZones: return "zones";
    case Verb::kWatch: return "watch";
    case Verb::kAudit: return "audit";
  }
  return "?";
}

}  // namespace

ParseOutcome ParseCommandLine(const std::vector<std::string>& args) {
  Command command;
  std::optional<Verb> verb;
  const auto globals = GlobalSpecs();
  std::map<std::string, OptionSpec> locals;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      command.verb = Verb::kHelp;
      return {command, ""};
    }
    if (arg.rfind("--", 0) != 0) {
      // qmp takes its command and its JSON arguments as words.
      if (verb == Verb::kQmp && command.qmp.command.empty()) {
        command.qmp.command = arg;
        continue;
      }
      if (verb == Verb::kQmp && command.qmp.arguments_json.empty()) {
        command.qmp.arguments_json = arg;
        continue;
      }
      // unplug and resize name their device as a word.
      if (std::string error; verb && args::TakeOperationWord(*verb, arg, command, error)) {
        if (!error.empty()) return {std::nullopt, error};
        continue;
      }
      if (verb) return {std::nullopt, std::string("unexpected argument '") + arg + "' after '" + VerbName(*verb) + "'"};
      verb = ParseVerb(arg);
      if (!verb) return {std::nullopt, "unknown command '" + arg + "' (see memhpctl help)"};
      locals = VerbSpecs(*verb);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = nullptr;
    if (auto it = globals.find(name); it != globals.end()) spec = &it->second;
    if (auto it = locals.find(name); it != locals.end()) spec = &it->second;
    if (!spec) {
      return {std::nullopt, "unknown option --" + name +
                                (verb ? std::string(" for '") + VerbName(*verb) + "'" : std::string())};
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return {std::nullopt, "--" + name + " needs a value"};
      }
    } else if (inline_value) {
      return {std::nullopt, "--" + name + " takes no value"};
    }
    if (std::string error = spec->apply(command, value); !error.empty()) return {std::nullopt, error};
  }
  if (!verb) return {std::nullopt, "no command given (see memhpctl help)"};
  command.verb = *verb;
  if (command.verb == Verb::kAttach && command.attach.qmp.empty()) {
    return {std::nullopt, "attach needs --qmp PATH (QEMU's QMP socket)"};
  }
  if (command.verb == Verb::kQmp && command.qmp.command.empty()) {
    return {std::nullopt, "qmp needs a command, e.g. memhpctl qmp query-memory-devices"};
  }
  if (command.verb == Verb::kOnline || command.verb == Verb::kOffline) {
    const BlockSelectionOptions& sel = command.block_op.selection;
    const int chosen = (!sel.blocks.empty()) + (sel.range_size > 0) + (sel.node >= 0 || sel.size > 0);
    if (chosen != 1) return {std::nullopt, "choose blocks with exactly one of --blocks, --range, or --node with --size"};
    if ((sel.node >= 0) != (sel.size > 0)) return {std::nullopt, "--node and --size go together"};
  }
  if (command.verb == Verb::kAudit && command.audit.arm && command.audit.disarm) {
    return {std::nullopt, "audit takes --arm or --disarm, not both"};
  }
  if (command.verb == Verb::kLaunch && command.launch.audit_arm_on_request && !command.launch.audit) {
    return {std::nullopt, "--audit-arm goes with --audit"};
  }
  if (std::string error = args::CheckOperationCommand(command); !error.empty()) return {std::nullopt, error};
  if (command.verb == Verb::kLaunch && command.launch.memory_mib % (128ull * command.launch.nodes) != 0) {
    return {std::nullopt, "--memory must split into whole 128 MiB blocks per node"};
  }
  return {command, ""};
}

std::optional<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t shift = 0;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    default: break;
  }
  if (shift) digits.pop_back();
  auto n = ParseNumber(digits, 0, UINT64_MAX >> shift);
  if (!n) return std::nullopt;
  return *n << shift;
}

std::string UsageText() {
  return R"(usage: memhpctl [--vm NAME] [--state-root DIR] [--json] COMMAND [options]

commands:
  launch   boot the default VM (or --kernel/--initrd) and start its memhpd
             [--accel auto|kvm|tcg] [--boot-timeout S] [--memory MiB] [--nodes N]
             [--slots N] [--maxmem MiB] [--virtio-mem-max MiB] [--agent-args "ARGS"]
             [--kernel-append "OPTIONS"]
             [--audit [--audit-arm hello|request]]
  attach   serve an existing QEMU: --qmp PATH [--agent PATH]
  status   QEMU's memory devices beside the agent's inventory [--no-refresh]
  stop     shut the VM down and end its memhpd [--timeout S]
  plug     plug a DIMM: --size SIZE --node N [--id ID] [--zone policy|default|kernel|movable]
             [--timeout S]
  unplug   unplug a DIMM, its blocks offlined first: unplug ID [--force] [--timeout S]
             [--block-timeout MS]
  resize   resize a virtio-mem device: resize ID --size SIZE [--offline-first] [--timeout S]
  policy   the agent's onlining policy: policy [--set manual|online|online_kernel|
             online_movable|auto-movable] [--ratio PCT]
  zones    the guest's memory per node and zone (present/managed/free, N_MEMORY, MemAvailable)
  watch    QMP, agent, operation and memhpd events, one JSON object per line [--no-replay]
  audit    the memhp-audit plugin's report: heat per block, time to first use, accesses to
             offline or unplugged memory [--arm | --disarm] (VM launched with --audit)
  online   online guest memory through the agent, block by block
             (--blocks 40,41 | --range START:SIZE | --node N --size SIZE)
             [--zone policy|default|kernel|movable]
  offline  offline guest memory (same selection) [--timeout-ms MS] [--all-or-nothing]
  events   the memory events memhpd recorded from the agent (most recent last)
  qmp      pass one QMP command to QEMU: memhpctl qmp COMMAND ['{"arg": ...}'] [--timeout S]
  version  print the version
  help     this text

global options:
  --vm NAME         which VM (default: default); its state folder is STATE_ROOT/NAME
  --state-root DIR  where VM state folders live (default: $MEMHP_STATE or /var/lib/memhp)
  --json            machine-readable output

exit codes: 0 done, 1 failed or refused, 2 usage error, 3 timed out or partly done
)";
}

}  // namespace memhp::cli
