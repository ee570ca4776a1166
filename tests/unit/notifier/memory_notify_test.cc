// memhp tests — struct memory_notify computation (guest-agent/notifier/memory_notify.h).
//
// One table row per rule of mm/memory_hotplug.c (Linux 6.1) node_states_check_changes_online()
// and node_states_check_changes_offline(), cited as the seed rules S10–S13 they produce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "notifier/memory_notify.h"

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;
using memhp::v1::Zone;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBlock = 128 * kMiB;  // x86_64 default memory block size
constexpr uint64_t kPage = 4096;
constexpr uint64_t kBlockPages = kBlock / kPage;  // 32768

BlockTransition Online(uint32_t node, Zone zone, bool has_memory, bool has_normal) {
  BlockTransition t;
  t.action = BlockAction::kOnline;
  t.start_address = 40 * kBlock;
  t.block_size_bytes = kBlock;
  t.page_size_bytes = kPage;
  t.node = node;
  t.zone = zone;
  t.node_has_memory = has_memory;
  t.node_has_normal_memory = has_normal;
  return t;
}

BlockTransition Offline(uint32_t node, Zone zone, uint64_t kernel_present, uint64_t all_present) {
  BlockTransition t;
  t.action = BlockAction::kOffline;
  t.start_address = 40 * kBlock;
  t.block_size_bytes = kBlock;
  t.page_size_bytes = kPage;
  t.node = node;
  t.zone = zone;
  t.node_present = {kernel_present, all_present};
  return t;
}

struct NidCase {
  const char* name;
  BlockTransition in;
  int want_nid_normal;  // S12
  int want_nid;         // S13
};

class StatusChangeTest : public ::testing::TestWithParam<NidCase> {};

TEST_P(StatusChangeTest, MatchesKernelRules) {
  const NidCase& c = GetParam();
  Result<MemoryNotify> n = ComputeMemoryNotify(c.in);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->status_change_nid_normal, c.want_nid_normal) << "S12";
  EXPECT_EQ(n->status_change_nid, c.want_nid) << "S13";
  EXPECT_EQ(n->nr_pages, kBlockPages);
}

INSTANTIATE_TEST_SUITE_P(
    Table, StatusChangeTest,
    ::testing::Values(
        // Online: decided from the masks before (node_states_check_changes_online).
        NidCase{"OnlineNodeWithMemory", Online(0, v1::ZONE_NORMAL, true, true), -1, -1},
        NidCase{"OnlineMovableNodeWithMemory", Online(0, v1::ZONE_MOVABLE, true, true), -1, -1},
        // S12+S13: a memoryless node gains memory in a kernel zone.
        NidCase{"OnlineMemorylessNodeNormal", Online(1, v1::ZONE_NORMAL, false, false), 1, 1},
        // S13 only: MOVABLE does not give N_NORMAL_MEMORY.
        NidCase{"OnlineMemorylessNodeMovable", Online(1, v1::ZONE_MOVABLE, false, false), -1, 1},
        // A node with only movable memory gains its first kernel-zone block: S12 only.
        NidCase{"OnlineFirstNormalOfMovableNode", Online(2, v1::ZONE_NORMAL, true, false), 2, -1},
        NidCase{"OnlineDma32CountsAsKernelZone", Online(3, v1::ZONE_DMA32, true, false), 3, -1},
        // Offline: decided by counting present pages (node_states_check_changes_offline).
        NidCase{"OfflineOrdinary", Offline(0, v1::ZONE_NORMAL, 10 * kBlockPages,
                                           12 * kBlockPages), -1, -1},
        // The node's last block: both masks lose the node.
        NidCase{"OfflineLastBlockOfNode", Offline(1, v1::ZONE_NORMAL, kBlockPages, kBlockPages),
                1, 1},
        // Last kernel-zone block while Movable remains: N_NORMAL_MEMORY only (S12).
        NidCase{"OfflineLastKernelBlockMovableRemains",
                Offline(1, v1::ZONE_NORMAL, kBlockPages, 3 * kBlockPages), 1, -1},
        // Last block of a movable-only node: N_MEMORY only; a movable offline never flips S12.
        NidCase{"OfflineLastMovableBlock", Offline(2, v1::ZONE_MOVABLE, 0, kBlockPages), -1, 2},
        // The last movable block while kernel memory remains: nothing flips.
        NidCase{"OfflineMovableKernelRemains",
                Offline(1, v1::ZONE_MOVABLE, 4 * kBlockPages, 5 * kBlockPages), -1, -1},
        // A stale zoneinfo that counts fewer pages than the block: the kernel's ">=" applies.
        NidCase{"OfflineCountsBelowBlock", Offline(1, v1::ZONE_NORMAL, 100, 100), 1, 1}),
    [](const ::testing::TestParamInfo<NidCase>& p) { return std::string(p.param.name); });

TEST(MemoryNotifyTest, PfnMathBlock40) {
  // S10/S11: block 40, 128 MiB blocks, 4 KiB pages.
  Result<uint64_t> start = BlockStartAddress(40, kBlock);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(*start, uint64_t{0x140000000});
  BlockTransition t = Online(0, v1::ZONE_MOVABLE, true, true);
  t.start_address = *start;
  Result<MemoryNotify> n = ComputeMemoryNotify(t);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->start_pfn, 1310720u);
  EXPECT_EQ(n->nr_pages, 32768u);
}

TEST(MemoryNotifyTest, PfnMathBlock40Offline) {
  Result<MemoryNotify> n =
      ComputeMemoryNotify(Offline(0, v1::ZONE_NORMAL, 8 * kBlockPages, 8 * kBlockPages));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->start_pfn, 1310720u);
  EXPECT_EQ(n->nr_pages, 32768u);
}

struct ErrCase {
  const char* name;
  BlockTransition in;
  int want_errno;
  const char* want_text;
};

BlockTransition With(BlockTransition t, uint64_t start, uint64_t block, uint64_t page) {
  t.start_address = start;
  t.block_size_bytes = block;
  t.page_size_bytes = page;
  return t;
}

class MemoryNotifyErrorTest : public ::testing::TestWithParam<ErrCase> {};

TEST_P(MemoryNotifyErrorTest, Rejects) {
  const ErrCase& c = GetParam();
  Result<MemoryNotify> n = ComputeMemoryNotify(c.in);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().errno_value, c.want_errno);
  EXPECT_THAT(n.error().message, HasSubstr(c.want_text));
}

const BlockTransition kGood = Online(0, v1::ZONE_NORMAL, true, true);

INSTANTIATE_TEST_SUITE_P(
    Table, MemoryNotifyErrorTest,
    ::testing::Values(
        ErrCase{"PageSizeZero", With(kGood, 0, kBlock, 0), EINVAL, "page size"},
        ErrCase{"PageSizeNotPow2", With(kGood, 0, kBlock, 3000), EINVAL, "power of two"},
        ErrCase{"BlockSizeZero", With(kGood, 0, 0, kPage), EINVAL, "block size"},
        ErrCase{"BlockNotPageMultiple", With(kGood, 0, kPage + 1, kPage), EINVAL, "block size"},
        ErrCase{"StartUnaligned", With(kGood, kBlock + kPage, kBlock, kPage), EINVAL, "aligned"},
        ErrCase{"EndOverflows", With(kGood, UINT64_MAX - kBlock + 1, kBlock, kPage), EOVERFLOW,
                "overflows"},
        ErrCase{"NodeTooLarge", Online(5000, v1::ZONE_NORMAL, true, true), EINVAL, "node"},
        ErrCase{"ZoneUnspecified", Online(0, v1::ZONE_UNSPECIFIED, true, true), EINVAL, "zone"},
        ErrCase{"ZoneDevice", Online(0, v1::ZONE_DEVICE, true, true), EINVAL, "zone"},
        ErrCase{"KernelCountAboveAll", Offline(0, v1::ZONE_NORMAL, 10, 5), EINVAL,
                "exceed"}),
    [](const ::testing::TestParamInfo<ErrCase>& p) { return std::string(p.param.name); });

TEST(BlockStartAddressTest, CheckedMultiply) {
  EXPECT_EQ(BlockStartAddress(0, kBlock).value(), 0u);
  Result<uint64_t> huge = BlockStartAddress(UINT32_MAX, uint64_t{1} << 40);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().errno_value, EOVERFLOW);
  Result<uint64_t> zero = BlockStartAddress(1, 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().errno_value, EINVAL);
}

TEST(SumNodePresentPagesTest, SumsKernelZonesThenMovableSkipsDevice) {
  // As ParseZoneInfo returns it for a 2-node guest: node 1 has Normal + Movable.
  const std::vector<ZoneInfoEntry> zi = {
      {0, v1::ZONE_DMA, 3998, 3840, 3840},
      {0, v1::ZONE_DMA32, 520000, 500000, 1000},
      {0, v1::ZONE_NORMAL, 0, 0, 0},
      {0, v1::ZONE_MOVABLE, 0, 0, 0},
      {1, v1::ZONE_DMA, 0, 0, 0},
      {1, v1::ZONE_DMA32, 0, 0, 0},
      {1, v1::ZONE_NORMAL, 524288, 510000, 400000},
      {1, v1::ZONE_MOVABLE, 262144, 262144, 262144},
      {1, v1::ZONE_DEVICE, 999, 0, 0},
  };
  Result<NodePresentPages> n0 = SumNodePresentPages(zi, 0);
  ASSERT_TRUE(n0.ok());
  EXPECT_EQ(*n0, (NodePresentPages{523998, 523998}));
  Result<NodePresentPages> n1 = SumNodePresentPages(zi, 1);
  ASSERT_TRUE(n1.ok());
  EXPECT_EQ(*n1, (NodePresentPages{524288, 786432}));
  Result<NodePresentPages> absent = SumNodePresentPages(zi, 7);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(*absent, (NodePresentPages{0, 0}));
}

TEST(SumNodePresentPagesTest, OverflowIsAnError) {
  const std::vector<ZoneInfoEntry> zi = {
      {0, v1::ZONE_NORMAL, UINT64_MAX, 0, 0},
      {0, v1::ZONE_MOVABLE, 1, 0, 0},
  };
  Result<NodePresentPages> n = SumNodePresentPages(zi, 0);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().errno_value, EOVERFLOW);
}

TEST(IsKernelZoneTest, ZonesUpToNormal) {
  EXPECT_TRUE(IsKernelZone(v1::ZONE_DMA));
  EXPECT_TRUE(IsKernelZone(v1::ZONE_DMA32));
  EXPECT_TRUE(IsKernelZone(v1::ZONE_NORMAL));
  EXPECT_FALSE(IsKernelZone(v1::ZONE_MOVABLE));
  EXPECT_FALSE(IsKernelZone(v1::ZONE_DEVICE));
  EXPECT_FALSE(IsKernelZone(v1::ZONE_UNSPECIFIED));
}

}  // namespace
}  // namespace memhp::agent
