// The unplug machine (daemon/operations/unplug_machine.h), path by path: the agent's answers
// (all offline, one block refusing and the rest rolled back, a block left offline), the guest's
// answers to the eject (deleted, _OST failure, DEVICE_UNPLUG_GUEST_ERROR, before or after the
// delete's own answer), the deadline, QEMU gone, forced and agentless unplugs, and resuming.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/operations/unplug_machine.h"
#include "machine_test_support.h"

namespace memhp::daemon::operations {
namespace {

using namespace test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kAddr = uint64_t{4} << 30;  // blocks 32 and 33

struct UnplugRun {
  UnplugState s;
  bool agent = true;
  explicit UnplugRun(bool force = false) {
    memhp::v1::UnplugRequest r;
    r.set_device_id("dimm1");
    r.set_force(force);
    s = BeginUnplug(r, OperationTimeouts{});
  }
  Actions Feed(Event e) {
    Transition<UnplugState> t = NextUnplug(std::move(s), In(std::move(e), agent));
    s = std::move(t.state);
    return std::move(t.actions);
  }
  Actions Found() {
    (void)Feed(Started{});
    return Feed(DevicesListed{std::vector{Dimm("dimm1", kAddr)}});
  }
};

memhp::v1::BlockOpResult Offlined(std::vector<memhp::v1::BlockResult> blocks) {
  memhp::v1::BlockOpResult r;
  bool all = true;
  for (auto& b : blocks) {
    all = all && (b.outcome() == memhp::v1::BLOCK_OUTCOME_DONE || b.outcome() == memhp::v1::BLOCK_OUTCOME_ALREADY);
    *r.add_blocks() = b;
  }
  r.set_all_done(all);
  return r;
}
const memhp::v1::BlockOpResult kAllOffline = Offlined(
    {BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE), BlockResult(33, memhp::v1::BLOCK_OUTCOME_DONE)});

DeviceEvent Deleted(const std::string& id = "dimm1") { return DeviceEvent{DeviceEventKind::kDeleted, id, "", 0}; }
DeviceEvent Refused(const std::string& detail) { return DeviceEvent{DeviceEventKind::kUnplugRefused, "dimm1", detail, 0}; }

TEST(UnplugMachine, OfflineAllOrNothingThenDeleteThenBackendThenMap) {
  UnplugRun run;
  Actions start = run.Feed(Started{});
  EXPECT_TRUE(Has<ListDevices>(start));
  ASSERT_TRUE(Has<StartTimer>(start));
  EXPECT_EQ(Find<StartTimer>(start)->delay, OperationTimeouts{}.unplug);
  Actions found = run.Feed(DevicesListed{std::vector{Dimm("dimm1", kAddr)}});
  ASSERT_NE(Find<JournalBegin>(found), nullptr);
  EXPECT_EQ(Find<JournalBegin>(found)->params.memdev_id, "mem-dimm1");
  const OfflineBlocks* off = Find<OfflineBlocks>(found);
  ASSERT_NE(off, nullptr);
  EXPECT_TRUE(off->request.all_or_nothing());
  EXPECT_EQ(off->request.selection().range().start(), kAddr);
  EXPECT_EQ(off->request.selection().range().size(), 256 * kMiB);

  Actions del = run.Feed(BlocksAnswered{kAllOffline});
  EXPECT_THAT(JournalSteps(del), ElementsAre("agent-offlined"));
  ASSERT_TRUE(Has<DeleteDimm>(del));
  Actions sent = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(sent), ElementsAre("device-del-sent"));
  EXPECT_THAT(Steps(sent), ElementsAre("wait-deleted"));
  EXPECT_TRUE(run.Feed(DeviceEventSeen{Deleted("dimm2")}).empty()) << "another device's end is not ours";
  Actions gone = run.Feed(DeviceEventSeen{Deleted()});
  EXPECT_THAT(JournalSteps(gone), ElementsAre("deleted"));
  EXPECT_TRUE(Has<ForgetTarget>(gone));
  ASSERT_TRUE(Has<DeleteBackend>(gone));
  EXPECT_EQ(Find<DeleteBackend>(gone)->backend_id, "mem-dimm1");
  Actions relist = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(relist), ElementsAre("object-deleted"));
  EXPECT_TRUE(Has<ListDevices>(relist));
  EXPECT_TRUE(Has<SendDeviceMap>(run.Feed(DevicesListed{std::vector<memhp::v1::MemoryDevice>{}})));
  const auto r = Ended(run.Feed(MapAnswered{uint32_t{1}}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(r.detail(), "unplugged");
  EXPECT_EQ(r.size_reached(), 0u);
  EXPECT_EQ(r.blocks_size(), 2);
}

TEST(UnplugMachine, OneBlockRefusingRollsTheOthersBackAndNothingChanges) {
  UnplugRun run;
  (void)run.Found();
  memhp::v1::BlockResult pinned = BlockResult(33, memhp::v1::BLOCK_OUTCOME_VETOED);
  pinned.set_vetoed_by("pin-guard");
  Actions a = run.Feed(BlocksAnswered{Offlined({BlockResult(32, memhp::v1::BLOCK_OUTCOME_ROLLED_BACK), pinned})});
  EXPECT_FALSE(Has<DeleteDimm>(a));
  EXPECT_TRUE(JournalSteps(a).empty());
  const auto r = Ended(a);
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
  EXPECT_EQ(r.detail(),
            "the guest refused to offline the DIMM: block 33 vetoed by pin-guard; block 32 offlined, then online "
            "again; nothing changed");
}

TEST(UnplugMachine, ABlockThatCouldNotBePutBackIsNamedAndTheUnplugFails) {
  UnplugRun run;
  (void)run.Found();
  memhp::v1::BlockResult busy = BlockResult(33, memhp::v1::BLOCK_OUTCOME_FAILED);
  busy.set_errno_value(EBUSY);
  const auto r = Ended(run.Feed(BlocksAnswered{Offlined({BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE), busy})}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("block 33 errno 16"));
  EXPECT_THAT(r.detail(), HasSubstr("block 32 could not be put back online and stay offline; the DIMM is still present"));
}

TEST(UnplugMachine, ForcedGoesOnAfterARefusalAndSaysSo) {
  UnplugRun run(true);
  (void)run.Found();
  Actions a = run.Feed(BlocksAnswered{Offlined({BlockResult(32, memhp::v1::BLOCK_OUTCOME_VETOED)})});
  EXPECT_TRUE(Has<DeleteDimm>(a));
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(DeviceEventSeen{Deleted()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(DevicesListed{std::vector<memhp::v1::MemoryDevice>{}});
  EXPECT_THAT(Ended(run.Feed(MapAnswered{uint32_t{0}})).detail(), HasSubstr("unplugged (forced although the guest refused"));
}

TEST(UnplugMachine, TheAgentFailingTheOfflineLeavesTheDimm) {
  UnplugRun run;
  (void)run.Found();
  Error timeout{ETIMEDOUT, "no answer within 120000 ms"};
  timeout.code = memhp::v1::ERROR_CODE_TIMEOUT;
  const auto r = Ended(run.Feed(BlocksAnswered{timeout}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("agent offline: no answer within 120000 ms; the DIMM is still present"));
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_TIMEOUT);
}

TEST(UnplugMachine, TheEjectsEndBeforeTheDeletesAnswerStillCounts) {
  UnplugRun run;
  (void)run.Found();
  (void)run.Feed(BlocksAnswered{kAllOffline});
  EXPECT_TRUE(run.Feed(DeviceEventSeen{Deleted()}).empty()) << "kept for the delete's answer";
  Actions a = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(a), ElementsAre("device-del-sent", "deleted"));
  EXPECT_TRUE(Has<DeleteBackend>(a));
}

// The guest will not eject: FAILED, naming what it said, after the blocks are onlined again.
TEST(UnplugMachine, EachRefusalOfTheEjectRestoresTheBlocks) {
  for (bool early : {false, true}) {
    for (const char* said : {"the guest reported an _OST failure for the eject: status 0x1 (source 3)",
                             "DEVICE_UNPLUG_GUEST_ERROR: the guest failed the unplug"}) {
      SCOPED_TRACE(std::string(said) + (early ? " (before the answer)" : ""));
      UnplugRun run;
      (void)run.Found();
      (void)run.Feed(BlocksAnswered{kAllOffline});
      Actions a;
      if (early) {
        EXPECT_TRUE(run.Feed(DeviceEventSeen{Refused(said)}).empty());
        a = run.Feed(HardwareAnswered{OkStatus()});
      } else {
        (void)run.Feed(HardwareAnswered{OkStatus()});
        a = run.Feed(DeviceEventSeen{Refused(said)});
      }
      const OnlineBlocks* back = Find<OnlineBlocks>(a);
      ASSERT_NE(back, nullptr);
      EXPECT_EQ(back->request.selection().range().start(), kAddr);
      const auto r = Ended(run.Feed(BlocksAnswered{kAllOffline}));
      EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
      EXPECT_THAT(r.detail(), HasSubstr(std::string(said) + "; the DIMM is still present; its blocks are online again"));
    }
  }
}

TEST(UnplugMachine, ARefusalWithoutAnAgentLeavesTheBlocksOfflineAndSaysSo) {
  UnplugRun run;
  (void)run.Found();
  (void)run.Feed(BlocksAnswered{kAllOffline});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  run.agent = false;
  const auto r = Ended(run.Feed(DeviceEventSeen{Refused("the guest reported an _OST failure")}));
  EXPECT_THAT(r.detail(), HasSubstr("its blocks stay offline (no agent)"));
}

TEST(UnplugMachine, TheDeadlineEndsItTimedOutSayingTheDeviceIsStillThere) {
  UnplugRun run;
  (void)run.Found();
  (void)run.Feed(BlocksAnswered{kAllOffline});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  const auto r = Ended(run.Feed(TimerFired{kUnplugDeadlineTimer}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_TIMED_OUT);
  EXPECT_THAT(r.detail(), HasSubstr("no end within 120000 ms: no DEVICE_DELETED; the device is still present"));
}

TEST(UnplugMachine, RefusedWhenTheDeviceIsNotAnUnpluggableDimm) {
  struct Case {
    std::vector<memhp::v1::MemoryDevice> devices;
    const char* detail;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "no memory device 'dimm1'"},
           {{VirtioMem("dimm1", kAddr, 0, 1 << 30)}, "'dimm1' is a virtio-mem device: use resize"}}) {
    UnplugRun run;
    (void)run.Feed(Started{});
    const auto r = Ended(run.Feed(DevicesListed{c.devices}));
    EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
    EXPECT_EQ(r.detail(), c.detail);
    EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  }
}

TEST(UnplugMachine, WithoutAnAgentRefusedUnlessForced) {
  UnplugRun refused;
  refused.agent = false;
  const auto r = Ended(refused.Found());
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
  EXPECT_THAT(r.detail(), HasSubstr("no agent: the guest cannot be asked"));
  UnplugRun forced(true);
  forced.agent = false;
  Actions a = forced.Found();
  EXPECT_FALSE(Has<OfflineBlocks>(a));
  EXPECT_TRUE(Has<DeleteDimm>(a));
  (void)forced.Feed(HardwareAnswered{OkStatus()});
  (void)forced.Feed(DeviceEventSeen{Deleted()});
  EXPECT_EQ(Ended(forced.Feed(HardwareAnswered{OkStatus()})).detail(), "unplugged (forced without an agent)");
}

TEST(UnplugMachine, HardwareFailuresAndQemuGone) {
  UnplugRun del;
  (void)del.Found();
  (void)del.Feed(BlocksAnswered{kAllOffline});
  EXPECT_THAT(Ended(del.Feed(HardwareAnswered{QemuError("DeviceNotFound: dimm1")})).detail(),
              HasSubstr("device_del failed: DeviceNotFound: dimm1; the DIMM is still present (its blocks are offline)"));
  UnplugRun backend;
  (void)backend.Found();
  (void)backend.Feed(BlocksAnswered{kAllOffline});
  (void)backend.Feed(HardwareAnswered{OkStatus()});
  (void)backend.Feed(DeviceEventSeen{Deleted()});
  EXPECT_THAT(Ended(backend.Feed(HardwareAnswered{QemuError("GenericError: busy")})).detail(),
              HasSubstr("the DIMM is gone but object-del mem-dimm1 failed: GenericError: busy"));
  UnplugRun gone;
  (void)gone.Found();
  (void)gone.Feed(BlocksAnswered{kAllOffline});
  EXPECT_THAT(Ended(gone.Feed(QemuGone{"EOF"})).detail(), HasSubstr("QEMU went away during the device_del step"));
}

TEST(UnplugMachine, ResumedItEndsFromWhetherTheDeviceIsStillThere) {
  JournalOp op;
  op.params.kind = memhp::v1::OPERATION_KIND_UNPLUG;
  op.params.device_id = "dimm1";
  op.params.memdev_id = "mem-dimm1";
  op.steps = {{"agent-offlined", ""}};
  auto t = NextUnplug(ResumeUnplug(op), In(Started{}));
  t = NextUnplug(std::move(t.state), In(DevicesListed{std::vector{Dimm("dimm1", kAddr)}}));
  t = NextUnplug(std::move(t.state), In(BackendsListed{std::vector<std::string>{"mem-dimm1"}}));
  const auto still = Ended(t.actions);
  EXPECT_EQ(still.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(still.detail(), HasSubstr("dimm1 is still plugged (the guest had offlined its blocks"));
  t = NextUnplug(ResumeUnplug(op), In(Started{}));
  t = NextUnplug(std::move(t.state), In(DevicesListed{std::vector<memhp::v1::MemoryDevice>{}}));
  t = NextUnplug(std::move(t.state), In(BackendsListed{std::vector<std::string>{"mem-dimm1"}}));
  ASSERT_TRUE(Has<DeleteBackend>(t.actions));
  t = NextUnplug(std::move(t.state), In(HardwareAnswered{OkStatus()}));
  EXPECT_EQ(Ended(t.actions).outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_TRUE(Ended(t.actions).recovered());
}

}  // namespace
}  // namespace memhp::daemon::operations
