// memhp vm suite — the guest agent's veto points, run-time policy and reports in a booted
// guest:
//   (a) a guest hook script that exits 1 at MEM_GOING_OFFLINE vetoes a host offline: VETOED,
//       CANCEL_OFFLINE (S5, S16) naming the handler, the block still online;
//   (b) a pin (S22) taken with `memhp-agent pin memoryN` vetoes the offline through the pin
//       guard; once its holder is killed (SIGKILL, as a crash) the same offline is DONE;
//   (c) `memhpctl zones` answers from /proc/zoneinfo, the node masks and /proc/meminfo, and
//       block changes produce coalesced zone_report events (fewer than the block events);
//   (d) `memhpctl policy --set manual` changes the policy at run time: a DIMM plugged next
//       stays offline;
//   (e) memory-notifier-error-inject at MEM_GOING_ONLINE: FAILED with errno 16, CANCEL_ONLINE
//       (S2) with the errno, the block still offline (vm_hotplug_test covers GOING_OFFLINE);
//   (f) a DIMM plugged with `memhpctl plug --zone kernel` while the policy is manual is onlined
//       into the kernel zone (the device map's target overrides the policy) and its events
//       name the device.
// One VM for the suite; the tests build on each other in declaration order.
#include <glib.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "memhpctl_runner.h"
#include "memory_events.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kBlock = 128ll << 20;

class AgentVm : public SharedVmTest<AgentVm> {
 public:
  static constexpr char kVm[] = "ag";

 protected:
  // The memory events of `block`, in the order memhpd recorded them.
  static std::vector<MemoryEvent> MemoryEvents(int64_t block) {
    std::vector<MemoryEvent> out;
    for (const MemoryEvent& e : ReadMemoryEvents(*vm_)) {
      if (e.block == block) out.push_back(e);
    }
    return out;
  }

  // Plugs a 256 MiB pc-dimm on node 0 through QMP; returns its first block, -1 on failure.
  static int64_t PlugDimm(const std::string& id) {
    CliRun obj = Ctl({"qmp", "object-add",
                      R"({"qom-type":"memory-backend-ram","id":"mem-)" + id + R"(","size":268435456})"});
    EXPECT_EQ(obj.exit_code, 0) << obj.err;
    CliRun add = Ctl({"qmp", "device_add",
                      R"({"driver":"pc-dimm","id":")" + id + R"(","memdev":"mem-)" + id + R"(","node":0})"});
    EXPECT_EQ(add.exit_code, 0) << add.err;
    return DeviceFirstBlock(id);
  }
  static int64_t DeviceFirstBlock(const std::string& id) {
    Json status = ResultOf(Ctl({"--json", "status"}));
    for (size_t d = 0; d < status.Length("devices"); ++d) {
      const std::string p = "devices." + std::to_string(d);
      if (status.String(p + ".id") == id) return status.Int(p + ".address") / kBlock;
    }
    return -1;
  }
  // The agent's inventory state of `block` ("BLOCK_STATE_ONLINE", ...; "" when absent).
  static std::string InventoryState(int64_t block) {
    Json s = ResultOf(Ctl({"--json", "status"}));
    for (size_t b = 0; b < s.Length("agent.inventory.blocks"); ++b) {
      const std::string p = "agent.inventory.blocks." + std::to_string(b);
      if (s.Int(p + ".id") == block) return s.String(p + ".state");
    }
    return "";
  }
  static bool WaitState(int64_t block, const std::string& state, int seconds) {
    for (int i = 0; i < seconds * 4; ++i) {
      if (InventoryState(block) == state) return true;
      g_usleep(250 * 1000);
    }
    return false;
  }
  // The block's sysfs state ("online", "offline"), read through the console. The console also
  // carries the agent's log lines ("vetoing offline ..."), so the answer is fenced by a marker.
  static std::string SysfsState(int64_t block) {
    const std::string out =
        Guest("echo STATE=$(cat /sys/devices/system/memory/memory" + std::to_string(block) + "/state)=END");
    const size_t at = out.rfind("STATE=");  // the echoed command line has "STATE=$(cat" first
    const size_t end = at == std::string::npos ? at : out.find("=END", at);
    return end == std::string::npos ? "" : out.substr(at + 6, end - at - 6);
  }

  static int64_t d1_;  // first block of the DIMM plugged in (a), used by (b)
  static int64_t d2_;  // first block of the DIMM plugged under the manual policy (d), used by (e)
};
int64_t AgentVm::d1_ = -1;
int64_t AgentVm::d2_ = -1;

TEST_F(AgentVm, ZonesReportsEveryNodeFromTheGuestsOwnFiles) {
  CliRun zones = Ctl({"--json", "zones"});
  ASSERT_EQ(zones.exit_code, 0) << zones.out << zones.err;
  Json z = ResultOf(zones);
  ASSERT_GE(z.Length("nodes"), 1u) << zones.out;
  EXPECT_EQ(z.Int("page_size"), 4096);
  EXPECT_GT(z.Int("mem_total_bytes"), 0);
  EXPECT_GT(z.Int("mem_available_bytes"), 0);
  EXPECT_TRUE(z.Bool("nodes.0.has_memory"));
  // The guest's own MemTotal, read through the console, is what the report says.
  const std::string meminfo = Guest("grep MemTotal /proc/meminfo");
  EXPECT_NE(meminfo.find(std::to_string(z.Int("mem_total_bytes") / 1024) + " kB"), std::string::npos) << meminfo;
  bool normal = false;
  for (size_t i = 0; i < z.Length("nodes.0.zones"); ++i) {
    const std::string p = "nodes.0.zones." + std::to_string(i);
    if (z.String(p + ".zone") == "ZONE_NORMAL" || z.String(p + ".zone") == "ZONE_DMA32") {
      normal = normal || z.Int(p + ".present_pages") > 0;
    }
  }
  EXPECT_TRUE(normal) << "node 0 has boot memory in a kernel zone: " << zones.out;
}

TEST_F(AgentVm, AHookScriptVetoesGoingOffline) {
  d1_ = PlugDimm("d1");
  ASSERT_GE(d1_, 0);
  ASSERT_TRUE(WaitState(d1_, "BLOCK_STATE_ONLINE", 30)) << "the DIMM was not onlined by the policy";
  Guest("mkdir -p /etc/memhp/hooks.d && printf '#!/bin/sh\\nif [ \"$MEMHP_EVENT\" = MEM_GOING_OFFLINE ]; then "
        "echo refusing $MEMHP_BLOCK; exit 1; fi\\nexit 0\\n' > /etc/memhp/hooks.d/10-veto && "
        "chmod 755 /etc/memhp/hooks.d/10-veto");
  ASSERT_NE(Guest("cat /etc/memhp/hooks.d/10-veto").find("exit 1"), std::string::npos);

  CliRun off = Ctl({"--json", "offline", "--blocks", std::to_string(d1_)});
  Guest("rm -f /etc/memhp/hooks.d/10-veto");
  EXPECT_EQ(off.exit_code, 1) << off.out << off.err;
  Json r = ResultOf(off);
  EXPECT_EQ(r.String("blocks.0.outcome"), "BLOCK_OUTCOME_VETOED") << off.out;
  EXPECT_EQ(r.String("blocks.0.vetoed_by"), "hooks") << off.out;
  EXPECT_NE(r.String("blocks.0.detail").find("10-veto"), std::string::npos) << "the detail names the script: " << off.out;
  bool cancelled = false;
  for (const MemoryEvent& e : MemoryEvents(d1_)) {
    if (e.kind != "MEMORY_EVENT_KIND_CANCEL_OFFLINE") continue;
    cancelled = true;
    EXPECT_EQ(e.vetoed_by, "hooks");
    EXPECT_NE(e.detail.find("10-veto"), std::string::npos) << e.detail;
    EXPECT_EQ(e.origin, "EVENT_ORIGIN_AGENT_REQUEST");
  }
  EXPECT_TRUE(cancelled) << "no CANCEL_OFFLINE (S5)";
  EXPECT_EQ(SysfsState(d1_), "online");
}

TEST_F(AgentVm, APinVetoesOfflineUntilItsHolderDies) {
  ASSERT_GE(d1_, 0) << "needs the DIMM of the hook test";
  const std::string spec = "memory" + std::to_string(d1_);
  const std::string started = Guest("memhp-agent pin " + spec + " > /tmp/pin.log 2>&1 & echo PINPID=$!");
  const size_t at = started.rfind("PINPID=");  // the echoed command line has "PINPID=$!" first
  ASSERT_NE(at, std::string::npos) << started;
  const std::string pid = std::to_string(std::atoll(started.c_str() + at + 7));
  bool holding = false;
  for (int i = 0; i < 40 && !holding; ++i) {
    holding = Guest("cat /tmp/pin.log").find("holding") != std::string::npos;
    if (!holding) g_usleep(250 * 1000);
  }
  ASSERT_TRUE(holding) << Guest("cat /tmp/pin.log");

  CliRun pinned = Ctl({"--json", "offline", "--blocks", std::to_string(d1_)});
  EXPECT_EQ(pinned.exit_code, 1) << pinned.out << pinned.err;
  EXPECT_EQ(ResultOf(pinned).String("blocks.0.outcome"), "BLOCK_OUTCOME_VETOED") << pinned.out;
  EXPECT_EQ(ResultOf(pinned).String("blocks.0.vetoed_by"), "pin-guard") << pinned.out;
  EXPECT_EQ(SysfsState(d1_), "online");

  // The holder crashes: the kernel drops its flock, so the pin is gone with it.
  Guest("kill -9 " + pid + "; wait " + pid + " 2>/dev/null; true");
  CliRun freed = Ctl({"--json", "offline", "--blocks", std::to_string(d1_)});
  EXPECT_EQ(freed.exit_code, 0) << freed.out << freed.err;
  EXPECT_EQ(ResultOf(freed).String("blocks.0.outcome"), "BLOCK_OUTCOME_DONE") << freed.out;
  EXPECT_EQ(SysfsState(d1_), "offline");
  // The stale pin file was cleaned up by the guard.
  const std::string left = Guest("echo PINS=$(ls /run/memhp/pins | grep -c .)=END");
  EXPECT_NE(left.find("PINS=0=END"), std::string::npos) << left;
}

TEST_F(AgentVm, ManualPolicySetAtRunTimeLeavesPluggedMemoryOffline) {
  CliRun set = Ctl({"--json", "policy", "--set", "manual"});
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;
  EXPECT_EQ(ResultOf(set).String("policy"), "manual") << set.out;
  CliRun get = Ctl({"--json", "policy"});
  EXPECT_EQ(ResultOf(get).String("policy"), "manual") << get.out;
  // status shows the policy in force, not the one of the agent's hello.
  EXPECT_EQ(ResultOf(Ctl({"--json", "status"})).String("agent.policy.policy"), "manual");
  EXPECT_NE(Ctl({"status"}).out.find("\npolicy: manual\n"), std::string::npos);

  d2_ = PlugDimm("d2");
  ASSERT_GE(d2_, 0);
  ASSERT_TRUE(WaitState(d2_ + 1, "BLOCK_STATE_OFFLINE", 30)) << "the DIMM's blocks did not appear";
  g_usleep(2 * G_USEC_PER_SEC);  // well past the policy's settle time
  EXPECT_EQ(InventoryState(d2_), "BLOCK_STATE_OFFLINE");
  EXPECT_EQ(SysfsState(d2_), "offline");
  for (const MemoryEvent& e : MemoryEvents(d2_)) {
    EXPECT_NE(e.kind, "MEMORY_EVENT_KIND_ONLINE") << "manual onlined the block";
  }
}

TEST_F(AgentVm, InjectedGoingOnlineErrorYieldsCancelOnlineAndTheBlockStaysOffline) {
  ASSERT_GE(d2_, 0) << "needs the offline DIMM of the manual-policy test";
  const std::string inject = "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_ONLINE/error";
  ASSERT_NE(Guest("echo -16 > " + inject + " && cat " + inject).find("-16"), std::string::npos);
  // An explicit zone: under the manual policy, a policy online would leave it offline.
  CliRun on = Ctl({"--json", "online", "--blocks", std::to_string(d2_), "--zone", "movable"});
  Guest("echo 0 > " + inject);
  EXPECT_EQ(on.exit_code, 1) << on.out << on.err;
  Json r = ResultOf(on);
  EXPECT_EQ(r.String("blocks.0.outcome"), "BLOCK_OUTCOME_FAILED") << on.out;
  EXPECT_EQ(r.Int("blocks.0.errno_value"), 16) << "EBUSY, as injected";
  bool cancelled = false;
  for (const MemoryEvent& e : MemoryEvents(d2_)) {
    if (e.kind != "MEMORY_EVENT_KIND_CANCEL_ONLINE") continue;
    cancelled = true;
    EXPECT_EQ(e.errno_value, 16);
    EXPECT_EQ(e.origin, "EVENT_ORIGIN_AGENT_REQUEST");
  }
  EXPECT_TRUE(cancelled) << "no CANCEL_ONLINE (S2)";
  EXPECT_EQ(SysfsState(d2_), "offline");

  // Without the injection the same request goes through.
  CliRun again = Ctl({"--json", "online", "--blocks", std::to_string(d2_), "--zone", "movable"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(ResultOf(again).String("blocks.0.outcome"), "BLOCK_OUTCOME_DONE") << again.out;
}

// `memhpctl --json watch --no-replay`, run while block changes happen, then stopped (SIGTERM to
// the child this test started): its lines, one JSON object each.
std::vector<std::string> WatchWhile(const SharedVm& vm, const std::function<void()>& actions) {
  const char* ctl = g_getenv("MEMHPCTL");
  std::vector<std::string> argv_s = {ctl ? ctl : "memhpctl", "--state-root", vm.root(), "--vm", vm.name(), "--json",
                                     "watch", "--no-replay"};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  GPid pid = 0;
  gint out_fd = -1;
  GError* error = nullptr;
  if (!g_spawn_async_with_pipes(nullptr, argv.data(), nullptr, G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &pid,
                                nullptr, &out_fd, nullptr, &error)) {
    ADD_FAILURE() << "cannot start memhpctl watch: " << error->message;
    g_error_free(error);
    return {};
  }
  g_usleep(G_USEC_PER_SEC);  // let it subscribe
  actions();
  g_usleep(2 * G_USEC_PER_SEC);  // past the zone report period after the last change
  kill(pid, SIGTERM);
  std::string text;
  char buf[65536];
  ssize_t n = 0;
  while ((n = read(out_fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(out_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  g_spawn_close_pid(pid);
  std::vector<std::string> lines;
  gchar** parts = g_strsplit(text.c_str(), "\n", -1);
  for (gchar** l = parts; *l; ++l) {
    if (**l) lines.emplace_back(*l);
  }
  g_strfreev(parts);
  return lines;
}

int64_t MovablePresentPages(const Json& report, const std::string& prefix) {
  int64_t pages = 0;
  for (size_t n = 0; n < report.Length(prefix + "nodes"); ++n) {
    const std::string node = prefix + "nodes." + std::to_string(n);
    for (size_t z = 0; z < report.Length(node + ".zones"); ++z) {
      const std::string zone = node + ".zones." + std::to_string(z);
      if (report.String(zone + ".zone") == "ZONE_MOVABLE") pages += std::max<int64_t>(0, report.Int(zone + ".present_pages"));
    }
  }
  return pages;
}

TEST_F(AgentVm, BlockChangesProduceCoalescedZoneReportEvents) {
  ASSERT_GE(d1_, 0);
  ASSERT_GE(d2_, 0);
  const std::string all = std::to_string(d1_) + "," + std::to_string(d1_ + 1) + "," + std::to_string(d2_) + "," +
                          std::to_string(d2_ + 1);
  const std::vector<std::string> lines = WatchWhile(*vm_, [&] {
    // Six block changes in two requests: two onlines, then four offlines.
    CliRun on = Ctl({"--json", "online", "--blocks", std::to_string(d1_) + "," + std::to_string(d2_ + 1), "--zone",
                     "movable"});
    EXPECT_EQ(on.exit_code, 0) << on.out << on.err;
    CliRun off = Ctl({"--json", "offline", "--blocks", all});
    EXPECT_EQ(off.exit_code, 0) << off.out << off.err;
  });
  int changes = 0;
  std::vector<int64_t> report_times;
  const Json* last = nullptr;
  std::vector<Json> parsed;
  parsed.reserve(lines.size());
  for (const std::string& l : lines) parsed.emplace_back(l);
  for (const Json& e : parsed) {
    if (e.String("source") != "agent") continue;
    if (e.String("name") == "ONLINE" || e.String("name") == "OFFLINE") ++changes;
    if (e.String("name") == "zone_report") {
      report_times.push_back(e.Int("data.zone_report.read_at_unix_ns"));
      last = &e;
    }
  }
  EXPECT_EQ(changes, 6) << "the watch did not see the six block changes";
  ASSERT_GE(report_times.size(), 1u) << "block changes were not followed by a zone report";
  EXPECT_LT(report_times.size(), static_cast<size_t>(changes)) << "a zone report per block change: not coalesced";
  // At most one per period (500 ms), by the guest's own clock.
  for (size_t i = 1; i < report_times.size(); ++i) {
    EXPECT_GE(report_times[i] - report_times[i - 1], 450'000'000) << "zone reports " << i - 1 << " and " << i;
  }
  // The last report is where things settled: the same Movable memory `memhpctl zones` reads now.
  Json now = ResultOf(Ctl({"--json", "zones"}));
  EXPECT_EQ(MovablePresentPages(*last, "data.zone_report."), MovablePresentPages(now, ""));
}

TEST_F(AgentVm, TheHostsZoneForADeviceOverridesTheManualPolicyAndEventsNameIt) {
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "0", "--id", "d3", "--zone", "kernel"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  const int64_t d3 = DeviceFirstBlock("d3");
  ASSERT_GE(d3, 0);
  ASSERT_TRUE(WaitState(d3 + 1, "BLOCK_STATE_ONLINE", 30)) << "manual, but the host asked for KERNEL";
  const std::string zones = Guest("cat /sys/devices/system/memory/memory" + std::to_string(d3) + "/valid_zones");
  EXPECT_NE(zones.find("Normal"), std::string::npos) << zones;
  bool named = false;
  for (const MemoryEvent& e : MemoryEvents(d3)) {
    if (e.kind == "MEMORY_EVENT_KIND_ONLINE") {
      named = true;
      EXPECT_EQ(e.device_id, "d3");
      EXPECT_EQ(e.zone, "ZONE_NORMAL");
    }
  }
  EXPECT_TRUE(named) << "no ONLINE event for the plugged DIMM";
  Ctl({"policy", "--set", "auto-movable"});
}

}  // namespace
}  // namespace memhp::vmtest
