// memhp tests — choosing blocks to offline (guest-agent/policy/offline_choice.h).
//
// The guest: node 0 with 8 blocks of boot memory (0-7, block 3 pinned), DIMM "dimm1" (32-35,
// Movable), DIMM "dimm2" (40-41, Movable, the emptiest), virtio-mem "vmem0" (48-51, Movable,
// block 49 pinned), DIMM "dimm3" (56-57, onlined Normal); node 1 has DIMM "dimm4" (64-65).
// Blocks are 128 MiB. The full preference order on node 0 is therefore:
//   41 40 | 35 34 33 32 | 51 50 48 | 57 56 | boot 7 6 5 4 2 1 0 (reserve permitting)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/offline_choice.h"

namespace memhp::agent {
namespace {

using ::testing::ElementsAreArray;
using memhp::v1::Zone;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBlock = 128 * kMiB;

std::vector<OfflineCandidate> Guest() {
  std::vector<OfflineCandidate> g;
  auto add = [&](uint32_t first, uint32_t count, uint32_t node, Zone zone,
                 std::optional<std::string> device) {
    for (uint32_t i = 0; i < count; ++i) g.push_back({first + i, node, zone, device, false});
  };
  add(0, 1, 0, memhp::v1::ZONE_DMA, std::nullopt);
  add(1, 7, 0, memhp::v1::ZONE_DMA32, std::nullopt);
  add(32, 4, 0, memhp::v1::ZONE_MOVABLE, "dimm1");
  add(56, 2, 0, memhp::v1::ZONE_NORMAL, "dimm3");
  add(48, 4, 0, memhp::v1::ZONE_MOVABLE, "vmem0");
  add(40, 2, 0, memhp::v1::ZONE_MOVABLE, "dimm2");
  add(64, 2, 1, memhp::v1::ZONE_MOVABLE, "dimm4");
  for (OfflineCandidate& b : g) b.pinned = b.id == 3 || b.id == 49;
  return g;
}

struct Row {
  const char* name;
  uint64_t bytes;
  uint32_t node;
  uint64_t reserve_bytes;
  std::vector<uint32_t> expected;
};

TEST(ChooseBlocksToOfflineTest, Table) {
  const std::vector<Row> rows = {
      {"one block: the emptiest MOVABLE DIMM, top block", kBlock, 0, 0, {41}},
      {"a part block rounds up", kBlock + 1, 0, 0, {41, 40}},
      {"finish a device before the next", 3 * kBlock, 0, 0, {41, 40, 35}},
      {"devices with a pin after those without", 7 * kBlock, 0, 0,
       {41, 40, 35, 34, 33, 32, 51}},
      {"pinned block skipped, then kernel-zone DIMM", 10 * kBlock, 0, 0,
       {41, 40, 35, 34, 33, 32, 51, 50, 48, 57}},
      {"boot memory last, reserve 768 MiB keeps 6 of 8 (pinned 3 counts)", 100 * kBlock, 0,
       768 * kMiB, {41, 40, 35, 34, 33, 32, 51, 50, 48, 57, 56, 7, 6}},
      {"reserve rounds up to whole blocks", 100 * kBlock, 0, 700 * kMiB,
       {41, 40, 35, 34, 33, 32, 51, 50, 48, 57, 56, 7, 6}},
      {"no reserve: all boot blocks but the pinned one", 100 * kBlock, 0, 0,
       {41, 40, 35, 34, 33, 32, 51, 50, 48, 57, 56, 7, 6, 5, 4, 2, 1, 0}},
      {"reserve above the boot memory: none of it", 100 * kBlock, 0, 2048 * kMiB,
       {41, 40, 35, 34, 33, 32, 51, 50, 48, 57, 56}},
      {"other node only", 100 * kBlock, 1, 0, {65, 64}},
      {"node without blocks", kBlock, 2, 0, {}},
      {"nothing asked", 0, 0, 0, {}},
  };
  const std::vector<OfflineCandidate> guest = Guest();
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    const OfflineRequest req{r.bytes, r.node, kBlock, r.reserve_bytes};
    EXPECT_THAT(ChooseBlocksToOffline(req, guest), ElementsAreArray(r.expected));
  }
}

TEST(ChooseBlocksToOfflineTest, NeverPinnedEvenWhenShort) {
  std::vector<OfflineCandidate> g = {{10, 0, memhp::v1::ZONE_MOVABLE, "d", true},
                                     {11, 0, memhp::v1::ZONE_MOVABLE, "d", true}};
  EXPECT_TRUE(ChooseBlocksToOffline({kBlock, 0, kBlock, 0}, g).empty());
}

TEST(ChooseBlocksToOfflineTest, BlockSizeZeroChoosesNothing) {
  EXPECT_TRUE(ChooseBlocksToOffline({kBlock, 0, 0, 0}, Guest()).empty());
}

TEST(ChooseBlocksToOfflineTest, MovableBootMemoryBeforeKernelZoneDevices) {
  // Boot memory onlined Movable (movablecore=) offlines more easily than a KERNEL DIMM.
  std::vector<OfflineCandidate> g = {{5, 0, memhp::v1::ZONE_NORMAL, "dimm", false},
                                     {9, 0, memhp::v1::ZONE_MOVABLE, std::nullopt, false},
                                     {8, 0, memhp::v1::ZONE_NORMAL, std::nullopt, false}};
  EXPECT_THAT(ChooseBlocksToOffline({3 * kBlock, 0, kBlock, 0}, g),
              ElementsAreArray({9u, 5u, 8u}));
}

}  // namespace
}  // namespace memhp::agent
