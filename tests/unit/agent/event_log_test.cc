// memhp tests — the EventLog's replay after events were dropped (guest-agent/agent/event_log.h).
//
// The host records an event only if its seq is above the last one it recorded (it drops
// replays it already has). So what a replay sends must ascend in seq, and the EventGap must come
// before the events kept after the loss — the host sees "N lost from seq S", then what followed.
// Reporting the gap must not itself push one more event out of a full backlog.
#include <gtest/gtest.h>

#include <vector>

#include "agent/event_log.h"

namespace memhp::agent {
namespace {

memhp::v1::AgentEvent Memory(uint32_t block) {
  memhp::v1::AgentEvent e;
  e.mutable_memory()->set_block(block);
  return e;
}

TEST(EventLogReplay, TheGapComesFirstAndNamesExactlyTheDroppedEvents) {
  EventLog log(4, [] { return uint64_t{1}; });
  for (uint32_t b = 1; b <= 3; ++b) (void)log.Append(Memory(b));
  log.Ack(3);  // the host had 1..3
  for (uint32_t b = 4; b <= 13; ++b) (void)log.Append(Memory(b));  // 10 while it was away; 4 fit
  const std::vector<memhp::v1::AgentEvent> out = log.Replay();
  ASSERT_EQ(out.size(), 5u);
  ASSERT_TRUE(out[0].has_gap());
  EXPECT_EQ(out[0].gap().first_seq(), 4u);
  EXPECT_EQ(out[0].gap().count(), 6u);  // seq 4..9 dropped
  for (size_t i = 1; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].has_memory()) << i;
    EXPECT_EQ(out[i].seq(), 9 + i) << "the kept ones, 10..13, after the gap";
    EXPECT_TRUE(out[i].replayed());
  }
  // A host that drops any seq not above the last it recorded records all five, in order.
  uint64_t last = 3;
  for (const auto& e : out) {
    EXPECT_GT(e.seq(), last);
    last = e.seq();
  }
  EXPECT_EQ(log.pending(), 4u) << "reporting the gap dropped nothing more";
  EXPECT_EQ(log.stats().dropped, 6u);
}

TEST(EventLogReplay, AnUnacknowledgedGapIsSentAgainAndGrowsWithLaterDrops) {
  EventLog log(2, [] { return uint64_t{1}; });
  for (uint32_t b = 1; b <= 5; ++b) (void)log.Append(Memory(b));  // 1..3 dropped
  std::vector<memhp::v1::AgentEvent> out = log.Replay();
  ASSERT_TRUE(out[0].has_gap());
  EXPECT_EQ(out[0].gap().count(), 3u);
  // The channel went away before the host acknowledged anything; one more drop (seq 4).
  (void)log.Append(Memory(6));
  out = log.Replay();
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].has_gap());
  EXPECT_EQ(out[0].gap().first_seq(), 1u);
  EXPECT_EQ(out[0].gap().count(), 4u);
  EXPECT_EQ(out[1].seq(), 5u);
  EXPECT_EQ(out[2].seq(), 6u);
  // Acknowledged: no gap any more.
  log.Ack(6);
  EXPECT_TRUE(log.Replay().empty());
}

}  // namespace
}  // namespace memhp::agent
