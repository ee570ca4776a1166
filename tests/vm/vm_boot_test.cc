// memhp vm suite — the default VM boots, the agent says hello, status tells the truth, stop
// leaves nothing behind; and a launch that cannot work fails cleanly, saying why.
//
// One VM serves the whole Booted fixture (a TCG boot costs ~20 s on two cores); the failure
// cases each start (and must remove) their own QEMU.
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <string>

#include "memhpctl_runner.h"

namespace memhp::vmtest {
namespace {

class Booted : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeStateRoot());
    ctl_ = new Memhpctl(*root_);
    launch_ = new CliRun(ctl_->Run({"--json", "launch"}));
  }
  static void TearDownTestSuite() {
    CliRun stop = ctl_->Run({"stop"});
    (void)stop;  // Stop is asserted in its own test; this one only cleans up.
    delete launch_;
    delete ctl_;
    delete root_;
  }
  static std::string* root_;
  static Memhpctl* ctl_;
  static CliRun* launch_;
};
std::string* Booted::root_ = nullptr;
Memhpctl* Booted::ctl_ = nullptr;
CliRun* Booted::launch_ = nullptr;

TEST_F(Booted, LaunchReportsTheRunningVm) {
  ASSERT_EQ(launch_->exit_code, 0) << launch_->out << launch_->err;
  Json launched = ResultOf(*launch_);
  ASSERT_TRUE(launched.ok()) << launch_->out;
  EXPECT_TRUE(Json(launch_->out).Bool("ok")) << "the envelope says ok";
  EXPECT_EQ(launched.String("vm"), "default");
  EXPECT_TRUE(PidAlive(launched.Int("qemu_pid")));
  EXPECT_TRUE(PidAlive(launched.Int("memhpd_pid")));
  EXPECT_NE(launched.String("kernel_release"), "");
}

TEST_F(Booted, StatusShowsTheAgentsHelloAndTheBootBlocks) {
  ASSERT_EQ(launch_->exit_code, 0) << launch_->err;
  CliRun run = ctl_->Run({"--json", "status"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Json status = ResultOf(run);
  ASSERT_TRUE(status.ok()) << run.out;

  // The agent's hello, as the guest kernel reports it (docs/test-vm.md: 0x8000000).
  EXPECT_TRUE(status.Bool("agent.connected"));
  EXPECT_EQ(status.Int("agent.hello.guest.block_size_bytes"), 134217728);
  EXPECT_EQ(status.Int("agent.hello.guest.page_size"), 4096);
  EXPECT_EQ(status.String("agent.hello.guest.auto_online_blocks"), "offline");
  EXPECT_EQ(status.Length("agent.hello.guest.nodes"), 2u);

  // Two nodes, each with memory, 512 MiB of boot memory = 4 blocks, all online.
  ASSERT_EQ(status.Length("agent.inventory.nodes"), 2u);
  for (int n = 0; n < 2; ++n) {
    const std::string node = "agent.inventory.nodes." + std::to_string(n);
    EXPECT_EQ(status.Int(node + ".id"), n);
    EXPECT_TRUE(status.Bool(node + ".has_memory")) << node;
    EXPECT_EQ(status.Int(node + ".online_blocks"), 2) << node;
  }
  const size_t blocks = status.Length("agent.inventory.blocks");
  ASSERT_EQ(blocks, 4u);
  std::set<int64_t> nodes_seen;
  for (size_t b = 0; b < blocks; ++b) {
    const std::string block = "agent.inventory.blocks." + std::to_string(b);
    EXPECT_EQ(status.String(block + ".state"), "BLOCK_STATE_ONLINE") << block;
    EXPECT_EQ(status.Int(block + ".start_address"), static_cast<int64_t>(b) * 134217728) << block;
    nodes_seen.insert(status.Int(block + ".node"));
  }
  EXPECT_EQ(nodes_seen, (std::set<int64_t>{0, 1}));

  // QEMU's side: one virtio-mem device per node, nothing plugged yet.
  EXPECT_TRUE(status.Bool("qemu.connected"));
  EXPECT_EQ(status.String("qemu.run_state"), "running");
  EXPECT_EQ(status.Int("qemu.base_memory"), 512 * 1024 * 1024);
  ASSERT_EQ(status.Length("devices"), 2u);
  EXPECT_EQ(status.String("devices.0.kind"), "MEMORY_DEVICE_KIND_VIRTIO_MEM");
  EXPECT_EQ(status.String("devices.1.id"), "vmem1");
  EXPECT_EQ(status.Int("devices.1.node"), 1);
  EXPECT_EQ(status.Int("devices.1.size"), 0);
  EXPECT_EQ(status.Int("summary.block_size_bytes"), 134217728);
}

TEST_F(Booted, StatusTableIsReadable) {
  ASSERT_EQ(launch_->exit_code, 0) << launch_->err;
  CliRun run = ctl_->Run({"status"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("agent: connected"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("vmem1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("block 128 MiB"), std::string::npos) << run.out;
}

TEST_F(Booted, SecondLaunchOfTheSameVmIsRefused) {
  ASSERT_EQ(launch_->exit_code, 0) << launch_->err;
  CliRun again = ctl_->Run({"launch"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already served by memhpd"), std::string::npos) << again.err;
}

// The host side goes away and comes back: the agent, which kept its port open and backed off,
// says hello to the new memhpd by itself. Same agent process, same guest boot.
TEST_F(Booted, AgentGreetsARestartedMemhpd) {
  ASSERT_EQ(launch_->exit_code, 0) << launch_->err;
  Json before = ResultOf(ctl_->Run({"--json", "status"}));
  const long memhpd_pid = before.Int("memhpd_pid");
  const std::string agent_pid = before.String("agent.hello.agent_pid");
  const std::string boot = before.String("agent.hello.guest.boot_id_hash");
  ASSERT_TRUE(PidAlive(memhpd_pid));
  ASSERT_EQ(kill(static_cast<pid_t>(memhpd_pid), SIGKILL), 0);
  for (int i = 0; i < 50 && PidAlive(memhpd_pid); ++i) g_usleep(100 * 1000);
  ASSERT_FALSE(PidAlive(memhpd_pid));

  const std::string dir = *root_ + "/default";
  CliRun attach = ctl_->Run({"attach", "--qmp", dir + "/qmp.sock", "--agent", dir + "/agent.sock"});
  ASSERT_EQ(attach.exit_code, 0) << attach.out << attach.err;
  bool connected = false;
  Json after("");
  for (int i = 0; i < 100 && !connected; ++i) {
    after = ResultOf(ctl_->Run({"--json", "status"}));
    connected = after.Bool("agent.connected");
    if (!connected) g_usleep(200 * 1000);
  }
  ASSERT_TRUE(connected) << "the agent did not greet the new memhpd within 20 s";
  EXPECT_NE(after.Int("memhpd_pid"), memhpd_pid);
  EXPECT_EQ(after.String("agent.hello.agent_pid"), agent_pid);
  EXPECT_EQ(after.String("agent.hello.guest.boot_id_hash"), boot);
  EXPECT_EQ(after.Length("agent.inventory.blocks"), 4u);
}

// Runs last in the fixture (gtest keeps declaration order within a suite).
TEST_F(Booted, StopLeavesNoQemuOrMemhpdBehind) {
  ASSERT_EQ(launch_->exit_code, 0) << launch_->err;
  // The pids serving the VM now (an earlier test restarted memhpd).
  Json now = ResultOf(ctl_->Run({"--json", "status"}));
  const long qemu_pid = now.Int("qemu.pid");
  const long memhpd_pid = now.Int("memhpd_pid");
  ASSERT_TRUE(PidAlive(qemu_pid));
  ASSERT_TRUE(PidAlive(memhpd_pid));
  CliRun stop = ctl_->Run({"--json", "stop"});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_TRUE(ResultOf(stop).Bool("clean_shutdown")) << stop.out;
  EXPECT_FALSE(PidAlive(qemu_pid));
  EXPECT_FALSE(PidAlive(memhpd_pid));
  CliRun status = ctl_->Run({"status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.err.find("memhpd is not running"), std::string::npos) << status.err;
}

TEST(FailedLaunch, MissingKernelSaysWhyAndLeavesNothing) {
  Memhpctl ctl(MakeStateRoot());
  CliRun run = ctl.Run({"--vm", "nokernel", "launch", "--kernel", "/nonexistent/vmlinuz",
                        "--initrd", "/nonexistent/initrd"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("QEMU did not start"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("/nonexistent/vmlinuz"), std::string::npos) << run.err;
  EXPECT_EQ(ctl.Run({"--vm", "nokernel", "stop"}).exit_code, 1);  // nothing to stop
}

TEST(FailedLaunch, GuestWithoutAgentTimesOutWithConsoleTail) {
  Memhpctl ctl(MakeStateRoot());
  // The default image with the agent switched off: the kernel boots, nobody says hello.
  CliRun run = ctl.Run({"--vm", "noagent", "launch", "--boot-timeout", "40",
                        "--agent-args", "--version"});
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
  EXPECT_NE(run.err.find("did not say hello within 40 s"), std::string::npos) << run.err;
  // The console tail is part of the message: the guest's /init printed its banner.
  EXPECT_NE(run.err.find("memhp"), std::string::npos) << run.err;
  const std::string pidfile = ctl.state_root() + "/noagent/qemu.pid";
  g_autofree gchar* text = nullptr;
  if (g_file_get_contents(pidfile.c_str(), &text, nullptr, nullptr)) {
    EXPECT_FALSE(PidAlive(g_ascii_strtoll(text, nullptr, 10))) << "a stray QEMU was left";
  }
}

}  // namespace
}  // namespace memhp::vmtest
