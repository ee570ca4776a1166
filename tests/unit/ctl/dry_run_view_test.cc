// memhp tests — the dry run for people (host-tools/ctl/dry_run_view.h): the headline, one row
// per block with its verdict and why, the facts the estimate rests on, and the exit code.
#include "ctl/dry_run_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;

memhp::v1::DryRunResult Refused() {
  memhp::v1::DryRunResult r;
  r.set_kind(memhp::v1::OPERATION_KIND_UNPLUG);
  r.set_device_id("dimm1");
  r.set_detail("unplug dimm1 would be refused (block 73: pinned by dma-ring)");
  auto* e = r.mutable_estimate();
  e->set_could_go_bytes(0);
  e->set_blocked_bytes(256ull << 20);
  e->set_mem_available_bytes(700ull << 20);
  e->set_free_bytes(600ull << 20);
  e->set_movable_free_bytes(200ull << 20);
  e->set_reserve_bytes(128ull << 20);
  e->add_hooks("10-db");
  auto* b = e->add_blocks();
  b->set_block(73);
  b->set_verdict(memhp::v1::ESTIMATE_VERDICT_PINNED);
  b->set_zone(memhp::v1::ZONE_MOVABLE);
  b->set_node(1);
  b->set_device_id("dimm1");
  b->set_reason("pinned by dma-ring [0x248000000, 0x248001000)");
  return r;
}

TEST(DryRunView, SaysTheHeadlineEachBlockAndWhatItRestsOn) {
  const std::string text = RenderDryRunText(Refused());
  EXPECT_THAT(text, HasSubstr("unplug dimm1 would be refused (block 73: pinned by dma-ring) (dry run: nothing was changed)"));
  EXPECT_THAT(text, HasSubstr("BLOCK  ZONE     NODE  DEVICE  VERDICT  WHY"));
  EXPECT_THAT(text, HasSubstr("73     Movable  1     dimm1   pinned   pinned by dma-ring"));
  EXPECT_THAT(text, HasSubstr("MemAvailable 700 MiB"));
  EXPECT_THAT(text, HasSubstr("reserve 128 MiB"));
  EXPECT_THAT(text, HasSubstr("not run by a dry run, so not foreseen): 10-db"));
}

TEST(DryRunView, TheExitCodeFollowsTheOperationsOutcome) {
  memhp::v1::DryRunResult r = Refused();
  EXPECT_EQ(DryRunExitCode(r), 1);
  r.set_kind(memhp::v1::OPERATION_KIND_RESIZE);
  EXPECT_EQ(DryRunExitCode(r), 3);
  r.set_would_complete(true);
  EXPECT_EQ(DryRunExitCode(r), 0);
}

TEST(DryRunView, TheGuestsWordsCannotBreakARow) {
  memhp::v1::DryRunResult r = Refused();
  r.mutable_estimate()->mutable_blocks(0)->set_reason("evil\n\x1b[2Jreason");
  const std::string text = RenderDryRunText(r);
  EXPECT_THAT(text, HasSubstr("evil\\x0a\\x1b[2Jreason"));
}

}  // namespace
}  // namespace memhp::ctl
