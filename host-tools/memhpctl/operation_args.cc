// memhpctl — the operation verbs' command line: plug, unplug, resize, policy, zones,
// watch. See cli_option_spec.h; the verbs themselves are in operation_commands.cc.
#include <glib.h>

#include "memhpctl/cli_option_spec.h"

namespace memhp::cli::args {
namespace {

std::optional<ZoneChoice> ParseZone(const std::string& v) {
  if (v == "policy") return ZoneChoice::kPolicy;
  if (v == "default") return ZoneChoice::kDefault;
  if (v == "kernel") return ZoneChoice::kKernel;
  if (v == "movable") return ZoneChoice::kMovable;
  return std::nullopt;
}

// QEMU's id_wellformed() (util/id.c): a letter, then letters, digits, '-', '.', '_'.
bool IsDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 128 || !g_ascii_isalpha(id[0])) return false;
  for (char ch : id) {
    if (!g_ascii_isalnum(ch) && ch != '-' && ch != '.' && ch != '_') return false;
  }
  return true;
}

constexpr const char* kDeviceIdRule = "is not a QEMU device id (a letter, then letters, digits, -._)";

// The agent's policy names (agent.proto SetPolicyRequest).
bool IsPolicyName(const std::string& name) {
  return name == "manual" || name == "online" || name == "online_kernel" || name == "online_movable" ||
         name == "auto-movable";
}

// --size for plug and resize: binary suffixes, e.g. 256M.
OptionSpec Size(std::function<void(Command&, uint64_t)> set, bool allow_zero) {
  return OptionSpec{true, [set, allow_zero](Command& c, const std::string& v) -> std::string {
                      auto n = ParseSize(v);
                      if (!n || (*n == 0 && !allow_zero)) return "--size takes a size like 256M, not '" + v + "'";
                      set(c, *n);
                      return "";
                    }};
}

OptionSpec Flag(std::function<void(Command&)> set) {
  return OptionSpec{false, [set](Command& c, const std::string&) { set(c); return std::string(); }};
}

uint32_t U32(uint64_t n) { return static_cast<uint32_t>(n); }

}  // namespace

std::map<std::string, OptionSpec> OperationVerbSpecs(Verb verb) {
  switch (verb) {
    case Verb::kPlug:
      return {
          {"size", Size([](Command& c, uint64_t n) { c.plug.size = n; }, false)},
          {"node", Number([](Command& c, uint64_t n) { c.plug.node = static_cast<int32_t>(n); }, "node", 0, 4095)},
          {"id", {true, [](Command& c, const std::string& v) -> std::string {
                    if (!IsDeviceId(v)) return "--id: '" + v + "' " + kDeviceIdRule;
                    c.plug.device_id = v;
                    return "";
                  }}},
          {"zone", {true, [](Command& c, const std::string& v) -> std::string {
                      auto zone = ParseZone(v);
                      if (!zone) return "--zone takes policy, default, kernel or movable, not '" + v + "'";
                      c.plug.zone = *zone;
                      return "";
                    }}},
          {"timeout", Number([](Command& c, uint64_t n) { c.plug.timeout_s = U32(n); }, "timeout", 1, 3600)},
      };
    case Verb::kUnplug:
      return {
          {"force", Flag([](Command& c) { c.unplug.force = true; })},
          {"timeout", Number([](Command& c, uint64_t n) { c.unplug.timeout_s = U32(n); }, "timeout", 1, 3600)},
          {"block-timeout",
           Number([](Command& c, uint64_t n) { c.unplug.block_timeout_ms = U32(n); }, "block-timeout", 1, 3600000)},
      };
    case Verb::kResize:
      return {
          {"size", Size([](Command& c, uint64_t n) { c.resize.size = n; c.resize.size_given = true; }, true)},
          {"offline-first", Flag([](Command& c) { c.resize.offline_first = true; })},
          {"timeout", Number([](Command& c, uint64_t n) { c.resize.timeout_s = U32(n); }, "timeout", 1, 3600)},
      };
    case Verb::kPolicy:
      return {
          {"set", {true, [](Command& c, const std::string& v) -> std::string {
                     if (!IsPolicyName(v)) {
                       return "--set takes manual, online, online_kernel, online_movable or auto-movable, not '" + v + "'";
                     }
                     c.policy.policy = v;
                     return "";
                   }}},
          {"ratio", Number([](Command& c, uint64_t n) { c.policy.ratio_percent = U32(n); }, "ratio", 1, 100000)},
      };
    case Verb::kWatch:
      return {{"no-replay", Flag([](Command& c) { c.watch.replay_recent = false; })}};
    default:
      return {};
  }
}

bool TakeOperationWord(Verb verb, const std::string& word, Command& command, std::string& error) {
  if (verb != Verb::kUnplug && verb != Verb::kResize) return false;
  std::string& id = verb == Verb::kUnplug ? command.unplug.device_id : command.resize.device_id;
  if (!id.empty()) return false;  // a second word: the caller says it is unexpected
  if (!IsDeviceId(word)) error = "'" + word + "' " + kDeviceIdRule;
  else id = word;
  return true;
}

std::string CheckOperationCommand(const Command& command) {
  switch (command.verb) {
    case Verb::kPlug:
      if (command.plug.size == 0) return "plug needs --size SIZE (e.g. 256M)";
      if (command.plug.node < 0) return "plug needs --node N";
      return "";
    case Verb::kUnplug:
      return command.unplug.device_id.empty() ? "unplug needs a device id, e.g. memhpctl unplug dimm1" : "";
    case Verb::kResize:
      if (command.resize.device_id.empty()) return "resize needs a device id, e.g. memhpctl resize vmem1 --size 512M";
      if (!command.resize.size_given) return "resize needs --size SIZE (the new requested size, e.g. 512M)";
      return "";
    default:
      return "";
  }
}

}  // namespace memhp::cli::args
