// memhp vm suite — memhpctl autoscale against a booted guest (docs/autoscale.md): the default
// VM, autoscale on vmem1 from 0 up to 1.5 GiB; a guest workload ramps up anonymous memory well
// past what the guest has (48 MiB more every 2 s, 576 MiB in all, into a 512 MiB guest) — the
// device grows, with GROW decisions in the watch stream and no OOM kill (/proc/vmstat
// oom_kill, through the agent's pressure reading); the workload stops — after the quiet period
// (30 s here) the autoscaler asks the dry run and shrinks back to the floor, with SHRINK
// decisions in the stream and a smaller device; --off stops it and status says so.
// Every wait is for a condition, with a deadline; the figures (sizes, decisions) are printed.
#include <glib.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "background_memhpctl.h"
#include "guest_workload.h"
#include "memhpctl_runner.h"
#include "shared_vm.h"

namespace memhp::vmtest {
namespace {

constexpr int64_t kMiB = 1ll << 20;

// The "autoscale" notices of a recorded watch with this action, in order.
std::vector<std::string> Decisions(const std::vector<std::string>& lines, const std::string& action) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    Json j(line);
    if (j.String("source") == "memhpd" && j.String("name") == "autoscale" && j.String("data.action") == action) {
      out.push_back(j.String("data.reason"));
    }
  }
  return out;
}

class Autoscale : public SharedVmTest<Autoscale> {
 public:
  static constexpr char kVm[] = "autoscale";
  static std::vector<std::string> LaunchArgs() {
    // The agent's PSI trigger at 1 ms of stall within 500 ms: in this swapless guest little can
    // be reclaimed, so stalls are short and come only near exhaustion (docs/autoscale.md).
    return {"--agent-args", "--pressure-threshold-ms 1 --pressure-window-ms 500"};
  }

 protected:
  static int64_t RequestedSize(const std::string& id) {
    Json status = ResultOf(Ctl({"--json", "status"}));
    for (size_t d = 0; d < status.Length("devices"); ++d) {
      const std::string p = "devices." + std::to_string(d);
      // proto3 JSON leaves a 0 out.
      if (status.String(p + ".id") == id) return status.At(p + ".requested_size") ? status.Int(p + ".requested_size") : 0;
    }
    return -1;
  }
  static int64_t OomKills() { return ResultOf(Ctl({"--json", "zones"})).Int("pressure.oom_kill"); }
};

TEST_F(Autoscale, GrowsUnderARampingWorkloadWithoutOomAndShrinksBackWhenItStops) {
  ASSERT_TRUE(vm_->WaitForConsole(120)) << "the guest's console shell never answered";
  Background watch(vm_->root(), vm_->WithVm({"--json", "watch", "--no-replay"}), vm_->root() + "/watch.out");
  ASSERT_TRUE(watch.WaitFor(30, [](const auto& lines) {
    for (const auto& l : lines) {
      if (Json(l).String("name") == "watching") return true;
    }
    return false;
  })) << watch.Output();
  const int64_t kills_before = OomKills();
  ASSERT_GE(kills_before, 0) << "no pressure reading from the agent";
  ASSERT_EQ(RequestedSize("vmem1"), 0);

  CliRun on = Ctl({"--json", "autoscale", "vmem1", "--min", "0", "--max", "1536M", "--step", "256M",
                   "--quiet-period", "30s", "--grow-available", "20"});
  ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
  Json state = ResultOf(on);
  ASSERT_TRUE(state.Bool("on"));
  EXPECT_EQ(state.Int("settings.step"), 256 * kMiB);
  EXPECT_EQ(state.Int("settings.quiet_ms"), 30000);

  // The ramp: one more 48 MiB toucher every 2 s (the workload's pace, not a wait).
  std::vector<std::unique_ptr<GuestFill>> fills;
  for (int i = 0; i < 12; ++i) {
    fills.push_back(std::make_unique<GuestFill>(*vm_, 48));
    ASSERT_GT(fills.back()->pid(), 0) << "toucher " << i << " did not start";
    g_usleep(2 * 1000 * 1000);
  }
  // Every toucher has written its pages once it is in its loop; the device must have grown.
  ASSERT_TRUE(watch.WaitFor(240, [](const auto& lines) { return !Decisions(lines, "AUTOSCALE_ACTION_GROW").empty(); }))
      << watch.Output();
  int64_t grown = -1;
  for (int i = 0; i < 240 && grown <= 0; ++i) {
    grown = RequestedSize("vmem1");
    if (grown <= 0) g_usleep(1000 * 1000);
  }
  ASSERT_GT(grown, 0);
  for (const auto& reason : Decisions(watch.Lines(), "AUTOSCALE_ACTION_GROW")) std::printf("grow: %s\n", reason.c_str());
  std::printf("vmem1 grown to %lld MiB\n", static_cast<long long>(grown / kMiB));
  EXPECT_EQ(OomKills(), kills_before) << "the OOM killer ran while the guest was growing";
  for (auto& fill : fills) EXPECT_GT(fill->pid(), 0);

  // The workload stops: after the quiet period the autoscaler shrinks what the dry run allows,
  // step by step, back to the floor. (A shrink may come while the ramp still runs, cut short by
  // the MemAvailable margin; only what comes after the stop counts here.)
  for (auto& fill : fills) ASSERT_TRUE(fill->Stop(60));
  const size_t shrinks_before = Decisions(watch.Lines(), "AUTOSCALE_ACTION_SHRINK").size();
  ASSERT_TRUE(watch.WaitFor(300, [shrinks_before](const auto& lines) {
    return Decisions(lines, "AUTOSCALE_ACTION_SHRINK").size() > shrinks_before;
  })) << watch.Output();
  // Back at the floor (0) once the last shrink's resize has ended: its end shows in the stream.
  int64_t shrunk = grown;
  for (int i = 0; i < 300 && shrunk != 0; ++i) {
    shrunk = RequestedSize("vmem1");
    if (shrunk != 0) g_usleep(1000 * 1000);
  }
  ASSERT_TRUE(watch.WaitFor(120, [](const auto& lines) {
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      Json j(*it);
      if (j.String("name") == "autoscale_resized") return j.String("data.outcome") == "OPERATION_OUTCOME_DONE";
    }
    return false;
  })) << watch.Output();
  for (const auto& reason : Decisions(watch.Lines(), "AUTOSCALE_ACTION_SHRINK")) std::printf("shrink: %s\n", reason.c_str());
  std::printf("vmem1 shrunk to %lld MiB\n", static_cast<long long>(shrunk / kMiB));
  EXPECT_EQ(shrunk, 0) << "not back at the floor";
  EXPECT_EQ(OomKills(), kills_before);

  CliRun off = Ctl({"--json", "autoscale", "--off"});
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_FALSE(ResultOf(off).Bool("on"));
  Json status = ResultOf(Ctl({"--json", "status"}));
  EXPECT_FALSE(status.Bool("autoscale.on"));
  EXPECT_GT(status.Int("autoscale.grows"), 0);
  EXPECT_GT(status.Int("autoscale.shrinks"), 0);
}

}  // namespace
}  // namespace memhp::vmtest
