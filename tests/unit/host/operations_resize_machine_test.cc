// The resize machine (daemon/operations/resize_machine.h), path by path: growth with the intent
// and the wait for the blocks, shrink with and without offline_first, the size converging on
// events and polls, PARTIAL when it stops moving, the deadline, refusals, QEMU gone, the agent
// lost, and resuming. Pure: timers are inputs (TimerFired), so no test waits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/operations/resize_machine.h"
#include "machine_test_support.h"

namespace memhp::daemon::operations {
namespace {

using namespace test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kAddr = uint64_t{5} << 30;  // block 40 onwards
constexpr uint64_t kGiB = uint64_t{1} << 30;

struct ResizeRun {
  ResizeState s;
  bool agent = true;
  explicit ResizeRun(uint64_t to, bool offline_first = false) {
    memhp::v1::ResizeRequest r;
    r.set_device_id("vmem1");
    r.set_requested_size(to);
    r.set_offline_first(offline_first);
    s = BeginResize(r, OperationTimeouts{});
  }
  Actions Feed(Event e) {
    Transition<ResizeState> t = NextResize(std::move(s), In(std::move(e), agent));
    s = std::move(t.state);
    return std::move(t.actions);
  }
  Actions Found(uint64_t size) {
    (void)Feed(Started{});
    return Feed(DevicesListed{std::vector{VirtioMem("vmem1", kAddr, size, 4 * kGiB)}});
  }
  Actions Listed(uint64_t size) { return Feed(DevicesListed{std::vector{VirtioMem("vmem1", kAddr, size, 4 * kGiB)}}); }
};

TEST(ResizeMachine, GrowthSendsTheIntentSetsTheSizeWaitsForItThenForTheBlocks) {
  ResizeRun run(512 * kMiB);
  Actions start = run.Feed(Started{});
  ASSERT_TRUE(Has<StartTimer>(start));
  EXPECT_EQ(Find<StartTimer>(start)->timer, kResizeDeadlineTimer);
  Actions found = run.Listed(0);
  EXPECT_TRUE(Has<JournalBegin>(found));
  const SendIntent* intent = Find<SendIntent>(found);
  ASSERT_NE(intent, nullptr);
  EXPECT_EQ(intent->intent.kind(), memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  EXPECT_EQ(intent->intent.start(), kAddr);
  EXPECT_EQ(intent->intent.size(), 4 * kGiB);
  EXPECT_EQ(intent->intent.expected_size(), 512 * kMiB);
  Actions set = run.Feed(IntentAnswered{OkStatus()});
  ASSERT_TRUE(Has<SetRequestedSize>(set));
  EXPECT_EQ(Find<SetRequestedSize>(set)->size, 512 * kMiB);
  Actions waiting = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(waiting), ElementsAre("requested-size-set"));
  EXPECT_TRUE(Has<ListDevices>(waiting));
  EXPECT_EQ(Find<StartTimer>(waiting)->timer, kResizeFirstSettleTimer);
  // Half way: a progress report, a poll timer, and a new settle timer (the size moved).
  Actions half = run.Listed(256 * kMiB);
  ASSERT_TRUE(Has<ReportProgress>(half));
  EXPECT_EQ(Find<ReportProgress>(half)->done_bytes, 256 * kMiB);
  EXPECT_EQ(Find<ReportProgress>(half)->total_bytes, 512 * kMiB);
  std::vector<uint32_t> timers;
  for (const Action& a : half) {
    if (const auto* t = std::get_if<StartTimer>(&a)) timers.push_back(t->timer);
  }
  EXPECT_THAT(timers, ElementsAre(kResizeFirstSettleTimer + 1, kResizePollTimer));
  // The old settle timer is stale now; the event asks for a poll.
  EXPECT_TRUE(run.Feed(TimerFired{kResizeFirstSettleTimer}).empty());
  EXPECT_TRUE(Has<ListDevices>(run.Feed(DeviceEventSeen{DeviceEvent{DeviceEventKind::kSizeChanged, "vmem1", "", 0}})));
  Actions reached = run.Listed(512 * kMiB);
  EXPECT_THAT(JournalSteps(reached), ElementsAre("size-reached"));
  const WaitOnline* w = Find<WaitOnline>(reached);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->options.range.start, kAddr);
  EXPECT_EQ(w->options.range.size, 512 * kMiB);
  const auto r = Ended(run.Feed(OnlineWaitEnded{WaitEnd(OnlineWaitEndReason::kSettled,
                                                       {BlockResult(40, memhp::v1::BLOCK_OUTCOME_DONE)}, 512 * kMiB)}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(r.detail(), "size 512 MiB, 512 MiB online");
  EXPECT_EQ(r.size_reached(), 512 * kMiB);
}

TEST(ResizeMachine, ShrinkWithOfflineFirstOfflinesTheBlocksAboveTheNewSizeHighestFirst) {
  ResizeRun run(128 * kMiB, true);
  Actions found = run.Found(384 * kMiB);
  EXPECT_TRUE(Has<ReadInventory>(found));
  EXPECT_FALSE(Has<SendIntent>(found));
  memhp::v1::Inventory inv;
  inv.set_block_size_bytes(kBlock);
  for (uint32_t id : {39u, 40u, 41u, 42u}) {
    auto* b = inv.add_blocks();
    b->set_id(id);
    b->set_state(memhp::v1::BLOCK_STATE_ONLINE);
  }
  Actions off = run.Feed(InventoryRead{inv});
  const OfflineBlocks* o = Find<OfflineBlocks>(off);
  ASSERT_NE(o, nullptr);
  EXPECT_THAT(std::vector<uint32_t>(o->request.selection().blocks().ids().begin(),
                                    o->request.selection().blocks().ids().end()),
              ElementsAre(42u, 41u));  // 39 is below the device, 40 is kept
  EXPECT_FALSE(o->request.all_or_nothing());
  memhp::v1::BlockOpResult done;
  *done.add_blocks() = BlockResult(42, memhp::v1::BLOCK_OUTCOME_DONE);
  *done.add_blocks() = BlockResult(41, memhp::v1::BLOCK_OUTCOME_DONE);
  done.set_all_done(true);
  Actions set = run.Feed(BlocksAnswered{done});
  EXPECT_THAT(JournalSteps(set), ElementsAre("agent-offlined"));
  EXPECT_TRUE(Has<SetRequestedSize>(set));
  (void)run.Feed(HardwareAnswered{OkStatus()});
  const auto r = Ended(run.Listed(128 * kMiB));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_FALSE(Has<WaitOnline>(run.Feed(Started{}))) << "finished: nothing more";
  EXPECT_EQ(r.blocks_size(), 2);
}

TEST(ResizeMachine, ShrinkWithoutOfflineFirstLeavesItToTheDriver) {
  ResizeRun run(128 * kMiB);
  Actions found = run.Found(384 * kMiB);
  EXPECT_FALSE(Has<ReadInventory>(found));
  EXPECT_TRUE(Has<SetRequestedSize>(found));
}

TEST(ResizeMachine, ASizeThatStopsMovingEndsPartialAndTheDeadlineTimedOut) {
  ResizeRun partial(512 * kMiB);
  (void)partial.Found(0);
  (void)partial.Feed(IntentAnswered{OkStatus()});
  (void)partial.Feed(HardwareAnswered{OkStatus()});
  (void)partial.Listed(256 * kMiB);
  const auto p = Ended(partial.Feed(TimerFired{kResizeFirstSettleTimer + 1}));
  EXPECT_EQ(p.outcome(), memhp::v1::OPERATION_OUTCOME_PARTIAL);
  EXPECT_THAT(p.detail(), HasSubstr("size stopped at 256 MiB of 512 MiB requested (no change for 10 s)"));
  EXPECT_EQ(p.size_reached(), 256 * kMiB);

  ResizeRun late(512 * kMiB);
  (void)late.Found(0);
  (void)late.Feed(IntentAnswered{OkStatus()});
  (void)late.Feed(HardwareAnswered{OkStatus()});
  const auto t = Ended(late.Feed(TimerFired{kResizeDeadlineTimer}));
  EXPECT_EQ(t.outcome(), memhp::v1::OPERATION_OUTCOME_TIMED_OUT);
  EXPECT_THAT(t.detail(), HasSubstr("size 0 B of 512 MiB requested when the time ran out"));
}

TEST(ResizeMachine, RefusedWithTheLimitItWouldBreak) {
  struct Case {
    uint64_t to;
    std::vector<memhp::v1::MemoryDevice> devices;
    const char* detail;
  };
  for (const Case& c : std::vector<Case>{
           {512 * kMiB, {}, "no memory device 'vmem1'"},
           {512 * kMiB, {Dimm("vmem1", kAddr)}, "'vmem1' is a dimm device, not virtio-mem: use plug and unplug"},
           {kMiB, {VirtioMem("vmem1", kAddr, 0, 4 * kGiB)}, "is not a multiple of vmem1's block-size 2 MiB"},
           {8 * kGiB, {VirtioMem("vmem1", kAddr, 0, 4 * kGiB)}, "is over vmem1's max-size 4 GiB"}}) {
    ResizeRun run(c.to);
    (void)run.Feed(Started{});
    const auto r = Ended(run.Feed(DevicesListed{c.devices}));
    EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
    EXPECT_THAT(r.detail(), HasSubstr(c.detail));
  }
}

TEST(ResizeMachine, FailuresOfTheHardwareAndQemuGone) {
  ResizeRun set(512 * kMiB);
  (void)set.Found(0);
  (void)set.Feed(IntentAnswered{OkStatus()});
  EXPECT_THAT(Ended(set.Feed(HardwareAnswered{QemuError("GenericError: bad size")})).detail(),
              HasSubstr("qom-set requested-size failed: GenericError: bad size"));
  ResizeRun vanished(512 * kMiB);
  (void)vanished.Found(0);
  (void)vanished.Feed(IntentAnswered{OkStatus()});
  (void)vanished.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(Ended(vanished.Feed(DevicesListed{std::vector<memhp::v1::MemoryDevice>{}})).detail(),
              HasSubstr("vmem1 disappeared from query-memory-devices"));
  ResizeRun gone(512 * kMiB);
  (void)gone.Found(0);
  (void)gone.Feed(IntentAnswered{OkStatus()});
  (void)gone.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(Ended(gone.Feed(DevicesListed{GoneError()})).detail(), HasSubstr("QEMU went away during the wait-size step"));
}

TEST(ResizeMachine, WithoutAnAgentTheSizeIsTheEnd) {
  ResizeRun run(512 * kMiB);
  run.agent = false;
  Actions found = run.Found(0);
  EXPECT_FALSE(Has<SendIntent>(found));
  EXPECT_TRUE(Has<SetRequestedSize>(found));
  (void)run.Feed(HardwareAnswered{OkStatus()});
  const auto r = Ended(run.Listed(512 * kMiB));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(r.detail(), "size 512 MiB; guest side unknown (no agent)");
  EXPECT_FALSE(r.guest_side_known());
}

TEST(ResizeMachine, TheAgentLostWhileTheBlocksComeOnline) {
  ResizeRun run(512 * kMiB);
  (void)run.Found(0);
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Listed(512 * kMiB);
  OnlineWaitEnd lost = WaitEnd(OnlineWaitEndReason::kAgentLost, {}, 0);
  lost.detail = "the agent went away while memhpd waited for the blocks";
  EXPECT_TRUE(Has<CheckAlive>(run.Feed(OnlineWaitEnded{lost})));
  const auto r = Ended(run.Feed(AliveChecked{OkStatus()}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("size 512 MiB, 0 B online; the agent went away"));
}

TEST(ResizeMachine, ResumedDoneOrPartialFromTheSizeNow) {
  JournalOp op;
  op.params.kind = memhp::v1::OPERATION_KIND_RESIZE;
  op.params.device_id = "vmem1";
  op.params.size = 512 * kMiB;
  for (uint64_t size : {512 * kMiB, 256 * kMiB}) {
    auto t = NextResize(ResumeResize(op), In(Started{}));
    t = NextResize(std::move(t.state), In(DevicesListed{std::vector{VirtioMem("vmem1", kAddr, size, 4 * kGiB)}}));
    t = NextResize(std::move(t.state), In(BackendsListed{std::vector<std::string>{}}));
    const auto r = Ended(t.actions);
    EXPECT_EQ(r.outcome(), size == 512 * kMiB ? memhp::v1::OPERATION_OUTCOME_DONE : memhp::v1::OPERATION_OUTCOME_PARTIAL);
    EXPECT_EQ(r.size_reached(), size);
    EXPECT_TRUE(r.recovered());
  }
}

}  // namespace
}  // namespace memhp::daemon::operations
