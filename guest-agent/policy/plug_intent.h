// memhp — the host's plug intent: which device the next new memory blocks belong to, and the zone
// the host asked for them, told to the agent BEFORE the hardware changes.
//
// The device map (device_map.h) can only follow the hardware: memhpd sends it after device_add
// (a DIMM) or after raising a virtio-mem device's requested size. But the kernel announces the
// new blocks at once (the "add" uevent, after add_memory_resource() registered them, S18), and
// the agent onlines them by its policy when that burst settles, so a map that comes later is
// too late for the zone: `memhpctl plug --zone kernel` would find the DIMM onlined MOVABLE. The
// intent (agent.proto PlugIntent) closes that race: a new block that no range of the map holds
// but the intent covers gets the intent's device id and target zone.
//
// What the intent covers:
//   - range known (size != 0; virtio-mem: its region): every block whose first byte lies in
//     [start, start + size), whatever its node;
//   - range not known (size 0; a DIMM: QEMU chooses the address at device_add): the next new
//     blocks on `node` that lie in no mapped device, up to `expected_size` bytes. They are
//     counted as they are claimed (Claim); past expected_size the intent claims no more, so a
//     second device plugged by someone else on the same node is not taken for this one.
// At most one intent is kept: the host runs one operation at a time (S21, on the host), and a
// new intent replaces the old one whole (claims included). The intent lapses at its deadline
// (deadline_ms after Take) or when a device map naming its device arrives (OnDeviceMap): from
// then on the map is the truth. target UNSPECIFIED means "the agent's policy", as in
// DeviceRange.target; a DIMM's claimed blocks still form one group, so auto-movable decides
// per device (device_groups.h).
//
// Pure: no I/O, no global state. Time comes from the clock given to the constructor, so a test
// moves it by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>

#include "memhp/v1/agent.pb.h"
#include "policy/device_map.h"
#include "sysfs/result.h"

namespace memhp::agent {

// Monotonic time (the deadline must not move with the wall clock); a seam for tests.
using MonotonicClock = std::function<std::chrono::steady_clock::time_point()>;
[[nodiscard]] std::chrono::steady_clock::time_point SteadyNow();

class PlugIntentSlot {
 public:
  explicit PlugIntentSlot(MonotonicClock clock = SteadyNow);

  // Keeps `intent` (fields already bounded by ValidateRequest) in place of any kept before; its
  // deadline runs from now. Checks what needs the guest's block size, as DeviceMapTable::Validate
  // does, because the map that follows will be held to the same: a DIMM or virtio-mem kind (the
  // only devices that add memory blocks); a known range of whole blocks; without a range, an
  // expected_size of one or more whole blocks (add_memory() only ever adds whole blocks).
  // EINVAL (EIO for an unknown block size) naming the field; the intent kept before stays then.
  [[nodiscard]] Status Take(const memhp::v1::PlugIntent& intent, uint64_t block_size_bytes);

  // A device map was taken: if it names the intent's device, the intent ends (true).
  bool OnDeviceMap(const DeviceMapTable& map);

  // The intent that already covers `block` — in its known range, or claimed before — or nullptr
  // (none kept, lapsed, or not covered). Counts nothing: for naming a block's device. Callers
  // ask the device map first; a block the map holds is the map's.
  [[nodiscard]] const memhp::v1::PlugIntent* Find(uint32_t block) const;

  // For a new block on `node` about to be decided by the policy: the intent that covers it, or
  // nullptr. A block in a range of `map` (may be null) is never the intent's. Without a known
  // range the block is claimed if it is on the intent's node and expected_size has room for it;
  // a claimed block stays claimed (asking again counts it once).
  [[nodiscard]] const memhp::v1::PlugIntent* Claim(uint32_t block, int32_t node, const DeviceMapTable* map);

  // Whether the policy may decide the new blocks now, without waiting for the burst of adds to
  // settle, given `new_blocks` added and not yet decided: the intent says which device they are
  // and what it will add. A range (virtio-mem) is decided block by block, as the kernel decides
  // a dynamic memory group per unit (mm/memory_hotplug.c auto_movable_zone_for_pfn()); a DIMM
  // (a static group, one zone for all its blocks) only once all of its expected_size has come:
  // what was claimed before plus `new_blocks`. False when no intent is kept or it lapsed.
  [[nodiscard]] bool ReadyToDecide(size_t new_blocks) const;
  // The kept intent, or nullptr when none is kept or it lapsed.
  [[nodiscard]] const memhp::v1::PlugIntent* active() const;
  // Bytes of blocks claimed so far (range not known), for reports.
  [[nodiscard]] uint64_t claimed_bytes() const { return claimed_.size() * block_size_bytes_; }
  // The block size the kept intent was taken with (0 when none is kept).
  [[nodiscard]] uint64_t block_size_bytes() const { return block_size_bytes_; }
  void Clear();

 private:
  [[nodiscard]] bool InRange(uint32_t block) const;

  MonotonicClock clock_;
  std::optional<memhp::v1::PlugIntent> intent_;
  uint64_t block_size_bytes_ = 0;
  std::chrono::steady_clock::time_point deadline_{};
  std::set<uint32_t> claimed_;  // range not known: at most expected_size / block size blocks
};

}  // namespace memhp::agent
