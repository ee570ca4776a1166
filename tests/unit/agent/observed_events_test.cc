// memhp tests — transitions the agent did not make are reported every time, and the agent's own
// are reported once.
//
// The kernel sends an "online"/"offline" uevent for every state change of a memory block,
// whoever wrote `state` (drivers/base/core.c device_online()/device_offline() call
// kobject_uevent() inside the write). The agent reports its own transitions through the
// notifier model and must not report their uevents a second time; every other uevent is someone
// else's transition (a shell, the virtio-mem driver offlining before it unplugs) and must be
// reported with origin OTHER — each time, not only the first.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "agent/block_operator.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/hotplug_watcher.h"
#include "agent/own_transitions.h"
#include "agent/recording_block_writer.h"
#include "fake_sysfs.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "sysfs/sysfs_reader.h"

namespace memhp::agent {
namespace {

using testing::FakeNodes;
using testing::FakeSysfs;
using memhp::v1::MemoryEventKind;

constexpr uint64_t kPage = 4096;
constexpr uint32_t kHotBlock = 40;

constexpr char kSeqnumFile[] = "sys/kernel/uevent_seqnum";

// Writes memoryN/state as the kernel does after a successful transition, and — when the fake
// tree has /sys/kernel/uevent_seqnum — counts the uevent the kernel sends inside the write
// (device_online()/device_offline() -> kobject_uevent()). `sends_uevent` false models a write
// that made no uevent.
class StateWriter : public BlockWriter {
 public:
  explicit StateWriter(FakeSysfs& guest) : guest_(guest) {}
  Status Write(uint32_t block, abi::OnlineType target) override {
    guest_.SetBlockState(block, target == abi::OnlineType::kOffline ? "offline" : "online");
    if (sends_uevent && seqnum > 0) guest_.WriteFile(kSeqnumFile, std::to_string(++seqnum) + "\n");
    return OkStatus();
  }
  uint64_t seqnum = 0;  // 0: the tree has no uevent_seqnum (undated expectations)
  bool sends_uevent = true;

 private:
  FakeSysfs& guest_;
};

Uevent BlockUevent(UeventAction action, uint32_t block, std::optional<uint64_t> seqnum = std::nullopt) {
  Uevent u;
  u.action = action;
  u.subsystem = "memory";
  u.devpath = "/devices/system/memory/memory" + std::to_string(block);
  u.seqnum = seqnum;
  return u;
}

class ObservedEventsTest : public ::testing::Test {
 protected:
  ObservedEventsTest()
      : reader_(guest_.root()),
        writer_(guest_),
        recording_(writer_, reader_, own_),
        reporter_(log_),
        driver_(chain_, recording_,
                [this](const EmittedEvent& e, const NotifyContext& c) { reporter_.OnEmitted(e, c); }),
        operator_(reader_, driver_, [](std::chrono::milliseconds) {}, kPage, policy_, nullptr),
        context_(g_main_context_new()),
        watcher_(reader_, operator_, reporter_, own_, context_) {
    guest_.SetNodes(FakeNodes{"0", "0", "0", "0"});
    guest_.SetMemInfo("MemTotal: 262144 kB\nMemAvailable: 131072 kB\n");
    guest_.SetZoneInfo("Node 0, zone   Normal\n  pages free 0\n        present 65536\n        managed 65536\n");
    guest_.AddBlock(0, "online", "Normal", 0);
    guest_.AddBlock(kHotBlock, "online", "Movable", 0);
    reporter_.SetTransport([this](const memhp::v1::AgentEnvelope& e) {
      if (e.event().has_memory()) sent_.push_back(e.event().memory());
      return wire::SendStatus::kQueued;
    });
    reporter_.SetOwnEventObserver([this](const memhp::v1::MemoryEvent& e) { watcher_.OnOwnEvent(e); });
  }
  ~ObservedEventsTest() override {
    reporter_.SetOwnEventObserver({});
    g_main_context_unref(context_);
  }

  // The kernel's uevent for a transition someone else made: sysfs changes, then the uevent
  // (with the next SEQNUM when the tree counts them).
  void SomeoneElse(bool online) {
    guest_.SetBlockState(kHotBlock, online ? "online" : "offline");
    std::optional<uint64_t> seq;
    if (writer_.seqnum > 0) {
      seq = ++writer_.seqnum;
      guest_.WriteFile(kSeqnumFile, std::to_string(*seq) + "\n");
    }
    Deliver(online, seq);
  }
  void Deliver(bool online, std::optional<uint64_t> seq) {
    watcher_.OnUevent(BlockUevent(online ? UeventAction::kOnline : UeventAction::kOffline, kHotBlock, seq));
  }
  void UseSeqnums(uint64_t start) {
    writer_.seqnum = start;
    guest_.WriteFile(kSeqnumFile, std::to_string(start) + "\n");
  }
  // The agent offlines / onlines the block by a host request (the real BlockOperator path).
  void AgentOffline() {
    memhp::v1::OfflineRequest r;
    r.mutable_selection()->mutable_blocks()->add_ids(kHotBlock);
    Result<memhp::v1::BlockOpResult> op = operator_.Offline(r, 1);
    ASSERT_TRUE(op.ok());
    ASSERT_EQ(op->blocks(0).outcome(), memhp::v1::BLOCK_OUTCOME_DONE);
  }
  void AgentOnline() {
    memhp::v1::OnlineRequest r;
    r.mutable_selection()->mutable_blocks()->add_ids(kHotBlock);
    r.set_target(memhp::v1::ONLINE_TARGET_MOVABLE);
    Result<memhp::v1::BlockOpResult> op = operator_.Online(r, 2);
    ASSERT_TRUE(op.ok());
    ASSERT_EQ(op->blocks(0).outcome(), memhp::v1::BLOCK_OUTCOME_DONE);
  }
  std::vector<std::pair<MemoryEventKind, memhp::v1::EventOrigin>> Transitions() const {
    std::vector<std::pair<MemoryEventKind, memhp::v1::EventOrigin>> out;
    for (const auto& m : sent_) {
      if (m.kind() == memhp::v1::MEMORY_EVENT_KIND_ONLINE || m.kind() == memhp::v1::MEMORY_EVENT_KIND_OFFLINE) {
        out.emplace_back(m.kind(), m.origin());
      }
    }
    return out;
  }

  std::vector<memhp::v1::MemoryEvent> Reported(MemoryEventKind kind) const {
    std::vector<memhp::v1::MemoryEvent> out;
    for (const auto& m : sent_) {
      if (m.kind() == kind) out.push_back(m);
    }
    return out;
  }

  FakeSysfs guest_;
  SysfsReader reader_;
  StateWriter writer_;
  OwnTransitions own_;
  RecordingBlockWriter recording_;
  EventLog log_{1024};
  EventReporter reporter_;
  NotifierChain chain_;
  TransitionDriver driver_;
  PolicyConfig policy_{.kind = PolicyKind::kOnlineMovable, .movable_ratio_percent = 301, .numa_aware = true};
  BlockOperator operator_;
  GMainContext* context_;
  HotplugWatcher watcher_;
  std::vector<memhp::v1::MemoryEvent> sent_;
};

constexpr auto kOn = memhp::v1::MEMORY_EVENT_KIND_ONLINE;
constexpr auto kOff = memhp::v1::MEMORY_EVENT_KIND_OFFLINE;
constexpr auto kOther = memhp::v1::EVENT_ORIGIN_OTHER;
constexpr auto kRequest = memhp::v1::EVENT_ORIGIN_AGENT_REQUEST;
using Seen = std::vector<std::pair<MemoryEventKind, memhp::v1::EventOrigin>>;

// A shell offlines and onlines a hot-plugged block twice: four transitions, four reports. (The
// agent used to expect the uevent of every event it reported, observed ones included, so the
// second round's uevents were taken for its own and swallowed.)
TEST_F(ObservedEventsTest, TwoRoundsOfSomeoneElsesOfflineAndOnlineAreFourReports) {
  for (int round = 0; round < 2; ++round) {
    SomeoneElse(/*online=*/false);
    SomeoneElse(/*online=*/true);
  }
  ASSERT_EQ(sent_.size(), 4u);
  const MemoryEventKind expected[] = {kOff, kOn, kOff, kOn};
  for (size_t i = 0; i < sent_.size(); ++i) {
    EXPECT_EQ(sent_[i].kind(), expected[i]) << i;
    EXPECT_EQ(sent_[i].block(), kHotBlock) << i;
    EXPECT_EQ(sent_[i].origin(), kOther) << i;
  }
  EXPECT_EQ(own_.pending(), 0u);
}

TEST_F(ObservedEventsTest, SameWithDatedUevents) {
  UseSeqnums(100);
  for (int round = 0; round < 3; ++round) {
    SomeoneElse(false);
    SomeoneElse(true);
  }
  EXPECT_EQ(Transitions(), (Seen{{kOff, kOther}, {kOn, kOther}, {kOff, kOther}, {kOn, kOther},
                                 {kOff, kOther}, {kOn, kOther}}));
}

// The agent's own offline is reported once (GOING_OFFLINE + OFFLINE through the notifier
// model); its uevent is recognised, and someone else's transitions after it are reported.
TEST_F(ObservedEventsTest, TheAgentsOwnTransitionIsReportedOnceAndOthersAfterItAreReported) {
  for (const bool dated : {false, true}) {
    SCOPED_TRACE(dated ? "dated" : "undated");
    sent_.clear();
    if (dated) UseSeqnums(10);
    AgentOffline();
    Deliver(false, dated ? std::optional<uint64_t>(writer_.seqnum) : std::nullopt);  // its uevent
    SomeoneElse(true);
    SomeoneElse(false);
    AgentOnline();
    Deliver(true, dated ? std::optional<uint64_t>(writer_.seqnum) : std::nullopt);
    EXPECT_EQ(Transitions(), (Seen{{kOff, kRequest}, {kOn, kOther}, {kOff, kOther}, {kOn, kRequest}}));
    EXPECT_EQ(own_.pending(), 0u);
  }
}

// A write whose uevent never comes must not swallow a later uevent that is someone else's.
TEST_F(ObservedEventsTest, AnExpectationThatNeverMaterialisesSwallowsNothing) {
  for (const bool dated : {false, true}) {
    SCOPED_TRACE(dated ? "dated" : "undated");
    sent_.clear();
    if (dated) UseSeqnums(50);
    AgentOffline();  // its uevent is never delivered
    SomeoneElse(true);
    SomeoneElse(false);
    SomeoneElse(true);
    EXPECT_EQ(Transitions(), (Seen{{kOff, kRequest}, {kOn, kOther}, {kOff, kOther}, {kOn, kOther}}));
    EXPECT_EQ(own_.pending(), 0u);
  }
}

// Dated: a write after which the kernel's counter did not move sent no uevent, and nothing is
// expected from it.
TEST_F(ObservedEventsTest, AWriteThatSentNoUeventIsNotExpected) {
  UseSeqnums(7);
  writer_.sends_uevent = false;
  AgentOffline();
  EXPECT_EQ(own_.pending(), 0u);
  writer_.sends_uevent = true;
  SomeoneElse(true);
  SomeoneElse(false);
  EXPECT_EQ(Transitions(), (Seen{{kOff, kRequest}, {kOn, kOther}, {kOff, kOther}}));
}

// Dated: someone else's offline was sent before the agent's online (which it made possible);
// the offline is reported, the online recognised as the agent's — nothing twice, nothing lost.
TEST_F(ObservedEventsTest, SomeoneElsesUeventSentBeforeTheAgentsWriteIsNotMistakenForIt) {
  UseSeqnums(20);
  guest_.SetBlockState(kHotBlock, "offline");
  const uint64_t theirs = ++writer_.seqnum;  // their offline: seq 21, not yet read by the agent
  guest_.WriteFile(kSeqnumFile, std::to_string(theirs) + "\n");
  AgentOnline();  // seq 22
  const uint64_t ours = writer_.seqnum;
  Deliver(false, theirs);
  Deliver(true, ours);
  EXPECT_EQ(Transitions(), (Seen{{kOn, kRequest}, {kOff, kOther}}));
  EXPECT_EQ(own_.pending(), 0u);
}

// Uevents lost (the socket overflowed): nothing expected survives.
TEST_F(ObservedEventsTest, OverflowForgetsWhatWasExpected) {
  AgentOffline();
  EXPECT_EQ(own_.pending(), 1u);
  watcher_.OnOverflow();
  EXPECT_EQ(own_.pending(), 0u);
}

}  // namespace
}  // namespace memhp::agent
