// memhp — the host's plug intent (see plug_intent.h).
#include "policy/plug_intent.h"

#include <cerrno>
#include <string>
#include <utility>

namespace memhp::agent {
namespace {

__extension__ using U128 = unsigned __int128;  // block x block size may pass 64 bits

}  // namespace

std::chrono::steady_clock::time_point SteadyNow() { return std::chrono::steady_clock::now(); }

PlugIntentSlot::PlugIntentSlot(MonotonicClock clock) : clock_(std::move(clock)) {}

Status PlugIntentSlot::Take(const memhp::v1::PlugIntent& intent, uint64_t block_size_bytes) {
  const std::string name = "plug intent for '" + intent.device_id() + "'";
  if (block_size_bytes == 0) return Error{EIO, "the guest's memory block size is unknown"};
  if (intent.kind() != memhp::v1::MEMORY_DEVICE_KIND_DIMM &&
      intent.kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
    return Error::Invalid(name + ": kind must be DIMM or VIRTIO_MEM (the only ones that add memory blocks)");
  }
  const std::string bs = std::to_string(block_size_bytes);
  if (intent.size() != 0) {
    if (intent.start() % block_size_bytes != 0 || intent.size() % block_size_bytes != 0) {
      return Error::Invalid(name + ": start " + std::to_string(intent.start()) + " and size " +
                            std::to_string(intent.size()) + " are not whole memory blocks of " + bs +
                            " bytes");
    }
  } else if (intent.expected_size() == 0 || intent.expected_size() % block_size_bytes != 0) {
    // Without a range, expected_size is all that bounds what the intent claims.
    return Error::Invalid(name + ": without a range, expected_size " + std::to_string(intent.expected_size()) +
                          " must be one or more whole memory blocks of " + bs + " bytes");
  }
  intent_ = intent;
  block_size_bytes_ = block_size_bytes;
  deadline_ = clock_() + std::chrono::milliseconds(intent.deadline_ms());
  claimed_.clear();
  return OkStatus();
}

bool PlugIntentSlot::OnDeviceMap(const DeviceMapTable& map) {
  if (!intent_) return false;
  for (const memhp::v1::DeviceRange& d : map.ranges()) {
    if (d.device_id() == intent_->device_id()) {
      Clear();
      return true;
    }
  }
  return false;
}

const memhp::v1::PlugIntent* PlugIntentSlot::active() const {
  if (!intent_ || clock_() >= deadline_) return nullptr;
  return &*intent_;
}

bool PlugIntentSlot::InRange(uint32_t block) const {
  const U128 address = U128{block} * block_size_bytes_;
  // Subtracting, not adding: start + size is never computed, so it cannot overflow.
  return address >= intent_->start() && address - intent_->start() < intent_->size();
}

const memhp::v1::PlugIntent* PlugIntentSlot::Find(uint32_t block) const {
  const memhp::v1::PlugIntent* intent = active();
  if (!intent) return nullptr;
  if (intent->size() != 0) return InRange(block) ? intent : nullptr;
  return claimed_.count(block) > 0 ? intent : nullptr;
}

const memhp::v1::PlugIntent* PlugIntentSlot::Claim(uint32_t block, int32_t node, const DeviceMapTable* map) {
  const memhp::v1::PlugIntent* intent = active();
  if (!intent) {
    Clear();  // lapsed: nothing it claimed is its any more
    return nullptr;
  }
  if (map && map->FindBlock(block)) return nullptr;  // the map is the truth
  if (const memhp::v1::PlugIntent* found = Find(block)) return found;
  if (intent->size() != 0 || node != intent->node()) return nullptr;
  if (claimed_bytes() + block_size_bytes_ > intent->expected_size()) return nullptr;  // all came
  claimed_.insert(block);
  return intent;
}

bool PlugIntentSlot::ReadyToDecide(size_t new_blocks) const {
  const memhp::v1::PlugIntent* intent = active();
  if (!intent) return false;
  if (intent->size() != 0) return true;
  return U128{claimed_bytes()} + U128{new_blocks} * block_size_bytes_ >= intent->expected_size();
}

void PlugIntentSlot::Clear() {
  intent_.reset();
  block_size_bytes_ = 0;
  claimed_.clear();
}

}  // namespace memhp::agent
