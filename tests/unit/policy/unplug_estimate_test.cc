// memhp tests — the dry-run estimate (guest-agent/policy/unplug_estimate.h) over fake zone data:
// each row is a guest (blocks, MemAvailable, reserve, pins) and the verdict the estimate must
// give every block, on the agent's path and on the virtio-mem driver's.
#include "policy/unplug_estimate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memhp::agent {
namespace {

using memhp::v1::EstimateVerdict;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBlock = 128 * kMiB;

constexpr auto kOnline = memhp::v1::BLOCK_STATE_ONLINE;
constexpr auto kOffline = memhp::v1::BLOCK_STATE_OFFLINE;
constexpr auto kGoing = memhp::v1::BLOCK_STATE_GOING_OFFLINE;
constexpr auto kMovable = memhp::v1::ZONE_MOVABLE;
constexpr auto kNormal = memhp::v1::ZONE_NORMAL;
constexpr auto kAgent = memhp::v1::ESTIMATE_PATH_AGENT;
constexpr auto kDriver = memhp::v1::ESTIMATE_PATH_DRIVER;

constexpr auto kGo = memhp::v1::ESTIMATE_VERDICT_WOULD_GO;
constexpr auto kAlready = memhp::v1::ESTIMATE_VERDICT_ALREADY_OFFLINE;
constexpr auto kPinned = memhp::v1::ESTIMATE_VERDICT_PINNED;
constexpr auto kReserve = memhp::v1::ESTIMATE_VERDICT_RESERVE;
constexpr auto kNoRoom = memhp::v1::ESTIMATE_VERDICT_NO_ROOM;
constexpr auto kKernel = memhp::v1::ESTIMATE_VERDICT_KERNEL_ZONE;
constexpr auto kNotFound = memhp::v1::ESTIMATE_VERDICT_NOT_FOUND;
constexpr auto kSkipped = memhp::v1::ESTIMATE_VERDICT_SKIPPED;
constexpr auto kBusy = memhp::v1::ESTIMATE_VERDICT_BUSY;

EstimateBlock Movable(uint32_t id, memhp::v1::BlockState state = kOnline) {
  EstimateBlock b;
  b.id = id;
  b.state = state;
  b.zone = state == kOnline ? kMovable : memhp::v1::ZONE_UNSPECIFIED;
  b.node = 1;
  b.device_id = "vmem1";
  return b;
}
EstimateBlock Normal(uint32_t id) {
  EstimateBlock b = Movable(id);
  b.zone = kNormal;
  return b;
}
EstimateBlock Absent(uint32_t id) {
  EstimateBlock b;
  b.id = id;
  b.present = false;
  return b;
}

struct Case {
  std::string name;
  std::vector<EstimateBlock> blocks;
  uint64_t available_mib;
  uint64_t reserve_mib;
  std::vector<PinnedSpan> pins;
  memhp::v1::EstimatePath path;
  bool all_or_nothing;
  std::vector<EstimateVerdict> want;
  uint64_t want_could_mib;
  uint64_t want_blocked_mib;
};

class EstimateTable : public ::testing::TestWithParam<Case> {};

TEST_P(EstimateTable, GivesEachBlockItsVerdict) {
  const Case& c = GetParam();
  EstimateFacts facts;
  facts.block_size_bytes = kBlock;
  facts.mem_available_bytes = c.available_mib * kMiB;
  facts.reserve_bytes = c.reserve_mib * kMiB;
  facts.free_bytes = 300 * kMiB;
  facts.movable_free_bytes = 200 * kMiB;
  facts.pins = c.pins;
  facts.hooks = {"10-db"};
  const memhp::v1::UnplugEstimate e = EstimateUnplug(c.blocks, facts, c.path, c.all_or_nothing);
  ASSERT_EQ(e.blocks_size(), static_cast<int>(c.want.size()));
  for (size_t i = 0; i < c.want.size(); ++i) {
    EXPECT_EQ(e.blocks(i).verdict(), c.want[i])
        << "block " << e.blocks(i).block() << ": " << memhp::v1::EstimateVerdict_Name(e.blocks(i).verdict()) << " ("
        << e.blocks(i).reason() << ")";
    EXPECT_FALSE(e.blocks(i).reason().empty());
    EXPECT_EQ(e.blocks(i).block(), c.blocks[i].id);
  }
  EXPECT_EQ(e.could_go_bytes(), c.want_could_mib * kMiB);
  EXPECT_EQ(e.blocked_bytes(), c.want_blocked_mib * kMiB);
  EXPECT_EQ(e.mem_available_bytes(), c.available_mib * kMiB);
  EXPECT_EQ(e.free_bytes(), 300 * kMiB);
  EXPECT_EQ(e.movable_free_bytes(), 200 * kMiB);
  EXPECT_EQ(e.path(), c.path);
  // The reserve and the hooks belong to the agent's chain only; the driver never calls it.
  EXPECT_EQ(e.reserve_bytes(), c.path == kAgent ? c.reserve_mib * kMiB : 0);
  EXPECT_EQ(e.hooks_size(), c.path == kAgent ? 1 : 0);
}

// A pin over [block 41's start + 4 KiB, + 4 KiB): part of a block pins the whole block.
const PinnedSpan kPin41{"dma-ring", 41 * kBlock + 4096, 41 * kBlock + 8192};

INSTANTIATE_TEST_SUITE_P(
    Guests, EstimateTable,
    ::testing::Values(
        Case{"PlentyOfRoomEveryMovableBlockGoes", {Movable(43), Movable(42), Movable(41)}, 2048, 128, {}, kDriver,
             false, {kGo, kGo, kGo}, 384, 0},
        // 300 MiB available: two blocks fit (300 - 256 = 44 left), the third would need 128 more.
        Case{"MigrationRoomRunsOutAfterTwoBlocks", {Movable(43), Movable(42), Movable(41)}, 300, 0, {}, kDriver, false,
             {kGo, kGo, kNoRoom}, 256, 128},
        // The same guest on the agent's path with a 128 MiB reserve: after one block 172 MiB stay
        // (>= 128), after two 44 MiB would (< 128), so the guard vetoes the second.
        Case{"TheReserveGuardVetoesBeforeRoomRunsOut", {Movable(43), Movable(42), Movable(41)}, 300, 128, {}, kAgent,
             false, {kGo, kReserve, kReserve}, 128, 256},
        Case{"TheDriverIgnoresTheReserve", {Movable(43), Movable(42)}, 300, 128, {}, kDriver, false, {kGo, kGo}, 256, 0},
        Case{"APinStopsTheAgentButNotTheDriver", {Movable(42), Movable(41)}, 2048, 0, {kPin41}, kAgent, false,
             {kGo, kPinned}, 128, 128},
        Case{"TheDriverDoesNotSeePins", {Movable(42), Movable(41)}, 2048, 0, {kPin41}, kDriver, false, {kGo, kGo}, 256,
             0},
        // Offline blocks cost nothing: they are not in MemAvailable; the online one still fits.
        Case{"OfflineBlocksGoFree", {Movable(43, kOffline), Movable(42, kOffline), Movable(41)}, 130, 0, {}, kDriver,
             false, {kAlready, kAlready, kGo}, 384, 0},
        Case{"AKernelZoneBlockIsNotCounted", {Movable(42), Normal(41)}, 2048, 0, {}, kDriver, false, {kGo, kKernel},
             128, 128},
        Case{"AnOfflineInProgressIsBusy", {Movable(42, kGoing)}, 2048, 0, {}, kAgent, false, {kBusy}, 0, 128},
        Case{"AnAbsentBlockIsNotFoundAndNotCounted", {Absent(50), Movable(41)}, 2048, 0, {}, kAgent, false,
             {kNotFound, kGo}, 128, 0},
        // A DIMM: one pinned block stops the whole all-or-nothing unplug.
        Case{"AllOrNothingOneBlockerStopsEveryBlock", {Movable(40), Movable(41)}, 2048, 0, {kPin41}, kAgent, true,
             {kSkipped, kPinned}, 0, 256},
        Case{"AllOrNothingWithoutABlockerGoesWhole", {Movable(40), Movable(41)}, 2048, 128, {}, kAgent, true,
             {kGo, kGo}, 256, 0},
        Case{"NoMemoryAvailableAtAll", {Movable(41)}, 0, 0, {}, kDriver, false, {kNoRoom}, 0, 128}),
    [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(Estimate, AReasonNamesThePinAndTheReserve) {
  EstimateFacts facts;
  facts.block_size_bytes = kBlock;
  facts.mem_available_bytes = 200 * kMiB;
  facts.reserve_bytes = 128 * kMiB;
  facts.pins = {kPin41};
  const std::vector<EstimateBlock> blocks = {Movable(41), Movable(42)};
  const memhp::v1::UnplugEstimate e = EstimateUnplug(blocks, facts, kAgent, false);
  ASSERT_EQ(e.blocks_size(), 2);
  EXPECT_NE(e.blocks(0).reason().find("dma-ring"), std::string::npos) << e.blocks(0).reason();
  EXPECT_NE(e.blocks(1).reason().find("72 MiB would stay available, the reserve is 128 MiB"), std::string::npos)
      << e.blocks(1).reason();
  EXPECT_EQ(e.blocks(1).device_id(), "vmem1");
  EXPECT_EQ(e.blocks(1).node(), 1);
  EXPECT_EQ(e.blocks(1).zone(), kMovable);
}

TEST(Estimate, AnUnknownBlockSizeIsNoRoomNotADivisionByZero) {
  EstimateFacts facts;
  facts.mem_available_bytes = 2048 * kMiB;
  const std::vector<EstimateBlock> blocks = {Movable(41)};
  const memhp::v1::UnplugEstimate e = EstimateUnplug(blocks, facts, kDriver, false);
  ASSERT_EQ(e.blocks_size(), 1);
  EXPECT_EQ(e.blocks(0).verdict(), kNoRoom);
  EXPECT_EQ(e.could_go_bytes(), 0u);
}

}  // namespace
}  // namespace memhp::agent
