// memhp vm suite — the fault paths of plug and unplug that only a real guest and a real QEMU
// reach (the reliability issue):
//   (a) all-or-nothing rollback: a 2-block DIMM whose second block refuses (a pin, S22, taken in
//       the guest with `memhp-agent pin memoryN`) after the first went offline. The agent puts
//       the first back online (ROLLED_BACK); `memhpctl unplug` ends REFUSED naming the refusing
//       block and the one put back, said once in the text output, and the DIMM stays plugged;
//   (b) a guest that refuses the eject: `unplug --force` while the kernel itself cannot offline
//       the DIMM's blocks. The agent's pin is a user-space veto the kernel does not know, so the
//       refusal comes from the kernel's own memory-notifier-error-inject at MEM_GOING_OFFLINE
//       (S4, S16): Linux's ACPI eject offlines every memory block of the device first
//       (drivers/acpi/scan.c, acpi_scan_try_to_offline), that offline fails with EBUSY, and the
//       guest answers the eject request with _OST status 0x82 "device busy" (ACPI 6.x, 6.3.5)
//       — QEMU's ACPI_DEVICE_OST, or DEVICE_UNPLUG_GUEST_ERROR. The unplug ends FAILED with that
//       reason (not a timeout) and the DIMM is still there, its blocks online;
//   (c) QEMU killed (SIGKILL) while a plug is in flight — right after the journal says the
//       backend exists and device_add goes out: memhpd notices (QMP closes), ends the operation
//       FAILED saying QEMU went away, and exits; the VM relaunched under the same name has no
//       operation left in flight, and plugs and unplugs again.
// One VM for the suite, the tests in declaration order; (c) relaunches it.
#include <glib.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "memhpctl_runner.h"
#include "memory_events.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kBlock = 128ll << 20;
constexpr char kInject[] = "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error";

class FaultPaths : public SharedVmTest<FaultPaths> {
 public:
  static constexpr char kVm[] = "fp";

 protected:
  static Json Op(std::vector<std::string> args, int expected_exit) {
    args.insert(args.begin(), "--json");
    CliRun run = Ctl(args);
    EXPECT_EQ(run.exit_code, expected_exit) << run.out << run.err;
    return ResultOf(run);
  }
  static void Figure(const std::string& name, const Json& op) {
    std::printf("[figure] %s: %s in %.2f s\n", name.c_str(), op.String("outcome").c_str(),
                static_cast<double>(op.Int("duration_us")) / 1e6);
  }
  static bool DevicePresent(const std::string& id) {
    Json status = ResultOf(Ctl({"--json", "status"}));
    for (size_t d = 0; d < status.Length("devices"); ++d) {
      if (status.String("devices." + std::to_string(d) + ".id") == id) return true;
    }
    return false;
  }
  static bool BackendPresent(const std::string& id) {
    CliRun objects = Ctl({"qmp", "qom-list", R"({"path":"/objects"})"});
    return objects.out.find("\"" + id + "\"") != std::string::npos;
  }
  // The block's sysfs state ("online", "offline"), fenced by markers: the console also carries
  // the agent's log lines and the echoed command line.
  static std::string SysfsState(int64_t block) {
    const std::string out =
        Guest("echo STATE=$(cat /sys/devices/system/memory/memory" + std::to_string(block) + "/state)=END");
    const size_t at = out.rfind("STATE=");
    const size_t end = at == std::string::npos ? at : out.find("=END", at);
    return end == std::string::npos ? "" : out.substr(at + 6, end - at - 6);
  }
  // Sets memory-notifier-error-inject's MEM_GOING_OFFLINE error; true when the file reads back
  // exactly that value.
  static bool Inject(int error) {
    const std::string v = std::to_string(error);
    const std::string out = Guest("echo " + v + " > " + kInject + " && echo INJECT=$(cat " + kInject + ")=END");
    return out.find("INJECT=" + v + "=END") != std::string::npos;
  }
  // `memhp-agent pin SPEC` in the guest's background; its pid once it says it holds the pin.
  static long Pin(const std::string& spec) {
    const std::string log = "/tmp/pin-" + spec + ".log";
    const std::string started = Guest("memhp-agent pin " + spec + " > " + log + " 2>&1 & echo PINPID=$!=END");
    const size_t at = started.rfind("PINPID=");
    if (at == std::string::npos) return -1;
    const long pid = std::atol(started.c_str() + at + 7);
    for (int i = 0; i < 40; ++i) {
      if (Guest("cat " + log).find("holding") != std::string::npos) return pid;
      g_usleep(250 * 1000);
    }
    return -1;
  }
  static void Unpin(long pid) { (void)Guest("kill " + std::to_string(pid) + "; wait " + std::to_string(pid) + " 2>/dev/null; true"); }
  static std::string Journal() {
    std::ifstream in(vm_->Dir() + "/journal.jsonl");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static inline int64_t first_ = -1;  // first block of dimm "fa", plugged by (a), used by (b)
};

TEST_F(FaultPaths, SecondBlockRefusingRollsTheFirstBackAndTheUnplugIsRefused) {
  Json plugged = Op({"plug", "--size", "256M", "--node", "1", "--id", "fa"}, 0);
  ASSERT_EQ(plugged.String("outcome"), "OPERATION_OUTCOME_DONE") << plugged.String("detail");
  first_ = plugged.Int("address") / kBlock;
  ASSERT_GT(first_, 0);
  const int64_t second = first_ + 1;
  const long pin = Pin("memory" + std::to_string(second));
  ASSERT_GT(pin, 0) << "the pin of block " << second << " was not taken";
  const size_t events_before = ReadMemoryEvents(*vm_).size();

  Json op = Op({"unplug", "fa", "--block-timeout", "10s"}, 1);
  // The same refusal in the text output, while the pin still holds: "nothing changed" once.
  CliRun text = Ctl({"unplug", "fa", "--block-timeout", "10s"});
  Unpin(pin);
  Figure("unplug_refused_rolled_back", op);
  std::printf("[detail] %s\n", op.String("detail").c_str());
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_REFUSED") << op.String("detail");
  ASSERT_EQ(op.Length("blocks"), 2u) << op.String("detail");
  EXPECT_EQ(op.Int("blocks.0.block"), first_);
  EXPECT_EQ(op.String("blocks.0.outcome"), "BLOCK_OUTCOME_ROLLED_BACK");
  EXPECT_EQ(op.Int("blocks.1.block"), second);
  EXPECT_EQ(op.String("blocks.1.outcome"), "BLOCK_OUTCOME_VETOED");
  EXPECT_EQ(op.String("blocks.1.vetoed_by"), "pin-guard");
  const std::string detail = op.String("detail");
  // "block N[ errno E (...)] vetoed by pin-guard" names the refusing block and the handler.
  const size_t refusing = detail.find("block " + std::to_string(second) + " ");
  ASSERT_NE(refusing, std::string::npos) << detail;
  const std::string refusal = detail.substr(refusing, detail.find(';', refusing) - refusing);
  EXPECT_NE(refusal.find("vetoed by pin-guard"), std::string::npos) << detail;
  EXPECT_NE(detail.find("block " + std::to_string(first_) + " offlined, then online again"), std::string::npos)
      << detail;
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  const std::string headline = text.out.substr(0, text.out.find('\n'));
  EXPECT_EQ(headline.find("nothing changed"), headline.rfind("nothing changed")) << headline;
  EXPECT_NE(headline.find("nothing changed"), std::string::npos) << headline;

  // The first block really went offline and came back (S4, S6, S1, S3), the second was
  // cancelled (S5) — as the agent reported it to memhpd, in order.
  std::vector<std::string> first_kinds, second_kinds;
  const std::vector<MemoryEvent> events = ReadMemoryEvents(*vm_);
  for (size_t i = events_before; i < events.size(); ++i) {
    if (events[i].block == first_) first_kinds.push_back(events[i].kind);
    if (events[i].block == second) second_kinds.push_back(events[i].kind);
  }
  const std::vector<std::string> round_trip = {"MEMORY_EVENT_KIND_GOING_OFFLINE", "MEMORY_EVENT_KIND_OFFLINE",
                                               "MEMORY_EVENT_KIND_GOING_ONLINE", "MEMORY_EVENT_KIND_ONLINE"};
  ASSERT_GE(first_kinds.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(first_kinds.begin(), first_kinds.begin() + 4), round_trip);
  ASSERT_GE(second_kinds.size(), 2u);
  EXPECT_EQ(second_kinds[0], "MEMORY_EVENT_KIND_GOING_OFFLINE");
  EXPECT_EQ(second_kinds[1], "MEMORY_EVENT_KIND_CANCEL_OFFLINE");

  EXPECT_EQ(SysfsState(first_), "online");
  EXPECT_EQ(SysfsState(second), "online");
  EXPECT_TRUE(DevicePresent("fa"));
  EXPECT_TRUE(BackendPresent("mem-fa"));
}

TEST_F(FaultPaths, AForcedUnplugTheGuestCannotEjectFailsWithTheGuestsAnswer) {
  ASSERT_GT(first_, 0) << "needs the DIMM of the rollback test";
  ASSERT_TRUE(DevicePresent("fa"));
  ASSERT_TRUE(Inject(-16)) << "memory-notifier-error-inject is not there";
  // --force: the agent's refusal (EBUSY at the first block) does not stop the device_del; the
  // guest kernel's own offline in the eject then fails the same way.
  CliRun run = Ctl({"--json", "unplug", "fa", "--force", "--block-timeout", "5s", "--timeout", "120"});
  const bool cleared = Inject(0);
  EXPECT_TRUE(cleared) << "the injection was not cleared";
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  Json op = ResultOf(run);
  Figure("unplug_forced_eject_refused", op);
  std::printf("[detail] %s\n", op.String("detail").c_str());
  EXPECT_EQ(op.String("outcome"), "OPERATION_OUTCOME_FAILED") << run.out;
  const std::string detail = op.String("detail");
  const bool ost = detail.find("_OST failure") != std::string::npos;
  const bool guest_error = detail.find("DEVICE_UNPLUG_GUEST_ERROR") != std::string::npos;
  EXPECT_TRUE(ost || guest_error) << detail;
  EXPECT_NE(detail.find("still present"), std::string::npos) << detail;
  bool device_del_sent = false;
  for (size_t i = 0; i < op.Length("steps"); ++i) {
    device_del_sent |= op.String("steps." + std::to_string(i) + ".name") == "device_del";
  }
  EXPECT_TRUE(device_del_sent) << "the forced unplug never reached QEMU: " << run.out;
  EXPECT_TRUE(DevicePresent("fa"));
  EXPECT_TRUE(BackendPresent("mem-fa"));
  EXPECT_EQ(SysfsState(first_), "online");
  EXPECT_EQ(SysfsState(first_ + 1), "online");

  // Without the injection the DIMM unplugs: the failed eject left it usable.
  ASSERT_TRUE(cleared);
  Json again = Op({"unplug", "fa"}, 0);
  EXPECT_EQ(again.String("outcome"), "OPERATION_OUTCOME_DONE") << again.String("detail");
  EXPECT_FALSE(DevicePresent("fa"));
}

// Last: it kills the suite's QEMU and launches the VM again.
TEST_F(FaultPaths, QemuKilledMidPlugIsEndedTruthfullyAndTheRelaunchedVmWorks) {
  auto read_pid = [](const std::string& file) {
    std::ifstream in(vm_->Dir() + "/" + file);
    long pid = 0;
    in >> pid;
    return pid;
  };
  const long qemu = read_pid("qemu.pid");
  const long memhpd = read_pid("memhpd.pid");
  ASSERT_GT(qemu, 0);
  ASSERT_GT(memhpd, 0);

  // The plug, from a client in the background; its answer goes to a file.
  const std::string answer = vm_->Dir() + "/plug-answer.json";
  const std::string script = std::string("exec \"$0\" --state-root '") + vm_->root() + "' --vm " + vm_->name() +
                             " --json plug --size 256M --node 0 --id fk > '" + answer + "'";
  const char* binary = g_getenv("MEMHPCTL");
  std::vector<std::string> argv = {"/bin/sh", "-c", script, binary ? binary : "memhpctl"};
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  GPid client = 0;
  ASSERT_TRUE(g_spawn_async(nullptr, c_argv.data(), nullptr, G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &client,
                            nullptr));
  // The journal's "object-added" is fsync'd just before device_add goes to QEMU
  // (plug_machine.cc): QEMU dies with the plug in flight, the backend made, the DIMM being added.
  bool in_flight = false;
  for (int i = 0; i < 3000 && !in_flight; ++i) {
    in_flight = Journal().find("\"step\":\"object-added\",\"detail\":\"mem-fk\"") != std::string::npos;
    if (!in_flight) g_usleep(10 * 1000);
  }
  if (in_flight) kill(static_cast<pid_t>(qemu), SIGKILL);
  int status = 0;
  const bool client_ended = waitpid(client, &status, 0) == client;
  ASSERT_TRUE(in_flight) << Journal();
  ASSERT_TRUE(client_ended);

  // memhpd noticed and ended; the client had its answer first.
  bool memhpd_gone = false;
  for (int i = 0; i < 100 && !memhpd_gone; ++i) {
    memhpd_gone = !PidAlive(memhpd);
    if (!memhpd_gone) g_usleep(100 * 1000);
  }
  EXPECT_TRUE(memhpd_gone) << "memhpd outlived its QEMU";
  gchar* text = nullptr;
  std::string plug_out;
  if (g_file_get_contents(answer.c_str(), &text, nullptr, nullptr)) plug_out = text;
  g_free(text);
  Json plug = ResultOf(plug_out);
  std::printf("[detail] the plug's answer: %s\n", plug.String("detail").c_str());
  EXPECT_EQ(plug.String("outcome"), "OPERATION_OUTCOME_FAILED") << plug_out;
  EXPECT_NE(plug.String("detail").find("QEMU went away"), std::string::npos) << plug_out;
  EXPECT_EQ(plug.String("detail").find("left over"), std::string::npos) << plug_out;
  EXPECT_EQ(plug.String("detail").find("is plugged"), std::string::npos) << plug_out;
  const int64_t op_id = plug.Int("operation_id");
  EXPECT_GT(op_id, 0) << plug_out;

  // The same VM name again: a new QEMU and a new memhpd, whose reconcile finds nothing left in
  // flight — every operation the journal began has its end.
  const CliRun launch = Ctl({"launch"});
  ASSERT_EQ(launch.exit_code, 0) << launch.out << launch.err;
  std::map<int64_t, int> begun;  // op id -> begin records minus end records
  std::string end_of_plug;
  std::istringstream lines(Journal());
  for (std::string line; std::getline(lines, line);) {
    Json r(line);
    if (!r.ok()) continue;
    if (r.String("rec") == "begin") ++begun[r.Int("op")];
    if (r.String("rec") == "end") {
      --begun[r.Int("op")];
      if (r.Int("op") == op_id) end_of_plug = line;
    }
  }
  for (const auto& [id, open] : begun) EXPECT_EQ(open, 0) << "operation " << id << " left in flight:\n" << Journal();
  Json end(end_of_plug);
  EXPECT_EQ(end.String("outcome"), "failed") << Journal();
  EXPECT_NE(end.String("detail").find("QEMU went away"), std::string::npos) << end_of_plug;
  EXPECT_FALSE(DevicePresent("fk")) << "a relaunched VM has none of the old QEMU's devices";

  // The VM works again.
  Json again = Op({"plug", "--size", "256M", "--node", "0", "--id", "fk"}, 0);
  EXPECT_EQ(again.String("outcome"), "OPERATION_OUTCOME_DONE") << again.String("detail");
  Json unplug = Op({"unplug", "fk"}, 0);
  EXPECT_EQ(unplug.String("outcome"), "OPERATION_OUTCOME_DONE") << unplug.String("detail");
}

}  // namespace
}  // namespace memhp::vmtest
