// memhp vm tests — the memory events of `memhpctl --json events`, one struct each.
//
// `--json events` prints one JSON object per line; the lines with a "memory" member are the
// agent's MemoryEvents (agent.proto) as memhpd recorded them. A field the line lacks reads as
// Json's "missing" value (-1, ""), so a test can tell it apart from a real 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared_vm.h"

namespace memhp::vmtest {

struct MemoryEvent {
  int64_t seq = -1;
  std::string kind;    // "MEMORY_EVENT_KIND_ONLINE", ...
  int64_t block = -1;
  std::string origin;  // "EVENT_ORIGIN_AGENT_POLICY", ...
  std::string zone;
  int64_t node = -1;
  int64_t start_pfn = -1;  // memory_notify (S10)
  int64_t nr_pages = -1;   // memory_notify (S11)
  int64_t errno_value = -1;
  std::string vetoed_by;
  std::string device_id;
  std::string detail;
};

// The memory events among the lines of `memhpctl --json events` output, in order.
[[nodiscard]] std::vector<MemoryEvent> ParseMemoryEvents(const std::string& answer);

// `memhpctl --json events` of the VM, parsed.
[[nodiscard]] std::vector<MemoryEvent> ReadMemoryEvents(const SharedVm& vm);

}  // namespace memhp::vmtest
