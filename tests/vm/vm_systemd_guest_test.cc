// memhp vm suite — the agent as a distribution installs it: Debian 12 with systemd and udev,
// the memhp-agent .deb installed by apt (memhpctl launch --image debian).
//
// The launch itself waits for the agent's hello, so udev has started the unit when the port
// appeared; the tests check that it was udev (the device unit wants it) and that the agent
// memhpd talks to is the unit's main process; a DIMM is plugged and unplugged as in
// vm-operations; a pin taken in the guest vetoes the unplug under the hardened unit, and the
// agent removes the stale pin file once its holder is gone; `systemctl kill` of the agent makes
// systemd restart it and memhpd sees the new hello; the unit's exposure score, as the guest's
// own systemd-analyze computes it for the running unit, stays at most 4.0; and a
// distribution-style onlining rule (Ubuntu cloud images' 40-vm-hotadd.rules) is reported as a
// competitor after a restart, and --take-onlining masks it so that udev no longer onlines a block
// given its "add" again. Tests run in declaration order on one VM.
#include <glib.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "memhpctl_runner.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

class SystemdGuest : public SharedVmTest<SystemdGuest> {
 public:
  static constexpr char kVm[] = "sd";
  static std::vector<std::string> LaunchArgs() { return {"--image", "debian"}; }

 protected:
  void SetUp() override {
    SharedVmTest::SetUp();
    if (!console_ready_) console_ready_ = vm_->WaitForConsole(90);
    ASSERT_TRUE(console_ready_) << "the guest's console shell did not answer";
  }
  static inline bool console_ready_ = false;

  // The text between "KEY=" and "=END" in the guest's output (the echoed command line holds
  // "KEY=$(...)=END" first, so the last occurrence is the value).
  static std::string Value(const std::string& out, const std::string& key) {
    const size_t at = out.rfind(key + "=");
    if (at == std::string::npos) return "";
    const size_t start = at + key.size() + 1;
    const size_t end = out.find("=END", start);
    return end == std::string::npos ? "" : out.substr(start, end - start);
  }
  static std::string GuestValue(const std::string& key, const std::string& shell_expression) {
    return Value(Guest("echo " + key + "=" + shell_expression + "=END"), key);
  }
  static int64_t AgentPid() {
    Json status = ResultOf(Ctl({"--json", "status"}));
    return status.Bool("agent.connected") ? status.Int("agent.hello.agent_pid") : -1;
  }
  // Waits (60 s at most) until memhpd has a hello from an agent other than `old_pid`.
  static int64_t WaitForNewAgent(int64_t old_pid) {
    for (int i = 0; i < 240; ++i) {
      const int64_t pid = AgentPid();
      if (pid > 0 && pid != old_pid) return pid;
      g_usleep(250 * 1000);
    }
    return -1;
  }
};

TEST_F(SystemdGuest, UdevStartedTheUnitAndItsAgentSaidHello) {
  EXPECT_EQ(GuestValue("ACTIVE", "$(systemctl is-active memhp-agent)"), "active");
  // SYSTEMD_WANTS of the udev rule: the port's device unit (named by its sysfs path,
  // ...-virtio\x2dports-vportNpM.device) wants the agent.
  EXPECT_NE(GuestValue("WANTEDBY", "\"$(systemctl show -p WantedBy --value memhp-agent)\"").find("x2dports-vport"),
            std::string::npos);
  // udev's link, whose device unit the agent's unit is bound to.
  EXPECT_EQ(GuestValue("LINK", "$(readlink /dev/virtio-ports/org.memhp.agent.0)").rfind("../vport", 0), 0u);
  const std::string main_pid = GuestValue("MAINPID", "$(systemctl show -p MainPID --value memhp-agent)");
  EXPECT_EQ(std::to_string(AgentPid()), main_pid) << "memhpd talks to the unit's process";
  Json status = ResultOf(Ctl({"--json", "status"}));
  EXPECT_EQ(status.String("agent.hello.policy"), "auto-movable");
  std::printf("[figure] systemd guest launch: %s\n", vm_->launch().out.c_str());
}

TEST_F(SystemdGuest, ADimmIsPluggedAndUnpluggedWithTheAgentUnderTheUnit) {
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "1", "--id", "dimm1"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  Json op = ResultOf(plug);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE");
  ASSERT_EQ(op.Length("blocks"), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const int64_t block = op.Int("blocks." + std::to_string(i) + ".block");
    EXPECT_EQ(op.String("blocks." + std::to_string(i) + ".outcome"), "BLOCK_OUTCOME_DONE");
    EXPECT_EQ(GuestValue("STATE", "$(cat /sys/devices/system/memory/memory" + std::to_string(block) + "/state)"),
              "online")
        << "the sandboxed agent wrote the block's state";
  }
  CliRun unplug = Ctl({"--json", "unplug", "dimm1"});
  ASSERT_EQ(unplug.exit_code, 0) << unplug.out << unplug.err;
  EXPECT_EQ(ResultOf(unplug).String("outcome"), "OPERATION_OUTCOME_DONE");
}

TEST_F(SystemdGuest, APinInTheUnitsRuntimeDirectoryVetoesTheUnplug) {
  EXPECT_EQ(GuestValue("PINSDIR", "$(stat -c %U:%a /run/memhp/pins)"), "root:755") << "RuntimeDirectory=";
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "1", "--id", "dimm2"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  const int64_t block = ResultOf(plug).Int("blocks.0.block");
  ASSERT_GT(block, 0);
  const std::string started =
      Guest("memhp-agent pin memory" + std::to_string(block) + " > /tmp/pin.log 2>&1 & echo PINPID=$!=END");
  const std::string pid = Value(started, "PINPID");
  ASSERT_FALSE(pid.empty()) << started;
  bool holding = false;
  for (int i = 0; i < 40 && !holding; ++i) {
    holding = Guest("cat /tmp/pin.log").find("holding") != std::string::npos;
    if (!holding) g_usleep(250 * 1000);
  }
  ASSERT_TRUE(holding) << Guest("cat /tmp/pin.log");

  CliRun refused = Ctl({"--json", "unplug", "dimm2"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_EQ(ResultOf(refused).String("outcome"), "OPERATION_OUTCOME_REFUSED") << refused.out;
  EXPECT_NE(refused.out.find("pin-guard"), std::string::npos) << refused.out;

  Guest("kill -9 " + pid + "; wait " + pid + " 2>/dev/null; true");
  CliRun freed = Ctl({"--json", "unplug", "dimm2"});
  EXPECT_EQ(freed.exit_code, 0) << freed.out << freed.err;
  // The agent removed the stale pin file: it can write its RuntimeDirectory.
  EXPECT_EQ(GuestValue("PINS", "$(ls /run/memhp/pins | grep -c .)"), "0");
}

TEST_F(SystemdGuest, AKilledAgentIsRestartedBySystemdAndSaysHelloAgain) {
  const int64_t before = AgentPid();
  ASSERT_GT(before, 0);
  Guest("systemctl kill -s SIGKILL memhp-agent");
  const int64_t after = WaitForNewAgent(before);
  ASSERT_GT(after, 0) << "no new hello within 60 s; " << Guest("systemctl --no-pager status memhp-agent");
  EXPECT_EQ(GuestValue("MAINPID", "$(systemctl show -p MainPID --value memhp-agent)"), std::to_string(after));
  EXPECT_GE(std::atoi(GuestValue("RESTARTS", "$(systemctl show -p NRestarts --value memhp-agent)").c_str()), 1);
}

TEST_F(SystemdGuest, TheRunningUnitsExposureIsAtMostFour) {
  // "→ Overall exposure level for memhp-agent.service: 2.0 OK"
  const std::string out = Guest("systemd-analyze security --no-pager memhp-agent.service | tail -n 1", 30000);
  const size_t at = out.rfind("memhp-agent.service: ");
  ASSERT_NE(at, std::string::npos) << out;
  const double score = g_ascii_strtod(out.c_str() + at + 21, nullptr);
  std::printf("[figure] systemd-analyze security (running unit, in the guest): %.1f\n", score);
  ::testing::Test::RecordProperty("exposure", std::to_string(score));
  EXPECT_GT(score, 0.0) << out;
  EXPECT_LE(score, 4.0) << out;
}

TEST_F(SystemdGuest, ADistributionOnliningRuleIsReportedAndTakingOverMasksIt) {
  // Plugged first, so the agent's policy places its blocks (ZONE_MOVABLE) and no race with the
  // rule decides where they go.
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "1", "--id", "dimm3"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  const std::string block = "/sys/devices/system/memory/memory" + std::to_string(ResultOf(plug).Int("blocks.0.block"));
  // Ubuntu cloud images' rule (cloud-init's 40-vm-hotadd.rules), where a distribution puts it;
  // online_movable (as RHEL's rule on bare metal) so the block it onlines can be offlined again:
  // a plain "online" puts a block outside ZONE_MOVABLE's span in ZONE_NORMAL
  // (default_zone_for_pfn()), where the kernel's own allocations soon make it busy.
  Guest("printf '%s\\n' 'SUBSYSTEM==\"memory\", ACTION==\"add\", TEST==\"state\", ATTR{state}==\"offline\", "
        "ATTR{state}=\"online_movable\"' > /usr/lib/udev/rules.d/40-vm-hotadd.rules && udevadm control --reload");
  const int64_t before = AgentPid();
  Guest("systemctl restart memhp-agent");
  ASSERT_GT(WaitForNewAgent(before), 0) << Guest("systemctl --no-pager status memhp-agent");
  Json status = ResultOf(Ctl({"--json", "status"}));
  bool found = false;
  for (size_t i = 0; i < status.Length("agent.hello.competing_onliners"); ++i) {
    found = found || status.String("agent.hello.competing_onliners." + std::to_string(i)).find("40-vm-hotadd.rules") !=
                         std::string::npos;
  }
  EXPECT_TRUE(found) << Ctl({"--json", "status"}).out;
  EXPECT_NE(Ctl({"status"}).out.find("competing onliner: 40-vm-hotadd.rules"), std::string::npos);

  // The rule works: with the agent's policy manual, a block offlined by hand and given its
  // "add" again is onlined by udev.
  ASSERT_EQ(Ctl({"policy", "--set", "manual"}).exit_code, 0);
  const std::string readd = "echo offline > " + block + "/state; udevadm trigger --action=add --settle " + block;
  Guest(readd);
  EXPECT_EQ(GuestValue("STATE", "$(cat " + block + "/state)"), "online") << "the distribution's rule onlined it";

  // --take-onlining masks it with a copy in /run/udev/rules.d; the hello and status say so.
  Guest("echo 'MEMHP_AGENT_OPTS=\"--take-onlining --policy manual\"' > /etc/default/memhp-agent");
  const int64_t sharing = AgentPid();
  Guest("systemctl restart memhp-agent");
  ASSERT_GT(WaitForNewAgent(sharing), 0) << Guest("systemctl --no-pager status memhp-agent");
  status = ResultOf(Ctl({"--json", "status"}));
  ASSERT_EQ(status.Length("agent.hello.masked_udev_rules"), 1u) << Ctl({"--json", "status"}).out;
  EXPECT_EQ(status.String("agent.hello.masked_udev_rules.0"), "40-vm-hotadd.rules:1: /run/udev/rules.d/40-vm-hotadd.rules");
  const std::string text = Ctl({"status"}).out;
  EXPECT_EQ(text.find("competing onliner: 40-vm-hotadd.rules"), std::string::npos) << text;
  EXPECT_NE(text.find("onlining: udev rule masked by the agent: 40-vm-hotadd.rules:1"), std::string::npos) << text;
  EXPECT_EQ(GuestValue("MASKED", "$(grep -c '^#memhp# SUBSYSTEM' /run/udev/rules.d/40-vm-hotadd.rules)"), "1");

  // udev reads the copy: the same block given its "add" again stays offline.
  Guest("udevadm control --reload; " + readd);
  EXPECT_EQ(GuestValue("STATE", "$(cat " + block + "/state)"), "offline") << "the masked rule onlined it";

  // Undone as docs/guests.md says: the copy deleted, the option dropped.
  Guest("rm -f /run/udev/rules.d/40-vm-hotadd.rules /usr/lib/udev/rules.d/40-vm-hotadd.rules; "
        "echo 'MEMHP_AGENT_OPTS=\"\"' > /etc/default/memhp-agent; udevadm control --reload; "
        "echo online_movable > " + block + "/state");
  const int64_t owning = AgentPid();
  Guest("systemctl restart memhp-agent");
  ASSERT_GT(WaitForNewAgent(owning), 0);
  status = ResultOf(Ctl({"--json", "status"}));
  EXPECT_EQ(status.Length("agent.hello.masked_udev_rules"), 0u);
  CliRun unplug = Ctl({"--json", "unplug", "dimm3"});
  EXPECT_EQ(unplug.exit_code, 0) << unplug.out << unplug.err;
}

}  // namespace
}  // namespace memhp::vmtest
