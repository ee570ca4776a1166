// memhp — the dry-run estimate (see unplug_estimate.h).
#include "policy/unplug_estimate.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace memhp::agent {
namespace {

using memhp::v1::BlockEstimate;
using memhp::v1::EstimateVerdict;

std::string Mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIu64 " MiB", bytes >> 20);
  return text;
}

std::string Hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%" PRIx64, value);
  return text;
}

bool Counts(EstimateVerdict v) {
  return v == memhp::v1::ESTIMATE_VERDICT_WOULD_GO || v == memhp::v1::ESTIMATE_VERDICT_ALREADY_OFFLINE;
}

}  // namespace

memhp::v1::UnplugEstimate EstimateUnplug(std::span<const EstimateBlock> blocks, const EstimateFacts& facts,
                                         memhp::v1::EstimatePath path, bool all_or_nothing) {
  const bool agent_path = path == memhp::v1::ESTIMATE_PATH_AGENT;
  const uint64_t bs = facts.block_size_bytes;
  memhp::v1::UnplugEstimate out;
  out.set_block_size_bytes(bs);
  out.set_mem_available_bytes(facts.mem_available_bytes);
  out.set_reserve_bytes(agent_path ? facts.reserve_bytes : 0);
  out.set_free_bytes(facts.free_bytes);
  out.set_movable_free_bytes(facts.movable_free_bytes);
  out.set_path(path);
  if (agent_path) {
    for (size_t i = 0; i < facts.hooks.size() && i < kMaxEstimateHooks; ++i) out.add_hooks(facts.hooks[i]);
  }

  uint64_t taken = 0;  // bytes of online blocks estimated to go so far
  for (const EstimateBlock& b : blocks) {
    BlockEstimate* e = out.add_blocks();
    e->set_block(b.id);
    e->set_zone(b.zone);
    e->set_node(b.node);
    e->set_device_id(b.device_id);
    auto say = [e](EstimateVerdict v, std::string reason) {
      e->set_verdict(v);
      e->set_reason(std::move(reason));
    };
    if (!b.present) {
      say(memhp::v1::ESTIMATE_VERDICT_NOT_FOUND, "no such block");
      continue;
    }
    if (b.state == memhp::v1::BLOCK_STATE_OFFLINE) {
      say(memhp::v1::ESTIMATE_VERDICT_ALREADY_OFFLINE, "offline already");
      continue;
    }
    if (b.state != memhp::v1::BLOCK_STATE_ONLINE) {
      say(memhp::v1::ESTIMATE_VERDICT_BUSY, b.state == memhp::v1::BLOCK_STATE_GOING_OFFLINE
                                                 ? "an offline of it is running"
                                                 : "its state is unknown");
      continue;
    }
    const uint64_t start = uint64_t{b.id} * bs;
    if (agent_path) {
      const auto pin = std::find_if(facts.pins.begin(), facts.pins.end(), [&](const PinnedSpan& p) {
        return bs != 0 && p.start < start + bs && start < p.end;
      });
      if (pin != facts.pins.end()) {
        say(memhp::v1::ESTIMATE_VERDICT_PINNED,
            "pinned by " + pin->name + " [" + Hex(pin->start) + ", " + Hex(pin->end) + ")");
        continue;
      }
    }
    if (b.zone != memhp::v1::ZONE_MOVABLE) {
      say(memhp::v1::ESTIMATE_VERDICT_KERNEL_ZONE,
          "online in a kernel zone: it may hold unmovable pages; only an offline would tell");
      continue;
    }
    if (bs == 0) {
      say(memhp::v1::ESTIMATE_VERDICT_NO_ROOM, "the guest's block size is not known");
      continue;
    }
    const uint64_t available = facts.mem_available_bytes;
    const bool fits = available >= taken && available - taken >= bs;
    const uint64_t left = fits ? available - taken - bs : 0;
    if (!fits) {
      say(memhp::v1::ESTIMATE_VERDICT_NO_ROOM,
          "its pages in use would not fit: " + Mib(available > taken ? available - taken : 0) +
              " would be available before it, the block is " + Mib(bs));
      continue;
    }
    if (agent_path && facts.reserve_bytes != 0 && left < facts.reserve_bytes) {
      say(memhp::v1::ESTIMATE_VERDICT_RESERVE, "the reserve guard would veto: " + Mib(left) +
                                                   " would stay available, the reserve is " +
                                                   Mib(facts.reserve_bytes));
      continue;
    }
    taken += bs;
    say(memhp::v1::ESTIMATE_VERDICT_WOULD_GO, Mib(left) + " would stay available");
  }

  // All or nothing: the first blocker stops the others (the agent onlines back what it took).
  const BlockEstimate* blocker = nullptr;
  for (const BlockEstimate& e : out.blocks()) {
    if (!Counts(e.verdict()) && e.verdict() != memhp::v1::ESTIMATE_VERDICT_NOT_FOUND) {
      blocker = &e;
      break;
    }
  }
  if (all_or_nothing && blocker) {
    const std::string why = "memory" + std::to_string(blocker->block()) + " stops the all-or-nothing unplug";
    for (BlockEstimate& e : *out.mutable_blocks()) {
      if (e.verdict() == memhp::v1::ESTIMATE_VERDICT_WOULD_GO) {
        e.set_verdict(memhp::v1::ESTIMATE_VERDICT_SKIPPED);
        e.set_reason("would go, but " + why);
      }
    }
  }
  uint64_t could = 0;
  uint64_t blocked = 0;
  for (const BlockEstimate& e : out.blocks()) {
    if (e.verdict() == memhp::v1::ESTIMATE_VERDICT_NOT_FOUND) continue;
    (Counts(e.verdict()) && !(all_or_nothing && blocker) ? could : blocked) += bs;
  }
  out.set_could_go_bytes(could);
  out.set_blocked_bytes(blocked);
  return out;
}

}  // namespace memhp::agent
