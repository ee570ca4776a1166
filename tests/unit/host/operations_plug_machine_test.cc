// The plug machine (daemon/operations/plug_machine.h), path by path: each test feeds the inputs
// the runner would and checks the actions and the end. Pure: no QEMU, no agent, no loop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/operations/plug_machine.h"
#include "machine_test_support.h"

namespace memhp::daemon::operations {
namespace {

using namespace test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kAddr = uint64_t{4} << 30;

FactsGathered Facts(bool devices_known = true) {
  FactsGathered f;
  f.hardware.devices_known = devices_known;
  f.hardware.base_memory = 512 * kMiB;
  f.hardware.plugged_memory = 0;
  f.hardware.max_memory = uint64_t{8} << 30;
  f.hardware.slots = 4;
  f.hardware.node_count = 2;
  if (!devices_known) f.hardware.problems.push_back("query-memory-devices: timed out");
  return f;
}

struct PlugRun {
  PlugState s;
  bool agent = true;
  explicit PlugRun(memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED, uint64_t size = 256 * kMiB) {
    memhp::v1::PlugRequest r;
    r.set_device_id("dimm1");
    r.set_size(size);
    r.set_node(1);
    r.set_target(target);
    s = BeginPlug(r, OperationTimeouts{});
  }
  Actions Feed(Event e) {
    Transition<PlugState> t = NextPlug(std::move(s), In(std::move(e), agent));
    s = std::move(t.state);
    return std::move(t.actions);
  }
  // Drives the plug to the wait for its blocks; returns every action on the way.
  Actions ToOnline() {
    Actions all;
    auto add = [&](Actions a) { all.insert(all.end(), a.begin(), a.end()); };
    add(Feed(Started{}));
    add(Feed(Facts()));
    add(Feed(IntentAnswered{OkStatus()}));
    add(Feed(HardwareAnswered{OkStatus()}));  // object-add
    add(Feed(HardwareAnswered{OkStatus()}));  // device_add
    add(Feed(DevicesListed{std::vector{Dimm("dimm1", kAddr)}}));
    add(Feed(MapAnswered{uint32_t{2}}));
    return all;
  }
};

TEST(PlugMachine, EveryStepInOrderThenDoneWhenEveryBlockIsOnline) {
  PlugRun run;
  Actions first = run.Feed(Started{});
  EXPECT_THAT(Steps(first), ElementsAre("admission"));
  EXPECT_TRUE(Has<AskFacts>(first));

  Actions admitted = run.Feed(Facts());
  const JournalBegin* begin = Find<JournalBegin>(admitted);
  ASSERT_NE(begin, nullptr);
  EXPECT_EQ(begin->params.device_id, "dimm1");
  EXPECT_EQ(begin->params.memdev_id, "mem-dimm1");
  // The intent goes before any hardware: no address yet (QEMU picks it at device_add).
  const SendIntent* intent = Find<SendIntent>(admitted);
  ASSERT_NE(intent, nullptr);
  EXPECT_EQ(intent->intent.device_id(), "dimm1");
  EXPECT_EQ(intent->intent.kind(), memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  EXPECT_EQ(intent->intent.node(), 1);
  EXPECT_EQ(intent->intent.size(), 0u);
  EXPECT_EQ(intent->intent.expected_size(), 256 * kMiB);
  EXPECT_GT(intent->intent.deadline_ms(), 0u);
  EXPECT_FALSE(Has<AddBackend>(admitted));

  Actions backend = run.Feed(IntentAnswered{OkStatus()});
  ASSERT_TRUE(Has<AddBackend>(backend));
  EXPECT_EQ(Find<AddBackend>(backend)->dimm.backend_id, "mem-dimm1");
  Actions dimm = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(dimm), ElementsAre("object-added"));
  ASSERT_TRUE(Has<AddDimm>(dimm));
  EXPECT_EQ(Find<AddDimm>(dimm)->dimm.node, 1);
  Actions locate = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(locate), ElementsAre("device-added"));
  EXPECT_TRUE(Has<ListDevices>(locate));
  EXPECT_FALSE(Has<RememberTarget>(locate)) << "no zone asked";
  Actions map = run.Feed(DevicesListed{std::vector{Dimm("dimm1", kAddr)}});
  ASSERT_TRUE(Has<SendDeviceMap>(map));
  Actions wait = run.Feed(MapAnswered{uint32_t{2}});
  const WaitOnline* w = Find<WaitOnline>(wait);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->options.range.start, kAddr);
  EXPECT_EQ(w->options.range.size, 256 * kMiB);
  EXPECT_EQ(w->options.range.block_size, kBlock);

  Actions end = run.Feed(OnlineWaitEnded{WaitEnd(OnlineWaitEndReason::kSettled,
                                                 {BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE),
                                                  BlockResult(33, memhp::v1::BLOCK_OUTCOME_DONE)},
                                                 256 * kMiB)});
  const auto& r = Ended(end);
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(r.address(), kAddr);
  EXPECT_EQ(r.size_reached(), 256 * kMiB);
  EXPECT_TRUE(r.guest_side_known());
  EXPECT_EQ(r.blocks_size(), 2);
  // Nothing after the end.
  EXPECT_TRUE(run.Feed(QemuGone{"late"}).empty());
}

TEST(PlugMachine, RefusedAtAdmissionCreatesNothing) {
  PlugRun run(memhp::v1::ONLINE_TARGET_UNSPECIFIED, 100 * kMiB);  // not a multiple of the block size
  (void)run.Feed(Started{});
  Actions a = run.Feed(Facts());
  const auto& r = Ended(a);
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_REFUSED);
  EXPECT_THAT(r.detail(), HasSubstr("not a multiple of the guest block size"));
  EXPECT_FALSE(Has<JournalBegin>(a));
  EXPECT_FALSE(Has<AddBackend>(a));
  EXPECT_FALSE(Has<SendIntent>(a));
}

TEST(PlugMachine, WithoutTheDeviceListItFailsNamingWhy) {
  PlugRun run;
  (void)run.Feed(Started{});
  const auto& r = Ended(run.Feed(Facts(false)));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("cannot learn QEMU's memory devices; query-memory-devices: timed out"));
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_QMP);
}

TEST(PlugMachine, AnIntentTheAgentRefusesIsNotFatal) {
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  Error unsupported{0, "this agent takes no plug intents"};
  unsupported.code = memhp::v1::ERROR_CODE_UNSUPPORTED;
  Actions a = run.Feed(IntentAnswered{unsupported});
  const EndStep* end = Find<EndStep>(a);
  ASSERT_NE(end, nullptr);
  EXPECT_FALSE(end->ok);
  EXPECT_THAT(end->detail, HasSubstr("agent did not take the intent"));
  EXPECT_TRUE(Has<AddBackend>(a));
}

TEST(PlugMachine, ObjectAddFailingEndsWithNothingCreated) {
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  const auto& r = Ended(run.Feed(HardwareAnswered{QemuError("GenericError: out of memory")}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("object-add failed: GenericError: out of memory; nothing created"));
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_QMP);
}

TEST(PlugMachine, DeviceAddFailingRollsTheBackendBack) {
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  Actions rollback = run.Feed(HardwareAnswered{QemuError("GenericError: no free slot")});
  ASSERT_TRUE(Has<DeleteBackend>(rollback));
  EXPECT_EQ(Find<DeleteBackend>(rollback)->backend_id, "mem-dimm1");
  EXPECT_FALSE(Has<Finish>(rollback));
  Actions end = run.Feed(HardwareAnswered{OkStatus()});
  EXPECT_THAT(JournalSteps(end), ElementsAre("object-deleted"));
  const auto& r = Ended(end);
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("device_add failed: GenericError: no free slot; backend mem-dimm1 removed"));
}

TEST(PlugMachine, ABackendThatCannotBeRolledBackIsSaidToBeLeftOver) {
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{QemuError("GenericError: no free slot")});
  const auto& r = Ended(run.Feed(HardwareAnswered{QemuError("GenericError: in use")}));
  EXPECT_THAT(r.detail(), HasSubstr("object-del mem-dimm1 failed too (GenericError: in use): the backend is left over"));
}

TEST(PlugMachine, QemuGoneAtAnyHardwareStepEndsSayingSo) {
  // device_add's answer is "disconnected": not a device_add failure, and no rollback.
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  Actions a = run.Feed(HardwareAnswered{GoneError()});
  EXPECT_FALSE(Has<DeleteBackend>(a));
  const auto& r = Ended(a);
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("QEMU went away during the device_add step"));
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_UNAVAILABLE);
  // And while waiting for the blocks, as an event.
  PlugRun waiting;
  (void)waiting.ToOnline();
  EXPECT_THAT(Ended(waiting.Feed(QemuGone{"EOF"})).detail(), HasSubstr("QEMU went away during the online step (EOF)"));
}

TEST(PlugMachine, AManagerOutOfReachLeavesThePlugOpenForTheResume) {
  // libvirtd restarted after the DIMM was attached: neither failed nor rolled back on a guess.
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  Error reset{ECONNRESET, "virDomainAttachDeviceFlags: the libvirt connection is closed"};
  Actions a = run.Feed(HardwareAnswered{reset});
  ASSERT_TRUE(Has<Abandon>(a));
  EXPECT_FALSE(Has<Finish>(a));
  EXPECT_FALSE(Has<DeleteBackend>(a));
  EXPECT_THAT(std::get<Abandon>(a.back()).why, HasSubstr("during the device_add step"));
  EXPECT_TRUE(run.Feed(HardwareAnswered{OkStatus()}).empty()) << "over: later answers change nothing";
  // And while waiting for the blocks, told by the supervisor.
  PlugRun waiting;
  (void)waiting.ToOnline();
  Actions w = waiting.Feed(ManagerUnreachable{"closed (reason 1)"});
  ASSERT_TRUE(Has<Abandon>(w));
  EXPECT_THAT(std::get<Abandon>(w.back()).why, HasSubstr("during the online step (closed (reason 1))"));
  // A resume that cannot reach the manager leaves the journal as it is, too.
  JournalOp op;
  op.id = 3;
  op.params.kind = memhp::v1::OPERATION_KIND_PLUG;
  op.params.device_id = "dimm1";
  auto t = NextPlug(ResumePlug(op), In(Started{}));
  t = NextPlug(std::move(t.state), In(DevicesListed{reset}));
  EXPECT_TRUE(Has<Abandon>(t.actions));
  EXPECT_FALSE(Has<Finish>(t.actions));
  // Once the manager is back, the same memhpd resumes it, and the detail says why it was resumed.
  auto back = NextPlug(ResumePlug(op, ResumeCause::kReconnect), In(Started{}));
  back = NextPlug(std::move(back.state), In(DevicesListed{std::vector<memhp::v1::MemoryDevice>{Dimm("dimm1", kAddr, 128 * kMiB)}}));
  back = NextPlug(std::move(back.state), In(BackendsListed{std::vector<std::string>{}}));
  EXPECT_EQ(Ended(back.actions).outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_THAT(Ended(back.actions).detail(),
              HasSubstr("recovered after the connection to the VM's manager came back: dimm1 is plugged"));
  EXPECT_THAT(Ended(back.actions).detail(), Not(HasSubstr("restart")));
}

TEST(PlugMachine, ADimmQemuDoesNotListFailsRatherThanGuessAnAddress) {
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  const auto& r = Ended(run.Feed(DevicesListed{std::vector<memhp::v1::MemoryDevice>{}}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("device_add succeeded but query-memory-devices does not list dimm1"));
}

TEST(PlugMachine, WithoutAnAgentNoIntentAndDoneOnceLocated) {
  PlugRun run;
  run.agent = false;
  (void)run.Feed(Started{});
  Actions admitted = run.Feed(Facts());
  EXPECT_FALSE(Has<SendIntent>(admitted));
  EXPECT_TRUE(Has<AddBackend>(admitted));
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  const auto& r = Ended(run.Feed(DevicesListed{std::vector{Dimm("dimm1", kAddr)}}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_FALSE(r.guest_side_known());
  EXPECT_EQ(r.size_reached(), 256 * kMiB);
  EXPECT_THAT(r.detail(), HasSubstr("guest side unknown (no agent)"));
}

TEST(PlugMachine, ADeviceMapTheAgentRefusesIsNotFatal) {
  PlugRun run;
  (void)run.Feed(Started{});
  (void)run.Feed(Facts());
  (void)run.Feed(IntentAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(HardwareAnswered{OkStatus()});
  (void)run.Feed(DevicesListed{std::vector{Dimm("dimm1", kAddr)}});
  Actions a = run.Feed(MapAnswered{QemuError("bad map")});
  ASSERT_NE(Find<EndStep>(a), nullptr);
  EXPECT_FALSE(Find<EndStep>(a)->ok);
  EXPECT_TRUE(Has<WaitOnline>(a));
}

TEST(PlugMachine, AZoneAskedIsRememberedSentAsIntentAndCheckedOnEveryBlock) {
  PlugRun run(memhp::v1::ONLINE_TARGET_KERNEL);
  Actions all = run.ToOnline();
  ASSERT_TRUE(Has<SendIntent>(all));
  EXPECT_EQ(Find<SendIntent>(all)->intent.target(), memhp::v1::ONLINE_TARGET_KERNEL);
  ASSERT_TRUE(Has<RememberTarget>(all));
  EXPECT_EQ(Find<RememberTarget>(all)->target, memhp::v1::ONLINE_TARGET_KERNEL);
  EXPECT_EQ(Find<WaitOnline>(all)->options.target, memhp::v1::ONLINE_TARGET_KERNEL);
  // One block landed in Movable: PARTIAL, naming it.
  PlugRun misplaced(memhp::v1::ONLINE_TARGET_KERNEL);
  (void)misplaced.ToOnline();
  const auto& p = Ended(misplaced.Feed(OnlineWaitEnded{
      WaitEnd(OnlineWaitEndReason::kSettled,
              {BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE, memhp::v1::ZONE_NORMAL),
               BlockResult(33, memhp::v1::BLOCK_OUTCOME_DONE, memhp::v1::ZONE_MOVABLE)},
              256 * kMiB)}));
  EXPECT_EQ(p.outcome(), memhp::v1::OPERATION_OUTCOME_PARTIAL);
  EXPECT_THAT(p.detail(), HasSubstr("1 block(s) online outside the zone asked, Normal: 33 (Movable)"));
  // Every block in Normal: DONE.
  const auto& d = Ended(run.Feed(OnlineWaitEnded{
      WaitEnd(OnlineWaitEndReason::kSettled,
              {BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE, memhp::v1::ZONE_NORMAL),
               BlockResult(33, memhp::v1::BLOCK_OUTCOME_ALREADY, memhp::v1::ZONE_NORMAL)},
              256 * kMiB)}));
  EXPECT_EQ(d.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
}

// How the wait for the blocks ends, and what the plug answers.
TEST(PlugMachine, EachEndOfTheWaitForTheBlocks) {
  struct Case {
    const char* name;
    OnlineWaitEnd end;
    memhp::v1::OperationOutcome outcome;
    const char* detail;
  };
  const std::vector<Case> cases = {
      {"one block failed", WaitEnd(OnlineWaitEndReason::kSettled,
                                   {BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE),
                                    BlockResult(33, memhp::v1::BLOCK_OUTCOME_VETOED)},
                                   128 * kMiB, 1),
       memhp::v1::OPERATION_OUTCOME_PARTIAL, "128 MiB of 256 MiB online; 1 block(s) failed to come online"},
      {"left offline by the policy",
       [] {
         OnlineWaitEnd e = WaitEnd(OnlineWaitEndReason::kLeftOffline, {}, 0);
         e.detail = "2 block(s) left offline by the agent's policy";
         return e;
       }(),
       memhp::v1::OPERATION_OUTCOME_DONE, "0 B of 256 MiB online; 2 block(s) left offline by the agent's policy"},
      {"timed out", WaitEnd(OnlineWaitEndReason::kTimedOut, {BlockResult(32, memhp::v1::BLOCK_OUTCOME_DONE)}, 128 * kMiB),
       memhp::v1::OPERATION_OUTCOME_TIMED_OUT, "the DIMM is plugged; 128 MiB of 256 MiB online when the wait"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PlugRun run;
    (void)run.ToOnline();
    const auto& r = Ended(run.Feed(OnlineWaitEnded{c.end}));
    EXPECT_EQ(r.outcome(), c.outcome);
    EXPECT_THAT(r.detail(), HasSubstr(c.detail));
  }
}

TEST(PlugMachine, TheAgentLostWhileWaitingFailsOnlyOnceQemuIsKnownAlive) {
  PlugRun run;
  (void)run.ToOnline();
  OnlineWaitEnd lost = WaitEnd(OnlineWaitEndReason::kAgentLost, {}, 0);
  lost.detail = "the agent went away while memhpd waited for the blocks";
  Actions a = run.Feed(OnlineWaitEnded{lost});
  EXPECT_TRUE(Has<CheckAlive>(a));
  EXPECT_FALSE(Has<Finish>(a));
  const auto& r = Ended(run.Feed(AliveChecked{OkStatus()}));
  EXPECT_EQ(r.outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(r.detail(), HasSubstr("the DIMM is plugged; the agent went away"));
  EXPECT_FALSE(r.guest_side_known());
  // QEMU gone too: then that is the end.
  PlugRun both;
  (void)both.ToOnline();
  (void)both.Feed(OnlineWaitEnded{lost});
  EXPECT_THAT(Ended(both.Feed(AliveChecked{GoneError()})).detail(), HasSubstr("QEMU went away during the online step"));
}

// memhpd restarted with the plug journaled and not ended: the same machine, resumed.
TEST(PlugMachine, ResumedFromTheJournalItEndsFromQemusState) {
  JournalOp op;
  op.id = 7;
  op.params.kind = memhp::v1::OPERATION_KIND_PLUG;
  op.params.device_id = "dimm9";
  op.params.memdev_id = "mem-dimm9";
  op.steps = {{"object-added", "mem-dimm9"}};
  auto resume = [&](std::vector<memhp::v1::MemoryDevice> devices, std::vector<std::string> backends) {
    PlugState s = ResumePlug(op);
    auto t = NextPlug(std::move(s), In(Started{}));
    EXPECT_TRUE(Has<ListDevices>(t.actions));
    t = NextPlug(std::move(t.state), In(DevicesListed{devices}));
    EXPECT_TRUE(Has<ListBackends>(t.actions));
    t = NextPlug(std::move(t.state), In(BackendsListed{backends}));
    return t;
  };
  auto plugged = resume({Dimm("dimm9", kAddr, 128 * kMiB)}, {"mem-dimm9"});
  const auto& done = Ended(plugged.actions);
  EXPECT_EQ(done.outcome(), memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_TRUE(done.recovered());
  EXPECT_THAT(done.detail(), HasSubstr("recovered after a memhpd restart: dimm9 is plugged"));

  auto orphan = resume({}, {"mem-dimm9"});
  ASSERT_TRUE(Has<DeleteBackend>(orphan.actions));
  auto after = NextPlug(std::move(orphan.state), In(HardwareAnswered{OkStatus()}));
  EXPECT_EQ(Ended(after.actions).outcome(), memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_THAT(Ended(after.actions).detail(), HasSubstr("backend mem-dimm9 removed"));

  EXPECT_THAT(Ended(resume({}, {}).actions).detail(), HasSubstr("nothing was plugged"));

  // QEMU cannot say: the journal stays as it is, for the next start.
  auto t = NextPlug(ResumePlug(op), In(Started{}));
  t = NextPlug(std::move(t.state), In(DevicesListed{QemuError("timed out")}));
  EXPECT_TRUE(Has<Abandon>(t.actions));
  EXPECT_FALSE(Has<Finish>(t.actions));
  auto g = NextPlug(ResumePlug(op), In(Started{}));
  g = NextPlug(std::move(g.state), In(QemuGone{"EOF"}));
  EXPECT_TRUE(Has<Abandon>(g.actions));
}

}  // namespace
}  // namespace memhp::daemon::operations
