// memhp vm suite — the agent's paths no other vm test reaches, in a booted guest:
//   (a) transitions the agent did not make are reported every time: three rounds of a shell's
//       offline/online of a hot-plugged block, each OFFLINE and ONLINE with origin OTHER; and
//       plain virtio-mem shrinks (the guest's driver offlines the blocks itself before removing
//       them), where every BLOCK_REMOVED has an OFFLINE of its block reported before it;
//   (b) memhpd is killed while the agent keeps running; a shell offlines and onlines a block
//       meanwhile; the new memhpd (`memhpctl attach`) gets exactly those events, replayed;
//   (c) with the backlog small (`--event-backlog 8`) and more events than that while no memhpd
//       is attached, the new memhpd gets a gap naming how many were dropped, before the events
//       kept after it;
//   (d) the agent's virtserialport is hot-unplugged and plugged back over QMP: the same agent
//       process reopens the new port and says hello again;
//   (e) with no memhpd attached, the agent's CPU time and wake-ups over 60 s stay near zero,
//       and it logs nothing meanwhile (the next memhpd gets no gap);
//   (f) memory pressure, for real: a guest process asks for more memory than the guest has, the
//       kernel reclaims in vain and OOM-kills it; the agent's PSI trigger (here 1 ms of stall
//       within 500 ms) fires, memhpd shows the STALLED pressure with the OOM kill counted,
//       and, two quiet windows later, RECOVERED.
// One VM for the suite; the tests run in declaration order and build on each other.
#include <glib.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <cstdio>
#include <string>
#include <vector>

#include "background_memhpctl.h"
#include "memhpctl_runner.h"
#include "memory_events.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kMiB = 1ll << 20;
constexpr int64_t kBlock = 128 * kMiB;
constexpr int kBacklog = 8;

// One of `memhpctl --json events`' events: a memory event or a gap.
struct Recorded {
  int64_t seq = -1;
  bool replayed = false;
  std::string kind;  // the memory event's kind, or "gap"
  int64_t block = -1;
  std::string origin;
  int64_t gap_first = -1;
  int64_t gap_count = -1;
};

class AgentPaths : public SharedVmTest<AgentPaths> {
 public:
  static constexpr char kVm[] = "ap";
  static std::vector<std::string> LaunchArgs() {
    // The pressure trigger at 1 ms of stall within 500 ms: an OOM kill in this small guest stalls
    // its tasks for ~50 ms in all in one run under TCG, under 10 ms in another.
    return {"--agent-args", "--event-backlog " + std::to_string(kBacklog) +
                                " --pressure-threshold-ms 1 --pressure-window-ms 500"};
  }

 protected:
  static std::string Dir() { return vm_->Dir(); }

  static std::vector<Recorded> Events() {
    std::vector<Recorded> out;
    const Json events = ResultOf(Ctl({"--json", "events"}));
    for (size_t i = 0; i < events.Length("events"); ++i) {
      const std::string e = "events." + std::to_string(i) + ".";
      Recorded r;
      r.seq = events.Int(e + "seq");
      r.replayed = events.Bool(e + "replayed");
      if (events.At(e + "gap")) {
        r.kind = "gap";
        r.gap_first = events.Int(e + "gap.first_seq");
        r.gap_count = events.Int(e + "gap.count");
      } else if (events.At(e + "memory")) {
        r.kind = events.String(e + "memory.kind");
        r.block = events.Int(e + "memory.block");
        r.origin = events.String(e + "memory.origin");
      } else {
        continue;
      }
      out.push_back(r);
    }
    return out;
  }
  // The ONLINE/OFFLINE events of `block` recorded after position `from` of Events().
  static std::vector<Recorded> Transitions(const std::vector<Recorded>& all, size_t from, int64_t block) {
    std::vector<Recorded> out;
    for (size_t i = from; i < all.size(); ++i) {
      const Recorded& r = all[i];
      if (r.block == block && (r.kind == "MEMORY_EVENT_KIND_ONLINE" || r.kind == "MEMORY_EVENT_KIND_OFFLINE")) {
        out.push_back(r);
      }
    }
    return out;
  }
  // Polls Events() until `done` holds or `seconds` pass; the last read.
  template <class Pred>
  static std::vector<Recorded> EventsWhen(Pred done, int seconds) {
    std::vector<Recorded> all;
    const gint64 give_up = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    do {
      all = Events();
      if (done(all)) break;
      g_usleep(250 * 1000);
    } while (g_get_monotonic_time() < give_up);
    return all;
  }
  static std::string State(int64_t block) {
    const std::string out =
        Guest("echo STATE=$(cat /sys/devices/system/memory/memory" + std::to_string(block) + "/state)=END");
    const size_t at = out.rfind("STATE=");
    const size_t end = at == std::string::npos ? at : out.find("=END", at);
    return end == std::string::npos ? "" : out.substr(at + 6, end - at - 6);
  }
  // A shell in the guest offlines the block, then onlines it (movable), `rounds` times in one
  // command line; the transitions are the shell's, not the agent's.
  static void ShellRounds(int64_t block, int rounds) {
    const std::string state = "/sys/devices/system/memory/memory" + std::to_string(block) + "/state";
    (void)Guest("for i in $(seq " + std::to_string(rounds) + "); do echo offline > " + state +
                    " && echo online_movable > " + state + " || echo SHELL_WRITE_FAILED; done",
                30000);
  }
  static Json Status() { return ResultOf(Ctl({"--json", "status"})); }
  // memhpd killed (SIGKILL, as a crash) and gone; the agent stays.
  static void KillMemhpd() {
    const long pid = Status().Int("memhpd_pid");
    ASSERT_TRUE(PidAlive(pid));
    ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGKILL), 0);
    const gint64 give_up = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (PidAlive(pid) && g_get_monotonic_time() < give_up) g_usleep(100 * 1000);
    ASSERT_FALSE(PidAlive(pid));
  }
  // A new memhpd for the running QEMU; true once the agent said hello to it.
  static bool Attach() {
    CliRun attach = Ctl({"attach", "--qmp", Dir() + "/qmp.sock", "--agent", Dir() + "/agent.sock"});
    EXPECT_EQ(attach.exit_code, 0) << attach.out << attach.err;
    return WaitConnected(true, 30);
  }
  static bool WaitConnected(bool connected, int seconds) {
    const gint64 give_up = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    do {
      if (Status().Bool("agent.connected") == connected) return true;
      g_usleep(250 * 1000);
    } while (g_get_monotonic_time() < give_up);
    return false;
  }
  // The agent's pid in the guest, from its hello.
  static std::string AgentPid() { return Status().String("agent.hello.agent_pid"); }
  // utime+stime (clock ticks) and voluntary context switches of a guest process.
  static bool ProcTimes(const std::string& pid, int64_t& ticks, int64_t& wakeups) {
    const std::string out = Guest("echo T=$(cut -d' ' -f14,15 /proc/" + pid + "/stat | tr ' ' +)=T W=$(grep " +
                                  "'^voluntary_ctxt_switches' /proc/" + pid + "/status | tr -dc 0-9)=W");
    const size_t t = out.rfind("T=");
    const size_t w = out.rfind("W=");
    if (t == std::string::npos || w == std::string::npos) return false;
    const std::string sum = out.substr(t + 2, out.find("=T", t) - t - 2);
    const size_t plus = sum.find('+');
    if (plus == std::string::npos) return false;
    ticks = g_ascii_strtoll(sum.substr(0, plus).c_str(), nullptr, 10) +
            g_ascii_strtoll(sum.substr(plus + 1).c_str(), nullptr, 10);
    wakeups = g_ascii_strtoll(out.substr(w + 2, out.find("=W", w) - w - 2).c_str(), nullptr, 10);
    return true;
  }

  static int64_t block_;  // the first block of the DIMM plugged by the first test
};
int64_t AgentPaths::block_ = -1;

TEST_F(AgentPaths, ShellOfflineAndOnlineOfAHotPluggedBlockIsReportedEveryRound) {
  CliRun plug = Ctl({"--json", "plug", "--size", "256M", "--node", "0", "--id", "dimm1", "--zone", "movable"});
  ASSERT_EQ(plug.exit_code, 0) << plug.out << plug.err;
  Json op = ResultOf(plug);
  block_ = op.Int("address") / kBlock;
  ASSERT_GT(block_, 0) << plug.out;
  ASSERT_EQ(State(block_), "online");
  const size_t before = Events().size();

  for (int round = 0; round < 3; ++round) ShellRounds(block_, 1);
  EXPECT_EQ(State(block_), "online");
  const std::vector<Recorded> all =
      EventsWhen([&](const std::vector<Recorded>& a) { return Transitions(a, before, block_).size() >= 6; }, 20);
  const std::vector<Recorded> seen = Transitions(all, before, block_);
  ASSERT_EQ(seen.size(), 6u) << "each of the shell's six transitions reported once";
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].kind, i % 2 == 0 ? "MEMORY_EVENT_KIND_OFFLINE" : "MEMORY_EVENT_KIND_ONLINE") << i;
    EXPECT_EQ(seen[i].origin, "EVENT_ORIGIN_OTHER") << i;
  }
}

// The virtio-mem driver offlines a block itself (offline_and_remove_memory()) before it
// removes it; the agent did not make that offline, so it is reported as observed — for every
// block of every shrink, not every other one.
TEST_F(AgentPaths, PlainVirtioMemShrinksReportAnOfflineBeforeEveryRemovedBlock) {
  const size_t before = Events().size();
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    CliRun grow = Ctl({"--json", "resize", "vmem0", "--size", "512M"});
    ASSERT_EQ(grow.exit_code, 0) << grow.out << grow.err;
    CliRun shrink = Ctl({"--json", "resize", "vmem0", "--size", "0M"});
    ASSERT_EQ(shrink.exit_code, 0) << shrink.out << shrink.err;
  }
  auto removed = [&](const std::vector<Recorded>& a) {
    size_t n = 0;
    for (size_t i = before; i < a.size(); ++i) n += a[i].kind == "MEMORY_EVENT_KIND_BLOCK_REMOVED";
    return n;
  };
  // 512 MiB is four blocks; every shrink to 0 removes them all.
  const std::vector<Recorded> all =
      EventsWhen([&](const std::vector<Recorded>& a) { return removed(a) >= 4 * kRounds; }, 60);
  ASSERT_EQ(removed(all), static_cast<size_t>(4 * kRounds));
  int offlines = 0;
  for (size_t i = before; i < all.size(); ++i) {
    if (all[i].kind != "MEMORY_EVENT_KIND_BLOCK_REMOVED") continue;
    // The block's last ONLINE/OFFLINE before its removal must be an OFFLINE.
    std::string last;
    for (size_t j = before; j < i; ++j) {
      if (all[j].block == all[i].block &&
          (all[j].kind == "MEMORY_EVENT_KIND_ONLINE" || all[j].kind == "MEMORY_EVENT_KIND_OFFLINE")) {
        last = all[j].kind;
      }
    }
    EXPECT_EQ(last, "MEMORY_EVENT_KIND_OFFLINE") << "block " << all[i].block << " removed (seq " << all[i].seq
                                                 << ") while last reported online";
    offlines += last == "MEMORY_EVENT_KIND_OFFLINE";
  }
  std::printf("[figure] %d virtio-mem shrinks: %zu blocks removed, %d with their OFFLINE reported first\n", kRounds,
              removed(all), offlines);
}

// Nothing attached on the host: the agent keeps its events and replays them to the next memhpd.
TEST_F(AgentPaths, EventsMadeWhileMemhpdIsDownAreReplayedToTheNewOne) {
  ASSERT_GT(block_, 0);
  const std::string agent = AgentPid();
  KillMemhpd();
  ShellRounds(block_, 1);  // two events, fewer than the backlog holds
  ASSERT_EQ(State(block_), "online");
  ASSERT_TRUE(Attach()) << "the agent did not greet the new memhpd";
  EXPECT_EQ(AgentPid(), agent) << "the same agent process";

  const std::vector<Recorded> all =
      EventsWhen([&](const std::vector<Recorded>& a) { return Transitions(a, 0, block_).size() >= 2; }, 20);
  const std::vector<Recorded> seen = Transitions(all, 0, block_);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, "MEMORY_EVENT_KIND_OFFLINE");
  EXPECT_EQ(seen[1].kind, "MEMORY_EVENT_KIND_ONLINE");
  for (const Recorded& r : seen) {
    EXPECT_TRUE(r.replayed) << "seq " << r.seq << " reached the new memhpd by replay";
    EXPECT_EQ(r.origin, "EVENT_ORIGIN_OTHER");
  }
  for (const Recorded& r : all) EXPECT_NE(r.kind, "gap") << "nothing was dropped";
}

// More events than the backlog holds while no memhpd is attached: the oldest are dropped and
// the new memhpd hears so first — a gap naming how many from which seq — then what was kept.
TEST_F(AgentPaths, AnOverflowingBacklogIsReportedAsAGapBeforeTheKeptEvents) {
  ASSERT_GT(block_, 0);
  KillMemhpd();
  constexpr int kRounds = 6;  // 12 transitions (and inventory/zone reports) > 8
  ShellRounds(block_, kRounds);
  ASSERT_EQ(State(block_), "online");
  ASSERT_TRUE(Attach());

  const std::vector<Recorded> all = EventsWhen(
      [&](const std::vector<Recorded>& a) {
        const auto t = Transitions(a, 0, block_);
        return !t.empty() && t.back().kind == "MEMORY_EVENT_KIND_ONLINE";
      },
      20);
  ASSERT_FALSE(all.empty());
  ASSERT_EQ(all.front().kind, "gap") << "the gap is the first event the new memhpd recorded";
  const Recorded gap = all.front();
  // 12 transitions at least went into a backlog of 8: at least 4 dropped.
  EXPECT_GE(gap.gap_count, 2 * kRounds - kBacklog);
  EXPECT_GT(gap.gap_first, 0);
  EXPECT_EQ(gap.seq, gap.gap_first + gap.gap_count - 1) << "numbered with the last seq it covers";
  const std::vector<Recorded> kept = Transitions(all, 1, block_);
  ASSERT_FALSE(kept.empty());
  EXPECT_LE(kept.size(), static_cast<size_t>(kBacklog));
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_GT(kept[i].seq, gap.seq) << "kept events come after the dropped ones";
    EXPECT_TRUE(kept[i].replayed);
    if (i > 0) {
      EXPECT_NE(kept[i].kind, kept[i - 1].kind) << "offline and online alternate, none lost after the gap";
    }
  }
  EXPECT_EQ(kept.back().kind, "MEMORY_EVENT_KIND_ONLINE") << "the shell's last transition";
  std::printf("[figure] backlog %d, %d shell transitions while memhpd was down: gap of %lld from seq %lld, %zu kept\n",
              kBacklog, 2 * kRounds, static_cast<long long>(gap.gap_count), static_cast<long long>(gap.gap_first),
              kept.size());
}

// Polls the watch's output until it has `needle` after offset `from`, or `seconds` pass; its offset.
size_t WaitForText(const Background& watch, const std::string& needle, size_t from, int seconds) {
  const gint64 give_up = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
  do {
    const std::string out = watch.Output();
    if (const size_t at = out.find(needle, std::min(from, out.size())); at != std::string::npos) return at;
    g_usleep(100 * 1000);
  } while (g_get_monotonic_time() < give_up);
  return std::string::npos;
}

// The port goes away under the agent (QMP device_del of the virtserialport) and comes back
// (device_add of the same port): the agent reopens it by name and says hello again.
TEST_F(AgentPaths, TheAgentReopensItsPortAfterAHotUnplugAndPlug) {
  const std::string agent = AgentPid();
  ASSERT_FALSE(agent.empty());
  Background watch(vm_->root(), vm_->WithVm({"--json", "watch", "--no-replay"}), Dir() + "/port-watch.out");
  const size_t subscribed = WaitForText(watch, "\"watching\"", 0, 20);
  ASSERT_NE(subscribed, std::string::npos) << watch.Output();
  CliRun del = Ctl({"qmp", "device_del", R"({"id":"agent-port"})"});
  ASSERT_EQ(del.exit_code, 0) << del.out << del.err;
  // device_add of the same port needs the old one gone from QEMU's tree and its chardev
  // released, which QEMU finishes after device_del returns ("Device 'agent' is in use" until
  // then): retried until it is taken, or a deadline.
  const std::string between = watch.Output();
  CliRun add;
  const gint64 give_up = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  do {
    add = Ctl({"qmp", "device_add",
               R"({"driver":"virtserialport","id":"agent-port","bus":"vser0.0","chardev":"agent",)"
               R"("name":"org.memhp.agent.0"})"});
    if (add.exit_code == 0 || (add.err.find("in use") == std::string::npos &&
                               add.err.find("Duplicate") == std::string::npos)) {
      break;
    }
    g_usleep(250 * 1000);
  } while (g_get_monotonic_time() < give_up);
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  const size_t hello = WaitForText(watch, "agent_connected", between.size(), 30);
  ASSERT_NE(hello, std::string::npos) << "no new hello from the agent on the re-plugged port:\n" << watch.Output();
  std::printf("[figure] port unplug/plug: memhpd %s agent_lost (its chardev socket stays connected)\n",
              watch.Output().substr(subscribed, hello - subscribed).find("agent_lost") != std::string::npos
                  ? "saw"
                  : "did not see");
  ASSERT_TRUE(WaitConnected(true, 10));
  EXPECT_EQ(AgentPid(), agent) << "the same agent process reopened the port";
  // And the channel works: a request through it is answered.
  CliRun offline = Ctl({"--json", "offline", "--blocks", std::to_string(block_)});
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_EQ(ResultOf(offline).String("blocks.0.outcome"), "BLOCK_OUTCOME_DONE") << offline.out;
  CliRun online = Ctl({"--json", "online", "--blocks", std::to_string(block_), "--zone", "movable"});
  EXPECT_EQ(online.exit_code, 0) << online.out << online.err;
}

// No host for a minute: the agent waits without spinning. Its CPU time (utime+stime, clock
// ticks of 10 ms) and voluntary context switches (each a wake-up from a blocking wait) are read
// from /proc at both ends of a 60 s window; the window is the measurement, not a wait for a
// condition. Each reopen attempt at the backoff's ceiling (2 s) costs one wake-up and an open
// and close of the port (the guest's virtio_console tells QEMU each time): measured 35
// wake-ups and 26 ticks (0.26 s) in the minute under TCG. The bounds, 2 wake-ups per second and
// 100 ticks (1 s), leave about 4x margin for a loaded host, and still fail for a poll loop (it
// wakes hundreds of times a second) or a spin (thousands of ticks).
TEST_F(AgentPaths, WithNoHostAttachedForAMinuteTheAgentStaysIdle) {
  const std::string agent = AgentPid();
  ASSERT_FALSE(agent.empty());
  KillMemhpd();
  // The window starts now, so it also holds the backoff's ramp (100 ms doubling to 2 s).
  int64_t ticks0 = 0, wake0 = 0, ticks1 = 0, wake1 = 0;
  ASSERT_TRUE(ProcTimes(agent, ticks0, wake0));
  const gint64 start = g_get_monotonic_time();
  g_usleep(60 * G_USEC_PER_SEC);
  ASSERT_TRUE(ProcTimes(agent, ticks1, wake1));
  const double seconds = static_cast<double>(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  const int64_t ticks = ticks1 - ticks0;
  const int64_t wakeups = wake1 - wake0;
  std::printf("[figure] agent idle with no host for %.0f s: %lld ticks of CPU, %lld voluntary wake-ups (%.2f/s)\n",
              seconds, static_cast<long long>(ticks), static_cast<long long>(wakeups),
              static_cast<double>(wakeups) / seconds);
  RecordProperty("idle_cpu_ticks", std::to_string(ticks));
  RecordProperty("idle_wakeups", std::to_string(wakeups));
  EXPECT_LE(ticks, 100) << "more than 1 s of CPU in a minute with nothing to do";
  EXPECT_LE(wakeups, static_cast<int64_t>(2 * seconds)) << "more than 2 wake-ups per second";
  ASSERT_TRUE(Attach());
  EXPECT_EQ(AgentPid(), agent);
  // Alone, the agent logged nothing: the minute's ~30 reopen attempts left no inventory events
  // that would overflow the 8-event backlog, so the new memhpd gets no gap. A shell round after
  // the hello is recorded behind anything replayed, so once it is there the replay is complete.
  ShellRounds(block_, 1);
  const std::vector<Recorded> all =
      EventsWhen([&](const std::vector<Recorded>& a) { return Transitions(a, 0, block_).size() >= 2; }, 20);
  EXPECT_EQ(Transitions(all, 0, block_).size(), 2u);
  for (const Recorded& r : all) EXPECT_NE(r.kind, "gap") << "the agent filled its backlog while no host was attached";
}

TEST_F(AgentPaths, PressureIsReportedWhenTheGuestStallsOnMemoryAndWhenItRecovers) {
  // Read through a zone report first: the guest's MemAvailable and the OOM kills so far.
  const Json zones = ResultOf(Ctl({"--json", "zones"}));
  ASSERT_TRUE(zones.Bool("pressure.psi_available")) << "the guest kernel has no PSI";
  const int64_t kills_before = zones.Int("pressure.oom_kill");
  const int64_t available_mib = zones.Int("pressure.mem_available_bytes") / kMiB;
  ASSERT_GT(available_mib, 0);
  // More than is available, but less than the guest has (the kernel's overcommit heuristic
  // refuses a mapping larger than all of RAM at mmap time): touching it, reclaim finds nothing
  // to free (no swap, the root file system is in RAM), so the kernel stalls, then kills the
  // largest task — this one.
  const int64_t total_mib = zones.Int("pressure.mem_total_bytes") / kMiB;
  const int64_t ask_mib = std::min(available_mib + 96, total_mib - 16);
  ASSERT_GT(ask_mib, available_mib);
  // How long one OOM kill stalls tasks varies from run to run: up to five of them, each followed
  // by a wait of up to 5 s for memhpd to have a pressure event at all.
  auto has_pressure_event = [&] {
    const gint64 give_up = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    do {
      if (!Status().String("agent.pressure.cause").empty()) return true;
      g_usleep(250 * 1000);
    } while (g_get_monotonic_time() < give_up);
    return false;
  };
  for (int attempt = 0; attempt < 5; ++attempt) {
    (void)Guest("memhp-touch --mib " + std::to_string(ask_mib) + " >/dev/null 2>&1; echo touch-ended", 120000);
    if (has_pressure_event()) break;
  }
  auto pressure_is = [&](const std::string& cause) {
    const gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    do {
      const Json status = Status();
      if (status.String("agent.pressure.cause") == cause) return status;
      g_usleep(250 * 1000);
    } while (g_get_monotonic_time() < give_up);
    return Status();
  };
  // memhpd keeps the agent's last pressure; STALLED may be over by the time the shell returns.
  // RECOVERED comes only after a STALLED (two quiet windows after the last signal), read after
  // the kill, so it carries the counters of the whole episode.
  const Json recovered = pressure_is("PRESSURE_CAUSE_RECOVERED");
  ASSERT_EQ(recovered.String("agent.pressure.cause"), "PRESSURE_CAUSE_RECOVERED");
  EXPECT_GT(recovered.Int("agent.pressure.oom_kill"), kills_before);
  EXPECT_GT(recovered.Int("agent.pressure.some.total_us"), zones.Int("pressure.some.total_us"));
  EXPECT_EQ(recovered.Int("agent.pressure.threshold_us"), 1000);
  EXPECT_EQ(recovered.Int("agent.pressure.window_us"), 500000);
  const std::string text = Ctl({"status"}).out;
  EXPECT_NE(text.find("pressure: some "), std::string::npos) << text;
  EXPECT_NE(text.find("(recovered)"), std::string::npos) << text;
}

}  // namespace
}  // namespace memhp::vmtest
