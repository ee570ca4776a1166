// blocks_view — `memhpctl blocks`: every guest memory block as lsmem(1) shows it, from the
// agent's inventory beside QEMU's devices, printed with libsmartcols (the library lsmem uses).
//
// Columns: RANGE (first-last byte, hex, as lsmem), SIZE, STATE, BLOCK (id or first-last),
// NODE, ZONES (the zone an online block is in; the valid_zones of an offline one, "/"-joined;
// "None"), DEVICE (the QEMU memory device whose range holds the block; "-" for boot memory),
// REMOVABLE. Adjacent blocks are merged into one row while the split columns agree (lsmem's
// --split; by default every shown column of STATE, REMOVABLE, NODE, ZONES, DEVICE); --all
// shows every block on its own row. Pure: values in, text out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

enum class BlockColumn { kRange, kSize, kState, kBlock, kNode, kZones, kDevice, kRemovable };

struct BlocksViewOptions {
  std::vector<BlockColumn> columns = {BlockColumn::kRange, BlockColumn::kSize,  BlockColumn::kState,
                                      BlockColumn::kBlock, BlockColumn::kNode,  BlockColumn::kZones,
                                      BlockColumn::kDevice, BlockColumn::kRemovable};
  // Which columns split ranges; empty with split_given: "none" (only contiguity splits).
  std::vector<BlockColumn> split;
  bool split_given = false;  // false: split by the shown columns, as lsmem does
  bool all = false;          // one row per block
  bool bytes = false;        // SIZE and the totals in bytes, not 128 MiB
  bool raw = false;          // columns separated by one space, no alignment
  bool noheadings = false;
};

// "RANGE,SIZE,zones" -> the columns (case-insensitive, as lsmem); an unknown name is an Error
// naming it and the known ones. `for_split` also takes "none" (-> empty) and refuses RANGE,
// SIZE and BLOCK, which never split.
[[nodiscard]] Result<std::vector<BlockColumn>> ParseBlockColumns(std::string_view list, bool for_split);

// One row: a run of adjacent blocks.
struct BlockRange {
  uint32_t first_block = 0;
  uint32_t last_block = 0;
  uint64_t start = 0;
  uint64_t size = 0;
  std::string state;  // "online", "offline", "going-offline", "unknown"
  int32_t node = -1;
  std::string zones;
  std::string device;  // "" for none
  bool removable = false;
};

struct BlocksReport {
  uint64_t block_size = 0;
  std::vector<BlockRange> ranges;
  uint64_t online_bytes = 0;
  uint64_t offline_bytes = 0;  // every block that is not online
};

// The rows for `status` (its inventory and devices). An Error when there is no inventory.
[[nodiscard]] Result<BlocksReport> BuildBlocksReport(const memhp::v1::VmStatus& status,
                                                     const BlocksViewOptions& options);

// The table, then lsmem's totals ("Memory block size:", "Total online memory:", ...).
[[nodiscard]] std::string RenderBlocksText(const BlocksReport& report, const BlocksViewOptions& options);
// {"memory": [{"range": "...", "size": N, "state": "online", "block": "40-47", "node": N,
//   "zones": "...", "device": "dimm1"|null, "removable": bool}, ...], "block_size": N,
//  "online_bytes": N, "offline_bytes": N} — libsmartcols' JSON of the chosen columns (sizes
// as numbers, in bytes) plus the totals.
[[nodiscard]] std::string RenderBlocksJson(const BlocksReport& report, const BlocksViewOptions& options);

}  // namespace memhp::ctl
