// memhp vm suite — the memhp-audit plugin driven by memhpd in a booted guest:
// `launch --audit` arms it once the agent says hello; a DIMM plugged through QMP and onlined by
// the agent's policy shows heat and a time to first use when a workload (memhp-touch, in the
// image) runs on its node; an online range declared UNPLUGGED straight on the plugin's socket
// gets the workload's accesses flagged, at pages inside it (proof that detection works); after a
// real offline and device_del, a stress run adds no violation.
//
// One VM for the suite; the tests build on each other in declaration order.
#include <glib.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "daemon/audit_ranges.h"
#include "memhp/v1/audit.pb.h"
#include "memhpctl_runner.h"
#include "shared_vm.h"
#include "wire/frame_codec.h"
#include "../support/audit_client.h"

namespace memhp::vmtest {
namespace {

namespace v1 = memhp::v1;

constexpr int64_t kBlock = 128ll << 20;
constexpr int64_t kDimmSize = 256ll << 20;

struct BlockHeat {
  int64_t start = -1;
  std::string state;
  int64_t reads = 0;
  int64_t writes = 0;
  bool touched = false;
  int64_t first_touch_ns = 0;
};

class Audit : public SharedVmTest<Audit> {
 public:
  static constexpr char kVm[] = "au";
  static std::vector<std::string> LaunchArgs() { return {"--audit"}; }

 protected:
  static std::string State(const std::string& file) { return vm_->Dir() + "/" + file; }

  static Json Report() {
    CliRun run = Ctl({"--json", "audit"});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return ResultOf(run);
  }

  static std::vector<BlockHeat> Blocks(const Json& report, const std::string& label) {
    std::vector<BlockHeat> blocks;
    for (size_t i = 0; i < report.Length("blocks"); ++i) {
      const std::string p = "blocks." + std::to_string(i);
      if (report.String(p + ".label") != label) continue;
      blocks.push_back(BlockHeat{std::stoll(report.String(p + ".start")), report.String(p + ".state"),
                                 std::stoll(report.String(p + ".reads")), std::stoll(report.String(p + ".writes")),
                                 report.Bool(p + ".touched"), std::stoll(report.String(p + ".first_touch_ns"))});
    }
    return blocks;
  }

  static int64_t ViolationsTotal(const Json& report) { return std::stoll(report.String("violations_total")); }

  // Polls the audit report until every block labelled `label` is in `state` (memhpd has told
  // the plugin), or the time is up.
  static bool WaitState(const std::string& label, const std::string& state, int seconds) {
    for (int i = 0; i < seconds * 4; ++i) {
      const std::vector<BlockHeat> blocks = Blocks(Report(), label);
      bool all = !blocks.empty();
      for (const BlockHeat& b : blocks) all &= b.state == state;
      if (all) return true;
      g_usleep(250 * 1000);
    }
    return false;
  }

  // Runs the workload in the guest; returns its summary line ("" when it did not finish).
  static std::string Touch(const std::string& args, int timeout_ms = 120000) {
    const std::string out = Guest("memhp-touch " + args, timeout_ms);
    const size_t at = out.find("memhp-touch: mib=");
    return at == std::string::npos ? "" : out.substr(at, out.find('\n', at) - at);
  }

  static int64_t dimm_;  // the DIMM's guest-physical address
};
int64_t Audit::dimm_ = -1;

TEST_F(Audit, LaunchArmsThePluginAfterBootAndWatchesTheVirtioMemRegions) {
  Json report = Report();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report.Bool("armed")) << "memhpd arms the plugin once the agent said hello";
  EXPECT_EQ(report.String("block_size"), std::to_string(kBlock));
  // vmem0 and vmem1 are 2 GiB each, not plugged: UNPLUGGED, minus the blocks whose plugin
  // addresses QEMU 7.2 also gives to boot1 and pc.rom (audit_ranges.h).
  const std::vector<BlockHeat> vmem1 = Blocks(report, "vmem1");
  EXPECT_EQ(vmem1.size(), 15u);
  for (const BlockHeat& b : vmem1) EXPECT_EQ(b.state, "AUDIT_RANGE_STATE_UNPLUGGED");
  EXPECT_EQ(ViolationsTotal(report), 0) << report.String("violations.0.label");
  EXPECT_GT(std::stoll(report.String("outside_accesses")), 0) << "boot memory is in use";

  // status gains a heat column; a VM without --audit answers UNAVAILABLE (see the next test).
  CliRun status = Ctl({"status"});
  EXPECT_NE(status.out.find("HEAT"), std::string::npos) << status.out;
}

TEST_F(Audit, PluggedDimmShowsFirstTouchAndHeatUnderTheWorkload) {
  ASSERT_EQ(Ctl({"qmp", "object-add", R"({"qom-type":"memory-backend-ram","id":"mem-d1","size":268435456})"}).exit_code, 0);
  CliRun add = Ctl({"qmp", "device_add", R"({"driver":"pc-dimm","id":"d1","memdev":"mem-d1","node":1})"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  Json status = ResultOf(Ctl({"--json", "status"}));
  for (size_t d = 0; d < status.Length("devices"); ++d) {
    if (status.String("devices." + std::to_string(d) + ".id") == "d1") dimm_ = status.Int("devices." + std::to_string(d) + ".address");
  }
  ASSERT_GT(dimm_, 0);
  ASSERT_TRUE(WaitOnline(dimm_, kDimmSize, 60)) << "the agent did not online the DIMM";
  ASSERT_TRUE(WaitState("d1", "AUDIT_RANGE_STATE_ONLINE", 10)) << "memhpd did not tell the plugin";
  // The guest may already use the new ZONE_MOVABLE memory (page cache, the agent's own reads)
  // before the workload runs, so the workload's share is measured as the growth in writes.
  int64_t writes_before = 0;
  for (const BlockHeat& b : Blocks(Report(), "d1")) writes_before += b.writes;

  // Bound to node 1, whose zonelist starts with the DIMM's ZONE_MOVABLE.
  const std::string line = Touch("--mib 64 --node 1");
  ASSERT_FALSE(line.empty()) << "the workload did not finish";
  const size_t at = line.find("phys_min=0x");
  ASSERT_NE(at, std::string::npos) << line;
  const int64_t phys_min = std::stoll(line.substr(at + 11), nullptr, 16);
  ASSERT_TRUE(phys_min >= dimm_ && phys_min < dimm_ + kDimmSize) << "the workload's memory is not on the DIMM: " << line;

  Json report = Report();
  int64_t writes = 0;
  bool touched = false;
  for (const BlockHeat& b : Blocks(report, "d1")) {
    writes += b.writes;
    if (b.touched) {
      touched = true;
      EXPECT_GT(b.first_touch_ns, 0) << "time to first use is measured from the plug";
    }
  }
  // 64 MiB written page by page: at least one store per 4 KiB page.
  EXPECT_GE(writes - writes_before, (64ll << 20) / 4096);
  EXPECT_TRUE(touched);
  EXPECT_EQ(ViolationsTotal(report), 0);
  CliRun text = Ctl({"audit"});
  EXPECT_NE(text.out.find("d1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find('#'), std::string::npos) << "a heat bar for the hot block\n" << text.out;
}

TEST_F(Audit, OnlineRangeDeclaredUnpluggedGetsTheWorkloadsAccessesFlagged) {
  ASSERT_GT(dimm_, 0) << "needs the DIMM of the previous test";
  // The plugin addresses of the DIMM's blocks, computed from QEMU's answers the way memhpd does.
  auto hmp = [](const std::string& command) {
    Json out(Ctl({"qmp", "human-monitor-command", "{\"command-line\":\"" + command + "\"}"}).out);
    return out.ok() && JSON_NODE_HOLDS_VALUE(out.root()) ? std::string(json_node_get_string(out.root())) : "";
  };
  daemon::AuditInputs in;
  std::string error;
  auto ramblocks = daemon::ParseRamBlocks(hmp("info ramblock"), &error);
  ASSERT_TRUE(ramblocks) << error;
  in.ramblocks = *ramblocks;
  in.region_offsets = daemon::ParseMtreeRegionOffsets(hmp("info mtree"));
  v1::MemoryDevice dimm;
  dimm.set_kind(v1::MEMORY_DEVICE_KIND_DIMM);
  dimm.set_id("d1");
  dimm.set_address(static_cast<uint64_t>(dimm_));
  dimm.set_size(kDimmSize);
  dimm.set_memdev("/objects/mem-d1");
  in.devices = {dimm};
  in.block_size = kBlock;
  const daemon::AuditPlan plan = daemon::BuildAuditPlan(in);
  ASSERT_EQ(plan.ranges.size(), 2u) << (plan.skipped.empty() ? "" : plan.skipped[0]);

  test_support::AuditClient audit(State("audit.sock"));
  ASSERT_TRUE(audit.connected());
  v1::AuditRequest declare;
  declare.set_id(1);
  for (v1::AuditRange range : plan.ranges) {
    range.set_state(v1::AUDIT_RANGE_STATE_UNPLUGGED);
    *declare.mutable_set_ranges()->add_ranges() = range;
  }
  std::optional<v1::AuditResponse> answer = audit.Call(declare);
  ASSERT_TRUE(answer);
  ASSERT_FALSE(answer->has_error()) << answer->error().message();
  EXPECT_EQ(answer->ranges(), 2u);

  ASSERT_FALSE(Touch("--mib 32 --node 1").empty());
  Json report = Report();
  EXPECT_GT(ViolationsTotal(report), 0) << "the workload's accesses to an 'unplugged' range were not flagged";
  ASSERT_GT(report.Length("violations"), 0u);
  bool write_seen = false;
  for (size_t i = 0; i < report.Length("violations"); ++i) {
    const std::string p = "violations." + std::to_string(i);
    const int64_t page = std::stoll(report.String(p + ".page"));
    EXPECT_TRUE(page >= dimm_ && page < dimm_ + kDimmSize) << "violation outside the declared range: " << page;
    EXPECT_EQ(page % 4096, 0);
    EXPECT_EQ(report.String(p + ".label"), "d1");
    EXPECT_EQ(report.String(p + ".state"), "AUDIT_RANGE_STATE_UNPLUGGED");
    EXPECT_GT(std::stoll(report.String(p + ".count")), 0);
    EXPECT_LE(std::stoll(report.String(p + ".first_monotonic_ns")), std::stoll(report.String(p + ".last_monotonic_ns")));
    EXPECT_LT(report.Int(p + ".vcpu"), 2);
    write_seen |= report.String(p + ".access") == "AUDIT_ACCESS_WRITE";
  }
  EXPECT_TRUE(write_seen) << "the workload writes every page";
}

TEST_F(Audit, AfterARealOfflineAndUnplugAStressRunHasNoViolation) {
  ASSERT_GT(dimm_, 0);
  CliRun off = Ctl({"--json", "offline", "--range", std::to_string(dimm_) + ":256M", "--all-or-nothing"});
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  // memhpd hears the OFFLINE events and gives the plugin its own view again.
  ASSERT_TRUE(WaitState("d1", "AUDIT_RANGE_STATE_OFFLINE", 10));
  ASSERT_EQ(Ctl({"qmp", "device_del", R"({"id":"d1"})"}).exit_code, 0);
  ASSERT_TRUE(WaitState("d1", "AUDIT_RANGE_STATE_UNPLUGGED", 30)) << "no DEVICE_DELETED seen by the plugin";
  ASSERT_EQ(Ctl({"qmp", "object-del", R"({"id":"mem-d1"})"}).exit_code, 0);
  const int64_t before = ViolationsTotal(Report());

  // Stress: more memory than node 1 has left, on node 1 and anywhere, with repeated passes.
  EXPECT_FALSE(Touch("--mib 96 --node 1 --seconds 3").empty());
  EXPECT_FALSE(Touch("--mib 128 --seconds 3").empty());
  Json report = Report();
  EXPECT_EQ(ViolationsTotal(report), before) << "an access to offline/unplugged memory after a real unplug";
  for (const BlockHeat& b : Blocks(report, "d1")) EXPECT_EQ(b.state, "AUDIT_RANGE_STATE_UNPLUGGED");
}

TEST_F(Audit, DisarmStopsCountingAndArmResumes) {
  Json disarmed = ResultOf(Ctl({"--json", "audit", "--disarm"}));
  EXPECT_FALSE(disarmed.Bool("armed"));
  const int64_t outside = std::stoll(disarmed.String("outside_accesses"));
  ASSERT_FALSE(Touch("--mib 16").empty());
  Json still = ResultOf(Ctl({"--json", "audit"}));
  EXPECT_EQ(std::stoll(still.String("outside_accesses")), outside) << "disarmed, nothing is counted";
  Json armed = ResultOf(Ctl({"--json", "audit", "--arm"}));
  EXPECT_TRUE(armed.Bool("armed"));
  CliRun both = Ctl({"audit", "--arm", "--disarm"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

// A VM launched without --audit: the report is refused clearly, status has no heat column.
TEST(AuditWithoutPlugin, AuditIsUnavailableAndStatusStillWorks) {
  const std::string root = MakeStateRoot();
  Memhpctl ctl(root);
  CliRun launch = ctl.Run({"--vm", "plain", "launch"});
  ASSERT_EQ(launch.exit_code, 0) << launch.out << launch.err;
  CliRun audit = ctl.Run({"--vm", "plain", "--json", "audit"});
  EXPECT_EQ(audit.exit_code, 1);
  EXPECT_NE(audit.out.find("VM launched without --audit"), std::string::npos) << audit.out;
  CliRun status = ctl.Run({"--vm", "plain", "status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.out.find("HEAT"), std::string::npos) << status.out;
  EXPECT_EQ(ctl.Run({"--vm", "plain", "stop"}).exit_code, 0);
}

}  // namespace
}  // namespace memhp::vmtest
