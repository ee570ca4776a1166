// memhpd — AuditRanges: which guest-physical ranges the memhp-audit plugin watches, in which
// state, and at which address the plugin sees each one. Pure: text and values in, ranges out.
//
// The ranges (proto/memhp/v1/audit.proto AuditRange) are one per guest memory block (the
// guest's block_size_bytes) of every hotpluggable device QEMU reports (query-memory-devices):
//   pc-dimm     ONLINE when the agent says the block is online (or going online/offline: the
//               kernel may touch it), else OFFLINE (offline, or not added by the guest yet);
//               UNPLUGGED once QEMU said DEVICE_DELETED for the DIMM (kept while no other RAM
//               takes its place in the plugin's address space).
//   virtio-mem  the device's whole region (max-size): a block the guest has (inventory) is
//               ONLINE/OFFLINE as above; a block it does not have is UNPLUGGED.
// Label = the device id.
//
// plugin_start. QEMU 7.2's qemu_plugin_hwaddr_phys_addr() (plugins/api.c) returns, for RAM,
//   block->offset + offset_in_block + block->mr->addr
// i.e. the RAMBlock's ram_addr offset plus the memory region's offset *inside its container*,
// not the guest-physical address. A DIMM's or virtio-mem's backend ("mem-d1", "vmem0-mem") is
// its own RAMBlock and is mapped inside the "device-memory" container at (addr - its base). So
// the plugin sees a block at GPA b of a device at GPA a with backend B as
//   ramblock(B).offset + (a - device_memory_base) + (b - a).
// `info ramblock` (HMP) gives the offsets, `info mtree` the regions' container offsets.
//
// Because that mapping is not one-to-one, two RAMBlocks' plugin windows can overlap: with the
// default layout boot1 (offset 256M, at 256M in pc.ram) is seen at [512M, 768M) and vmem0-mem
// (offset 512M, at 0 in device-memory) at [512M, 2.5G). Accesses there cannot be told apart,
// so a block whose window overlaps another mapped RAMBlock's is left out (and listed in
// `skipped`), rather than reporting boot memory's accesses as the device's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "memhp/v1/audit.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon {

// The most ranges one plan holds (the plugin keeps a table entry per range).
inline constexpr size_t kMaxAuditRanges = 65536;


// One line of HMP `info ramblock`.
struct RamBlockInfo {
  std::string name;  // e.g. "mem-d1", "0000:00:01.0/vmem0-mem", "boot0"
  uint64_t offset = 0;
  uint64_t used = 0;
};

// Parses `info ramblock`. nullopt (and `error`) when the header or a row does not parse.
[[nodiscard]] std::optional<std::vector<RamBlockInfo>> ParseRamBlocks(std::string_view text,
                                                                      std::string* error);

// From `info mtree`: each RAM-backed region's offset inside its container (its mr->addr), by
// region name. Aliases are skipped. A name seen twice keeps its first value (the same region is
// printed once per address space that holds it).
[[nodiscard]] std::map<std::string, uint64_t> ParseMtreeRegionOffsets(std::string_view text);

// One RAMBlock's window in the plugin's address space; only blocks mapped somewhere (found in
// the mtree) have one.
struct PluginWindow {
  std::string ramblock;
  uint64_t start = 0;
  uint64_t size = 0;
};

[[nodiscard]] std::vector<PluginWindow> PluginWindows(
    const std::vector<RamBlockInfo>& blocks, const std::map<std::string, uint64_t>& region_offsets);

// The backend's RAMBlock: its name is the backend id, perhaps after a device path and "/".
[[nodiscard]] const RamBlockInfo* FindRamBlock(const std::vector<RamBlockInfo>& blocks,
                                               std::string_view backend_id);

// What the guest says of one block (agent inventory and events).
enum class GuestBlockState { kOnline, kOffline };

struct AuditInputs {
  std::vector<memhp::v1::MemoryDevice> devices;       // query-memory-devices
  std::vector<RamBlockInfo> ramblocks;                // info ramblock
  std::map<std::string, uint64_t> region_offsets;     // info mtree
  uint64_t block_size = 0;                            // the guest's; 0 = unknown (no ranges)
  std::map<uint64_t, GuestBlockState> guest_blocks;   // by guest-physical start
  // DIMMs QEMU deleted (DEVICE_DELETED), with the ranges last sent for them.
  std::map<std::string, std::vector<memhp::v1::AuditRange>> deleted;
  // CLOCK_MONOTONIC ns at which each block start was first seen present; read and updated.
  std::map<uint64_t, uint64_t>* first_seen = nullptr;
  uint64_t now_ns = 0;
};

struct AuditPlan {
  std::vector<memhp::v1::AuditRange> ranges;  // by guest-physical start
  std::vector<std::string> skipped;           // "vmem0 0x100000000: plugin window overlaps boot1"
  // Per device id, the ranges computed for it (kept for when it is deleted).
  std::map<std::string, std::vector<memhp::v1::AuditRange>> by_device;
  std::set<std::string> stale_deleted;        // deleted DIMMs whose window is now someone else's
};

[[nodiscard]] AuditPlan BuildAuditPlan(const AuditInputs& inputs);

}  // namespace memhp::daemon
