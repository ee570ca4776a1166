// memhp vm suite — memhpd's operations end to end: memhpctl plug / unplug / resize
// against a booted guest with the agent. A DIMM plugged into node 1 ends DONE with every block
// online (zone and node per block); its unplug ends DONE with the device and its backend gone;
// an unplug the guest refuses (the kernel's memory-notifier-error-inject on MEM_GOING_OFFLINE)
// ends REFUSED with the block and errno, the blocks online and the DIMM present; virtio-mem
// grows and shrinks; and a memhpd killed right after device_add is journaled finishes the
// operation "recovered" when `memhpctl attach` starts a new one; a virtio-mem shrink the
// guest cannot carry out (its memory full, nowhere to migrate to) ends PARTIAL with the size
// reached.
//
// One VM for the suite; the tests run in declaration order and each leaves the VM as it found
// it (no DIMM plugged, vmem1 at its size). The durations the operations report are printed
// (RecordProperty and stdout) as figures, never asserted.
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "guest_workload.h"
#include "interrupted_plug.h"
#include "memhpctl_runner.h"
#include "qmp/qmp_client.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_sync.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kMiB = 1ll << 20;
constexpr int64_t kBlock = 128 * kMiB;

class Operations : public SharedVmTest<Operations> {
 public:
  static constexpr char kVm[] = "ops";

 protected:
  static std::string Dir() { return vm_->Dir(); }

  // Runs an operation verb with --json; the OperationResult, with the exit code checked.
  static Json Op(std::vector<std::string> args, int expected_exit) {
    args.insert(args.begin(), "--json");
    CliRun run = Ctl(args);
    EXPECT_EQ(run.exit_code, expected_exit) << run.out << run.err;
    return ResultOf(run);
  }

  static void Figure(const std::string& name, const Json& op) {
    const double seconds = static_cast<double>(op.Int("duration_us")) / 1e6;
    std::printf("[figure] %s: %s in %.2f s (", name.c_str(), op.String("outcome").c_str(), seconds);
    for (size_t i = 0; i < op.Length("steps"); ++i) {
      const std::string p = "steps." + std::to_string(i);
      std::printf("%s%s %.2f s", i ? ", " : "", op.String(p + ".name").c_str(),
                  static_cast<double>(op.Int(p + ".duration_us")) / 1e6);
    }
    std::printf(")\n");
    ::testing::Test::RecordProperty(name + "_us", std::to_string(op.Int("duration_us")));
  }

  static bool DevicePresent(const std::string& id) {
    Json status = ResultOf(Ctl({"--json", "status"}));
    for (size_t d = 0; d < status.Length("devices"); ++d) {
      if (status.String("devices." + std::to_string(d) + ".id") == id) return true;
    }
    return false;
  }
  static int64_t DeviceSize(const std::string& id) {
    Json status = ResultOf(Ctl({"--json", "status"}));
    for (size_t d = 0; d < status.Length("devices"); ++d) {
      const std::string p = "devices." + std::to_string(d);
      if (status.String(p + ".id") == id) return status.Int(p + ".size");
    }
    return -1;
  }
  static bool BackendPresent(const std::string& id) {
    CliRun objects = Ctl({"qmp", "qom-list", R"({"path":"/objects"})"});
    return objects.out.find("\"" + id + "\"") != std::string::npos;
  }
  static std::string BlockState(int64_t block) {
    return Guest("cat /sys/devices/system/memory/memory" + std::to_string(block) + "/state");
  }
  static std::string Journal() {
    std::ifstream in(Dir() + "/journal.jsonl");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(Operations, PlugIntoNode1IsDoneWithEveryBlockOnline) {
  Json op = Op({"plug", "--size", "256M", "--node", "1", "--id", "dimm1"}, 0);
  Figure("plug_256M_dimm", op);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE");
  EXPECT_TRUE(op.Bool("guest_side_known"));
  EXPECT_EQ(op.Int("size_reached"), 256 * kMiB);
  const int64_t address = op.Int("address");
  ASSERT_GT(address, 0);
  ASSERT_EQ(op.Length("blocks"), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const std::string p = "blocks." + std::to_string(i);
    EXPECT_EQ(op.Int(p + ".block"), address / kBlock + static_cast<int64_t>(i));
    EXPECT_EQ(op.String(p + ".outcome"), "BLOCK_OUTCOME_DONE");
    EXPECT_EQ(op.Int(p + ".node"), 1);
    EXPECT_NE(op.String(p + ".zone"), "ZONE_UNSPECIFIED");
    EXPECT_EQ(op.String(p + ".device_id"), "dimm1");
    // The guest agrees (sysfs through the console, not the agent).
    EXPECT_NE(BlockState(op.Int(p + ".block")).find("online"), std::string::npos);
  }
  EXPECT_TRUE(DevicePresent("dimm1"));
}

TEST_F(Operations, UnplugIsDoneAndLeavesNoDeviceNorBackend) {
  ASSERT_TRUE(DevicePresent("dimm1")) << "needs the DIMM of the first test";
  Json op = Op({"unplug", "dimm1"}, 0);
  Figure("unplug_256M_dimm", op);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  EXPECT_FALSE(DevicePresent("dimm1"));
  EXPECT_FALSE(BackendPresent("mem-dimm1"));
}

TEST_F(Operations, UnplugRefusedInTheGuestChangesNothing) {
  Json plugged = Op({"plug", "--size", "256M", "--node", "1", "--id", "dimm2"}, 0);
  ASSERT_EQ(plugged.String("outcome"), "OPERATION_OUTCOME_DONE");
  const int64_t first = plugged.Int("address") / kBlock;

  const std::string inject = "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error";
  ASSERT_NE(Guest("echo -16 > " + inject + " && cat " + inject).find("-16"), std::string::npos);
  Json op = Op({"unplug", "dimm2", "--block-timeout", "5s"}, 1);
  const std::string cleared = Guest("echo 0 > " + inject + " && cat " + inject);
  EXPECT_NE(cleared.find("\n0"), std::string::npos) << "the injection was not cleared: " << cleared;
  Figure("unplug_refused", op);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_REFUSED");
  EXPECT_NE(op.String("detail").find("block " + std::to_string(first)), std::string::npos) << op.String("detail");
  bool ebusy = false;
  for (size_t i = 0; i < op.Length("blocks"); ++i) {
    ebusy |= op.Int("blocks." + std::to_string(i) + ".errno_value") == 16;
  }
  EXPECT_TRUE(ebusy) << "no block reports the injected EBUSY";
  EXPECT_TRUE(DevicePresent("dimm2"));
  EXPECT_TRUE(BackendPresent("mem-dimm2"));
  EXPECT_NE(BlockState(first).find("online"), std::string::npos);
  EXPECT_NE(BlockState(first + 1).find("online"), std::string::npos);

  // Without the injection the same unplug goes through.
  Json again = Op({"unplug", "dimm2"}, 0);
  EXPECT_EQ(again.String("outcome"), "OPERATION_OUTCOME_DONE") << again.String("detail");
  EXPECT_FALSE(DevicePresent("dimm2"));
}

TEST_F(Operations, VirtioMemGrowsAndShrinks) {
  const int64_t before = DeviceSize("vmem1");
  ASSERT_GE(before, 0) << "the default VM has vmem1 on node 1";
  Json grow = Op({"resize", "vmem1", "--size", std::to_string((before + 512 * kMiB) / kMiB) + "M"}, 0);
  Figure("resize_grow_512M_virtio_mem", grow);
  EXPECT_EQ(grow.String("outcome"), "OPERATION_OUTCOME_DONE") << grow.String("detail");
  EXPECT_EQ(grow.Int("size_reached"), before + 512 * kMiB);
  EXPECT_EQ(DeviceSize("vmem1"), before + 512 * kMiB);
  size_t online = 0;
  for (size_t i = 0; i < grow.Length("blocks"); ++i) {
    online += grow.String("blocks." + std::to_string(i) + ".outcome") == "BLOCK_OUTCOME_DONE";
  }
  EXPECT_EQ(online, static_cast<size_t>((before + 512 * kMiB) / kBlock)) << "every block of the grown range online";

  Json shrink = Op({"resize", "vmem1", "--size", std::to_string(before / kMiB) + "M", "--offline-first"}, 0);
  Figure("resize_shrink_512M_virtio_mem", shrink);
  EXPECT_EQ(shrink.String("outcome"), "OPERATION_OUTCOME_DONE") << shrink.String("detail");
  EXPECT_EQ(DeviceSize("vmem1"), before);
}

// The zone asked at plug wins over an agent policy that would leave the blocks offline: either
// the agent honours the DeviceMap's target itself, or memhpd asks it to online the range into
// the zone once the blocks settle offline (online_waiter.h).
TEST_F(Operations, PlugWithAZoneEndsInThatZoneUnderTheManualPolicy) {
  Json policy = ResultOf(Ctl({"--json", "policy"}));
  const std::string original = policy.String("policy");
  ASSERT_FALSE(original.empty()) << "the agent does not report its policy";
  ASSERT_EQ(Ctl({"policy", "--set", "manual"}).exit_code, 0);
  Json op = Op({"plug", "--size", "128M", "--node", "0", "--id", "dimm3", "--zone", "movable"}, 0);
  EXPECT_EQ(Ctl({"policy", "--set", original}).exit_code, 0);
  Figure("plug_128M_dimm_zone_movable_manual_policy", op);
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_DONE") << op.String("detail");
  ASSERT_EQ(op.Length("blocks"), 1u);
  EXPECT_EQ(op.String("blocks.0.outcome"), "BLOCK_OUTCOME_DONE");
  EXPECT_EQ(op.String("blocks.0.zone"), "ZONE_MOVABLE");
  EXPECT_EQ(op.Int("blocks.0.node"), 0);
  Json unplug = Op({"unplug", "dimm3"}, 0);
  EXPECT_EQ(unplug.String("outcome"), "OPERATION_OUTCOME_DONE") << unplug.String("detail");
}

TEST_F(Operations, BadRequestsAreRefusedWithAClearMessage) {
  CliRun odd = Ctl({"--json", "plug", "--size", "100M", "--node", "1"});
  EXPECT_EQ(odd.exit_code, 1) << odd.out << odd.err;
  EXPECT_NE(odd.out.find("not a multiple of the guest block size 128 MiB"), std::string::npos) << odd.out;
  CliRun node = Ctl({"--json", "plug", "--size", "128M", "--node", "9"});
  EXPECT_EQ(node.exit_code, 1);
  EXPECT_NE(node.out.find("node 9 does not exist"), std::string::npos) << node.out;
  CliRun vmem = Ctl({"--json", "unplug", "vmem1"});
  EXPECT_EQ(vmem.exit_code, 1);
  EXPECT_NE(vmem.out.find("use resize"), std::string::npos) << vmem.out;
}

// What a memhpd killed (SIGKILL) right after it journaled device-added leaves: the DIMM is in
// QEMU, the journal has the begin record and the steps but no end. The test makes that state
// itself — memhpd killed, then the backend and the DIMM added over QEMU's QMP socket (free once
// memhpd is gone) and the plug's records written with memhpd's own journal code — so no
// test-only pause is needed in memhpd. `memhpctl attach` starts a new memhpd, whose resumed plug
// ends DONE, recovered, from QEMU's state.
TEST_F(Operations, MemhpdKilledMidPlugIsRecoveredFromTheJournal) {
  const std::string memhpd_pidfile = Dir() + "/memhpd.pid";
  auto read_pid = [&] {
    std::ifstream in(memhpd_pidfile);
    long pid = 0;
    in >> pid;
    return pid;
  };
  long pid = read_pid();
  ASSERT_GT(pid, 0);
  kill(static_cast<pid_t>(pid), SIGKILL);
  for (int i = 0; i < 50 && PidAlive(pid); ++i) g_usleep(100 * 1000);
  ASSERT_FALSE(PidAlive(pid));
  const std::vector<std::string> attach = {"attach", "--qmp", Dir() + "/qmp.sock", "--agent", Dir() + "/agent.sock"};

  {
    // The plug as far as device_add, as memhpd does it (qemu/qmp_memory_devices.cc) ...
    GMainContext* context = g_main_context_new();
    {
      memhp::qmp::QmpClient qmp(context);
      const Status connected = memhp::qmp::ConnectSync(qmp, Dir() + "/qmp.sock");
      ASSERT_TRUE(connected.ok()) << connected.error().message;
      auto backend = memhp::qmp::ExecuteSync(qmp, "object-add",
                                             memhp::qmp::JsonObjectBuilder()
                                                 .SetString("qom-type", "memory-backend-ram")
                                                 .SetString("id", "mem-dimm9")
                                                 .SetUint("size", 128ull << 20)
                                                 .Build(),
                                             std::chrono::seconds(10));
      ASSERT_TRUE(backend.ok()) << backend.error().message;
      auto dimm = memhp::qmp::ExecuteSync(qmp, "device_add",
                                          memhp::qmp::JsonObjectBuilder()
                                              .SetString("driver", "pc-dimm")
                                              .SetString("id", "dimm9")
                                              .SetString("memdev", "mem-dimm9")
                                              .SetInt("node", 0)
                                              .Build(),
                                          std::chrono::seconds(10));
      ASSERT_TRUE(dimm.ok()) << dimm.error().message;
    }
    g_main_context_unref(context);
    // ... and its journal records up to the kill.
    ASSERT_EQ(WriteInterruptedPlug(Dir() + "/journal.jsonl", "dimm9", "mem-dimm9", 128ull << 20, 0), "");
  }
  ASSERT_NE(Journal().find("\"step\":\"device-added\",\"detail\":\"dimm9\""), std::string::npos) << Journal();

  CliRun reattach = Ctl(attach);
  ASSERT_EQ(reattach.exit_code, 0) << reattach.out << reattach.err;
  // The reconcile turn runs before any other operation; a read-only status does not wait for
  // it, so poll the journal for the end record.
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    const std::string j = Journal();
    recovered = j.find("\"outcome\":\"done\",\"detail\":\"recovered after a memhpd restart: dimm9 is plugged") !=
                std::string::npos;
    if (!recovered) g_usleep(100 * 1000);
  }
  EXPECT_TRUE(recovered) << Journal();
  EXPECT_NE(Journal().find("\"recovered\":true"), std::string::npos);
  EXPECT_TRUE(DevicePresent("dimm9"));
  std::printf("[figure] memhpd restart + reconcile: the plug of dimm9 ended recovered\n");

  // Leave the VM as found: the recovered DIMM unplugs like any other, once the new memhpd has
  // the agent again (its hello after the reconnect).
  bool agent = false;
  for (int i = 0; i < 80 && !agent; ++i) {
    agent = ResultOf(Ctl({"--json", "status"})).Bool("agent.connected");
    if (!agent) g_usleep(250 * 1000);
  }
  ASSERT_TRUE(agent) << "the agent did not reconnect to the new memhpd";
  Json unplug = Op({"unplug", "dimm9"}, 0);
  EXPECT_EQ(unplug.String("outcome"), "OPERATION_OUTCOME_DONE") << unplug.String("detail");
}

// A virtio-mem shrink the guest cannot carry out ends PARTIAL with the size it reached. Linux's
// virtio-mem driver unplugs its own memory, outside the agent's notifier chain: in sub-block mode
// (2 MiB device blocks in 128 MiB memory blocks) it takes each sub-block with alloc_contig_range
// (drivers/virtio/virtio_mem.c, virtio_mem_fake_offline), which must migrate the pages in use
// to free memory elsewhere. A workload holding all but a small margin of the guest's memory
// leaves none: the migration target allocation fails (dmesg: "page allocation failure ...
// alloc_migration_target ... virtio_mem_sbm_unplug_sb_online"; it is __GFP_RETRY_MAYFAIL, so no
// OOM kill) and the driver backs off and retries, the device's size unchanged. memhpd sees no
// change for resize_settle (10 s) and ends PARTIAL well before --timeout, requested-size left
// set (resize_machine.cc). With the workload gone the same resize is DONE.
// Last in the file: it fills the guest's memory; it leaves vmem1 at its size.
TEST_F(Operations, VirtioMemShrinkTheGuestCannotCompleteReportsTheSizeReached) {
  auto mib = [](int64_t bytes) { return std::to_string(bytes / kMiB) + "M"; };

  const int64_t before = DeviceSize("vmem1");
  ASSERT_GE(before, 0) << "the default VM has vmem1 on node 1";
  const int64_t grown = before + 512 * kMiB;
  Json grow = Op({"resize", "vmem1", "--size", mib(grown)}, 0);
  ASSERT_EQ(grow.String("outcome"), "OPERATION_OUTCOME_DONE") << grow.String("detail");

  const int64_t available = GuestAvailableKib(*vm_);
  ASSERT_GT(available, 512 * 1024) << "the grown guest should have over 512 MiB available";
  // All but 48 MiB: the guest has no swap, so the first touch must stay clear of the OOM
  // killer, and the agent and the console's shell still allocate.
  const int64_t fill_mib = available / 1024 - 48;
  // Whatever happens below, the workload does not outlive the test (GuestFill's destructor).
  GuestFill fill(*vm_, fill_mib);
  ASSERT_GT(fill.pid(), 0) << "memhp-touch did not start";
  ASSERT_TRUE(fill.WaitAvailableBelow(96 * 1024, 120)) << "memhp-touch did not fill the guest: " << Guest("cat /tmp/fill.out; grep Mem /proc/meminfo");

  Json shrink = Op({"resize", "vmem1", "--size", mib(before), "--timeout", "60"}, 3);
  Figure("resize_shrink_blocked_virtio_mem", shrink);
  EXPECT_EQ(shrink.String("outcome"), "OPERATION_OUTCOME_PARTIAL") << shrink.String("detail");
  EXPECT_NE(shrink.String("detail").find("size stopped at"), std::string::npos) << shrink.String("detail");
  const int64_t reached = shrink.Int("size_reached");
  // At most the 48 MiB margin could have been migrated away: the shrink stopped short.
  EXPECT_GT(reached, before);
  EXPECT_LE(reached, grown);
  EXPECT_EQ(DeviceSize("vmem1"), reached);
  // requested-size stays where the resize set it: the driver may go on when memory frees up.
  Json status = ResultOf(Ctl({"--json", "status"}));
  int64_t requested = -1;
  for (size_t d = 0; d < status.Length("devices"); ++d) {
    const std::string p = "devices." + std::to_string(d);
    if (status.String(p + ".id") == "vmem1") requested = status.Int(p + ".requested_size");
  }
  EXPECT_EQ(requested, before);
  std::printf("[figure] blocked shrink of vmem1: %s reached of %s asked, from %s\n", mib(reached).c_str(),
              mib(before).c_str(), mib(grown).c_str());

  // Without the workload the same shrink goes through.
  ASSERT_TRUE(fill.Stop(120)) << "memhp-touch did not end";
  Json again = Op({"resize", "vmem1", "--size", mib(before), "--timeout", "120"}, 0);
  Figure("resize_shrink_unblocked_virtio_mem", again);
  EXPECT_EQ(again.String("outcome"), "OPERATION_OUTCOME_DONE") << again.String("detail");
  EXPECT_EQ(DeviceSize("vmem1"), before);
}

}  // namespace
}  // namespace memhp::vmtest
