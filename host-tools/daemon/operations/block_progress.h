// block_progress — how far a newly plugged range has come in the guest. Pure: the agent's
// inventory and the CANCEL_ONLINE events seen, in; per-block results and totals, out.
//
// Memory block N covers [N * block_size, (N + 1) * block_size) (drivers/base/memory.c:
// memory_block_id = section nr / sections per block), so a range maps to its block ids without
// asking the guest. A block is settled when it is online, or offline after a CANCEL_ONLINE (the
// agent's onlining was vetoed or failed, S2). The result list is bounded by the range's block
// count, whatever the guest sends.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memhp/v1/agent.pb.h"

namespace memhp::daemon::operations {

// The most blocks one operation reports (a 512 GiB range of 128 MiB blocks, as the agent's bound).
inline constexpr uint64_t kMaxBlocksPerOperation = 4096;

struct BlockRange {
  uint64_t start = 0;
  uint64_t size = 0;
  uint64_t block_size = 0;
  [[nodiscard]] uint64_t first_block() const { return block_size ? start / block_size : 0; }
  [[nodiscard]] uint64_t block_count() const;  // capped at kMaxBlocksPerOperation
};

// A failed onlining seen as a CANCEL_ONLINE event.
struct CancelledOnline {
  int32_t errno_value = 0;
  std::string vetoed_by;
  std::string detail;
};

struct BlockProgress {
  std::vector<memhp::v1::BlockResult> blocks;  // one per block of the range, in order
  uint64_t online_bytes = 0;
  uint32_t present = 0;    // blocks the guest has
  uint32_t online = 0;
  uint32_t failed = 0;     // offline after a CANCEL_ONLINE
  uint32_t offline = 0;    // present, offline, no cancel seen (waiting, or left by the policy)
  bool all_present = false;
  bool all_settled = false;  // every block online or failed
  bool all_online = false;
};

[[nodiscard]] BlockProgress EvaluateBlocks(const BlockRange& range, const memhp::v1::Inventory& inventory,
                                           const std::map<uint32_t, CancelledOnline>& cancels,
                                           const std::string& device_id);

}  // namespace memhp::daemon::operations
