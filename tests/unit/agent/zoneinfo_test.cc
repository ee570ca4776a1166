// memhp tests — /proc/zoneinfo parser (ParseZoneInfo in guest-agent/sysfs/sysfs_parse.h).
//
// The fixture is shaped like a 2-node x86_64 guest (q35, 2 GiB boot memory per node, 1 GiB
// hot-added on node 1 and onlined movable), as mm/vmstat.c prints it on Linux 6.1: every zone
// of every node, "per-node stats" under each node's first populated zone, pagesets per CPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "sysfs/sysfs_parse.h"

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kTwoNodeZoneInfo = R"(Node 0, zone      DMA
  per-node stats
      nr_inactive_anon 0
      nr_active_anon 1158
      nr_inactive_file 17305
      nr_active_file 9270
      nr_unevictable 0
      nr_slab_reclaimable 3022
      nr_slab_unreclaimable 6871
      nr_isolated_anon 0
      nr_isolated_file 0
      workingset_nodes 0
      nr_anon_pages 1087
      nr_mapped    5112
      nr_file_pages 26575
      nr_dirty     0
      nr_writeback 0
      nr_shmem     71
      nr_kernel_stack 1984
      nr_page_table_pages 142
  pages free     3840
        boost    0
        min      96
        low      120
        high     144
        spanned  4095
        present  3998
        managed  3840
        cma      0
        protection: (0, 1903, 1903, 1903, 1903)
      nr_free_pages 3840
      nr_zone_inactive_anon 0
      nr_zone_active_anon 0
      nr_zone_inactive_file 0
      nr_zone_active_file 0
      nr_zone_unevictable 0
      nr_zone_write_pending 0
      nr_mlock     0
      nr_bounce    0
      nr_zspages   0
      nr_free_cma  0
  pagesets
    cpu: 0
              count: 0
              high:  13
              batch: 1
  vm stats threshold: 4
    cpu: 1
              count: 0
              high:  13
              batch: 1
  vm stats threshold: 4
  node_unreclaimable:  0
  start_pfn:           1
Node 0, zone    DMA32
  pages free     462139
        boost    0
        min      11947
        low      14933
        high     17919
        spanned  1044480
        present  520160
        managed  487308
        cma      0
        protection: (0, 0, 0, 0, 0)
      nr_free_pages 462139
      nr_zone_inactive_anon 0
      nr_zone_active_anon 1158
  pagesets
    cpu: 0
              count: 185
              high:  378
              batch: 63
  vm stats threshold: 24
    cpu: 1
              count: 27
              high:  378
              batch: 63
  vm stats threshold: 24
  node_unreclaimable:  0
  start_pfn:           4096
Node 0, zone   Normal
  pages free     0
        boost    0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
Node 0, zone  Movable
  pages free     0
        boost    0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
Node 0, zone   Device
  pages free     0
        boost    0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
Node 1, zone      DMA
  pages free     0
        boost    0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
Node 1, zone    DMA32
  pages free     0
        boost    0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
Node 1, zone   Normal
  per-node stats
      nr_inactive_anon 0
      nr_active_anon 412
      nr_inactive_file 2201
  pages free     508911
        boost    0
        min      12288
        low      15360
        high     18432
        spanned  524288
        present  524288
        managed  514170
        cma      0
        protection: (0, 0, 0, 0, 0)
      nr_free_pages 508911
  pagesets
    cpu: 0
              count: 12
              high:  378
              batch: 63
  vm stats threshold: 24
  node_unreclaimable:  0
  start_pfn:           1048576
Node 1, zone  Movable
  pages free     261983
        boost    0
        min      0
        low      0
        high     0
        spanned  262144
        present  262144
        managed  262144
        cma      0
        protection: (0, 0, 0, 0, 0)
      nr_free_pages 261983
  pagesets
    cpu: 0
              count: 0
              high:  0
              batch: 1
  vm stats threshold: 0
  node_unreclaimable:  0
  start_pfn:           1310720
Node 1, zone   Device
  pages free     0
        boost    0
        min      0
        low      0
        high     0
        spanned  0
        present  0
        managed  0
        cma      0
        protection: (0, 0, 0, 0, 0)
)";

ZoneInfoEntry Z(uint32_t node, memhp::v1::Zone zone, uint64_t present, uint64_t managed,
                uint64_t free) {
  ZoneInfoEntry e;
  e.node = node;
  e.zone = zone;
  e.present_pages = present;
  e.managed_pages = managed;
  e.free_pages = free;
  return e;
}

TEST(ZoneInfo, TwoNodeGuestEveryZoneKeptInFileOrder) {
  Result<std::vector<ZoneInfoEntry>> zones = ParseZoneInfo(kTwoNodeZoneInfo);
  ASSERT_TRUE(zones.ok()) << zones.error().message;
  const std::vector<ZoneInfoEntry> want = {
      Z(0, memhp::v1::ZONE_DMA, 3998, 3840, 3840),
      Z(0, memhp::v1::ZONE_DMA32, 520160, 487308, 462139),
      Z(0, memhp::v1::ZONE_NORMAL, 0, 0, 0),
      Z(0, memhp::v1::ZONE_MOVABLE, 0, 0, 0),
      Z(0, memhp::v1::ZONE_DEVICE, 0, 0, 0),
      Z(1, memhp::v1::ZONE_DMA, 0, 0, 0),
      Z(1, memhp::v1::ZONE_DMA32, 0, 0, 0),
      Z(1, memhp::v1::ZONE_NORMAL, 524288, 514170, 508911),
      Z(1, memhp::v1::ZONE_MOVABLE, 262144, 262144, 261983),
      Z(1, memhp::v1::ZONE_DEVICE, 0, 0, 0),
  };
  EXPECT_EQ(*zones, want);
}

TEST(ZoneInfo, MovableShareOfNodeOneIsComputable) {
  // What the auto-movable policy will do with it: MOVABLE vs KERNEL present pages per node.
  Result<std::vector<ZoneInfoEntry>> zones = ParseZoneInfo(kTwoNodeZoneInfo);
  ASSERT_TRUE(zones.ok());
  uint64_t movable = 0;
  uint64_t kernel = 0;
  for (const ZoneInfoEntry& e : *zones) {
    if (e.node != 1) continue;
    (e.zone == memhp::v1::ZONE_MOVABLE ? movable : kernel) += e.present_pages;
  }
  EXPECT_EQ(movable, 262144u);  // 1 GiB of 4 KiB pages
  EXPECT_EQ(kernel, 524288u);   // 2 GiB
}

TEST(ZoneInfo, Rejects) {
  const struct {
    std::string name;
    std::string text;
    std::string why;
  } cases[] = {
      {"empty", "", "no zone records"},
      {"only blank lines", "\n\n", "no zone records"},
      {"text before first zone", "hello\nNode 0, zone DMA\n  pages free 1\n  present 1\n"
                                 "  managed 1\n", "line 1: text before first zone"},
      {"header without comma", "Node 0 zone DMA\n", "line 1: bad zone header"},
      {"header without zone word", "Node 0, area DMA\n", "line 1: bad zone header"},
      {"header with trailing text", "Node 0, zone DMA x\n", "line 1: bad zone header"},
      {"bad node id", "Node x, zone DMA\n", "line 1: bad node id"},
      {"unknown zone", "Node 0, zone HighMem\n  pages free 1\n  present 1\n  managed 1\n",
       "line 1: unknown zone"},
      {"missing managed", "Node 0, zone DMA\n  pages free 1\n  present 1\nNode 0, zone DMA32\n",
       "line 1: zone record lacks"},
      {"missing counters in last record",
       "Node 0, zone DMA\n  pages free 1\n  present 1\n  managed 1\nNode 0, zone DMA32\n",
       "line 5: zone record lacks"},
      {"bad count", "Node 0, zone DMA\n  pages free 1x\n", "line 2: bad count"},
      {"negative count", "Node 0, zone DMA\n  present -1\n", "line 2: bad count"},
      {"overflowing count", "Node 0, zone DMA\n  present 99999999999999999999\n",
       "line 2: bad count"},
      {"repeated counter", "Node 0, zone DMA\n  present 1\n  present 2\n",
       "line 3: repeated counter"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Result<std::vector<ZoneInfoEntry>> zones = ParseZoneInfo(c.text);
    ASSERT_FALSE(zones.ok());
    EXPECT_EQ(zones.error().errno_value, EINVAL);
    EXPECT_THAT(zones.error().message, HasSubstr(c.why));
  }
}

TEST(ZoneInfo, TooManyRecordsRejected) {
  std::string text;
  for (std::size_t i = 0; i <= kZoneInfoMaxEntries; ++i) {
    text += "Node 0, zone Normal\n  pages free 0\n  present 0\n  managed 0\n";
  }
  Result<std::vector<ZoneInfoEntry>> zones = ParseZoneInfo(text);
  ASSERT_FALSE(zones.ok());
  EXPECT_THAT(zones.error().message, HasSubstr("too many zone records"));
}

TEST(ZoneInfo, NoTrailingNewlineAccepted) {
  Result<std::vector<ZoneInfoEntry>> zones =
      ParseZoneInfo("Node 3, zone  Movable\n  pages free 7\n  present 9\n  managed 8");
  ASSERT_TRUE(zones.ok()) << zones.error().message;
  ASSERT_EQ(zones->size(), 1u);
  EXPECT_EQ(zones->front(), Z(3, memhp::v1::ZONE_MOVABLE, 9, 8, 7));
}

}  // namespace
}  // namespace memhp::agent
