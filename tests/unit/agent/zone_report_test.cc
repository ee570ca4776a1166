// memhp tests — the zone/node report (guest-agent/agent/zone_report.h): assembled from
// /proc/zoneinfo, the node masks (S12/S13) and /proc/meminfo of a fake guest tree.
#include "agent/zone_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "fake_sysfs.h"

namespace memhp::agent {
namespace {

using testing::FakeNodes;
using testing::FakeSysfs;
using ::testing::HasSubstr;

constexpr uint64_t kNs = 1'700'000'000'000'000'000ULL;

// Two nodes; node 1 has only Movable memory (a memoryless node that gained hot-added memory
// onlined movable: N_MEMORY set, N_NORMAL_MEMORY not — S12/S13).
constexpr const char* kZoneInfo =
    "Node 0, zone      DMA\n  pages free     3840\n        present  3998\n        managed  3840\n"
    "Node 0, zone    DMA32\n  pages free     100000\n        present  126976\n        managed  120000\n"
    "Node 0, zone   Normal\n  pages free     0\n        present  0\n        managed  0\n"
    "Node 0, zone  Movable\n  pages free     0\n        present  0\n        managed  0\n"
    "Node 1, zone      DMA\n  pages free     0\n        present  0\n        managed  0\n"
    "Node 1, zone    DMA32\n  pages free     0\n        present  0\n        managed  0\n"
    "Node 1, zone   Normal\n  pages free     0\n        present  0\n        managed  0\n"
    "Node 1, zone  Movable\n  pages free     60000\n        present  65536\n        managed  65536\n";

void BuildGuest(FakeSysfs& guest) {
  guest.SetNodes(FakeNodes{"0-1", "0-1", "0", "0"});
  guest.SetZoneInfo(kZoneInfo);
  guest.SetMemInfo("MemTotal:        1000000 kB\nMemFree:          500000 kB\nMemAvailable:     700000 kB\n");
}

TEST(ZoneReportTest, ReadsEveryZoneOfEveryNodeWithTheMasksAndMeminfo) {
  FakeSysfs guest;
  BuildGuest(guest);
  SysfsReader reader(guest.root());
  Result<memhp::v1::ZoneReport> r = ReadZoneReport(reader, 4096, [] { return kNs; });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->page_size(), 4096u);
  EXPECT_EQ(r->read_at_unix_ns(), kNs);
  EXPECT_EQ(r->mem_total_bytes(), 1000000ull * 1024);
  EXPECT_EQ(r->mem_available_bytes(), 700000ull * 1024);
  ASSERT_EQ(r->nodes_size(), 2);
  const auto& n0 = r->nodes(0);
  EXPECT_EQ(n0.node(), 0u);
  EXPECT_TRUE(n0.has_memory());
  EXPECT_TRUE(n0.has_normal_memory());
  ASSERT_EQ(n0.zones_size(), 4);  // empty zones are kept
  EXPECT_EQ(n0.zones(1).zone(), memhp::v1::ZONE_DMA32);
  EXPECT_EQ(n0.zones(1).present_pages(), 126976u);
  EXPECT_EQ(n0.zones(1).managed_pages(), 120000u);
  EXPECT_EQ(n0.zones(1).free_pages(), 100000u);
  const auto& n1 = r->nodes(1);
  EXPECT_EQ(n1.node(), 1u);
  EXPECT_TRUE(n1.has_memory());
  EXPECT_FALSE(n1.has_normal_memory());
  ASSERT_EQ(n1.zones_size(), 4);
  EXPECT_EQ(n1.zones(3).zone(), memhp::v1::ZONE_MOVABLE);
  EXPECT_EQ(n1.zones(3).present_pages(), 65536u);
}

TEST(ZoneReportTest, NodesWithoutSysfsNodeDirComeFromZoneinfo) {
  // A kernel without CONFIG_NUMA: no node/ directory, so no masks; zoneinfo still names node 0.
  const memhp::v1::ZoneReport r = AssembleZoneReport(
      {}, {{0, memhp::v1::ZONE_NORMAL, 10, 9, 8}}, MemInfo{100, 50}, 4096, 0);
  ASSERT_EQ(r.nodes_size(), 1);
  EXPECT_EQ(r.nodes(0).node(), 0u);
  EXPECT_FALSE(r.nodes(0).has_memory());
  ASSERT_EQ(r.nodes(0).zones_size(), 1);
  EXPECT_EQ(r.nodes(0).zones(0).free_pages(), 8u);
}

TEST(ZoneReportTest, AMissingOrBadSourceIsAnErrorNotAPartialReport) {
  FakeSysfs guest;
  BuildGuest(guest);
  SysfsReader reader(guest.root());
  guest.SetZoneInfo("Node 0, zone HighMem\n  pages free 1\n present 1\n managed 1\n");
  Result<memhp::v1::ZoneReport> bad = ReadZoneReport(reader, 4096);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errno_value, EINVAL);
  guest.SetZoneInfo(kZoneInfo);
  guest.Remove("proc/meminfo");
  Result<memhp::v1::ZoneReport> missing = ReadZoneReport(reader, 4096);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  EXPECT_THAT(missing.error().message, HasSubstr("meminfo"));
}

}  // namespace
}  // namespace memhp::agent
