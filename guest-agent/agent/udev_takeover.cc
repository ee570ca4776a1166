// memhp-agent — see udev_takeover.h.
#include "agent/udev_takeover.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <cerrno>

#include "agent/competitor_scan.h"
#include "policy/competing_onliners.h"
#include "policy/udev_rule_mask.h"

namespace memhp::agent {
namespace {

constexpr const char* kRuntimeRulesDir = "run/udev/rules.d";

bool IsDistributionDir(const std::string& dir) {
  return dir == "usr/lib/udev/rules.d" || dir == "lib/udev/rules.d";
}

}  // namespace

std::vector<std::string> MaskDistributionOnliningRules(const SysfsReader& sysfs) {
  std::vector<std::string> masked;
  for (const auto& [name, copies] : ReadUdevRuleFiles(sysfs)) {
    const UdevRuleFile& read = copies.back();  // the one udev reads
    const bool ours = read.dir == kRuntimeRulesDir && IsUdevMask(read.text);
    if (!ours && !IsDistributionDir(read.dir)) {
      if (!FindCompetingOnliners("", "", {{name, read.text}}).empty()) {
        g_message("--take-onlining: /%s/%s onlines memory but is not a distribution's rule; "
                  "it is left alone (mask or edit it yourself)", read.dir.c_str(), name.c_str());
      }
      continue;
    }
    // The distribution's file the copy stands for: the last one below /run.
    const UdevRuleFile* source = nullptr;
    for (const UdevRuleFile& c : copies) {
      if (IsDistributionDir(c.dir)) source = &c;
    }
    const std::string override_path = sysfs.Path(std::string(kRuntimeRulesDir) + "/" + name);
    const std::vector<CompetingOnliner> found =
        source ? FindCompetingOnliners("", "", {{name, source->text}}) : std::vector<CompetingOnliner>{};
    if (found.empty()) {
      // The distribution dropped the rule or no longer onlines memory: our copy would now hide
      // its current file, so it goes.
      if (ours && g_unlink(override_path.c_str()) != 0 && errno != ENOENT) {
        g_warning("--take-onlining: cannot remove the stale %s: %s", override_path.c_str(), g_strerror(errno));
      }
      continue;
    }
    std::vector<RuleLines> lines;
    for (const CompetingOnliner& c : found) lines.push_back({c.first_line, c.last_line});
    const std::string source_path = "/" + source->dir + "/" + name;
    const std::string text = MaskUdevRules(source->text, lines, source_path);
    g_autoptr(GError) error = nullptr;
    // 0644 as udev's own rule files; written to a temporary file and renamed, so udev never
    // reads half a file.
    if (g_mkdir_with_parents(sysfs.Path(kRuntimeRulesDir).c_str(), 0755) != 0 ||
        !g_file_set_contents_full(override_path.c_str(), text.data(), static_cast<gssize>(text.size()),
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error)) {
      g_warning("--take-onlining: cannot mask %s with %s: %s", source_path.c_str(), override_path.c_str(),
                error ? error->message : g_strerror(errno));
      continue;
    }
    for (const CompetingOnliner& c : found) {
      g_message("took over onlining: udev rule %s masked by %s (undo: delete it)", c.where.c_str(),
                override_path.c_str());
      masked.push_back(c.where + ": /" + std::string(kRuntimeRulesDir) + "/" + name);
    }
  }
  return masked;
}

}  // namespace memhp::agent
