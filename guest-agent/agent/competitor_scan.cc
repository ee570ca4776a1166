// memhp-agent — see competitor_scan.h.
#include "agent/competitor_scan.h"

#include <glib.h>

#include <map>
#include <string>

namespace memhp::agent {
namespace {

// A rule file larger than this is no distribution's rule; it is skipped (and said so).
constexpr gsize kMaxRuleFileBytes = 1u << 20;

}  // namespace

std::map<std::string, std::vector<UdevRuleFile>> ReadUdevRuleFiles(const SysfsReader& sysfs) {
  std::map<std::string, std::vector<UdevRuleFile>> rules;
  // udev's precedence: /etc over /run over /lib; the folders are read lowest first.
  for (const char* dir : {"usr/lib/udev/rules.d", "lib/udev/rules.d", "run/udev/rules.d", "etc/udev/rules.d"}) {
    // A missing folder is the common case (most guests have one or two of them): no message.
    g_autoptr(GDir) d = g_dir_open(sysfs.Path(dir).c_str(), 0, nullptr);
    if (!d) continue;
    while (const gchar* name = g_dir_read_name(d)) {
      if (!g_str_has_suffix(name, ".rules")) continue;
      g_autofree gchar* text = nullptr;
      gsize length = 0;
      g_autoptr(GError) error = nullptr;
      const std::string path = sysfs.Path(std::string(dir) + "/" + name);
      if (!g_file_get_contents(path.c_str(), &text, &length, &error)) {
        g_message("competing onliners: %s not checked: %s", path.c_str(), error->message);
        continue;
      }
      if (length >= kMaxRuleFileBytes) {
        g_message("competing onliners: %s not checked: %zu bytes is too large for a rule file", path.c_str(),
                  static_cast<size_t>(length));
        continue;
      }
      rules[name].push_back({dir, std::string(text, length)});
    }
  }
  return rules;
}

std::vector<CompetingOnliner> ScanCompetingOnliners(const SysfsReader& sysfs) {
  const Result<std::string> auto_online = sysfs.ReadAutoOnlineBlocks();
  if (!auto_online.ok()) {
    g_message("competing onliners: auto_online_blocks not checked: %s", auto_online.error().message.c_str());
  }
  g_autofree gchar* cmdline = nullptr;
  g_autoptr(GError) cmdline_error = nullptr;
  if (!g_file_get_contents(sysfs.Path("proc/cmdline").c_str(), &cmdline, nullptr, &cmdline_error)) {
    g_message("competing onliners: kernel command line not checked: %s", cmdline_error->message);
  }
  std::map<std::string, std::string> rules;
  for (auto& [name, copies] : ReadUdevRuleFiles(sysfs)) rules[name] = std::move(copies.back().text);
  return FindCompetingOnliners(auto_online.ok() ? *auto_online : "", cmdline ? cmdline : "", rules);
}

}  // namespace memhp::agent
