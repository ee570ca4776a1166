// memhp tests — SysfsReader over a FakeSysfs tree (guest-agent/sysfs/sysfs_reader.h).
//
// The main fixture is a 2-node guest with 128 MiB blocks: four boot blocks online (memory0
// spans DMA and DMA32 so its valid_zones is "none"; memory1 DMA32 on node 0; memory2-3 Normal
// on node 1) and a 256 MiB DIMM hot-added on node 1 at 5 GiB (memory40-41), still offline, that
// could go to Normal or Movable.
#include "sysfs/sysfs_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "fake_sysfs.h"
#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

using memhp::agent::testing::FakeBlock;
using memhp::agent::testing::FakeNodes;
using memhp::agent::testing::FakeSysfs;
using memhp::agent::testing::NodeLinks;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kFixedNs = 1'700'000'000'123'456'789ULL;

class SysfsReaderTest : public ::testing::Test {
 protected:
  SysfsReaderTest() : reader_(fake_.root(), [] { return kFixedNs; }) {
    fake_.SetNodes(FakeNodes{"0-1", "0-1", "0-1", "0-1"});
    fake_.AddBlock(0, "online", "none", 0);
    fake_.AddBlock(1, "online", "DMA32", 0);
    fake_.AddBlock(2, "online", "Normal", 1);
    fake_.AddBlock(3, "online", "Normal", 1);
    fake_.AddBlock(40, "offline", "Normal Movable", 1);
    fake_.AddBlock(41, "offline", "Normal Movable", 1);
  }

  Result<memhp::v1::Inventory> Inventory() const { return reader_.ReadInventory(); }

  FakeSysfs fake_;
  SysfsReader reader_;
};

std::vector<uint32_t> Ids(const memhp::v1::Inventory& inv) {
  std::vector<uint32_t> ids;
  for (const auto& b : inv.blocks()) ids.push_back(b.id());
  return ids;
}

TEST_F(SysfsReaderTest, InventoryOfTwoNodeGuest) {
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_EQ(inv->block_size_bytes(), 128 * kMiB);
  EXPECT_EQ(inv->auto_online_blocks(), "offline");
  EXPECT_EQ(inv->read_at_unix_ns(), kFixedNs);
  EXPECT_THAT(Ids(*inv), ElementsAre(0, 1, 2, 3, 40, 41));

  const auto& b0 = inv->blocks(0);  // spans DMA + DMA32: online, but in no single zone
  EXPECT_EQ(b0.state(), memhp::v1::BLOCK_STATE_ONLINE);
  EXPECT_EQ(b0.zone(), memhp::v1::ZONE_UNSPECIFIED);
  EXPECT_EQ(b0.valid_zones_size(), 0);
  EXPECT_EQ(b0.node(), 0);
  EXPECT_EQ(b0.start_address(), 0u);

  const auto& b1 = inv->blocks(1);
  EXPECT_EQ(b1.zone(), memhp::v1::ZONE_DMA32);
  EXPECT_EQ(b1.phys_index(), 1u);
  EXPECT_EQ(b1.start_address(), 128 * kMiB);

  const auto& b2 = inv->blocks(2);
  EXPECT_EQ(b2.zone(), memhp::v1::ZONE_NORMAL);
  EXPECT_EQ(b2.node(), 1);
  EXPECT_EQ(b2.start_address(), 256 * kMiB);
  EXPECT_TRUE(b2.removable());

  const auto& b40 = inv->blocks(4);  // the hot-added DIMM's first block
  EXPECT_EQ(b40.id(), 40u);
  EXPECT_EQ(b40.state(), memhp::v1::BLOCK_STATE_OFFLINE);
  EXPECT_EQ(b40.zone(), memhp::v1::ZONE_UNSPECIFIED);  // offline: in no zone yet
  EXPECT_THAT(b40.valid_zones(), ElementsAre(memhp::v1::ZONE_NORMAL, memhp::v1::ZONE_MOVABLE));
  EXPECT_EQ(b40.node(), 1);
  EXPECT_EQ(b40.phys_index(), 0x28u);
  EXPECT_EQ(b40.start_address(), 5 * 1024 * kMiB);  // 5 GiB
  // x86_64: id * block size == phys_index * 128 MiB section.
  EXPECT_EQ(b40.start_address(), b40.phys_index() * abi::kX86_64SectionSizeBytes);
  EXPECT_EQ(inv->blocks(5).start_address(), 5 * 1024 * kMiB + 128 * kMiB);

  ASSERT_EQ(inv->nodes_size(), 2);
  const auto& n0 = inv->nodes(0);
  EXPECT_EQ(n0.id(), 0u);
  EXPECT_TRUE(n0.has_memory());
  EXPECT_TRUE(n0.has_normal_memory());
  EXPECT_TRUE(n0.has_cpu());
  EXPECT_EQ(n0.online_blocks(), 2u);
  EXPECT_EQ(n0.offline_blocks(), 0u);
  const auto& n1 = inv->nodes(1);
  EXPECT_EQ(n1.id(), 1u);
  EXPECT_EQ(n1.online_blocks(), 2u);
  EXPECT_EQ(n1.offline_blocks(), 2u);
}

TEST_F(SysfsReaderTest, NodeMasksAreReadPerNode) {
  // Node 1 is memoryless and CPU-less at first; node 2 is possible but not online.
  fake_.SetNodes(FakeNodes{"0-2", "0", "0", "0"});
  Result<std::vector<memhp::v1::Node>> nodes = reader_.ReadNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_TRUE((*nodes)[0].has_memory());
  EXPECT_FALSE((*nodes)[1].has_memory());
  EXPECT_FALSE((*nodes)[1].has_normal_memory());
  EXPECT_FALSE((*nodes)[1].has_cpu());
  EXPECT_EQ((*nodes)[2].id(), 2u);

  // Movable-only memory on node 1: N_MEMORY set, N_NORMAL_MEMORY not (S12/S13).
  fake_.SetNodes(FakeNodes{"0-1", "0-1", "0", "0-1"});
  nodes = reader_.ReadNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  EXPECT_TRUE((*nodes)[1].has_memory());
  EXPECT_FALSE((*nodes)[1].has_normal_memory());
  EXPECT_TRUE((*nodes)[1].has_cpu());
}

TEST_F(SysfsReaderTest, StateChangesAreSeen) {
  fake_.SetBlockState(40, "online");
  fake_.SetValidZones(40, "Movable");
  fake_.SetBlockState(41, "going-offline");
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_EQ(inv->blocks(4).state(), memhp::v1::BLOCK_STATE_ONLINE);
  EXPECT_EQ(inv->blocks(4).zone(), memhp::v1::ZONE_MOVABLE);
  EXPECT_EQ(inv->blocks(5).state(), memhp::v1::BLOCK_STATE_GOING_OFFLINE);
  EXPECT_EQ(inv->nodes(1).online_blocks(), 3u);
  EXPECT_EQ(inv->nodes(1).offline_blocks(), 1u);  // going-offline is not online
}

TEST_F(SysfsReaderTest, UnknownStateIsKept) {
  fake_.SetBlockState(3, "ERROR-UNKNOWN-9");
  Result<memhp::v1::MemoryBlock> b = reader_.ReadBlock(3);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->state(), memhp::v1::BLOCK_STATE_UNKNOWN);
  EXPECT_EQ(b->zone(), memhp::v1::ZONE_UNSPECIFIED);
}

TEST_F(SysfsReaderTest, VanishedBlockIsSkipped) {
  // The block disappears between the listing and the read of its state (ENOENT on open).
  fake_.ReplaceWithDanglingSymlink(FakeSysfs::BlockAttr(41, abi::kBlockState));
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_THAT(Ids(*inv), ElementsAre(0, 1, 2, 3, 40));
  EXPECT_EQ(inv->nodes(1).offline_blocks(), 1u);

  // Asked for directly, the same block is an ENOENT error naming the file.
  Result<memhp::v1::MemoryBlock> b = reader_.ReadBlock(41);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().errno_value, ENOENT);
  EXPECT_THAT(b.error().message, HasSubstr(fake_.Path(FakeSysfs::BlockAttr(41, "state"))));
}

TEST_F(SysfsReaderTest, RemovedBlockIsGone) {
  fake_.RemoveBlock(2);
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_THAT(Ids(*inv), ElementsAre(0, 1, 3, 40, 41));
  EXPECT_EQ(inv->nodes(1).online_blocks(), 1u);
  Result<memhp::v1::MemoryBlock> b = reader_.ReadBlock(2);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().errno_value, ENOENT);
}

TEST_F(SysfsReaderTest, UnreadableFileIsAnErrorWithPath) {
  fake_.ReplaceWithDirectory(FakeSysfs::BlockAttr(2, abi::kBlockValidZones));
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().errno_value, EISDIR);
  EXPECT_EQ(inv.error().message,
            "read " + fake_.Path("sys/devices/system/memory/memory2/valid_zones") +
                ": Is a directory");
}

TEST_F(SysfsReaderTest, UnreadableBlockSizeIsAnError) {
  fake_.ReplaceWithDirectory(abi::MemoryAttr(abi::kBlockSizeBytes));
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().errno_value, EISDIR);
  EXPECT_THAT(inv.error().message, HasSubstr("memory/block_size_bytes"));
}

TEST_F(SysfsReaderTest, MalformedContentIsEinvalWithPath) {
  const struct {
    std::string rel;
    std::string content;
    std::string why;
  } cases[] = {
      {FakeSysfs::BlockAttr(1, abi::kBlockPhysIndex), "zz\n", "not a hex section number"},
      {FakeSysfs::BlockAttr(1, abi::kBlockValidZones), "Normal HighMem\n",
       "not a list of zone names"},
      {FakeSysfs::BlockAttr(1, abi::kBlockRemovable), "maybe\n", "not 0 or 1"},
      {abi::MemoryAttr(abi::kBlockSizeBytes), "6000000\n", "not a power-of-two hex size"},
      {abi::NodeAttr(abi::kNodeHasCpu), "0-\n", "not a node list"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rel);
    FakeSysfs fresh;
    fresh.SetNodes(FakeNodes{"0-1", "0-1", "0-1", "0-1"});
    fresh.AddBlock(1, "online", "DMA32", 0);
    fresh.WriteFile(c.rel, c.content);
    Result<memhp::v1::Inventory> inv = SysfsReader(fresh.root()).ReadInventory();
    ASSERT_FALSE(inv.ok());
    EXPECT_EQ(inv.error().errno_value, EINVAL);
    EXPECT_THAT(inv.error().message, HasSubstr(fresh.Path(c.rel)));
    EXPECT_THAT(inv.error().message, HasSubstr(c.why));
  }
}

TEST_F(SysfsReaderTest, NodeFoundThroughNodeSideLinkOrNotAtAll) {
  FakeBlock b;
  b.state = "offline";
  b.valid_zones = "Movable";
  b.node = 1;
  b.id = 50;
  b.links = NodeLinks::kNodeSideOnly;
  fake_.AddBlock(b);
  b.id = 51;
  b.links = NodeLinks::kNone;
  fake_.AddBlock(b);
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  ASSERT_EQ(inv->blocks_size(), 8);
  EXPECT_EQ(inv->blocks(6).id(), 50u);
  EXPECT_EQ(inv->blocks(6).node(), 1);
  EXPECT_EQ(inv->blocks(7).id(), 51u);
  EXPECT_EQ(inv->blocks(7).node(), -1);
  EXPECT_EQ(inv->nodes(1).offline_blocks(), 3u);  // 40, 41, 50; 51 belongs to no node
}

TEST_F(SysfsReaderTest, OptionalAttributesMayBeMissing) {
  // A kernel without CONFIG_MEMORY_HOTREMOVE has no valid_zones; removable may be absent too.
  fake_.Remove(FakeSysfs::BlockAttr(2, abi::kBlockValidZones));
  fake_.Remove(FakeSysfs::BlockAttr(2, abi::kBlockRemovable));
  Result<memhp::v1::MemoryBlock> b = reader_.ReadBlock(2);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->state(), memhp::v1::BLOCK_STATE_ONLINE);
  EXPECT_EQ(b->valid_zones_size(), 0);
  EXPECT_EQ(b->zone(), memhp::v1::ZONE_UNSPECIFIED);
  EXPECT_FALSE(b->removable());
  EXPECT_EQ(b->node(), 1);
}

TEST_F(SysfsReaderTest, NoNumaMeansNoNodes) {
  fake_.RemoveNodeDir();  // also removes the targets of the memoryN/nodeM links
  for (uint32_t id : {0u, 1u, 2u, 3u, 40u, 41u}) {
    fake_.Remove(FakeSysfs::BlockAttr(id, "node" + std::to_string(id < 2 ? 0 : 1)));
  }
  Result<memhp::v1::Inventory> inv = Inventory();
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_EQ(inv->nodes_size(), 0);
  ASSERT_EQ(inv->blocks_size(), 6);
  EXPECT_EQ(inv->blocks(0).node(), -1);
}

TEST_F(SysfsReaderTest, LargerBlocksScaleAddressAndPhysIndex) {
  FakeSysfs big;
  big.SetBlockSize(256 * kMiB);
  big.AddBlock(3, "offline", "Movable", 0);
  Result<memhp::v1::MemoryBlock> b = SysfsReader(big.root()).ReadBlock(3);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->phys_index(), 6u);  // two 128 MiB sections per block
  EXPECT_EQ(b->start_address(), 768 * kMiB);
  EXPECT_EQ(b->start_address(), b->phys_index() * abi::kX86_64SectionSizeBytes);
}

TEST_F(SysfsReaderTest, ListBlockIdsIgnoresOtherEntries) {
  fake_.WriteFile(abi::MemoryAttr("probe"), "");
  fake_.WriteFile(abi::MemoryAttr("soft_offline_page"), "");
  fake_.WriteFile(abi::MemoryAttr("uevent"), "");
  fake_.WriteFile(abi::MemoryAttr("memory07/state"), "online\n");  // not a kernel name
  Result<std::vector<uint32_t>> ids = reader_.ListBlockIds();
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_THAT(*ids, ElementsAre(0, 1, 2, 3, 40, 41));
}

TEST_F(SysfsReaderTest, AutoOnlineBlocksVerbatim) {
  fake_.SetAutoOnlineBlocks("online_movable");
  Result<std::string> v = reader_.ReadAutoOnlineBlocks();
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, "online_movable");
}

TEST_F(SysfsReaderTest, OversizedFileIsRefused) {
  fake_.WriteFile(abi::MemoryAttr(abi::kAutoOnlineBlocks), std::string(kMaxSysfsFileBytes + 1, 'o'));
  Result<std::string> v = reader_.ReadAutoOnlineBlocks();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().errno_value, EFBIG);
  EXPECT_THAT(v.error().message, HasSubstr("auto_online_blocks"));

  fake_.WriteFile(abi::MemoryAttr(abi::kAutoOnlineBlocks), std::string(kMaxSysfsFileBytes, ' '));
  v = reader_.ReadAutoOnlineBlocks();
  ASSERT_TRUE(v.ok()) << v.error().message;  // exactly at the limit is fine
  EXPECT_EQ(*v, "");
}

TEST_F(SysfsReaderTest, ZoneInfoMayBeLargerThanSysfsFiles) {
  // A many-CPU guest prints a long pageset list per zone: over 64 KiB, under 1 MiB.
  std::string text = "Node 0, zone   Normal\n  pages free     100\n  present  300\n"
                     "  managed  200\n  pagesets\n";
  while (text.size() <= kMaxSysfsFileBytes * 2) {
    text += "    cpu: 0\n              count: 0\n              high:  0\n";
  }
  fake_.SetZoneInfo(text);
  Result<std::vector<ZoneInfoEntry>> zones = reader_.ReadZoneInfo();
  ASSERT_TRUE(zones.ok()) << zones.error().message;
  ASSERT_EQ(zones->size(), 1u);
  EXPECT_EQ((*zones)[0].managed_pages, 200u);

  fake_.SetZoneInfo(std::string(kMaxZoneInfoBytes + 1, '\n'));
  zones = reader_.ReadZoneInfo();
  ASSERT_FALSE(zones.ok());
  EXPECT_EQ(zones.error().errno_value, EFBIG);
}

TEST_F(SysfsReaderTest, ZoneInfoParseErrorNamesTheFile) {
  fake_.SetZoneInfo("garbage\n");
  Result<std::vector<ZoneInfoEntry>> zones = reader_.ReadZoneInfo();
  ASSERT_FALSE(zones.ok());
  EXPECT_EQ(zones.error().errno_value, EINVAL);
  EXPECT_THAT(zones.error().message, HasSubstr(fake_.Path("proc/zoneinfo")));
}

TEST_F(SysfsReaderTest, MemInfo) {
  fake_.SetMemInfo("MemTotal:        4012124 kB\nMemFree:  1 kB\nMemAvailable:    3612340 kB\n");
  Result<MemInfo> info = reader_.ReadMemInfo();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->mem_total_bytes, 4012124u * 1024);
  EXPECT_EQ(info->mem_available_bytes, 3612340u * 1024);
}

TEST_F(SysfsReaderTest, GuestInfo) {
  fake_.SetAutoOnlineBlocks("online");
  Result<memhp::v1::GuestInfo> info = reader_.ReadGuestInfo("6.1.0-18-amd64", 4096);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->kernel_release(), "6.1.0-18-amd64");
  EXPECT_EQ(info->page_size(), 4096u);
  EXPECT_EQ(info->block_size_bytes(), 128 * kMiB);
  EXPECT_THAT(info->nodes(), ElementsAre(0, 1));
  EXPECT_EQ(info->auto_online_blocks(), "online");
  EXPECT_EQ(info->boot_id_hash(), ParseBootIdHash(fake_.ReadFile(abi::kProcBootId)).value());

  // A new boot, a new hash.
  fake_.SetBootId("6f1c2d3e-0000-4000-8000-123456789abc");
  Result<memhp::v1::GuestInfo> again = reader_.ReadGuestInfo("6.1.0-18-amd64", 4096);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_NE(again->boot_id_hash(), info->boot_id_hash());

  fake_.SetBootId("not-a-uuid");
  Result<memhp::v1::GuestInfo> bad = reader_.ReadGuestInfo("6.1.0-18-amd64", 4096);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errno_value, EINVAL);
  EXPECT_THAT(bad.error().message, HasSubstr("boot_id"));
}

TEST(SysfsReaderPath, JoinsRootAndRelativePath) {
  EXPECT_EQ(SysfsReader("/").Path("proc/meminfo"), "/proc/meminfo");
  EXPECT_EQ(SysfsReader("").Path("proc/meminfo"), "/proc/meminfo");
  EXPECT_EQ(SysfsReader("/tmp/x/").Path("proc/meminfo"), "/tmp/x/proc/meminfo");
  EXPECT_EQ(SysfsReader("/tmp/x").Path(abi::MemoryBlockAttr(7, abi::kBlockState)),
            "/tmp/x/sys/devices/system/memory/memory7/state");
}

TEST(SysfsReaderMissingTree, EmptyRootIsAnEnoentErrorWithPath) {
  FakeSysfs fake;
  fake.Remove("sys");
  Result<memhp::v1::Inventory> inv = SysfsReader(fake.root()).ReadInventory();
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().errno_value, ENOENT);
  EXPECT_THAT(inv.error().message, HasSubstr(fake.Path("sys/devices/system/memory")));
}

}  // namespace
}  // namespace memhp::agent
