// memhp — the guest kernel's memory ABI, in one place.
//
// Every sysfs/procfs path, attribute value, zone name, uevent key and notifier event name the
// agent depends on is declared here and nowhere else, next to the kernel file that defines it
// and, where one applies, the rule of docs/model.md (S1–S22). Paths are RELATIVE: the reader
// joins them to an injected root ("/" in production, a temp dir in tests), so no code outside
// this header spells "/sys/...". Block ids are integers; paths are built by the agent only
// (docs/architecture.md, "The wires").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memhp::agent::abi {

// ---------------------------------------------------------------------------------------------
// Memory block devices — drivers/base/memory.c (bus "memory", devices named "memory%u"),
// documented in Documentation/ABI/testing/sysfs-devices-memory and
// Documentation/admin-guide/mm/memory-hotplug.rst.
// ---------------------------------------------------------------------------------------------
inline constexpr std::string_view kMemoryDir = "sys/devices/system/memory";
// memory_subsys.dev_name = "memory"; a block's directory is kMemoryDir/"memory<id>".
inline constexpr std::string_view kBlockDirPrefix = "memory";
// block_size_bytes_show(): "%lx\n" — hex, no "0x". A power of two, a multiple of the section size.
inline constexpr std::string_view kBlockSizeBytes = "block_size_bytes";
// auto_online_blocks_show(): online_type_to_str[mhp_default_online_type] (mm/memory_hotplug.c),
// one of kOnlineType*. Something other than "offline" competes with the agent to online blocks.
inline constexpr std::string_view kAutoOnlineBlocks = "auto_online_blocks";

// Per-block attributes, inside kMemoryDir/memory<id>/.
// phys_index_show(): "%08lx\n" — the block's first section number, hex.
inline constexpr std::string_view kBlockPhysIndex = "phys_index";
// state_show(): one of kState*; anything else is "ERROR-UNKNOWN-%ld" (kept as UNKNOWN).
// state_store(): accepts one of kOnlineType* (S20: goes through device_online/device_offline).
inline constexpr std::string_view kBlockState = "state";
// valid_zones_show() (CONFIG_MEMORY_HOTREMOVE only): for an online block its one zone, or "none"
// when the block spans zones; for an offline block the default zone first, then the others
// it could be onlined to. Space separated.
inline constexpr std::string_view kBlockValidZones = "valid_zones";
// removable_show(): "%d\n"; always 1 on current kernels (since about 5.7), kept for older guests.
inline constexpr std::string_view kBlockRemovable = "removable";
// drivers/base/node.c, do_register_memory_block_under_node(): each block links its node as
// memory<id>/node<nid> -> ../../node/node<nid>, and the node links the block back
// (node<nid>/memory<id>). Entries in a block dir named kBlockNodeLinkPrefix<digits> are nodes.
inline constexpr std::string_view kBlockNodeLinkPrefix = "node";

// Block states as read from `state` (state_show()).
inline constexpr std::string_view kStateOnline = "online";
inline constexpr std::string_view kStateOffline = "offline";
inline constexpr std::string_view kStateGoingOffline = "going-offline";  // inside S4..S5/S6

// What may be written to `state` or read from auto_online_blocks: online_type_to_str[] in
// mm/memory_hotplug.c, parsed by mhp_online_type_from_str() in drivers/base/memory.c.
inline constexpr std::string_view kOnlineTypeOffline = "offline";        // MMOP_OFFLINE
inline constexpr std::string_view kOnlineTypeOnline = "online";          // MMOP_ONLINE: default zone
inline constexpr std::string_view kOnlineTypeKernel = "online_kernel";   // MMOP_ONLINE_KERNEL
inline constexpr std::string_view kOnlineTypeMovable = "online_movable"; // MMOP_ONLINE_MOVABLE

// The same four as one type, for everything in the agent that decides or performs a write to
// `state`: the onlining policy's decision, the transition driver, the block writers. Values
// are the kernel's enum mmop (include/linux/memory_hotplug.h), the index of
// online_type_to_str[]. kOffline as a decision for an offline block means "leave it so":
// nothing is written.
enum class OnlineType : uint8_t {
  kOffline = 0,        // MMOP_OFFLINE
  kOnline = 1,         // MMOP_ONLINE: the kernel's default zone (zone_for_pfn_range())
  kOnlineKernel = 2,   // MMOP_ONLINE_KERNEL
  kOnlineMovable = 3,  // MMOP_ONLINE_MOVABLE
};

// online_type_to_str[type]: the kOnlineType* string written to `state` for `type`.
[[nodiscard]] constexpr std::string_view OnlineTypeName(OnlineType type) {
  switch (type) {
    case OnlineType::kOffline: return kOnlineTypeOffline;
    case OnlineType::kOnline: return kOnlineTypeOnline;
    case OnlineType::kOnlineKernel: return kOnlineTypeKernel;
    case OnlineType::kOnlineMovable: return kOnlineTypeMovable;
  }
  return "";
}

// mhp_online_type_from_str(): the type `text` names exactly (no trimming), or nothing.
[[nodiscard]] constexpr std::optional<OnlineType> ParseOnlineType(std::string_view text) {
  for (OnlineType t : {OnlineType::kOffline, OnlineType::kOnline, OnlineType::kOnlineKernel,
                       OnlineType::kOnlineMovable}) {
    if (text == OnlineTypeName(t)) return t;
  }
  return std::nullopt;
}

// Section size on x86_64: SECTION_SIZE_BITS = 27 (arch/x86/include/asm/sparsemem.h), so
// phys_index * 128 MiB == block id * block_size_bytes (a block is sections_per_block
// consecutive sections, and block N starts at section N * sections_per_block: memory.c's
// memory_block_id() / pfn_to_block_id()). The reader uses id * block_size_bytes.
inline constexpr uint64_t kX86_64SectionSizeBytes = uint64_t{1} << 27;

// ---------------------------------------------------------------------------------------------
// NUMA nodes — drivers/base/node.c (bus "node", devices "node%u"). Absent without CONFIG_NUMA.
// The masks print nodemask lists ("%*pbl\n": "0-1,3", "" when empty).
// ---------------------------------------------------------------------------------------------
inline constexpr std::string_view kNodeDir = "sys/devices/system/node";
inline constexpr std::string_view kNodeDirPrefix = "node";  // kNodeDir/"node<nid>"
inline constexpr std::string_view kNodePossible = "possible";                 // N_POSSIBLE
inline constexpr std::string_view kNodeOnline = "online";                     // N_ONLINE
inline constexpr std::string_view kNodeHasMemory = "has_memory";              // N_MEMORY (S13)
inline constexpr std::string_view kNodeHasNormalMemory = "has_normal_memory"; // N_NORMAL_MEMORY (S12)
inline constexpr std::string_view kNodeHasCpu = "has_cpu";                    // N_CPU

// ---------------------------------------------------------------------------------------------
// procfs.
// ---------------------------------------------------------------------------------------------
// mm/vmstat.c zoneinfo_show_print(): "Node %d, zone %8s" then "pages free", "present",
// "managed", ... for every zone of every online node, populated or not.
inline constexpr std::string_view kProcZoneInfo = "proc/zoneinfo";
// fs/proc/meminfo.c meminfo_proc_show(): "MemTotal:       %8lu kB".
inline constexpr std::string_view kProcMemInfo = "proc/meminfo";
inline constexpr std::string_view kMemInfoMemTotal = "MemTotal";
inline constexpr std::string_view kMemInfoMemAvailable = "MemAvailable";
// kernel/sched/psi.c: the "some" and "full" lines of memory pressure. Missing (ENOENT) when the
// kernel has no CONFIG_PSI or booted with psi=0 (psi_proc_init() creates nothing then).
// Writing "some|full <threshold us> <window us>" to an fd of it opened O_RDWR makes a trigger:
// POLLPRI when stalls pass the threshold within a window (psi_trigger_create(): window
// 500 ms..10 s, 0 < threshold <= window; at most one event per window).
inline constexpr std::string_view kProcPressureMemory = "proc/pressure/memory";
// mm/vmstat.c vmstat_text: "name value" per line (reclaim and OOM-kill counters).
inline constexpr std::string_view kProcVmstat = "proc/vmstat";
// drivers/char/random.c: a random UUID chosen once per boot, "%pUb\n".
inline constexpr std::string_view kProcBootId = "proc/sys/kernel/random/boot_id";
// lib/kobject_uevent.c: the SEQNUM of the last uevent sent, "%llu\n" (kernel/ksysfs.c). It is
// incremented and the uevent broadcast under one mutex, so uevents arrive in SEQNUM order.
inline constexpr std::string_view kUeventSeqnumFile = "sys/kernel/uevent_seqnum";

// drivers/char/virtio_console.c: class "virtio-ports"; each port vport<dev>p<port> has a `name`
// attribute holding the name QEMU gave the port (virtserialport name=...).
inline constexpr std::string_view kVirtioPortsDir = "sys/class/virtio-ports";
inline constexpr std::string_view kVirtioPortName = "name";

// ---------------------------------------------------------------------------------------------
// Zone names — zone_names[] in mm/page_alloc.c, as printed by valid_zones and /proc/zoneinfo.
// "HighMem" exists only on 32-bit kernels and is not modelled (memhp targets x86_64).
// ---------------------------------------------------------------------------------------------
inline constexpr std::string_view kZoneDma = "DMA";
inline constexpr std::string_view kZoneDma32 = "DMA32";
inline constexpr std::string_view kZoneNormal = "Normal";
inline constexpr std::string_view kZoneMovable = "Movable";
inline constexpr std::string_view kZoneDevice = "Device";
// valid_zones_show(): an online block spanning zones, or no zone an offline block could join.
inline constexpr std::string_view kZoneNone = "none";

// ---------------------------------------------------------------------------------------------
// Kernel uevents — lib/kobject_uevent.c. A netlink (NETLINK_KOBJECT_UEVENT, group 1) message is
// "<action>@<devpath>\0" followed by "KEY=VALUE\0" entries.
// ---------------------------------------------------------------------------------------------
inline constexpr std::string_view kUeventAction = "ACTION";        // kobject_actions[]
inline constexpr std::string_view kUeventDevpath = "DEVPATH";      // kobject_get_path()
inline constexpr std::string_view kUeventSubsystem = "SUBSYSTEM";  // the bus or class name
inline constexpr std::string_view kUeventSeqnum = "SEQNUM";        // uevent_seqnum, decimal
inline constexpr std::string_view kUeventDevtype = "DEVTYPE";      // drivers/base/core.c
inline constexpr std::string_view kUeventDriver = "DRIVER";        // drivers/base/core.c
// Action strings, kobject_actions[] in lib/kobject_uevent.c. For memory blocks: "add"/"remove"
// when a block device is registered/unregistered (hot-add / hot-remove, S18), "online"/"offline"
// from device_online()/device_offline() (S20) whoever triggered them.
inline constexpr std::string_view kActionAdd = "add";
inline constexpr std::string_view kActionRemove = "remove";
inline constexpr std::string_view kActionChange = "change";
inline constexpr std::string_view kActionMove = "move";
inline constexpr std::string_view kActionOnline = "online";
inline constexpr std::string_view kActionOffline = "offline";
inline constexpr std::string_view kActionBind = "bind";
inline constexpr std::string_view kActionUnbind = "unbind";
// SUBSYSTEM values we care about: memory_subsys.name (drivers/base/memory.c) and
// node_subsys.name (drivers/base/node.c).
inline constexpr std::string_view kSubsystemMemory = "memory";
inline constexpr std::string_view kSubsystemNode = "node";
// DEVPATH prefixes of those devices (no "/sys": DEVPATH is relative to sysfs's mount point).
inline constexpr std::string_view kDevpathMemoryPrefix = "/devices/system/memory/memory";
inline constexpr std::string_view kDevpathNodePrefix = "/devices/system/node/node";
// Bounds of a kernel uevent (include/linux/kobject.h: UEVENT_BUFFER_SIZE 2048 bytes of
// environment, UEVENT_NUM_ENVP entries at most). Ours are generous versions of those.
inline constexpr std::size_t kUeventMaxBytes = 8192;
inline constexpr std::size_t kUeventMaxEntries = 64;

// ---------------------------------------------------------------------------------------------
// Memory notifier events — include/linux/memory.h, sent by mm/memory_hotplug.c's
// online_pages()/offline_pages(). Values are the kernel's, so logs line up with kernel traces.
// ---------------------------------------------------------------------------------------------
enum class MemoryEvent : uint32_t {
  kOnline = 1u << 0,         // MEM_ONLINE (S3): the memory is usable; callbacks may allocate
  kGoingOffline = 1u << 1,   // MEM_GOING_OFFLINE (S4): no new allocations; release what you own
  kOffline = 1u << 2,        // MEM_OFFLINE (S6): offlining completed
  kGoingOnline = 1u << 3,    // MEM_GOING_ONLINE (S1): before the memory is usable; prepare
  kCancelOnline = 1u << 4,   // MEM_CANCEL_ONLINE (S2): MEM_GOING_ONLINE failed
  kCancelOffline = 1u << 5,  // MEM_CANCEL_OFFLINE (S5): MEM_GOING_OFFLINE failed; usable again
};

// The kernel's name of each event ("MEM_GOING_ONLINE", ...), or "" for a value not in the enum.
constexpr std::string_view MemoryEventName(MemoryEvent e) {
  switch (e) {
    case MemoryEvent::kOnline: return "MEM_ONLINE";
    case MemoryEvent::kGoingOffline: return "MEM_GOING_OFFLINE";
    case MemoryEvent::kOffline: return "MEM_OFFLINE";
    case MemoryEvent::kGoingOnline: return "MEM_GOING_ONLINE";
    case MemoryEvent::kCancelOnline: return "MEM_CANCEL_ONLINE";
    case MemoryEvent::kCancelOffline: return "MEM_CANCEL_OFFLINE";
  }
  return "";
}

// The seed rule that defines each event ("S1" ... "S6"), or "" for a value not in the enum.
constexpr std::string_view MemoryEventRule(MemoryEvent e) {
  switch (e) {
    case MemoryEvent::kGoingOnline: return "S1";
    case MemoryEvent::kCancelOnline: return "S2";
    case MemoryEvent::kOnline: return "S3";
    case MemoryEvent::kGoingOffline: return "S4";
    case MemoryEvent::kCancelOffline: return "S5";
    case MemoryEvent::kOffline: return "S6";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Path builders (relative to the root, like everything above).
// ---------------------------------------------------------------------------------------------
// "sys/devices/system/memory/memory<id>"
inline std::string MemoryBlockDir(uint32_t id) {
  return std::string(kMemoryDir) + "/" + std::string(kBlockDirPrefix) + std::to_string(id);
}
// "sys/devices/system/memory/memory<id>/<attr>"
inline std::string MemoryBlockAttr(uint32_t id, std::string_view attr) {
  return MemoryBlockDir(id) + "/" + std::string(attr);
}
// "sys/devices/system/memory/<attr>"
inline std::string MemoryAttr(std::string_view attr) {
  return std::string(kMemoryDir) + "/" + std::string(attr);
}
// "sys/devices/system/node/node<nid>"
inline std::string NodeDir(uint32_t nid) {
  return std::string(kNodeDir) + "/" + std::string(kNodeDirPrefix) + std::to_string(nid);
}
// "sys/devices/system/node/<attr>"
inline std::string NodeAttr(std::string_view attr) {
  return std::string(kNodeDir) + "/" + std::string(attr);
}

}  // namespace memhp::agent::abi
