// memhpd — GuestClaims: what the agent says, checked before memhpd believes or keeps any of it.
//
// The guest is untrusted by the host (QEMU's own security model: a guest may run anything, the
// agent included). memhpd sizes plans, plugin ranges and status answers from what the agent
// reports, so every claim is held against what memhpd knows independently — QEMU's maximum
// memory and NUMA node count (`qom-get /machine memory`, HMP `info numa`) — and against the
// kernel's own ranges:
//   - block_size_bytes is a power of two between the smallest memory section any Linux
//     architecture uses (16 MiB, powerpc's SECTION_SIZE_BITS 24) and 16 GiB (x86_64's largest
//     memory block is 2 GiB, arch/x86/mm/init_64.c MAX_BLOCK_SIZE; the margin covers others);
//     the page size is a power of two between 4 KiB and 64 KiB;
//   - the blocks present fit in QEMU's maximum memory (every block is backed by guest RAM), and
//     never more than kMaxGuestBlocks whatever QEMU says;
//   - node ids are below QEMU's node count (a VM without -numa has the one node 0);
//   - strings and lists are short (kernel release, versions, handler names, details).
// A claim that breaks a rule is refused as a whole (never trimmed into something plausible):
// the caller answers with a protocol error, publishes a notice and carries on.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "memhp/v1/agent.pb.h"

namespace memhp::daemon {

// What memhpd knows of the VM without asking the guest. Zero: not known (then only the
// fixed bounds apply).
struct VmLimits {
  uint64_t max_memory_bytes = 0;  // QEMU's maxmem (boot memory plus every hotpluggable byte)
  uint32_t numa_nodes = 0;        // QEMU's NUMA node count; 0 nodes means the one node 0
};

inline constexpr uint64_t kMinGuestBlockSize = uint64_t{1} << 24;  // 16 MiB
inline constexpr uint64_t kMaxGuestBlockSize = uint64_t{1} << 34;  // 16 GiB
inline constexpr uint64_t kMinGuestPageSize = 4096;
inline constexpr uint64_t kMaxGuestPageSize = 65536;
// Blocks in one inventory whatever QEMU says: 64 Ki blocks of 128 MiB are 8 TiB.
inline constexpr uint32_t kMaxGuestBlocks = 65536;
// The kernel's MAX_NUMNODES is 1 << CONFIG_NODES_SHIFT, at most 1024 on any distribution kernel.
inline constexpr uint32_t kMaxGuestNodes = 1024;
inline constexpr size_t kMaxGuestString = 512;     // any one string from the guest, in bytes
inline constexpr size_t kMaxGuestListItems = 64;   // capabilities, competing onliners
// A block operation answers at most one result per block the host named (the agent refuses
// more than 4096 blocks per request).
inline constexpr int kMaxBlockResults = 4096;

// The hello of an agent, whether it asked or answered.
[[nodiscard]] Status CheckHello(const memhp::v1::Hello& hello, const VmLimits& limits);

// A whole inventory; `block_size` is the one the accepted hello named (0: take the
// inventory's own, which is checked like the hello's).
[[nodiscard]] Status CheckInventory(const memhp::v1::Inventory& inventory, uint64_t block_size,
                                    const VmLimits& limits);

// An event of any kind (inventory, memory event, gap, zone report).
[[nodiscard]] Status CheckEvent(const memhp::v1::AgentEvent& event, uint64_t block_size,
                                const VmLimits& limits);

// An answer to one of memhpd's requests.
[[nodiscard]] Status CheckResponse(const memhp::v1::AgentResponse& response, uint64_t block_size,
                                   const VmLimits& limits);

}  // namespace memhp::daemon
