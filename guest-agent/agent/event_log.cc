// memhp-agent — EventLog (see event_log.h).
#include "agent/event_log.h"

#include <glib.h>

#include <utility>

namespace memhp::agent {

EventLog::EventLog(size_t capacity, ClockNs clock)
    : capacity_(capacity == 0 ? 1 : capacity), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return static_cast<uint64_t>(g_get_real_time()) * 1000; };
}

memhp::v1::AgentEvent EventLog::Append(memhp::v1::AgentEvent event) {
  Keep(event);
  return event;
}

void EventLog::Keep(memhp::v1::AgentEvent& event) {
  event.set_seq(next_seq_++);
  event.set_time_unix_ns(clock_());
  event.set_replayed(false);
  if (backlog_.size() >= capacity_) {
    // Full: the oldest unacknowledged event goes; the gap is reported at the next replay.
    const uint64_t lost = backlog_.front().seq();
    if (gap_count_ == 0) gap_first_ = lost;
    ++gap_count_;
    ++stats_.dropped;
    backlog_.pop_front();
  }
  backlog_.push_back(event);
  ++stats_.appended;
}

void EventLog::Ack(uint64_t seq) {
  if (seq >= next_seq_ || seq <= stats_.acked_seq) return;
  stats_.acked_seq = seq;
  while (!backlog_.empty() && backlog_.front().seq() <= seq) backlog_.pop_front();
  // The gap's seq is the last one it covers: acknowledged with it, it is reported.
  if (gap_count_ > 0 && seq >= gap_first_ + gap_count_ - 1) gap_count_ = 0;
}

std::vector<memhp::v1::AgentEvent> EventLog::Replay() {
  std::vector<memhp::v1::AgentEvent> out;
  if (gap_count_ > 0) {
    // First, under the seq of the last event it covers: above everything the host acknowledged
    // and below every kept event, so a host that drops any seq not above the last it recorded
    // takes the gap and then the rest in order. It is not put in the backlog (when full, that
    // would drop one more event); it stays due until acknowledged, and later drops extend it
    // (they are always the backlog's oldest, right after the gap).
    memhp::v1::AgentEvent gap;
    gap.set_seq(gap_first_ + gap_count_ - 1);
    gap.set_time_unix_ns(clock_());
    gap.set_replayed(false);
    gap.mutable_gap()->set_first_seq(gap_first_);
    gap.mutable_gap()->set_count(gap_count_);
    out.push_back(std::move(gap));
  }
  for (const memhp::v1::AgentEvent& event : backlog_) {
    out.push_back(event);
    out.back().set_replayed(true);
  }
  stats_.replayed += out.size();
  return out;
}

}  // namespace memhp::agent
