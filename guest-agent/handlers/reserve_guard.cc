// memhp — the reserve guard (see reserve_guard.h; S4, S11, S15, S16).
#include "handlers/reserve_guard.h"

#include <glib.h>

#include <limits>
#include <utility>

namespace memhp::agent {

MemInfoSource MemInfoFromReader(SysfsReader reader) {
  return [reader = std::move(reader)]() { return reader.ReadMemInfo(); };
}

ReserveGuard::ReserveGuard(ReserveGuardOptions options, MemInfoSource read_meminfo)
    : options_(options), read_meminfo_(std::move(read_meminfo)) {}

NotifyResult ReserveGuard::Call(abi::MemoryEvent action, const MemoryNotify& arg,
                                const NotifyContext& ctx) {
  // Only an offline takes memory away; only its GOING_* answer can cancel it (S4, S16).
  if (action != abi::MemoryEvent::kGoingOffline || options_.reserve_bytes == 0) {
    return NotifyResult::kDone;
  }
  const std::string block = "memory" + std::to_string(ctx.block);
  auto veto = [&](std::string reason) {
    g_warning("reserve-guard: vetoing offline of %s: %s", block.c_str(), reason.c_str());
    last_veto_reason_ = std::move(reason);
    return NotifyResult::kBad;
  };

  if (!read_meminfo_) return veto("no meminfo source configured");
  Result<MemInfo> info = read_meminfo_();
  if (!info.ok()) return veto("cannot read meminfo (" + info.error().message + ")");

  // S11: nr_pages pages leave the guest.
  const uint64_t page = options_.page_size_bytes;
  if (page != 0 && arg.nr_pages > std::numeric_limits<uint64_t>::max() / page) {
    return veto("block size overflows (" + std::to_string(arg.nr_pages) + " pages)");
  }
  const uint64_t block_bytes = arg.nr_pages * page;
  const uint64_t available = info->mem_available_bytes;
  if (available < block_bytes || available - block_bytes < options_.reserve_bytes) {
    const uint64_t left = available < block_bytes ? 0 : available - block_bytes;
    return veto("MemAvailable " + std::to_string(available) + " B minus the block's " +
                std::to_string(block_bytes) + " B leaves " + std::to_string(left) +
                " B, below the reserve of " + std::to_string(options_.reserve_bytes) + " B");
  }
  return NotifyResult::kDone;
}

}  // namespace memhp::agent
