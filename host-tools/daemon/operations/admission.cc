// admission — see admission.h.
#include "daemon/operations/admission.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace memhp::daemon::operations {
namespace {

AdmissionDecision Refuse(AdmissionDecision decision, memhp::v1::ErrorCode code, std::string why) {
  decision.admitted = false;
  decision.code = code;
  decision.refusal = std::move(why);
  return decision;
}

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[48];
  if (value == static_cast<double>(static_cast<uint64_t>(value))) {
    std::snprintf(text, sizeof(text), "%llu %s", static_cast<unsigned long long>(value), kUnits[unit]);
  } else {
    std::snprintf(text, sizeof(text), "%.2f %s", value, kUnits[unit]);
  }
  return text;
}

bool IsValidDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  const auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!alpha(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

std::string PickDeviceId(const std::vector<memhp::v1::MemoryDevice>& devices) {
  std::set<std::string> used;
  for (const auto& device : devices) used.insert(device.id());
  for (int n = 0;; ++n) {
    std::string id = "dimm" + std::to_string(n);
    if (!used.count(id)) return id;
  }
}

AdmissionDecision Admit(const AdmissionRequest& request, const AdmissionFacts& facts) {
  using memhp::v1::ERROR_CODE_FAILED;
  using memhp::v1::ERROR_CODE_INVALID_ARGUMENT;
  AdmissionDecision d;
  d.device_id = request.device_id.empty() ? PickDeviceId(facts.devices) : request.device_id;
  d.memdev_id = "mem-" + d.device_id;

  // The id: QEMU's rules, and free among memory devices and backends (a clash with another kind
  // of device is QEMU's to find at device_add, which then rolls back).
  if (!IsValidDeviceId(d.device_id)) {
    return Refuse(d, ERROR_CODE_INVALID_ARGUMENT,
                  "device id '" + d.device_id +
                      "' is not valid: a letter, then letters, digits, '.', '_' or '-' (at most 32)");
  }
  for (const auto& device : facts.devices) {
    if (device.id() == d.device_id) {
      return Refuse(d, ERROR_CODE_INVALID_ARGUMENT, "device id '" + d.device_id + "' is already in use");
    }
  }
  if (std::find(facts.object_ids.begin(), facts.object_ids.end(), d.memdev_id) != facts.object_ids.end()) {
    return Refuse(d, ERROR_CODE_INVALID_ARGUMENT,
                  "backend '" + d.memdev_id + "' already exists (a leftover? object-del it first)");
  }

  // The size: whole guest memory blocks (the guest cannot online part of a block).
  d.block_size = facts.guest_block_size.value_or(kDefaultGuestBlockSize);
  if (!facts.guest_block_size) {
    d.notes.push_back("guest block size unknown (no agent): assumed " + FormatBytes(d.block_size) +
                      ", the x86_64 default");
  }
  if (request.size == 0) return Refuse(d, ERROR_CODE_INVALID_ARGUMENT, "size must be greater than 0");
  if (d.block_size == 0 || request.size % d.block_size != 0) {
    return Refuse(d, ERROR_CODE_INVALID_ARGUMENT,
                  "size " + FormatBytes(request.size) + " is not a multiple of the guest block size " +
                      FormatBytes(d.block_size));
  }

  // A free DIMM slot.
  if (facts.slots) {
    uint32_t used = 0;
    for (const auto& device : facts.devices) {
      if (device.kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM ||
          device.kind() == memhp::v1::MEMORY_DEVICE_KIND_NVDIMM) {
        ++used;
      }
    }
    if (*facts.slots == 0) {
      return Refuse(d, ERROR_CODE_FAILED,
                    "the VM has no DIMM slots (QEMU started without -m slots=N, or a libvirt domain "
                    "without <maxMemory slots=...>)");
    }
    if (used >= *facts.slots) {
      return Refuse(d, ERROR_CODE_FAILED,
                    "no free DIMM slot: " + std::to_string(used) + " of " + std::to_string(*facts.slots) +
                        " slots used");
    }
  } else {
    d.notes.push_back("DIMM slot count unknown: not checked");
  }

  // maxmem headroom: base + plugged + size <= maxmem.
  if (facts.max_memory && facts.base_memory) {
    const uint64_t plugged = facts.plugged_memory.value_or(0);
    const uint64_t after = *facts.base_memory + plugged + request.size;
    if (after < request.size || after > *facts.max_memory) {
      return Refuse(d, ERROR_CODE_FAILED,
                    "maxmem exceeded: base " + FormatBytes(*facts.base_memory) + " + plugged " +
                        FormatBytes(plugged) + " + " + FormatBytes(request.size) + " > maxmem " +
                        FormatBytes(*facts.max_memory));
    }
  } else {
    d.notes.push_back("maxmem unknown: not checked");
  }

  // The node exists (QEMU without -numa has node 0 only).
  if (request.node < 0) return Refuse(d, ERROR_CODE_INVALID_ARGUMENT, "node must be >= 0");
  if (facts.node_count) {
    const uint32_t nodes = std::max<uint32_t>(*facts.node_count, 1);
    if (static_cast<uint32_t>(request.node) >= nodes) {
      return Refuse(d, ERROR_CODE_INVALID_ARGUMENT,
                    "node " + std::to_string(request.node) + " does not exist (the VM has " +
                        std::to_string(nodes) + (nodes == 1 ? " node)" : " nodes)"));
    }
  } else {
    d.notes.push_back("NUMA nodes unknown: node not checked");
  }

  // The guest must hold the new range's memmap (struct page per 4 KiB page) in memory it has.
  d.memmap_bytes = request.size / kMemmapPageSize * kMemmapBytesPerPage;
  if (facts.mem_available) {
    const uint64_t usable = *facts.mem_available > kMemAvailableMargin ? *facts.mem_available - kMemAvailableMargin : 0;
    if (d.memmap_bytes > usable) {
      return Refuse(d, ERROR_CODE_FAILED,
                    "the guest cannot hold the memmap: " + FormatBytes(d.memmap_bytes) + " needed, MemAvailable " +
                        FormatBytes(*facts.mem_available) + " minus a margin of " +
                        FormatBytes(kMemAvailableMargin));
    }
  } else {
    d.notes.push_back("guest MemAvailable unknown: memmap (" + FormatBytes(d.memmap_bytes) + ") not checked");
  }

  // The movable:kernel ratio on the node if these blocks land in ZONE_MOVABLE. Only a request
  // that asks for MOVABLE explicitly is refused over it; otherwise the agent's policy decides
  // and the projection is reported.
  const NodeZones* zones = nullptr;
  for (const auto& z : facts.zones) {
    if (static_cast<int32_t>(z.node) == request.node) zones = &z;
  }
  if (zones != nullptr && zones->kernel_bytes > 0) {
    const uint64_t movable = zones->movable_bytes + request.size;
    d.projected_movable_percent = static_cast<uint32_t>(std::min<uint64_t>(movable * 100 / zones->kernel_bytes, UINT32_MAX));
    std::string note = "node " + std::to_string(request.node) + " movable:kernel would be " +
                       std::to_string(*d.projected_movable_percent) + "% if the blocks go MOVABLE";
    if (facts.movable_ratio_percent) note += " (policy ratio " + std::to_string(*facts.movable_ratio_percent) + "%)";
    d.notes.push_back(note);
    if (request.target == memhp::v1::ONLINE_TARGET_MOVABLE && facts.movable_ratio_percent &&
        *d.projected_movable_percent > *facts.movable_ratio_percent) {
      return Refuse(d, ERROR_CODE_FAILED,
                    "movable:kernel ratio on node " + std::to_string(request.node) + " would be " +
                        std::to_string(*d.projected_movable_percent) + "%, over the agent's ratio of " +
                        std::to_string(*facts.movable_ratio_percent) + "%");
    }
  } else if (zones != nullptr) {
    d.notes.push_back("node " + std::to_string(request.node) + " has no kernel memory: ratio not projected");
  }
  d.admitted = true;
  return d;
}

}  // namespace memhp::daemon::operations
