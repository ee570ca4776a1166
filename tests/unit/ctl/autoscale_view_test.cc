// autoscale_view — the autoscaler's state as the `autoscale` answer and status's line.
#include "ctl/autoscale_view.h"

#include <gtest/gtest.h>

namespace memhp::ctl {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST(AutoscaleView, OffNeverOnSaysOnlyOff) {
  EXPECT_EQ(RenderAutoscaleLine(memhp::v1::AutoscaleState()), "autoscale: off");
}

TEST(AutoscaleView, OnShowsTheBoundsTheCountsAndTheLastDecision) {
  memhp::v1::AutoscaleState s;
  s.set_on(true);
  s.mutable_settings()->set_device_id("vmem1");
  s.mutable_settings()->set_min_size(0);
  s.mutable_settings()->set_max_size(2048 * kMiB);
  s.mutable_settings()->set_step(512 * kMiB);
  s.mutable_settings()->set_quiet_ms(60000);
  s.mutable_settings()->set_grow_some_avg10_centipercent(1000);
  s.mutable_settings()->set_grow_available_permille(100);
  s.set_decisions(4);
  s.set_grows(2);
  s.set_shrinks(1);
  s.mutable_last()->set_action(memhp::v1::AUTOSCALE_ACTION_GROW);
  s.mutable_last()->set_size_now(512 * kMiB);
  s.mutable_last()->set_size_target(1024 * kMiB);
  s.mutable_last()->set_reason("MemAvailable low");
  EXPECT_EQ(RenderAutoscaleLine(s),
            "autoscale: on vmem1, 0 B..2 GiB step 512 MiB, quiet 60 s; 2 grow(s), 1 shrink(s); last: grow 512 MiB -> "
            "1 GiB (MemAvailable low)");
  const std::string text = RenderAutoscaleText(s);
  EXPECT_NE(text.find("PSI some avg10 >= 10.00%"), std::string::npos) << text;
  EXPECT_NE(text.find("MemAvailable < 10.00%"), std::string::npos) << text;

  s.set_on(false);
  EXPECT_EQ(RenderAutoscaleLine(s).rfind("autoscale: off (was vmem1); 2 grow(s)", 0), 0u) << RenderAutoscaleLine(s);
}

}  // namespace
}  // namespace memhp::ctl
