// memhp vm tests — the memory events of `memhpctl --json events`, one struct each.
#include "memory_events.h"

#include <glib.h>

namespace memhp::vmtest {

std::vector<MemoryEvent> ParseMemoryEvents(const std::string& json_lines) {
  std::vector<MemoryEvent> events;
  gchar** lines = g_strsplit(json_lines.c_str(), "\n", -1);
  for (gchar** l = lines; *l; ++l) {
    if (!**l) continue;
    Json e(*l);
    if (!e.At("memory")) continue;
    events.push_back(MemoryEvent{e.Int("seq"), e.String("memory.kind"), e.Int("memory.block"),
                                 e.String("memory.origin"), e.String("memory.zone"), e.Int("memory.node"),
                                 e.Int("memory.notify.start_pfn"), e.Int("memory.notify.nr_pages"),
                                 e.Int("memory.errno_value"), e.String("memory.vetoed_by"),
                                 e.String("memory.device_id"), e.String("memory.detail")});
  }
  g_strfreev(lines);
  return events;
}

std::vector<MemoryEvent> ReadMemoryEvents(const SharedVm& vm) {
  return ParseMemoryEvents(vm.Ctl({"--json", "events"}).out);
}

}  // namespace memhp::vmtest
