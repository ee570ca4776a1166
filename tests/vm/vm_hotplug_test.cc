// memhp vm suite — the agent reacting to real memory hotplug in a booted guest:
// a DIMM plugged through QMP is onlined by the policy and reported with the kernel's
// memory_notify fields (S1-S6, S10-S13); a 1 GiB virtio-mem growth ends with every block
// online; the kernel's own memory-notifier-error-inject on MEM_GOING_OFFLINE yields
// CANCEL_OFFLINE with the errno and leaves the blocks as they were (all-or-nothing).
//
// One VM for the suite; the tests build on each other in declaration order (the DIMM of the
// first is offlined by the later ones).
#include <glib.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "memhpctl_runner.h"
#include "memory_events.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kBlock = 128ll << 20;
constexpr int64_t kPagesPerBlock = kBlock / 4096;

class Hotplug : public SharedVmTest<Hotplug> {
 public:
  static constexpr char kVm[] = "hp";

 protected:
  static std::vector<MemoryEvent> Events() { return ReadMemoryEvents(*vm_); }

  static int64_t dimm_first_block_;
};
int64_t Hotplug::dimm_first_block_ = -1;

TEST_F(Hotplug, DimmPlugIsOnlinedByPolicyAndReportedWithMemoryNotify) {
  ASSERT_EQ(Ctl({"qmp", "object-add", R"({"qom-type":"memory-backend-ram","id":"mem-d1","size":268435456})"}).exit_code, 0);
  CliRun add = Ctl({"qmp", "device_add", R"({"driver":"pc-dimm","id":"d1","memdev":"mem-d1","node":1})"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  Json status = ResultOf(Ctl({"--json", "status"}));
  int64_t address = -1;
  for (size_t d = 0; d < status.Length("devices"); ++d) {
    if (status.String("devices." + std::to_string(d) + ".id") == "d1") address = status.Int("devices." + std::to_string(d) + ".address");
  }
  ASSERT_GT(address, 0);
  dimm_first_block_ = address / kBlock;
  ASSERT_TRUE(WaitOnline(address, 256ll << 20, 30)) << "the DIMM's blocks did not come online";

  // Per block: BLOCK_ADDED (observed), then GOING_ONLINE and ONLINE by the agent's policy,
  // each carrying the same memory_notify the kernel computes for the block.
  for (int64_t block = dimm_first_block_; block < dimm_first_block_ + 2; ++block) {
    std::vector<std::string> kinds;
    for (const MemoryEvent& e : Events()) {
      if (e.block != block) continue;
      kinds.push_back(e.kind);
      if (e.kind == "MEMORY_EVENT_KIND_GOING_ONLINE" || e.kind == "MEMORY_EVENT_KIND_ONLINE") {
        EXPECT_EQ(e.origin, "EVENT_ORIGIN_AGENT_POLICY");
        EXPECT_EQ(e.start_pfn, block * kPagesPerBlock) << "S10";
        EXPECT_EQ(e.nr_pages, kPagesPerBlock) << "S11";
        EXPECT_EQ(e.node, 1);
        EXPECT_EQ(e.zone, "ZONE_MOVABLE") << "auto-movable: 256 MiB is within 301% of node 1's kernel memory";
      }
    }
    EXPECT_EQ(kinds, (std::vector<std::string>{"MEMORY_EVENT_KIND_BLOCK_ADDED", "MEMORY_EVENT_KIND_GOING_ONLINE",
                                               "MEMORY_EVENT_KIND_ONLINE"}))
        << "block " << block;
  }
  // The guest agrees (sysfs read through the console, not through the agent).
  const std::string state = Guest("cat /sys/devices/system/memory/memory" + std::to_string(dimm_first_block_) + "/valid_zones");
  EXPECT_NE(state.find("Movable"), std::string::npos) << state;
}

TEST_F(Hotplug, VirtioMemGrowthOfOneGibEndsWithEveryBlockOnline) {
  Json before = ResultOf(Ctl({"--json", "status"}));
  const int64_t vmem0 = before.Int("devices.0.address");
  ASSERT_EQ(before.String("devices.0.id"), "vmem0");
  ASSERT_EQ(Ctl({"qmp", "qom-set", R"({"path":"vmem0","property":"requested-size","value":1073741824})"}).exit_code, 0);
  ASSERT_TRUE(WaitOnline(vmem0, 1ll << 30, 90)) << "not every virtio-mem block came online";
  Json after = ResultOf(Ctl({"--json", "status"}));
  EXPECT_EQ(after.Int("devices.0.size"), 1ll << 30);
  // The guest kernel survived (reading valid_zones mid-add oopses 6.1; the agent must not).
  // The count is fenced by markers: a bare find of "1" also matches the echoed command line, and
  // looking for "\n1" let 2 or 12 BUGs pass.
  const std::string bugs = Guest("echo BUGS=$(dmesg | grep -c 'BUG:')=END");
  EXPECT_NE(bugs.find("BUGS=0=END"), std::string::npos) << bugs;
}

TEST_F(Hotplug, InjectedGoingOfflineErrorYieldsCancelOfflineAndNothingChanges) {
  ASSERT_GE(dimm_first_block_, 0) << "needs the DIMM of the first test";
  const std::string inject = "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error";
  ASSERT_NE(Guest("echo -16 > " + inject + " && cat " + inject).find("-16"), std::string::npos);

  const std::string blocks = std::to_string(dimm_first_block_) + "," + std::to_string(dimm_first_block_ + 1);
  CliRun refused = Ctl({"--json", "offline", "--blocks", blocks, "--all-or-nothing", "--block-timeout", "5s"});
  Guest("echo 0 > " + inject);
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  Json result = ResultOf(refused);
  EXPECT_FALSE(result.Bool("all_done"));
  EXPECT_EQ(result.String("blocks.0.outcome"), "BLOCK_OUTCOME_FAILED");
  EXPECT_EQ(result.Int("blocks.0.errno_value"), 16) << "EBUSY, as injected";
  EXPECT_EQ(result.String("blocks.1.outcome"), "BLOCK_OUTCOME_SKIPPED");

  bool cancelled = false;
  for (const MemoryEvent& e : Events()) {
    if (e.block == dimm_first_block_ && e.kind == "MEMORY_EVENT_KIND_CANCEL_OFFLINE") {
      cancelled = true;
      EXPECT_EQ(e.errno_value, 16);
      EXPECT_EQ(e.origin, "EVENT_ORIGIN_AGENT_REQUEST");
    }
  }
  EXPECT_TRUE(cancelled) << "no CANCEL_OFFLINE (S5) was reported";
  EXPECT_TRUE(WaitOnline(dimm_first_block_ * kBlock, 256ll << 20, 5)) << "the refused offline changed state";
}

TEST_F(Hotplug, OfflineThenOnlineIntoTheKernelZoneByRequest) {
  ASSERT_GE(dimm_first_block_, 0);
  const std::string blocks = std::to_string(dimm_first_block_) + "," + std::to_string(dimm_first_block_ + 1);
  CliRun off = Ctl({"--json", "offline", "--blocks", blocks, "--all-or-nothing"});
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_EQ(ResultOf(off).String("blocks.1.outcome"), "BLOCK_OUTCOME_DONE");
  const std::string state = Guest("cat /sys/devices/system/memory/memory" + std::to_string(dimm_first_block_) + "/state");
  EXPECT_NE(state.find("offline"), std::string::npos) << state;

  CliRun on = Ctl({"--json", "online", "--blocks", blocks, "--zone", "kernel"});
  ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
  Json onlined = ResultOf(on);
  EXPECT_EQ(onlined.String("blocks.0.outcome"), "BLOCK_OUTCOME_DONE");
  EXPECT_EQ(onlined.String("blocks.0.zone"), "ZONE_NORMAL");
  // Offline again of an offline block is answered per block, not as a failure of the call.
  CliRun again = Ctl({"--json", "online", "--blocks", blocks});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(ResultOf(again).String("blocks.1.outcome"), "BLOCK_OUTCOME_ALREADY");
}

// A selection memhpctl cannot check itself (the block size is the guest's) is refused by the
// agent: exit 1 like every refusal memhpd relays (kExitUsage is for command lines memhpctl
// rejects before asking).
TEST_F(Hotplug, BadSelectionsAreRefusedAndChangeNothing) {
  CliRun range = Ctl({"online", "--range", "1000:4096"});
  EXPECT_EQ(range.exit_code, 1) << range.err;
  EXPECT_NE(range.err.find("whole memory blocks"), std::string::npos) << range.err;
  CliRun unknown = Ctl({"--json", "offline", "--blocks", "99999"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(ResultOf(unknown).String("blocks.0.outcome"), "BLOCK_OUTCOME_NOT_FOUND");
}

// The agent is killed in the guest; /init's respawn loop starts a new one, which introduces
// itself (a new pid), re-reads the truth from sysfs, and invents no memory event. Its backlog
// died with the old process, so there is nothing to replay; what can go wrong is the host's
// duplicate check: the new process numbers its events from 1 again, below the seqs memhpd
// recorded from the old one, and its next transition must be recorded, not dropped as a replay.
TEST_F(Hotplug, RestartedAgentMatchesSysfsAndItsLowerSeqsAreRecorded) {
  int64_t old_max_seq = 0;
  for (const MemoryEvent& e : Events()) old_max_seq = std::max(old_max_seq, e.seq);
  Json before = ResultOf(Ctl({"--json", "status"}));
  const std::string old_pid = before.String("agent.hello.agent_pid");
  const int64_t recorded = before.Int("agent.events_recorded");
  ASSERT_FALSE(old_pid.empty());
  Guest("kill -9 " + old_pid);
  Json after("");
  bool restarted = false;
  for (int i = 0; i < 80 && !restarted; ++i) {
    g_usleep(250 * 1000);
    after = ResultOf(Ctl({"--json", "status"}));
    restarted = after.Bool("agent.connected") && after.String("agent.hello.agent_pid") != old_pid &&
                !after.String("agent.hello.agent_pid").empty();
  }
  ASSERT_TRUE(restarted) << "no new agent said hello within 20 s";
  EXPECT_EQ(after.Int("agent.duplicate_events"), 0);
  EXPECT_EQ(after.Int("agent.events_recorded"), recorded) << "the new agent replayed or invented events";

  // The inventory the new agent sent equals what the guest's sysfs says now.
  // Counted exactly, each between markers: "uniq -c" output searched for "2 online" also
  // matched "12 online".
  const std::string listing = Guest("echo COUNTS=$(grep -lx online /sys/devices/system/memory/memory*/state | grep -c .),"
                                    "$(grep -lx offline /sys/devices/system/memory/memory*/state | grep -c .)=END");
  int online = 0;
  int offline = 0;
  for (size_t b = 0; b < after.Length("agent.inventory.blocks"); ++b) {
    const std::string state = after.String("agent.inventory.blocks." + std::to_string(b) + ".state");
    online += state == "BLOCK_STATE_ONLINE";
    offline += state == "BLOCK_STATE_OFFLINE";
  }
  EXPECT_NE(listing.find("COUNTS=" + std::to_string(online) + "," + std::to_string(offline) + "=END"),
            std::string::npos)
      << listing;

  // One transition by the new agent: GOING_* and its result, both recorded, under seqs the old
  // agent had already used. (The DIMM is in the kernel zone now, where an offline may fail:
  // GOING_OFFLINE and CANCEL_OFFLINE are two events all the same.)
  ASSERT_GE(dimm_first_block_, 0);
  const std::string block = std::to_string(dimm_first_block_);
  const std::string state = Guest("echo S=$(cat /sys/devices/system/memory/memory" + block + "/state)=S");
  const bool online_now = state.find("S=online=S") != std::string::npos;
  CliRun op = online_now ? Ctl({"--json", "offline", "--blocks", block, "--block-timeout", "5s"})
                         : Ctl({"--json", "online", "--blocks", block});
  ASSERT_NE(ResultOf(op).String("blocks.0.outcome"), "") << op.out << op.err;
  Json now("");
  const gint64 give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  do {
    now = ResultOf(Ctl({"--json", "status"}));
    if (now.Int("agent.events_recorded") >= recorded + 2) break;
    g_usleep(250 * 1000);
  } while (g_get_monotonic_time() < give_up);
  EXPECT_EQ(now.Int("agent.events_recorded"), recorded + 2) << "the new agent's transition was not recorded";
  EXPECT_EQ(now.Int("agent.duplicate_events"), 0);
  const std::vector<MemoryEvent> events = Events();
  ASSERT_FALSE(events.empty());
  const MemoryEvent& last = events.back();
  EXPECT_EQ(last.block, dimm_first_block_);
  if (online_now) {
    EXPECT_TRUE(last.kind == "MEMORY_EVENT_KIND_OFFLINE" || last.kind == "MEMORY_EVENT_KIND_CANCEL_OFFLINE") << last.kind;
  } else {
    EXPECT_EQ(last.kind, "MEMORY_EVENT_KIND_ONLINE");
  }
  EXPECT_LT(last.seq, old_max_seq) << "numbered below what the old agent sent, and recorded all the same";
}

// `memhpctl blocks` against the guest's own sysfs, read through the console: the same blocks in
// the same states, the DIMM's blocks named by its device, and the totals adding up. Last: it
// only reads, whatever the tests before left.
TEST_F(Hotplug, BlocksMatchSysfs) {
  // "B=<id>:<state>" per block, fenced: the console also carries the echoed command and the
  // agent's log lines.
  const std::string out = Guest(
      "for d in /sys/devices/system/memory/memory*; do echo \"B=${d##*memory}:$(cat $d/state)=B\"; done; echo DONE=1");
  std::map<int64_t, std::string> sysfs;
  for (size_t at = out.find("\nB="); at != std::string::npos; at = out.find("\nB=", at + 1)) {
    const size_t colon = out.find(':', at);
    const size_t end = out.find("=B", at);
    if (colon == std::string::npos || end == std::string::npos || colon > end) continue;
    sysfs[g_ascii_strtoll(out.substr(at + 3, colon - at - 3).c_str(), nullptr, 10)] = out.substr(colon + 1, end - colon - 1);
  }
  ASSERT_GE(sysfs.size(), 4u) << out;

  const CliRun run = Ctl({"--json", "blocks", "--all"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const Json blocks = ResultOf(run);
  ASSERT_EQ(blocks.Length("memory"), sysfs.size()) << run.out;
  int64_t online = 0;
  int64_t offline = 0;
  std::set<std::string> devices;
  for (size_t i = 0; i < blocks.Length("memory"); ++i) {
    const std::string p = "memory." + std::to_string(i) + ".";
    const int64_t id = g_ascii_strtoll(blocks.String(p + "block").c_str(), nullptr, 10);
    ASSERT_TRUE(sysfs.count(id)) << "block " << id << " is not in sysfs";
    EXPECT_EQ(blocks.String(p + "state"), sysfs[id]) << "block " << id;
    EXPECT_EQ(blocks.Int(p + "size"), kBlock);
    (sysfs[id] == "online" ? online : offline) += kBlock;
    if (!blocks.String(p + "device").empty()) devices.insert(blocks.String(p + "device"));
  }
  EXPECT_EQ(blocks.Int("online_bytes"), online);
  EXPECT_EQ(blocks.Int("offline_bytes"), offline);
  EXPECT_TRUE(devices.count("d1")) << "the DIMM of the first test owns its blocks: " << run.out;

  const CliRun text = Ctl({"blocks"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("RANGE"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Total online memory:"), std::string::npos) << text.out;
  std::printf("[detail] memhpctl blocks:\n%s", text.out.c_str());
}

}  // namespace
}  // namespace memhp::vmtest
