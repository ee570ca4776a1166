// memhp tests — memhpd's dry run (host-tools/daemon/operations/dry_run.h): which blocks of a
// device it asks the agent about, on which path, and how the agent's estimate becomes the
// answer (what could go, the size a shrink would reach, whether the whole operation would go
// through). Pure, table by table.
#include "daemon/operations/dry_run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "machine_test_support.h"

namespace memhp::daemon::operations {
namespace {

using ::testing::HasSubstr;
using test::Dimm;
using test::kBlock;
using test::kMiB;
using test::VirtioMem;

constexpr uint64_t kGiB = 1024 * kMiB;

std::vector<memhp::v1::MemoryDevice> Devices() {
  return {Dimm("dimm1", 9 * kGiB, 256 * kMiB), VirtioMem("vmem1", 6 * kGiB, 768 * kMiB, 2 * kGiB, 1)};
}

memhp::v1::DryRunCommand Unplug(const std::string& id) {
  memhp::v1::DryRunCommand c;
  c.set_kind(memhp::v1::OPERATION_KIND_UNPLUG);
  c.set_device_id(id);
  return c;
}
memhp::v1::DryRunCommand Resize(const std::string& id, uint64_t size, bool offline_first = false) {
  memhp::v1::DryRunCommand c;
  c.set_kind(memhp::v1::OPERATION_KIND_RESIZE);
  c.set_device_id(id);
  c.set_requested_size(size);
  c.set_offline_first(offline_first);
  return c;
}

TEST(DryRunPlan, ADimmIsItsWholeRangeOnTheAgentsPathAllOrNothing) {
  Result<DryRunPlan> plan = PlanDryRun(Unplug("dimm1"), Devices(), kBlock);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_TRUE(plan->estimate);
  EXPECT_EQ(plan->estimate->selection().range().start(), 9 * kGiB);
  EXPECT_EQ(plan->estimate->selection().range().size(), 256 * kMiB);
  EXPECT_EQ(plan->estimate->path(), memhp::v1::ESTIMATE_PATH_AGENT);
  EXPECT_TRUE(plan->estimate->all_or_nothing());
  EXPECT_FALSE(plan->offline_first);
  EXPECT_EQ(plan->result.asked_bytes(), 256 * kMiB);
  EXPECT_EQ(plan->result.size_now(), 256 * kMiB);
  EXPECT_EQ(plan->result.node(), 1);
}

TEST(DryRunPlan, AShrinkIsTheBlocksAboveTheNewSizeOnTheDriversPath) {
  // 200 MiB keeps two blocks (the second in part): the estimate starts at the third.
  Result<DryRunPlan> plan = PlanDryRun(Resize("vmem1", 200 * kMiB), Devices(), kBlock);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_TRUE(plan->estimate);
  EXPECT_EQ(plan->estimate->selection().range().start(), 6 * kGiB + 2 * kBlock);
  EXPECT_EQ(plan->estimate->selection().range().size(), 2 * kGiB - 2 * kBlock);
  EXPECT_EQ(plan->estimate->path(), memhp::v1::ESTIMATE_PATH_DRIVER);
  EXPECT_FALSE(plan->estimate->all_or_nothing());
  EXPECT_FALSE(plan->offline_first);
  EXPECT_EQ(plan->result.asked_bytes(), 568 * kMiB);
  EXPECT_EQ(plan->result.requested_size(), 200 * kMiB);
}

TEST(DryRunPlan, OfflineFirstAlsoAsksTheAgentsPath) {
  Result<DryRunPlan> plan = PlanDryRun(Resize("vmem1", 0, true), Devices(), kBlock);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_TRUE(plan->estimate && plan->offline_first);
  EXPECT_EQ(plan->estimate->path(), memhp::v1::ESTIMATE_PATH_DRIVER);
  EXPECT_EQ(plan->offline_first->path(), memhp::v1::ESTIMATE_PATH_AGENT);
  EXPECT_EQ(plan->offline_first->selection().range().start(), 6 * kGiB);
}

TEST(DryRunPlan, AGrowthAsksNothing) {
  Result<DryRunPlan> plan = PlanDryRun(Resize("vmem1", kGiB), Devices(), kBlock);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_FALSE(plan->estimate);
  const memhp::v1::DryRunResult r = FinishDryRun(*plan, std::nullopt, std::nullopt);
  EXPECT_TRUE(r.would_complete());
  EXPECT_EQ(r.asked_bytes(), 0u);
  EXPECT_EQ(r.size_reachable(), kGiB);
  EXPECT_THAT(r.detail(), HasSubstr("unplugs nothing"));
}

struct BadCase {
  const char* name;
  memhp::v1::DryRunCommand command;
  uint64_t block_size;
  const char* says;
};

TEST(DryRunPlan, BadCommandsAreClearErrors) {
  const BadCase cases[] = {
      {"unknown device", Unplug("dimm7"), kBlock, "no memory device 'dimm7'"},
      {"no id", Unplug(""), kBlock, "no memory device ''"},
      {"a virtio-mem unplug", Unplug("vmem1"), kBlock, "resize --dry-run"},
      {"a DIMM resize", Resize("dimm1", 0), kBlock, "unplug --dry-run"},
      {"not whole device blocks", Resize("vmem1", kMiB), kBlock, "not a multiple"},
      {"over max-size", Resize("vmem1", 4 * kGiB), kBlock, "max-size"},
      {"no agent's block size", Unplug("dimm1"), 0, "block size is not known"},
  };
  for (const BadCase& c : cases) {
    Result<DryRunPlan> plan = PlanDryRun(c.command, Devices(), c.block_size);
    ASSERT_FALSE(plan.ok()) << c.name;
    EXPECT_THAT(plan.error().message, HasSubstr(c.says)) << c.name;
  }
}

memhp::v1::UnplugEstimate Estimate(uint64_t could, uint64_t blocked, memhp::v1::EstimateVerdict blocker) {
  memhp::v1::UnplugEstimate e;
  e.set_block_size_bytes(kBlock);
  e.set_could_go_bytes(could);
  e.set_blocked_bytes(blocked);
  if (blocked != 0) {
    auto* b = e.add_blocks();
    b->set_block(73);
    b->set_verdict(blocker);
    b->set_reason("pinned by dma-ring");
  }
  return e;
}

TEST(DryRunFinish, ADimmThatCouldGoWholeWouldComplete) {
  Result<DryRunPlan> plan = PlanDryRun(Unplug("dimm1"), Devices(), kBlock);
  ASSERT_TRUE(plan.ok());
  const auto r = FinishDryRun(*plan, Estimate(256 * kMiB, 0, {}), std::nullopt);
  EXPECT_TRUE(r.would_complete());
  EXPECT_EQ(r.could_go_bytes(), 256 * kMiB);
  EXPECT_EQ(r.size_reachable(), 0u);
  EXPECT_THAT(r.detail(), HasSubstr("would go through"));
}

TEST(DryRunFinish, ADimmWithOneBlockerWouldBeRefusedWhole) {
  Result<DryRunPlan> plan = PlanDryRun(Unplug("dimm1"), Devices(), kBlock);
  ASSERT_TRUE(plan.ok());
  const auto r = FinishDryRun(*plan, Estimate(0, 256 * kMiB, memhp::v1::ESTIMATE_VERDICT_PINNED), std::nullopt);
  EXPECT_FALSE(r.would_complete());
  EXPECT_EQ(r.could_go_bytes(), 0u);
  EXPECT_EQ(r.size_reachable(), 256 * kMiB);
  EXPECT_THAT(r.detail(), HasSubstr("would be refused (block 73: pinned by dma-ring)"));
}

TEST(DryRunFinish, AShrinkThatRunsOutOfRoomSaysTheSizeItWouldReach) {
  Result<DryRunPlan> plan = PlanDryRun(Resize("vmem1", 0), Devices(), kBlock);
  ASSERT_TRUE(plan.ok());
  const auto r = FinishDryRun(*plan, Estimate(2 * kBlock, 4 * kBlock, memhp::v1::ESTIMATE_VERDICT_NO_ROOM), std::nullopt);
  EXPECT_FALSE(r.would_complete());
  EXPECT_EQ(r.could_go_bytes(), 2 * kBlock);
  EXPECT_EQ(r.size_reachable(), 768 * kMiB - 2 * kBlock);
  EXPECT_THAT(r.detail(), HasSubstr("would stop at about"));
}

TEST(DryRunFinish, MoreThanAskedIsClampedToTheRequestedSize) {
  // A block partly plugged counts whole in the estimate; the size never goes below the request.
  Result<DryRunPlan> plan = PlanDryRun(Resize("vmem1", 512 * kMiB), Devices(), kBlock);
  ASSERT_TRUE(plan.ok());
  const auto r = FinishDryRun(*plan, Estimate(12 * kBlock, 0, {}), std::nullopt);
  EXPECT_TRUE(r.would_complete());
  EXPECT_EQ(r.could_go_bytes(), 256 * kMiB);
  EXPECT_EQ(r.size_reachable(), 512 * kMiB);
}

TEST(DryRunFinish, OfflineFirstsEstimateIsCarriedBeside) {
  Result<DryRunPlan> plan = PlanDryRun(Resize("vmem1", 0, true), Devices(), kBlock);
  ASSERT_TRUE(plan.ok());
  const auto r = FinishDryRun(*plan, Estimate(6 * kBlock, 0, {}),
                              Estimate(5 * kBlock, kBlock, memhp::v1::ESTIMATE_VERDICT_RESERVE));
  EXPECT_TRUE(r.has_offline_first());
  EXPECT_EQ(r.offline_first().blocked_bytes(), kBlock);
  // The driver decides the size reached.
  EXPECT_TRUE(r.would_complete());
  EXPECT_EQ(r.size_reachable(), 0u);
}

}  // namespace
}  // namespace memhp::daemon::operations
