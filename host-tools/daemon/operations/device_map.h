// device_map — the host's map of guest-physical ranges to memory devices, for the agent.
//
// agent.proto DeviceMap: the agent groups a device's blocks for its policy (auto-movable decides
// per device) and names the device in its reports. Built from query-memory-devices: a DIMM is
// [addr, addr + size); a virtio-mem device its whole region [memaddr, memaddr + max-size),
// because the driver adds memory anywhere inside it. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

// At most this many ranges (agent.proto: "Bounded: at most 256 devices").
inline constexpr size_t kMaxDeviceMapEntries = 256;

// `targets`: the zone asked for a device at plug time (device id -> target).
[[nodiscard]] memhp::v1::DeviceMap BuildDeviceMap(const std::vector<memhp::v1::MemoryDevice>& devices,
                                                  const std::map<std::string, memhp::v1::OnlineTarget>& targets);

// The memory device called `id`, or nullptr.
[[nodiscard]] const memhp::v1::MemoryDevice* FindDevice(const std::vector<memhp::v1::MemoryDevice>& devices,
                                                        const std::string& id);

// "/objects/mem-dimm1" -> "mem-dimm1" (what object-del takes).
[[nodiscard]] std::string ObjectIdFromPath(const std::string& qom_path);

}  // namespace memhp::daemon::operations
