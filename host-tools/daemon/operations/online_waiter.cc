// online_waiter — see online_waiter.h.
#include "daemon/operations/online_waiter.h"

#include <glib.h>

namespace memhp::daemon::operations {

OnlineWaiter::OnlineWaiter(OnlineWaitHooks hooks, OnlineWaitOptions options, std::function<void(OnlineWaitEnd)> done)
    : hooks_(std::move(hooks)), options_(std::move(options)), done_(std::move(done)) {}

void OnlineWaiter::Start() {
  const gint64 now = g_get_monotonic_time();
  deadline_us_ = now + options_.timeout.count() * 1000;
  last_change_us_ = now;
  Check();
}

void OnlineWaiter::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (ended_ || !event.has_memory()) return;
  const auto& m = event.memory();
  const uint64_t first = options_.range.first_block();
  if (m.block() < first || m.block() >= first + options_.range.block_count()) return;
  if (m.kind() == memhp::v1::MEMORY_EVENT_KIND_CANCEL_ONLINE) {
    cancels_[m.block()] = CancelledOnline{m.errno_value(), m.vetoed_by(), m.detail()};
  }
  if (!have_inventory_) {
    Check();
    return;
  }
  if (!Apply(m)) return;
  BlockProgress p = EvaluateBlocks(options_.range, known_, cancels_, options_.device_id);
  if (p.present != last_.present || p.online != last_.online || p.failed != last_.failed) {
    last_change_us_ = g_get_monotonic_time();
  }
  const bool settled = p.all_settled;
  last_ = std::move(p);
  hooks_.progress(last_.online_bytes, options_.range.block_count() * options_.range.block_size);
  if (settled) Check();  // the agent's inventory confirms the end
}

bool OnlineWaiter::Apply(const memhp::v1::MemoryEvent& m) {
  auto* blocks = known_.mutable_blocks();
  int at = -1;
  for (int i = 0; i < blocks->size(); ++i) {
    if (blocks->Get(i).id() == m.block()) at = i;
  }
  auto present = [&]() -> memhp::v1::MemoryBlock* {
    if (at >= 0) return blocks->Mutable(at);
    memhp::v1::MemoryBlock* b = blocks->Add();
    b->set_id(m.block());
    b->set_start_address(uint64_t{m.block()} * options_.range.block_size);
    b->set_state(memhp::v1::BLOCK_STATE_OFFLINE);
    b->set_node(m.node());
    return b;
  };
  switch (m.kind()) {
    case memhp::v1::MEMORY_EVENT_KIND_BLOCK_ADDED:
    case memhp::v1::MEMORY_EVENT_KIND_CANCEL_ONLINE:  // the block is there, and stays offline
      if (at >= 0) return m.kind() == memhp::v1::MEMORY_EVENT_KIND_CANCEL_ONLINE;
      present();
      return true;
    case memhp::v1::MEMORY_EVENT_KIND_ONLINE:
    case memhp::v1::MEMORY_EVENT_KIND_OFFLINE: {
      memhp::v1::MemoryBlock* b = present();
      const bool online = m.kind() == memhp::v1::MEMORY_EVENT_KIND_ONLINE;
      b->set_state(online ? memhp::v1::BLOCK_STATE_ONLINE : memhp::v1::BLOCK_STATE_OFFLINE);
      if (online) b->set_zone(m.zone());
      if (m.node() >= 0) b->set_node(m.node());
      return true;
    }
    case memhp::v1::MEMORY_EVENT_KIND_BLOCK_REMOVED:
      if (at < 0) return false;
      blocks->DeleteSubrange(at, 1);
      return true;
    default:
      return false;  // GOING_*: nothing has changed yet
  }
}

void OnlineWaiter::OnAgentLost() {
  if (ended_) return;
  End(OnlineWaitEndReason::kAgentLost, "the agent went away while memhpd waited for the blocks");
}

void OnlineWaiter::Check() {
  if (ended_) return;
  if (inflight_) {
    recheck_ = true;
    return;
  }
  inflight_ = true;
  hooks_.inventory([this](Result<memhp::v1::Inventory> reply) { OnInventory(std::move(reply)); });
}

void OnlineWaiter::OnInventory(Result<memhp::v1::Inventory> reply) {
  inflight_ = false;
  if (ended_) return;
  const gint64 now = g_get_monotonic_time();
  if (reply.ok()) {
    known_ = std::move(reply).value();
    have_inventory_ = true;
    BlockProgress p = EvaluateBlocks(options_.range, known_, cancels_, options_.device_id);
    if (p.present != last_.present || p.online != last_.online || p.failed != last_.failed) last_change_us_ = now;
    last_ = std::move(p);
    hooks_.progress(last_.online_bytes, options_.range.block_count() * options_.range.block_size);
    if (last_.all_settled) {
      End(OnlineWaitEndReason::kSettled, "");
      return;
    }
    if (last_.all_present && now - last_change_us_ >= options_.settle.count() * 1000) {
      if (options_.target != memhp::v1::ONLINE_TARGET_UNSPECIFIED && !online_asked_) {
        AskOnline();
        return;
      }
      End(OnlineWaitEndReason::kLeftOffline,
          std::to_string(last_.offline) + " block(s) left offline by the agent's policy");
      return;
    }
  } else if (IsGone(reply.error())) {
    End(OnlineWaitEndReason::kAgentLost, "agent: " + reply.error().message);
    return;
  }
  if (now >= deadline_us_) {
    End(OnlineWaitEndReason::kTimedOut, "");
    return;
  }
  if (recheck_) {
    recheck_ = false;
    Check();
    return;
  }
  Schedule();
}

// The policy left blocks offline but the host asked for a zone: online the range into it.
void OnlineWaiter::AskOnline() {
  online_asked_ = true;
  inflight_ = true;
  memhp::v1::OnlineRequest online;
  online.mutable_selection()->mutable_range()->set_start(options_.range.first_block() * options_.range.block_size);
  online.mutable_selection()->mutable_range()->set_size(options_.range.block_count() * options_.range.block_size);
  online.set_target(options_.target);
  hooks_.online(online, options_.timeout, [this](Result<memhp::v1::BlockOpResult> reply) {
    inflight_ = false;
    if (ended_) return;
    if (reply.ok()) {
      for (const auto& b : reply.value().blocks()) {
        const bool failed = b.outcome() == memhp::v1::BLOCK_OUTCOME_FAILED ||
                            b.outcome() == memhp::v1::BLOCK_OUTCOME_VETOED ||
                            b.outcome() == memhp::v1::BLOCK_OUTCOME_TIMED_OUT;
        const uint64_t first = options_.range.first_block();
        if (failed && b.block() >= first && b.block() < first + options_.range.block_count()) {
          cancels_[b.block()] = CancelledOnline{b.errno_value(), b.vetoed_by(), b.detail()};
        }
      }
    }
    last_change_us_ = g_get_monotonic_time();
    Check();
  });
}

void OnlineWaiter::Schedule() {
  if (timer_pending_ || ended_) return;
  timer_pending_ = true;
  hooks_.after(options_.poll, [this] {
    timer_pending_ = false;
    Check();
  });
}

void OnlineWaiter::End(OnlineWaitEndReason reason, std::string detail) {
  if (ended_) return;
  ended_ = true;
  OnlineWaitEnd end{reason, last_, std::move(detail)};
  auto done = std::move(done_);
  done(std::move(end));
}

}  // namespace memhp::daemon::operations
