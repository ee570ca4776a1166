// memhp tests — the scenario runner (host-tools/ctl/scenario_runner.h) against a fake memhpd
// and a fake guest console: what each step sends, what it records, and every expect's verdict
// and reason.
#include "ctl/scenario_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;
constexpr uint64_t kMiB = uint64_t{1} << 20;

// memhpd and the guest, scripted: a virtio-mem device "vmem0" whose resize reaches `reach`
// bytes, a plug whose blocks land in `plug_zone`, a workload that holds its memory after
// `rss_polls` checks; a fake clock that Sleep advances.
class FakePeer : public ScenarioPeer {
 public:
  uint64_t vmem_size = 1024 * kMiB;
  uint64_t reach = 0;  // 0: the size asked
  memhp::v1::Zone plug_zone = memhp::v1::ZONE_MOVABLE;
  uint64_t audit_violations = 0;
  bool memhpd_down = false;
  int rss_polls = 2;
  int blocks_offline_polls = 1;
  std::vector<std::string> sent;     // request kinds, in order
  std::vector<std::string> shell;    // console commands, in order
  uint64_t now_ns = 1'000;

  Result<memhp::v1::ControlResponse> Call(const std::string& vm, memhp::v1::ControlRequest request,
                                          std::chrono::milliseconds) override {
    if (memhpd_down) return Error::Invalid("no memhpd for VM '" + vm + "'");
    memhp::v1::ControlResponse r;
    if (request.has_zones()) {
      sent.push_back("zones");
      auto* z = r.mutable_zones();
      z->set_mem_total_bytes(2048 * kMiB);
      z->set_mem_available_bytes(1500 * kMiB);
      z->set_page_size(4096);
      auto* node = z->add_nodes();
      auto* zone = node->add_zones();
      zone->set_zone(memhp::v1::ZONE_MOVABLE);
      zone->set_present_pages(vmem_size / 4096);
    } else if (request.has_status()) {
      sent.push_back("status");
      auto* d = r.mutable_status()->add_devices();
      d->set_id("vmem0");
      d->set_size(vmem_size);
      auto* inv = r.mutable_status()->mutable_agent()->mutable_inventory();
      auto* b = inv->add_blocks();
      b->set_state(blocks_offline_polls-- > 0 ? memhp::v1::BLOCK_STATE_OFFLINE : memhp::v1::BLOCK_STATE_ONLINE);
    } else if (request.has_plug()) {
      sent.push_back("plug " + std::to_string(request.plug().size() / kMiB));
      auto* op = r.mutable_operation();
      op->set_outcome(memhp::v1::OPERATION_OUTCOME_DONE);
      for (uint32_t i = 0; i < request.plug().size() / (128 * kMiB); ++i) {
        auto* b = op->add_blocks();
        b->set_block(40 + i);
        b->set_outcome(memhp::v1::BLOCK_OUTCOME_DONE);
        b->set_zone(plug_zone);
      }
    } else if (request.has_resize()) {
      sent.push_back("resize " + std::to_string(request.resize().requested_size() / kMiB));
      const uint64_t asked = request.resize().requested_size();
      vmem_size = reach ? reach : asked;
      auto* op = r.mutable_operation();
      op->set_outcome(vmem_size == asked ? memhp::v1::OPERATION_OUTCOME_DONE : memhp::v1::OPERATION_OUTCOME_PARTIAL);
      op->set_size_reached(vmem_size);
      op->set_detail(vmem_size == asked ? "" : "3 blocks busy");
    } else if (request.has_policy()) {
      sent.push_back("policy " + request.policy().set().policy());
      r.mutable_policy()->set_policy(request.policy().set().policy());
    } else if (request.has_audit()) {
      sent.push_back("audit");
      r.mutable_audit()->set_violations_total(audit_violations);
    }
    return r;
  }

  Result<std::string> Shell(const std::string&, const std::string& command, std::chrono::milliseconds) override {
    shell.push_back(command);
    // The console echoes the command line first, as a real one does.
    if (command.rfind("memhp-touch", 0) == 0) return command + "\n[1] 321\nwlpid 321\n";
    if (command.find("VmRSS") != std::string::npos) {
      return command + "\nVmRSS:\t" + std::to_string(rss_polls-- > 0 ? 1000 : 600 * 1024) + " kB\n";
    }
    if (command.rfind("kill", 0) == 0) return command + "\n";
    if (command.find("State:") != std::string::npos) return command + "\nwlgone 1\n";
    return command + "\n";
  }

  void Sleep(std::chrono::milliseconds d) override { now_ns += static_cast<uint64_t>(d.count()) * 1'000'000; }
  uint64_t MonotonicNs() override { return now_ns += 1000; }
  uint64_t UnixNs() override { return 1'700'000'000'000'000'000ull; }
};

ScenarioStep Step(StepKind kind) {
  ScenarioStep s;
  s.kind = kind;
  return s;
}

ScenarioStep Resize(uint64_t mib, std::string label = "") {
  ScenarioStep s = Step(StepKind::kResize);
  s.resize.device = "vmem0";
  s.resize.size_mib = mib;
  s.label = std::move(label);
  return s;
}

ScenarioStep Expect(ExpectKind kind) {
  ScenarioStep s = Step(StepKind::kExpect);
  s.expect.kind = kind;
  return s;
}

ScenarioStep ExpectFraction(double min) {
  ScenarioStep s = Expect(ExpectKind::kFractionUnplugged);
  s.expect.min_fraction = min;
  return s;
}

Scenario Of(std::vector<ScenarioStep> steps) {
  Scenario s;
  s.name = "t";
  s.steps = std::move(steps);
  return s;
}

TEST(ScenarioRunner, AFullShrinkHoldsItsFraction) {
  FakePeer peer;
  ScenarioRunner runner(peer, "default");
  const ScenarioRun run = runner.Run(Of({Resize(256), ExpectFraction(0.99)}));
  ASSERT_EQ(run.steps.size(), 2u);
  ASSERT_TRUE(run.steps[0].operation.has_value());
  EXPECT_EQ(run.steps[0].size_before, 1024 * kMiB);
  EXPECT_DOUBLE_EQ(run.steps[0].fraction_unplugged.value_or(-1), 1.0);
  EXPECT_EQ(run.steps[1].held, true);
  EXPECT_THAT(run.steps[1].why, HasSubstr("1024 MiB -> 256 MiB"));
  EXPECT_EQ(run.expects_held, 1u);
  EXPECT_EQ(ScenarioExitCode(run), 0);
  // A sample before the first step and after the resize (not after the expect).
  ASSERT_EQ(run.memory.size(), 2u);
  EXPECT_EQ(run.memory[1].after_step, 1u);
  ASSERT_EQ(run.memory[1].devices.size(), 1u);
  EXPECT_EQ(run.memory[1].devices[0].size, 256 * kMiB);
  ASSERT_EQ(run.memory[1].zones.size(), 1u);
  EXPECT_EQ(run.memory[1].zones[0].zone, "Movable");
}

TEST(ScenarioRunner, APartialShrinkFailsItsFractionAndSaysHowFar) {
  FakePeer peer;
  peer.reach = 640 * kMiB;  // of the 768 MiB asked, 384 went: one half
  ScenarioRunner runner(peer, "default");
  const ScenarioRun run = runner.Run(Of({Resize(256), ExpectFraction(0.75)}));
  EXPECT_DOUBLE_EQ(run.steps[0].fraction_unplugged.value_or(-1), 0.5);
  EXPECT_EQ(run.steps[1].held, false);
  EXPECT_THAT(run.steps[1].why, HasSubstr("fraction unplugged 0.5"));
  EXPECT_EQ(ScenarioExitCode(run), 1);
}

TEST(ScenarioRunner, OutcomeNamesTheOperationByLabelOrTheLastOne) {
  FakePeer peer;
  peer.reach = 640 * kMiB;
  ScenarioRunner runner(peer, "default");
  ScenarioStep done = Expect(ExpectKind::kOutcome);
  done.expect.outcome = "DONE";
  done.expect.of = "first";
  ScenarioStep partial = Expect(ExpectKind::kOutcome);
  partial.expect.outcome = "DONE";
  // The first resize (1024 -> 640 asked and reached) is DONE; the second (to 256) PARTIAL.
  const ScenarioRun run = runner.Run(Of({Resize(640, "first"), Resize(256), done, partial}));
  EXPECT_EQ(run.steps[2].held, true) << run.steps[2].why;
  EXPECT_EQ(run.steps[3].held, false);
  EXPECT_THAT(run.steps[3].why, HasSubstr("ended PARTIAL: 3 blocks busy"));
}

TEST(ScenarioRunner, ZoneHoldsOnlyWhenEveryOnlinedBlockIsThere) {
  for (const auto zone : {memhp::v1::ZONE_MOVABLE, memhp::v1::ZONE_NORMAL}) {
    FakePeer peer;
    peer.plug_zone = zone;
    ScenarioRunner runner(peer, "default");
    ScenarioStep plug = Step(StepKind::kPlug);
    plug.plug.size_mib = 256;
    ScenarioStep expect = Expect(ExpectKind::kZone);
    expect.expect.zone = "Movable";
    const ScenarioRun run = runner.Run(Of({plug, expect}));
    EXPECT_EQ(run.steps[1].held, zone == memhp::v1::ZONE_MOVABLE) << run.steps[1].why;
    if (zone == memhp::v1::ZONE_NORMAL) {
      EXPECT_THAT(run.steps[1].why, HasSubstr("block 40 is in Normal"));
    }
  }
}

TEST(ScenarioRunner, AnExpectWithNoOperationBeforeItFails) {
  FakePeer peer;
  ScenarioRunner runner(peer, "default");
  const ScenarioRun run = runner.Run(Of({ExpectFraction(0)}));
  EXPECT_EQ(run.steps[0].held, false);
  EXPECT_THAT(run.steps[0].why, HasSubstr("no operation ran"));
}

TEST(ScenarioRunner, AuditViolationsAreCounted) {
  for (uint64_t violations : {0u, 3u}) {
    FakePeer peer;
    peer.audit_violations = violations;
    ScenarioRunner runner(peer, "default");
    const ScenarioRun run = runner.Run(Of({Expect(ExpectKind::kNoAuditViolations)}));
    EXPECT_EQ(run.steps[0].held, violations == 0);
    EXPECT_THAT(run.steps[0].why, HasSubstr(std::to_string(violations) + " violating accesses"));
  }
}

TEST(ScenarioRunner, AnUnreachableMemhpdIsAStepErrorAndTheExpectSaysWhy) {
  FakePeer peer;
  peer.memhpd_down = true;
  ScenarioRunner runner(peer, "default");
  const ScenarioRun run = runner.Run(Of({Resize(256), ExpectFraction(0.5)}));
  EXPECT_THAT(run.steps[0].error, HasSubstr("no memhpd for VM 'default'"));
  EXPECT_EQ(run.steps[1].held, false);
  EXPECT_THAT(run.steps[1].why, HasSubstr("has no result: no memhpd"));
  EXPECT_EQ(run.step_errors, 1u);
  EXPECT_TRUE(run.memory.empty());
  EXPECT_EQ(ScenarioExitCode(run), 1);
}

TEST(ScenarioRunner, AWorkloadStartsAtAFractionWaitsUntilHeldAndStops) {
  FakePeer peer;
  ScenarioRunner runner(peer, "default");
  ScenarioStep start = Step(StepKind::kWorkload);
  start.workload.name = "fill";
  start.workload.fraction = 0.25;  // of the fake's 2048 MiB
  start.workload.node = 1;
  ScenarioStep stop = Step(StepKind::kWorkload);
  stop.workload.action = WorkloadAction::kStop;
  stop.workload.name = "fill";
  const ScenarioRun run = runner.Run(Of({start, stop}));
  ASSERT_EQ(run.steps.size(), 2u);
  EXPECT_EQ(run.steps[0].error, "");
  EXPECT_THAT(run.steps[0].detail, HasSubstr("512 MiB anonymous on node 1, pid 321"));
  ASSERT_GE(peer.shell.size(), 4u);
  EXPECT_THAT(peer.shell[0], HasSubstr("memhp-touch --mib 512 --seconds 86400 --node 1"));
  // Two answers below 90 % of 512 MiB, then one above: three checks.
  EXPECT_EQ(std::count_if(peer.shell.begin(), peer.shell.end(),
                          [](const std::string& c) { return c.find("VmRSS") != std::string::npos; }),
            3);
  EXPECT_EQ(run.steps[1].error, "");
  EXPECT_THAT(peer.shell.back(), HasSubstr("grep State: /proc/321/status"));
}

TEST(ScenarioRunner, AWorkloadThatNeverHoldsItsMemoryTimesOutAndIsStoppedAtTheEnd) {
  FakePeer peer;
  peer.rss_polls = 1'000'000;
  ScenarioRunner runner(peer, "default");
  ScenarioStep start = Step(StepKind::kWorkload);
  start.workload.size_mib = 512;
  start.workload.timeout_s = 5;
  const ScenarioRun run = runner.Run(Of({start}));
  EXPECT_THAT(run.steps[0].error, HasSubstr("did not hold 512 MiB within 5 s"));
  EXPECT_THAT(peer.shell.back(), HasSubstr("/proc/321/status"));
  EXPECT_TRUE(std::any_of(peer.shell.begin(), peer.shell.end(), [](const std::string& c) { return c == "kill -9 321"; }));
}

TEST(ScenarioRunner, WaitUntilAllBlocksOnlineChecksAgainUntilTheyAre) {
  FakePeer peer;
  peer.blocks_offline_polls = 3;  // one of them is the first sample's status
  ScenarioRunner runner(peer, "default");
  ScenarioStep wait = Step(StepKind::kWait);
  wait.wait.until = WaitUntil::kAllBlocksOnline;
  wait.wait.seconds = 30;
  const ScenarioRun run = runner.Run(Of({wait}));
  EXPECT_EQ(run.steps[0].error, "");
  EXPECT_EQ(run.steps[0].detail, "all 1 blocks online");
}

TEST(ScenarioRunner, TheSeedDrawsTheSameSizesEveryRun) {
  ScenarioStep drawn = Step(StepKind::kResize);
  drawn.resize.device = "vmem0";
  drawn.resize.min_mib = 128;
  drawn.resize.max_mib = 1024;
  drawn.resize.align_mib = 128;
  ScenarioStep repeat = Step(StepKind::kRepeat);
  repeat.times = 6;
  repeat.steps = {drawn};
  Scenario s = Of({repeat});
  s.seed = 42;
  std::vector<std::string> first;
  for (int run = 0; run < 2; ++run) {
    FakePeer peer;
    ScenarioRunner runner(peer, "default");
    const ScenarioRun r = runner.Run(s);
    ASSERT_EQ(r.steps.size(), 6u);
    EXPECT_EQ(r.steps[5].path, "1#6.1");
    std::vector<std::string> sizes;
    for (const std::string& c : peer.sent) {
      if (c.rfind("resize", 0) == 0) sizes.push_back(c);
    }
    for (const std::string& c : sizes) {
      const uint64_t mib = std::stoull(c.substr(7));
      EXPECT_EQ(mib % 128, 0u);
      EXPECT_GE(mib, 128u);
      EXPECT_LE(mib, 1024u);
    }
    if (run == 0) first = sizes;
    else EXPECT_EQ(sizes, first);
  }
}

}  // namespace
}  // namespace memhp::ctl
