// autoscale_policy — the decisions over a recorded pressure series and over the edges
// (floor, ceiling, quiet period, the dry run's answer, the MemAvailable margin), table-driven.
#include "daemon/autoscale/autoscale_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memhp::daemon::autoscale {
namespace {

using memhp::v1::AutoscaleAction;
using memhp::v1::AutoscaleCommand;
using memhp::v1::MemoryPressure;
using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kBlock = 2 * kMiB;  // QEMU's default virtio-mem block size on x86_64

AutoscaleCommand Settings() {
  AutoscaleCommand c;
  c.set_min_size(128 * kMiB);
  c.set_max_size(1024 * kMiB);
  c.set_step(256 * kMiB);
  c.set_quiet_ms(20000);
  Result<AutoscaleCommand> s = CompleteSettings(c, kBlock, 4096 * kMiB);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.value();
}

MemoryPressure Sample(memhp::v1::PressureCause cause, uint32_t avg10, uint64_t available_mib, uint64_t total_mib) {
  MemoryPressure p;
  p.set_psi_available(true);
  p.set_cause(cause);
  p.mutable_some()->set_avg10_centipercent(avg10);
  p.set_mem_available_bytes(available_mib * kMiB);
  p.set_mem_total_bytes(total_mib * kMiB);
  return p;
}

// One decision asked and what it must be.
struct Case {
  const char* what;
  std::optional<MemoryPressure> sample;
  uint64_t size_now_mib;
  std::chrono::milliseconds quiet_for;
  std::optional<uint64_t> reachable_mib;
  AutoscaleAction action;
  uint64_t target_mib;
  const char* reason_has = "";
};

void Check(const AutoscaleCommand& settings, const Case& c) {
  AutoscaleInputs in;
  in.sample = c.sample;
  in.size_now = c.size_now_mib * kMiB;
  in.device_block_size = kBlock;
  in.quiet_for = c.quiet_for;
  if (c.reachable_mib) in.size_reachable = *c.reachable_mib * kMiB;
  const memhp::v1::AutoscaleDecision d = Decide(settings, in);
  EXPECT_EQ(d.action(), c.action) << c.what << ": " << d.reason();
  EXPECT_EQ(d.size_target(), c.target_mib * kMiB) << c.what << ": " << d.reason();
  EXPECT_NE(d.reason().find(c.reason_has), std::string::npos) << c.what << ": " << d.reason();
  EXPECT_EQ(d.size_now(), in.size_now) << c.what;
  if (c.sample) {
    EXPECT_EQ(d.mem_available_bytes(), c.sample->mem_available_bytes()) << c.what;
  }
}

TEST(AutoscaleSettings, DefaultsAreFilledInAndBadBoundsAreRefused) {
  AutoscaleCommand c;
  c.set_min_size(0);
  c.set_max_size(1024 * kMiB);
  Result<AutoscaleCommand> s = CompleteSettings(c, kBlock, 4096 * kMiB);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s.value().step(), 256 * kMiB);
  EXPECT_EQ(s.value().quiet_ms(), kDefaultQuietMs);
  EXPECT_EQ(s.value().grow_some_avg10_centipercent(), kDefaultGrowAvg10Centipercent);
  EXPECT_EQ(s.value().grow_available_permille(), kDefaultGrowAvailablePermille);

  struct Bad {
    uint64_t min, max, step, device_max;
    uint32_t permille;
    const char* says;
  };
  for (const Bad& b : std::vector<Bad>{
           {0, 0, 0, 4096 * kMiB, 0, "--max is required"},
           {512 * kMiB, 256 * kMiB, 0, 4096 * kMiB, 0, "is above --max"},
           {0, 8192 * kMiB, 0, 4096 * kMiB, 0, "above the device's max-size"},
           {kMiB, 1024 * kMiB, 0, 4096 * kMiB, 0, "--min 1 MiB is not a multiple"},
           {0, 1024 * kMiB, 3 * kMiB, 4096 * kMiB, 0, "--step 3 MiB is not a multiple"},
           {0, 1024 * kMiB, 0, 4096 * kMiB, 600, "over 50 %"},
       }) {
    AutoscaleCommand bad;
    bad.set_min_size(b.min);
    bad.set_max_size(b.max);
    bad.set_step(b.step);
    bad.set_grow_available_permille(b.permille);
    Result<AutoscaleCommand> r = CompleteSettings(bad, kBlock, b.device_max);
    ASSERT_FALSE(r.ok()) << b.says;
    EXPECT_EQ(r.error().errno_value, EINVAL);
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
  }
}

// A guest of 512 MiB base memory with the device at 128 MiB, a workload ramping up and then
// stopping, as the agent reported it (STALLED events, the zone reports after each grow, then
// RECOVERED), with the autoscaler's answer to each.
TEST(AutoscalePolicy, FollowsARecordedPressureSeries) {
  const AutoscaleCommand s = Settings();
  using C = memhp::v1::PressureCause;
  const std::vector<Case> series = {
      {"idle guest, just turned on", Sample(C::PRESSURE_CAUSE_REQUEST, 0, 420, 640), 128, 0ms, {},
       memhp::v1::AUTOSCALE_ACTION_HOLD, 128, "at the floor"},
      {"the workload stalls: avg10 over 10 %", Sample(C::PRESSURE_CAUSE_STALLED, 1834, 100, 640), 128, 0ms, {},
       memhp::v1::AUTOSCALE_ACTION_GROW, 384, "PSI some 18.34 %"},
      {"after the grow, still short of memory", Sample(C::PRESSURE_CAUSE_REQUEST, 350, 50, 896), 384, 0ms, {},
       memhp::v1::AUTOSCALE_ACTION_GROW, 640, "MemAvailable 50 MiB of 896 MiB is under 10.00 %"},
      {"a stall below the avg10 threshold, plenty available", Sample(C::PRESSURE_CAUSE_STALLED, 120, 300, 1152), 640,
       0ms, {}, memhp::v1::AUTOSCALE_ACTION_HOLD, 640, "quiet period"},
      {"the workload grows again", Sample(C::PRESSURE_CAUSE_STALLED, 2500, 200, 1152), 640, 0ms, {},
       memhp::v1::AUTOSCALE_ACTION_GROW, 896, "PSI some 25.00 %"},
      {"the step is cut at --max", Sample(C::PRESSURE_CAUSE_STALLED, 2500, 60, 1408), 896, 0ms, {},
       memhp::v1::AUTOSCALE_ACTION_GROW, 1024, "grow by 128 MiB"},
      {"at --max, still pressed", Sample(C::PRESSURE_CAUSE_STALLED, 3000, 30, 1536), 1024, 0ms, {},
       memhp::v1::AUTOSCALE_ACTION_HOLD, 1024, "at --max 1 GiB"},
      {"the workload stops: RECOVERED with avg10 still high", Sample(C::PRESSURE_CAUSE_RECOVERED, 2900, 1100, 1536),
       1024, 1000ms, {}, memhp::v1::AUTOSCALE_ACTION_HOLD, 1024, "1000 ms of the 20000 ms"},
      {"quiet long enough: ask the dry run", Sample(C::PRESSURE_CAUSE_RECOVERED, 2900, 1100, 1536), 1024, 20000ms, {},
       memhp::v1::AUTOSCALE_ACTION_ESTIMATE, 768, "how much of 256 MiB"},
      {"the dry run says all of it can go", Sample(C::PRESSURE_CAUSE_RECOVERED, 2900, 1100, 1536), 1024, 20000ms, 768,
       memhp::v1::AUTOSCALE_ACTION_SHRINK, 768, "shrink by 256 MiB"},
      {"next step: only 100 MiB can go (rounded to the device's blocks)",
       Sample(C::PRESSURE_CAUSE_REQUEST, 10, 850, 1280), 768, 20000ms, 668, memhp::v1::AUTOSCALE_ACTION_SHRINK, 668,
       "shrink by 100 MiB"},
      {"nothing can go", Sample(C::PRESSURE_CAUSE_REQUEST, 10, 750, 1180), 668, 20000ms, 668,
       memhp::v1::AUTOSCALE_ACTION_HOLD, 668, "nothing can go"},
      {"the floor stops the last step", Sample(C::PRESSURE_CAUSE_REQUEST, 0, 700, 1180), 200, 20000ms, 0,
       memhp::v1::AUTOSCALE_ACTION_SHRINK, 128, "shrink by 72 MiB"},
      {"at the floor", Sample(C::PRESSURE_CAUSE_REQUEST, 0, 700, 1108), 128, 20000ms, {},
       memhp::v1::AUTOSCALE_ACTION_HOLD, 128, "at the floor"},
  };
  for (const Case& step : series) Check(s, step);
}

TEST(AutoscalePolicy, EdgesOfTheBounds) {
  const AutoscaleCommand s = Settings();
  using C = memhp::v1::PressureCause;
  MemoryPressure no_psi = Sample(C::PRESSURE_CAUSE_REQUEST, 9000, 500, 1000);
  no_psi.set_psi_available(false);
  for (const Case& c : std::vector<Case>{
           {"below the floor grows to it without a sample", {}, 0, 0ms, {}, memhp::v1::AUTOSCALE_ACTION_GROW, 128},
           {"no sample, not quiet: hold", {}, 512, 100ms, {}, memhp::v1::AUTOSCALE_ACTION_HOLD, 512},
           {"no sample, quiet: estimate", {}, 512, 30000ms, {}, memhp::v1::AUTOSCALE_ACTION_ESTIMATE, 256},
           {"averages without PSI are not read", no_psi, 512, 0ms, {}, memhp::v1::AUTOSCALE_ACTION_HOLD, 512},
           {"over --max comes down without waiting", {}, 2048, 0ms, {}, memhp::v1::AUTOSCALE_ACTION_ESTIMATE, 1024},
           {"over --max, the dry run allows it", {}, 2048, 0ms, 1024, memhp::v1::AUTOSCALE_ACTION_SHRINK, 1024},
           {"a total of 0 is no MemAvailable signal", Sample(C::PRESSURE_CAUSE_REQUEST, 0, 0, 0), 512, 0ms, {},
            memhp::v1::AUTOSCALE_ACTION_HOLD, 512},
           // 180 MiB available of 1000: taking 256 MiB would leave under 20 % of 744 MiB; the
           // margin allows (180000 - 200000) < 0 -> nothing.
           {"the MemAvailable margin stops a shrink", Sample(C::PRESSURE_CAUSE_REQUEST, 0, 180, 1000), 512, 30000ms,
            256, memhp::v1::AUTOSCALE_ACTION_HOLD, 512},
           // 300 MiB available of 1000: x <= (300000 - 200000) / 800 MiB = 125 MiB -> 126 MiB in 2 MiB blocks up.
           {"the margin cuts a shrink short", Sample(C::PRESSURE_CAUSE_REQUEST, 0, 300, 1000), 512, 30000ms, 256,
            memhp::v1::AUTOSCALE_ACTION_SHRINK, 388},
       }) {
    Check(s, c);
  }
}

// avg10 lags (a 10 s average): a reading under 10 s after the previous one is judged by the
// stalls between the two.
TEST(AutoscalePolicy, TheStallShareSinceARecentReadingStandsForAvg10) {
  const AutoscaleCommand s = Settings();
  using C = memhp::v1::PressureCause;
  auto at = [](MemoryPressure p, uint64_t seconds_x10, uint64_t total_ms) {
    p.set_read_at_unix_ns(seconds_x10 * 100'000'000);
    p.mutable_some()->set_total_us(total_ms * 1000);
    return p;
  };
  struct StallCase {
    const char* what;
    MemoryPressure sample;
    std::optional<MemoryPressure> previous;
    uint32_t share;
    bool pressed;
  };
  const MemoryPressure before = at(Sample(C::PRESSURE_CAUSE_STALLED, 4000, 40, 640), 100, 5000);
  for (const StallCase& c : std::vector<StallCase>{
           {"no previous: avg10", at(Sample(C::PRESSURE_CAUSE_REQUEST, 4000, 400, 896), 120, 5010), {}, 4000, true},
           {"2 s later, 10 ms stalled: 0.5 %", at(Sample(C::PRESSURE_CAUSE_REQUEST, 4000, 400, 896), 120, 5010), before,
            50, false},
           {"2 s later, 1 s stalled: 50 %", at(Sample(C::PRESSURE_CAUSE_REQUEST, 900, 400, 896), 120, 6000), before, 5000,
            true},
           {"20 s later: avg10 again", at(Sample(C::PRESSURE_CAUSE_REQUEST, 4000, 400, 896), 300, 5010), before, 4000,
            true},
           {"a total that went back: avg10", at(Sample(C::PRESSURE_CAUSE_REQUEST, 4000, 400, 896), 120, 10), before,
            4000, true},
           {"more stall than wall time is capped", at(Sample(C::PRESSURE_CAUSE_REQUEST, 0, 400, 896), 120, 99000),
            before, 10000, true},
       }) {
    EXPECT_EQ(RecentStallCentipercent(c.sample, c.previous), c.share) << c.what;
    EXPECT_EQ(UnderPressure(s, c.sample, c.previous), c.pressed) << c.what;
  }
}

}  // namespace
}  // namespace memhp::daemon::autoscale
