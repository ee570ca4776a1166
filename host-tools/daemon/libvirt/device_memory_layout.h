// device_memory_layout — where QEMU puts memory devices that libvirt 9.0 does not report an
// address for (virtio-mem), computed the way QEMU 7.2 places them. Pure.
//
// QEMU keeps hot-pluggable memory in one "device memory" region above the boot RAM: on x86 it
// starts at ROUND_UP(4 GiB + RAM above 4 GiB, 1 GiB) (hw/i386/pc.c, pc_memory_init), where RAM
// above 4 GiB is what does not fit under the low-memory limit (q35: 2 GiB when RAM is at least
// 0xb0000000, else 0xb0000000; i440fx: 0xc0000000 when RAM is at least 0xe0000000, else
// 0xe0000000 — hw/i386/pc_q35.c and pc_piix.c). Each device without an address given gets the
// lowest address in that region, aligned, whose range overlaps no device plugged before it
// (hw/mem/memory-device.c, memory_device_get_free_addr); the alignment is the device's
// minimum (virtio-mem: its block size) and at least the RAM backend's (2 MiB on x86-64 Linux,
// QEMU_VMALLOC_ALIGN). A virtio-mem device occupies its whole maximum size.
//
// Devices are placed in the order given (the domain XML's order, which is the order libvirt
// hands them to QEMU); a device with a known address (a DIMM: libvirt reads its base back
// from QEMU) stays where it is and is in the way of the others. This cannot know of a device
// plugged earlier and removed since (its hole may have decided a later placement); the
// computed address is then wrong, and memhp's block ranges for that device with it
// (docs/libvirt.md says so).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace memhp::daemon::libvirt {

struct PlacedDevice {
  uint64_t size = 0;                // the range it occupies
  uint64_t alignment = 0;           // its own minimum (0: the backend's only)
  std::optional<uint64_t> address;  // known, or computed here
};

// The start of the device memory region for a machine type (libvirt's `machine`, e.g.
// "pc-q35-7.2") and RAM size in bytes.
[[nodiscard]] uint64_t DeviceMemoryBase(std::string_view machine, uint64_t ram_size);

// Fills in every unknown address, in order. A device that fits nowhere below 2^64 keeps none.
void PlaceDevices(uint64_t region_base, std::vector<PlacedDevice>& devices);

}  // namespace memhp::daemon::libvirt
