// memhp vm tests — the memory events of `memhpctl --json events`, one struct each.
#include "memory_events.h"

#include <string>

namespace memhp::vmtest {

std::vector<MemoryEvent> ParseMemoryEvents(const std::string& answer) {
  std::vector<MemoryEvent> events;
  const Json result = ResultOf(answer);
  for (size_t i = 0; i < result.Length("events"); ++i) {
    const std::string e = "events." + std::to_string(i) + ".";
    if (!result.At(e + "memory")) continue;
    events.push_back(MemoryEvent{result.Int(e + "seq"), result.String(e + "memory.kind"), result.Int(e + "memory.block"),
                                 result.String(e + "memory.origin"), result.String(e + "memory.zone"),
                                 result.Int(e + "memory.node"), result.Int(e + "memory.notify.start_pfn"),
                                 result.Int(e + "memory.notify.nr_pages"), result.Int(e + "memory.errno_value"),
                                 result.String(e + "memory.vetoed_by"), result.String(e + "memory.device_id"),
                                 result.String(e + "memory.detail")});
  }
  return events;
}

std::vector<MemoryEvent> ReadMemoryEvents(const SharedVm& vm) {
  return ParseMemoryEvents(vm.Ctl({"--json", "events"}).out);
}

}  // namespace memhp::vmtest
