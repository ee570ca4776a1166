// memhp — see udev_rule_mask.h.
#include "policy/udev_rule_mask.h"

#include <algorithm>

namespace memhp::agent {
namespace {

bool Masked(std::size_t line, const std::vector<RuleLines>& rules) {
  return std::any_of(rules.begin(), rules.end(),
                     [line](const RuleLines& r) { return line >= r.first && line <= r.last; });
}

}  // namespace

std::string MaskUdevRules(std::string_view text, const std::vector<RuleLines>& rules,
                          std::string_view source_path) {
  std::string out(kUdevMaskHeader);
  out.append(source_path);
  out.append(" with the rules that online memory blocks commented out (\"#memhp# \").\n");
  out.append("# Undo: delete this file. Made again at every start of memhp-agent --take-onlining.\n");
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (Masked(line_no, rules)) {
      // udev skips a line starting with '#' before it looks for a continuation
      // (udev_rules_parse_file() in systemd's udev-rules.c); dropping the backslash keeps a
      // reader that joins first from joining the comment with what follows.
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty() && line.back() == '\\') line.remove_suffix(1);
      out.append("#memhp# ");
    }
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

bool IsUdevMask(std::string_view text) { return text.substr(0, kUdevMaskHeader.size()) == kUdevMaskHeader; }

}  // namespace memhp::agent
