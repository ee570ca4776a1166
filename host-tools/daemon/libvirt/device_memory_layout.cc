// device_memory_layout — see device_memory_layout.h.
#include "daemon/libvirt/device_memory_layout.h"

#include <algorithm>

namespace memhp::daemon::libvirt {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kBackendAlign = 2ull << 20;  // QEMU_VMALLOC_ALIGN on x86-64 Linux

std::optional<uint64_t> AlignUp(uint64_t value, uint64_t align) {
  const uint64_t rem = value % align;
  if (rem == 0) return value;
  if (value > UINT64_MAX - (align - rem)) return std::nullopt;
  return value + (align - rem);
}

}  // namespace

uint64_t DeviceMemoryBase(std::string_view machine, uint64_t ram_size) {
  const bool q35 = machine.find("q35") != std::string_view::npos;
  uint64_t lowmem;
  if (q35) {
    lowmem = ram_size >= 0xb0000000ull ? 0x80000000ull : 0xb0000000ull;
  } else {
    lowmem = ram_size >= 0xe0000000ull ? 0xc0000000ull : 0xe0000000ull;
  }
  const uint64_t above_4g = ram_size > lowmem ? ram_size - lowmem : 0;
  return AlignUp(4 * kGiB + above_4g, kGiB).value_or(UINT64_MAX);
}

void PlaceDevices(uint64_t region_base, std::vector<PlacedDevice>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    PlacedDevice& d = devices[i];
    if (d.address || d.size == 0) continue;
    const uint64_t align = std::max(d.alignment, kBackendAlign);
    std::optional<uint64_t> candidate = AlignUp(region_base, align);
    // In the way: every device with an address, whether known or placed before this one.
    bool moved = true;
    while (candidate && moved) {
      moved = false;
      if (*candidate > UINT64_MAX - d.size) {
        candidate.reset();
        break;
      }
      for (size_t j = 0; j < devices.size(); ++j) {
        const PlacedDevice& o = devices[j];
        if (j == i || !o.address || o.size == 0) continue;
        const bool overlaps = *candidate < *o.address + o.size && *o.address < *candidate + d.size;
        if (overlaps) {
          candidate = *o.address > UINT64_MAX - o.size ? std::nullopt : AlignUp(*o.address + o.size, align);
          moved = true;
          break;
        }
      }
    }
    d.address = candidate;
  }
}

}  // namespace memhp::daemon::libvirt
