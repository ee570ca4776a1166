// memhp — finding other onliners of hot-added memory (see competing_onliners.h).
//
// The udev reader understands the shapes distributions actually ship:
//   SUBSYSTEM=="memory", ACTION=="add", ATTR{state}=="offline", ATTR{state}="online"
// (one line, SUSE/Ubuntu style), and the guarded section of RHEL's 40-redhat.rules:
//   SUBSYSTEM!="memory", GOTO="memory_hotplug_end"
//   ENV{.state}="online" ... ATTR{state}=="offline", ATTR{state}="$env{.state}"
//   LABEL="memory_hotplug_end"
// It tokenises each rule into KEY{attr} OP "value" (udev(7): operators ==, !=, =, +=, -=, :=;
// a trailing backslash continues a line; '#' starts a comment), treats a line as about memory
// blocks when it matches SUBSYSTEM=="memory" (or KERNEL=="memory*", a memory DEVPATH) or lies
// inside such a GOTO section, substitutes $env{X} / %E{X} with the values ENV{X} was given, and
// reports assignments of online* to ATTR{state}, "1" to ATTR{online}, and RUN programs that
// echo online into a state file or call chmem --enable.
#include "policy/competing_onliners.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "sysfs/linux_abi.h"
#include "sysfs/sysfs_parse.h"

namespace memhp::agent {
namespace {

struct UdevPair {
  std::string key;   // "ATTR"
  std::string attr;  // "state" (inside the braces; may be empty)
  std::string op;    // "==", "!=", "=", "+=", "-=", ":="
  std::string value; // unquoted, escapes resolved
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// One logical rule line -> its pairs; nullopt if it does not tokenise (then it is skipped,
// as udev itself skips an invalid line after logging it).
std::optional<std::vector<UdevPair>> TokeniseRule(std::string_view s) {
  std::vector<UdevPair> pairs;
  std::size_t i = 0;
  auto skip = [&] { while (i < s.size() && (IsBlank(s[i]) || s[i] == ',')) ++i; };
  for (skip(); i < s.size(); skip()) {
    UdevPair p;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) {
      p.key += s[i++];
    }
    if (p.key.empty()) return std::nullopt;
    if (i < s.size() && s[i] == '{') {
      const std::size_t close = s.find('}', i);
      if (close == std::string_view::npos) return std::nullopt;
      p.attr = std::string(s.substr(i + 1, close - i - 1));
      i = close + 1;
    }
    while (i < s.size() && IsBlank(s[i])) ++i;
    for (std::string_view op : {"==", "!=", "+=", "-=", ":=", "="}) {
      if (s.substr(i, op.size()) == op) {
        p.op = std::string(op);
        i += op.size();
        break;
      }
    }
    if (p.op.empty()) return std::nullopt;
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i < s.size() && s[i] == 'e') ++i;  // e"..." (escapes), systemd >= 250
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      p.value += s[i];
    }
    if (i >= s.size()) return std::nullopt;
    ++i;
    pairs.push_back(std::move(p));
  }
  return pairs;
}

// udev values may list alternatives: SUBSYSTEM=="memory|cpu".
bool ValueNamesMemory(std::string_view v) {
  std::size_t start = 0;
  while (start <= v.size()) {
    const std::size_t bar = std::min(v.find('|', start), v.size());
    if (v.substr(start, bar - start) == abi::kSubsystemMemory) return true;
    start = bar + 1;
  }
  return false;
}

bool PairSelectsMemory(const UdevPair& p) {
  if (p.op != "==") return false;
  if (p.key == "SUBSYSTEM" || p.key == "SUBSYSTEMS") return ValueNamesMemory(p.value);
  if (p.key == "KERNEL") return p.value.rfind(abi::kBlockDirPrefix, 0) == 0;
  if (p.key == "DEVPATH") return p.value.find("/system/memory") != std::string::npos;
  return false;
}

bool IsAssign(const UdevPair& p) { return p.op == "=" || p.op == ":=" || p.op == "+="; }

// "$env{.state}" -> every value ENV{.state} was given in this file; the value itself if it
// names no variable; empty if the variable was never set here (the caller still warns).
std::vector<std::string> Expand(const std::string& value,
                                const std::map<std::string, std::set<std::string>>& env) {
  for (std::string_view open : {"$env{", "%E{"}) {
    const std::size_t at = value.find(open);
    if (at == std::string::npos) continue;
    const std::size_t close = value.find('}', at);
    if (close == std::string::npos) break;
    const std::string name = value.substr(at + open.size(), close - at - open.size());
    std::vector<std::string> out;
    const auto it = env.find(name);
    if (it == env.end()) return out;
    for (const std::string& v : it->second) {
      out.push_back(value.substr(0, at) + v + value.substr(close + 1));
    }
    return out;
  }
  return {value};
}

bool IsOnlineValue(std::string_view v) {
  const std::optional<abi::OnlineType> type = abi::ParseOnlineType(TrimSpace(v));
  return type && *type != abi::OnlineType::kOffline;
}

// Why this pair onlines memory blocks, or "" if it does not.
std::string WhyOnlines(const UdevPair& p,
                       const std::map<std::string, std::set<std::string>>& env) {
  const std::string shown = p.key + "{" + p.attr + "}" + p.op + "\"" + p.value + "\"";
  if (p.key == "ATTR" && p.attr == abi::kBlockState && p.op != "+=" && IsAssign(p)) {
    const std::vector<std::string> values = Expand(p.value, env);
    if (values.empty()) {
      return "writes a variable set elsewhere to memory block state (" + shown + ")";
    }
    std::string online;
    for (const std::string& v : values) {
      if (IsOnlineValue(v)) online += (online.empty() ? "" : ", ") + v;
    }
    if (online.empty()) return "";
    return "writes " + online + " to memory block state (" + shown + ")";
  }
  if (p.key == "ATTR" && p.attr == "online" && p.op != "+=" && IsAssign(p) &&
      TrimSpace(p.value) == "1") {
    return "writes 1 to memory block online (" + shown + ")";
  }
  const auto has = [&](std::string_view what) { return p.value.find(what) != std::string::npos; };
  if (p.key == "RUN" && IsAssign(p) &&
      ((has("online") && has(abi::kBlockState)) ||
       (has("chmem") && (has(" -e") || has("--enable"))))) {
    return "runs a program that onlines memory blocks (" + shown + ")";
  }
  return "";
}

void ScanRuleFile(const std::string& name, std::string_view text,
                  std::vector<CompetingOnliner>& out) {
  std::set<std::string> memory_labels;  // GOTO targets that skip non-memory events
  std::map<std::string, std::set<std::string>> env;
  std::size_t line_no = 0;
  while (!text.empty()) {
    // One logical line: physical lines joined while they end in a backslash.
    const std::size_t first_line = line_no + 1;
    std::string logical;
    while (!text.empty()) {
      const std::size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty() && line.back() == '\\') {
        logical.append(line.substr(0, line.size() - 1));
        continue;
      }
      logical.append(line);
      break;
    }
    const std::string_view rule = TrimSpace(logical);
    if (rule.empty() || rule.front() == '#') continue;
    const std::optional<std::vector<UdevPair>> pairs = TokeniseRule(rule);
    if (!pairs) continue;

    bool selects = !memory_labels.empty();
    bool skips_non_memory = false;
    std::string goto_label;
    for (const UdevPair& p : *pairs) {
      selects = selects || PairSelectsMemory(p);
      if ((p.key == "SUBSYSTEM" || p.key == "SUBSYSTEMS") && p.op == "!=" &&
          ValueNamesMemory(p.value)) {
        skips_non_memory = true;
      }
      if (p.key == "GOTO") goto_label = p.value;
      if (p.key == "LABEL") memory_labels.erase(p.value);
    }
    if (skips_non_memory && !goto_label.empty()) {
      memory_labels.insert(goto_label);
      continue;
    }
    if (!selects) continue;
    for (const UdevPair& p : *pairs) {
      if (p.key == "ENV" && (p.op == "=" || p.op == ":=")) env[p.attr].insert(p.value);
      const std::string why = WhyOnlines(p, env);
      if (why.empty()) continue;
      out.push_back({OnlinerSource::kUdevRule, name + ":" + std::to_string(first_line),
                     "udev rule " + name + ":" + std::to_string(first_line) + " " + why +
                         "; new blocks are onlined before memhp's policy sees them",
                     name, first_line, line_no});
    }
  }
}

// Kernel parameters as next_arg() (lib/cmdline.c) splits them: whitespace outside double
// quotes; quotes removed; everything after a lone "--" belongs to init.
std::vector<std::pair<std::string, std::string>> SplitCmdline(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i >= s.size()) break;
    std::string word;
    bool quoted = false;
    for (; i < s.size() && (quoted || !IsBlank(s[i])); ++i) {
      if (s[i] == '"') {
        quoted = !quoted;
      } else {
        word += s[i];
      }
    }
    if (word == "--") break;
    const std::size_t eq = word.find('=');
    if (eq == std::string::npos) {
      params.emplace_back(word, "");
    } else {
      params.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
  }
  return params;
}

// Module parameters match with '-' and '_' equal (parameq(), kernel/params.c).
std::string Dashless(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

std::vector<CompetingOnliner> FindCompetingOnliners(
    std::string_view auto_online_blocks, std::string_view cmdline,
    const std::map<std::string, std::string>& udev_rules) {
  std::vector<CompetingOnliner> out;
  const std::string_view aob = TrimSpace(auto_online_blocks);
  if (!aob.empty() && aob != abi::kOnlineTypeOffline) {
    out.push_back({OnlinerSource::kAutoOnlineBlocks, std::string(abi::kAutoOnlineBlocks),
                   "the kernel onlines new memory itself (auto_online_blocks=" +
                       std::string(aob) + "); memhp's policy only sees it afterwards",
                   "", 0, 0});
  }

  // The last occurrence of a parameter wins, as in the kernel.
  std::optional<std::string> default_state, online_policy;
  for (const auto& [key, value] : SplitCmdline(cmdline)) {
    if (key == "memhp_default_state") default_state = value;  // __setup(): exact name
    if (Dashless(key) == "memory_hotplug.online_policy") online_policy = value;
  }
  const std::string where = "kernel command line";
  if (default_state && *default_state != abi::kOnlineTypeOffline) {
    out.push_back({OnlinerSource::kKernelCommandLine, where,
                   "memhp_default_state=" + *default_state +
                       " makes the kernel online new memory itself; memhp's policy only "
                       "sees it afterwards",
                   "", 0, 0});
  }
  // contig-zones is the kernel's default; anything else changes what "online" means.
  if (online_policy && *online_policy != "contig-zones") {
    out.push_back({OnlinerSource::kKernelCommandLine, where,
                   "memory_hotplug.online_policy=" + *online_policy +
                       ": the kernel chooses the zone of every block written \"online\" "
                       "(including by memhp's online policy)",
                   "", 0, 0});
  }

  for (const auto& [name, contents] : udev_rules) ScanRuleFile(name, contents, out);
  return out;
}

}  // namespace memhp::agent
