// memhp — the host's device map: which guest-physical range belongs to which memory device.
//
// The host (memhpd) knows its DIMMs and virtio-mem devices from QMP (query-memory-devices);
// the guest sees only memory blocks. DeviceMap (agent.proto) bridges the two so that the
// onlining policy can decide per DEVICE, as the kernel does with its memory groups
// (include/linux/memory.h: a DIMM is a static group, a virtio-mem device a dynamic one;
// mm/memory_hotplug.c auto_movable_zone_for_pfn()), and so that every report names the device
// whose range holds a block.
//
// A map replaces the previous one whole. It is validated before it is taken: at most
// kMaxMapDevices ranges; each with a device id (unique), a DIMM or virtio-mem kind, a start and
// size that are whole memory blocks (add_memory() only ever adds whole blocks), no overflow,
// and no two ranges overlapping (QEMU's memory-device address space never overlaps). A map
// that fails any check is refused with the reason and the old map stays in force.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"
#include "sysfs/result.h"

namespace memhp::agent {

inline constexpr std::size_t kMaxMapDevices = 256;    // agent.proto DeviceMap: "at most 256"
inline constexpr std::size_t kMaxDeviceIdBytes = 128;  // QEMU ids are short; bounds a hostile map

// The map the agent works with: ranges sorted by start, block size fixed at validation.
class DeviceMapTable {
 public:
  // Checks `map` against `block_size_bytes` (the guest's block_size_bytes). E2BIG for more
  // than kMaxMapDevices ranges, EINVAL naming the first bad range otherwise.
  [[nodiscard]] static Result<DeviceMapTable> Validate(const memhp::v1::DeviceMap& map,
                                                       uint64_t block_size_bytes);

  // The device whose range holds guest-physical `address`, or nullptr.
  [[nodiscard]] const memhp::v1::DeviceRange* FindAddress(uint64_t address) const;
  // The device whose range holds memory block `block` (block * block size), or nullptr.
  [[nodiscard]] const memhp::v1::DeviceRange* FindBlock(uint32_t block) const;
  // The device's id for `block`, "" when no range holds it (the wire's "no device").
  [[nodiscard]] std::string DeviceIdOf(uint32_t block) const;

  [[nodiscard]] std::size_t size() const { return ranges_.size(); }
  [[nodiscard]] bool empty() const { return ranges_.empty(); }
  [[nodiscard]] uint64_t block_size_bytes() const { return block_size_bytes_; }
  [[nodiscard]] const std::vector<memhp::v1::DeviceRange>& ranges() const { return ranges_; }

 private:
  std::vector<memhp::v1::DeviceRange> ranges_;  // sorted by start, non-overlapping
  uint64_t block_size_bytes_ = 0;
};

}  // namespace memhp::agent
