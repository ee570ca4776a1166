// memhpd's wait for a plugged range to come online (daemon/operations/online_waiter.h), driven
// through its hooks: the test answers each agent request by hand and fires the poll timer
// itself, so every path — settled, a vetoed block, blocks the policy left offline (with and
// without a zone asked), the deadline, the agent going away — is reached without a guest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "daemon/agent_channel.h"
#include "daemon/operations/online_waiter.h"

namespace memhp::daemon::operations {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kBlock = uint64_t{128} << 20;

struct PendingAgent {
  memhp::v1::AgentRequest request;
  std::function<void(AgentReply)> done;
};

class OnlineWaiterTest : public ::testing::Test {
 protected:
  void Start(memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED,
             std::chrono::milliseconds settle = 0ms, std::chrono::milliseconds timeout = 60000ms) {
    OnlineWaitOptions options;
    options.range = BlockRange{32 * kBlock, 2 * kBlock, kBlock};  // blocks 32 and 33
    options.device_id = "dimm1";
    options.target = target;
    options.settle = settle;
    options.timeout = timeout;
    waiter_ = std::make_unique<OnlineWaiter>(
        OnlineWaitHooks{
            // The port's answers, built from the whole AgentResponse the test writes.
            .inventory =
                [this](Done<memhp::v1::Inventory> done) {
                  memhp::v1::AgentRequest r;
                  r.mutable_inventory();
                  agent_.push_back({std::move(r), [done](AgentReply a) { done(a.value().inventory()); }});
                },
            .online =
                [this](const memhp::v1::OnlineRequest& online, std::chrono::milliseconds,
                       Done<memhp::v1::BlockOpResult> done) {
                  memhp::v1::AgentRequest r;
                  *r.mutable_online() = online;
                  agent_.push_back({std::move(r), [done](AgentReply a) { done(a.value().block_op()); }});
                },
            .after = [this](std::chrono::milliseconds, std::function<void()> fn) { timers_.push_back(std::move(fn)); },
            .progress = [this](uint64_t done, uint64_t) { progress_.push_back(done); },
        },
        options, [this](OnlineWaitEnd end) { end_ = std::move(end); });
    waiter_->Start();
  }
  // Answers the oldest agent request, which must be an inventory request, with these blocks.
  void AnswerInventory(std::vector<std::pair<uint32_t, memhp::v1::BlockState>> blocks) {
    ASSERT_FALSE(agent_.empty());
    PendingAgent p = std::move(agent_.front());
    agent_.pop_front();
    ASSERT_TRUE(p.request.has_inventory());
    memhp::v1::AgentResponse response;
    auto* inv = response.mutable_inventory();
    inv->set_block_size_bytes(kBlock);
    for (auto [id, state] : blocks) {
      auto* b = inv->add_blocks();
      b->set_id(id);
      b->set_state(state);
      b->set_node(1);
      if (state == memhp::v1::BLOCK_STATE_ONLINE) b->set_zone(memhp::v1::ZONE_MOVABLE);
    }
    p.done(AgentReply(response));
  }
  void FireTimer() {
    ASSERT_FALSE(timers_.empty());
    auto fn = std::move(timers_.front());
    timers_.erase(timers_.begin());
    fn();
  }

  std::unique_ptr<OnlineWaiter> waiter_;
  std::deque<PendingAgent> agent_;
  std::vector<std::function<void()>> timers_;
  std::vector<uint64_t> progress_;
  std::optional<OnlineWaitEnd> end_;
};

constexpr auto kOn = memhp::v1::BLOCK_STATE_ONLINE;
constexpr auto kOff = memhp::v1::BLOCK_STATE_OFFLINE;

TEST_F(OnlineWaiterTest, EndsWhenEveryBlockIsOnline) {
  Start();
  AnswerInventory({{0, kOn}, {32, kOn}});  // 33 not added yet
  EXPECT_FALSE(end_);
  EXPECT_EQ(progress_.back(), kBlock);
  FireTimer();
  AnswerInventory({{0, kOn}, {32, kOn}, {33, kOn}});
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kSettled);
  EXPECT_TRUE(end_->progress.all_online);
  EXPECT_EQ(end_->progress.online_bytes, 2 * kBlock);
}

TEST_F(OnlineWaiterTest, AnEventTriggersACheckAndACancelledOnlineIsAFailedBlock) {
  Start();
  AnswerInventory({{32, kOn}});
  memhp::v1::AgentEvent event;
  event.mutable_memory()->set_kind(memhp::v1::MEMORY_EVENT_KIND_CANCEL_ONLINE);
  event.mutable_memory()->set_block(33);
  event.mutable_memory()->set_vetoed_by("hook:db");
  waiter_->OnAgentEvent(event);
  AnswerInventory({{32, kOn}, {33, kOff}});
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kSettled);
  EXPECT_EQ(end_->progress.failed, 1u);
  EXPECT_EQ(end_->progress.blocks[1].outcome(), memhp::v1::BLOCK_OUTCOME_VETOED);
  EXPECT_EQ(end_->progress.blocks[1].vetoed_by(), "hook:db");
}

TEST_F(OnlineWaiterTest, EventsMoveTheProgressWithoutAskingTheAgentUntilTheyShowTheEnd) {
  Start();
  AnswerInventory({});  // nothing added yet
  auto event = [](memhp::v1::MemoryEventKind kind, uint32_t block) {
    memhp::v1::AgentEvent e;
    e.mutable_memory()->set_kind(kind);
    e.mutable_memory()->set_block(block);
    e.mutable_memory()->set_node(1);
    e.mutable_memory()->set_zone(memhp::v1::ZONE_MOVABLE);
    return e;
  };
  for (uint32_t b : {32u, 33u}) waiter_->OnAgentEvent(event(memhp::v1::MEMORY_EVENT_KIND_BLOCK_ADDED, b));
  waiter_->OnAgentEvent(event(memhp::v1::MEMORY_EVENT_KIND_GOING_ONLINE, 32));
  waiter_->OnAgentEvent(event(memhp::v1::MEMORY_EVENT_KIND_ONLINE, 32));
  EXPECT_TRUE(agent_.empty()) << "no inventory read per event";
  EXPECT_EQ(progress_.back(), kBlock) << "the ONLINE event alone moved the progress";
  EXPECT_FALSE(end_);
  waiter_->OnAgentEvent(event(memhp::v1::MEMORY_EVENT_KIND_ONLINE, 33));
  EXPECT_FALSE(end_) << "the end waits for the agent's inventory";
  ASSERT_EQ(agent_.size(), 1u);
  AnswerInventory({{32, kOn}, {33, kOn}});
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kSettled);
  EXPECT_EQ(end_->progress.online_bytes, 2 * kBlock);
}

TEST_F(OnlineWaiterTest, TheInventoryStaysTheTruthWhenEventsWereWrong) {
  Start(memhp::v1::ONLINE_TARGET_UNSPECIFIED, 60000ms);  // a block left offline is not the end yet
  AnswerInventory({{32, kOn}});
  memhp::v1::AgentEvent e;
  e.mutable_memory()->set_kind(memhp::v1::MEMORY_EVENT_KIND_ONLINE);
  e.mutable_memory()->set_block(33);
  waiter_->OnAgentEvent(e);
  ASSERT_EQ(agent_.size(), 1u);
  AnswerInventory({{32, kOn}, {33, kOff}});  // the agent says 33 is offline after all
  EXPECT_FALSE(end_);
  ASSERT_FALSE(timers_.empty()) << "the poll goes on";
}

TEST_F(OnlineWaiterTest, EventsOutsideTheRangeAreIgnored) {
  Start();
  AnswerInventory({});
  memhp::v1::AgentEvent event;
  event.mutable_memory()->set_kind(memhp::v1::MEMORY_EVENT_KIND_ONLINE);
  event.mutable_memory()->set_block(7);
  waiter_->OnAgentEvent(event);
  EXPECT_TRUE(agent_.empty());
}

TEST_F(OnlineWaiterTest, BlocksThePolicyLeftOfflineAreReportedSo) {
  Start(memhp::v1::ONLINE_TARGET_UNSPECIFIED, 0ms);
  AnswerInventory({{32, kOff}, {33, kOff}});
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kLeftOffline);
  EXPECT_EQ(end_->progress.blocks[0].outcome(), memhp::v1::BLOCK_OUTCOME_LEFT_OFFLINE);
  EXPECT_THAT(end_->detail, ::testing::HasSubstr("2 block(s) left offline"));
}

TEST_F(OnlineWaiterTest, WithAZoneAskedTheRangeIsOnlinedIntoIt) {
  Start(memhp::v1::ONLINE_TARGET_MOVABLE, 0ms);
  AnswerInventory({{32, kOff}, {33, kOff}});
  EXPECT_FALSE(end_);
  ASSERT_EQ(agent_.size(), 1u);
  ASSERT_TRUE(agent_.front().request.has_online());
  EXPECT_EQ(agent_.front().request.online().target(), memhp::v1::ONLINE_TARGET_MOVABLE);
  EXPECT_EQ(agent_.front().request.online().selection().range().start(), 32 * kBlock);
  EXPECT_EQ(agent_.front().request.online().selection().range().size(), 2 * kBlock);
  PendingAgent online = std::move(agent_.front());
  agent_.pop_front();
  memhp::v1::AgentResponse response;
  response.mutable_block_op()->add_blocks()->set_block(32);
  online.done(AgentReply(response));
  AnswerInventory({{32, kOn}, {33, kOn}});
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kSettled);
}

TEST_F(OnlineWaiterTest, TheDeadlineEndsTheWait) {
  Start(memhp::v1::ONLINE_TARGET_UNSPECIFIED, 60000ms, 0ms);
  AnswerInventory({{32, kOn}});
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kTimedOut);
  EXPECT_EQ(end_->progress.blocks[1].outcome(), memhp::v1::BLOCK_OUTCOME_NOT_FOUND);
}

TEST_F(OnlineWaiterTest, TheAgentGoingAwayEndsTheWait) {
  Start();
  waiter_->OnAgentLost();
  ASSERT_TRUE(end_);
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kAgentLost);
  // A reply arriving afterwards changes nothing.
  AnswerInventory({{32, kOn}, {33, kOn}});
  EXPECT_EQ(end_->reason, OnlineWaitEndReason::kAgentLost);
}

}  // namespace
}  // namespace memhp::daemon::operations
