// admission — may this DIMM be plugged? Pure: facts in, a decision out.
//
// docs/architecture.md, "Plug a DIMM": before anything is created in QEMU the request is checked
// against what is known of the VM, and refused with the limit it would break named in the
// message, so a refused plug leaves nothing behind. The facts come from QEMU where it says
// (query-memory-devices, query-memory-size-summary, `qom-get /machine memory` = {size, slots,
// max-size} on QEMU 7.2, `info numa`) and from the agent (its hello's block size, its zone
// report, its policy's ratio). A fact that is not known is not checked; the decision's notes say
// which were assumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

// x86_64's memory block size when the guest has not told us (arch/x86/mm/init_64.c: 128 MiB
// below 64 GiB of RAM); the decision says it was assumed.
inline constexpr uint64_t kDefaultGuestBlockSize = uint64_t{128} << 20;
// struct page per 4 KiB page (x86_64): the memmap a plugged range costs the guest.
inline constexpr uint64_t kMemmapBytesPerPage = 64;
inline constexpr uint64_t kMemmapPageSize = 4096;
// Guest memory kept free beyond the new memmap (a guest with less is refused).
inline constexpr uint64_t kMemAvailableMargin = uint64_t{32} << 20;

// One node's memory split as the guest's zone report has it (bytes).
struct NodeZones {
  uint32_t node = 0;
  uint64_t movable_bytes = 0;
  uint64_t kernel_bytes = 0;  // DMA + DMA32 + NORMAL
};

// What is known of the VM when the request is checked.
struct AdmissionFacts {
  std::vector<memhp::v1::MemoryDevice> devices;  // query-memory-devices
  std::vector<std::string> object_ids;           // qom-list /objects (child names)
  std::optional<uint64_t> base_memory;           // query-memory-size-summary / /machine memory.size
  std::optional<uint64_t> plugged_memory;        // query-memory-size-summary
  std::optional<uint64_t> max_memory;            // /machine memory.max-size (maxmem)
  std::optional<uint32_t> slots;                 // /machine memory.slots
  std::optional<uint32_t> node_count;            // info numa "N nodes" (0: no NUMA = node 0 only)
  std::optional<uint64_t> guest_block_size;      // the agent's hello
  std::optional<uint64_t> mem_available;         // the agent's zone report (MemAvailable)
  std::vector<NodeZones> zones;                  // the agent's zone report, per node
  std::optional<uint32_t> movable_ratio_percent; // the agent's policy (auto-movable's ratio)
};

struct AdmissionRequest {
  std::string device_id;  // "" : pick "dimmN"
  uint64_t size = 0;
  int32_t node = 0;
  memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED;
};

struct AdmissionDecision {
  bool admitted = false;
  std::string refusal;             // when refused: which limit, with the numbers
  memhp::v1::ErrorCode code = memhp::v1::ERROR_CODE_UNSPECIFIED;  // when refused
  std::string device_id;           // the id to use (picked when the request gave none)
  std::string memdev_id;           // "mem-<device_id>"
  uint64_t block_size = 0;         // the guest block size used
  uint64_t memmap_bytes = 0;       // what the new range's memmap costs the guest
  std::optional<uint32_t> projected_movable_percent;  // on the node, if the blocks go MOVABLE
  std::vector<std::string> notes;  // assumptions and projections, for the step's detail
};

// [A-Za-z][A-Za-z0-9._-]{0,31}: QEMU's id_wellformed() wants a leading letter and these chars;
// the bound keeps "mem-<id>" and the journal short.
[[nodiscard]] bool IsValidDeviceId(const std::string& id);

// The first "dimmN" (N = 0, 1, ...) no memory device uses.
[[nodiscard]] std::string PickDeviceId(const std::vector<memhp::v1::MemoryDevice>& devices);

[[nodiscard]] AdmissionDecision Admit(const AdmissionRequest& request, const AdmissionFacts& facts);

// "256 MiB", "1.5 GiB", "4096 B": sizes in messages.
[[nodiscard]] std::string FormatBytes(uint64_t bytes);

}  // namespace memhp::daemon::operations
