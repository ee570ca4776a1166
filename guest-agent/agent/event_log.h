// memhp-agent — EventLog: sequence numbers, the host's acknowledgements, and the bounded
// backlog replayed after a reconnect (docs/architecture.md, "The wires").
//
// Every event the agent reports gets the next sequence number (from 1 per agent process) and
// stays here until the host acknowledges it (EventAck{seq} covers every seq up to it). After a
// reconnect, whatever is still unacknowledged is sent again, marked `replayed`, oldest first;
// the host drops a seq it has already recorded, so nothing is counted twice and nothing
// acknowledged is ever sent again. The backlog is bounded: when it is full the oldest event is
// dropped and the loss is reported as an EventGap event at the next replay — never silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "memhp/v1/agent.pb.h"

namespace memhp::agent {

struct EventLogStats {
  uint64_t appended = 0;
  uint64_t acked_seq = 0;
  uint64_t dropped = 0;
  uint64_t replayed = 0;
};

class EventLog {
 public:
  using ClockNs = std::function<uint64_t()>;  // wall clock, ns since the epoch
  explicit EventLog(size_t capacity = 4096, ClockNs clock = nullptr);

  // Stamps `event` with the next seq and the time, keeps it, and returns the stamped copy.
  [[nodiscard]] memhp::v1::AgentEvent Append(memhp::v1::AgentEvent event);
  // The host has recorded every event up to `seq`. A seq never handed out is ignored.
  void Ack(uint64_t seq);
  // What to send after a reconnect: an EventGap first if events were dropped (numbered with the
  // last seq it covers, so seqs still ascend; sent again until acknowledged), then every
  // unacknowledged event, oldest first, marked replayed.
  [[nodiscard]] std::vector<memhp::v1::AgentEvent> Replay();

  [[nodiscard]] size_t pending() const { return backlog_.size(); }
  [[nodiscard]] uint64_t last_seq() const { return next_seq_ - 1; }
  [[nodiscard]] const EventLogStats& stats() const { return stats_; }

 private:
  // Stamps `event` (seq, time) in place and keeps a copy, dropping the oldest when full.
  void Keep(memhp::v1::AgentEvent& event);

  size_t capacity_;
  ClockNs clock_;
  uint64_t next_seq_ = 1;
  std::deque<memhp::v1::AgentEvent> backlog_;  // unacknowledged, ascending seq
  uint64_t gap_first_ = 0;                      // first dropped seq not yet acknowledged
  uint64_t gap_count_ = 0;                      // dropped since; 0: no gap due
  EventLogStats stats_;
};

}  // namespace memhp::agent
