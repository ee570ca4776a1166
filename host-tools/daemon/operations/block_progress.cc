// block_progress — see block_progress.h.
#include "daemon/operations/block_progress.h"

#include <algorithm>
#include <unordered_map>

namespace memhp::daemon::operations {

uint64_t BlockRange::block_count() const {
  if (block_size == 0) return 0;
  return std::min<uint64_t>((size + block_size - 1) / block_size, kMaxBlocksPerOperation);
}

BlockProgress EvaluateBlocks(const BlockRange& range, const memhp::v1::Inventory& inventory,
                             const std::map<uint32_t, CancelledOnline>& cancels, const std::string& device_id) {
  BlockProgress p;
  std::unordered_map<uint32_t, const memhp::v1::MemoryBlock*> by_id;
  const uint64_t first = range.first_block();
  const uint64_t count = range.block_count();
  for (const auto& block : inventory.blocks()) {
    if (block.id() >= first && block.id() < first + count) by_id[block.id()] = &block;
  }
  for (uint64_t i = 0; i < count; ++i) {
    const auto id = static_cast<uint32_t>(first + i);
    memhp::v1::BlockResult r;
    r.set_block(id);
    r.set_device_id(device_id);
    r.set_node(-1);
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      r.set_outcome(memhp::v1::BLOCK_OUTCOME_NOT_FOUND);
      r.set_detail("not (yet) in the guest");
      p.blocks.push_back(std::move(r));
      continue;
    }
    const memhp::v1::MemoryBlock& b = *it->second;
    ++p.present;
    r.set_node(b.node());
    if (b.state() == memhp::v1::BLOCK_STATE_ONLINE) {
      ++p.online;
      p.online_bytes += range.block_size;
      r.set_outcome(memhp::v1::BLOCK_OUTCOME_DONE);
      r.set_zone(b.zone());
    } else if (auto c = cancels.find(id); c != cancels.end()) {
      ++p.failed;
      r.set_outcome(c->second.vetoed_by.empty() ? memhp::v1::BLOCK_OUTCOME_FAILED : memhp::v1::BLOCK_OUTCOME_VETOED);
      r.set_errno_value(c->second.errno_value);
      r.set_vetoed_by(c->second.vetoed_by);
      r.set_detail(c->second.detail.empty() ? "onlining cancelled (CANCEL_ONLINE)" : c->second.detail);
    } else {
      ++p.offline;
      r.set_outcome(memhp::v1::BLOCK_OUTCOME_LEFT_OFFLINE);
      r.set_detail("offline");
    }
    p.blocks.push_back(std::move(r));
  }
  p.all_present = count > 0 && p.present == count;
  p.all_online = count > 0 && p.online == count;
  p.all_settled = count > 0 && p.online + p.failed == count;
  return p;
}

}  // namespace memhp::daemon::operations
