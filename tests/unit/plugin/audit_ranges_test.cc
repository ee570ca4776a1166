// memhpd's AuditRanges (host-tools/daemon/audit_ranges.h): parsing QEMU 7.2's HMP `info ramblock`
// and `info mtree` as captured from the default memhp VM with one DIMM, the plugin address of
// each hotpluggable block, the blocks left out where two RAMBlocks share plugin addresses, and
// the states from the guest's blocks and DEVICE_DELETED.
#include "daemon/audit_ranges.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace memhp::daemon {
namespace {

namespace v1 = memhp::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;

// Captured with CRLF line ends, as human-monitor-command returns them.
constexpr const char* kRamBlocks =
    "              Block Name    PSize              Offset               Used              Total\r\n"
    "  0000:00:01.0/vmem0-mem    4 KiB  0x0000000020000000 0x0000000080000000 0x0000000080000000\r\n"
    "  0000:00:02.0/vmem1-mem    4 KiB  0x00000000a0000000 0x0000000080000000 0x0000000080000000\r\n"
    "                   boot0    4 KiB  0x0000000000000000 0x0000000010000000 0x0000000010000000\r\n"
    "                   boot1    4 KiB  0x0000000010000000 0x0000000010000000 0x0000000010000000\r\n"
    "                  mem-d1    4 KiB  0x0000000120300000 0x0000000010000000 0x0000000010000000\r\n"
    "    /rom@etc/acpi/tables    4 KiB  0x0000000120080000 0x0000000000020000 0x0000000000200000\r\n"
    "                 pc.bios    4 KiB  0x0000000120000000 0x0000000000040000 0x0000000000040000\r\n"
    "                  pc.rom    4 KiB  0x0000000120040000 0x0000000000020000 0x0000000000020000\r\n";

constexpr const char* kMtree = R"(address-space: memory
  0000000000000000-ffffffffffffffff (prio 0, i/o): system
    0000000000000000-000000001fffffff (prio 0, i/o): alias ram-below-4g @pc.ram 0000000000000000-000000001fffffff
    0000000000000000-ffffffffffffffff (prio -1, i/o): pci
      00000000000c0000-00000000000dffff (prio 1, rom): pc.rom
      00000000000e0000-00000000000fffff (prio 1, rom): alias isa-bios @pc.bios 0000000000020000-000000000003ffff
      00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios
    00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic
    0000000100000000-00000006dfffffff (prio 0, i/o): device-memory
      0000000100000000-000000017fffffff (prio 0, ram): vmem0-mem
      0000000180000000-00000001ffffffff (prio 0, ram): vmem1-mem
      0000000200000000-000000020fffffff (prio 0, ram): mem-d1

memory-region: pc.ram
  0000000000000000-000000001fffffff (prio 0, i/o): pc.ram
    0000000000000000-000000000fffffff (prio 0, ram): boot0
    0000000010000000-000000001fffffff (prio 0, ram): boot1
)";

v1::MemoryDevice Dimm(const std::string& id, uint64_t addr, uint64_t size) {
  v1::MemoryDevice d;
  d.set_kind(v1::MEMORY_DEVICE_KIND_DIMM);
  d.set_id(id);
  d.set_address(addr);
  d.set_size(size);
  d.set_memdev("/objects/mem-" + id);
  return d;
}

v1::MemoryDevice VirtioMem(const std::string& id, uint64_t addr, uint64_t max) {
  v1::MemoryDevice d;
  d.set_kind(v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  d.set_id(id);
  d.set_address(addr);
  d.set_max_size(max);
  d.set_memdev("/objects/" + id + "-mem");
  return d;
}

AuditInputs DefaultVm() {
  AuditInputs in;
  std::string error;
  in.ramblocks = *ParseRamBlocks(kRamBlocks, &error);
  in.region_offsets = ParseMtreeRegionOffsets(kMtree);
  in.devices = {VirtioMem("vmem0", 0x100000000, 2ull << 30), VirtioMem("vmem1", 0x180000000, 2ull << 30),
                Dimm("d1", 0x200000000, 256ull << 20)};
  in.block_size = kBlock;
  return in;
}

const v1::AuditRange* At(const AuditPlan& plan, uint64_t start) {
  for (const v1::AuditRange& r : plan.ranges) {
    if (r.start() == start) return &r;
  }
  return nullptr;
}

TEST(ParseRamBlocks, ReadsNamesOffsetsAndSizes) {
  std::string error;
  auto blocks = ParseRamBlocks(kRamBlocks, &error);
  ASSERT_TRUE(blocks) << error;
  ASSERT_EQ(blocks->size(), 8u);
  EXPECT_EQ((*blocks)[0].name, "0000:00:01.0/vmem0-mem");
  EXPECT_EQ((*blocks)[0].offset, 0x20000000u);
  EXPECT_EQ((*blocks)[0].used, 0x80000000u);
  EXPECT_EQ((*blocks)[4].name, "mem-d1");
  EXPECT_EQ((*blocks)[4].offset, 0x120300000u);
}

TEST(ParseRamBlocks, KeepsAnUnnamedBlockOfAnUnrealizedDimm) {
  std::string error;
  auto blocks = ParseRamBlocks(
      "  Block Name    PSize  Offset  Used  Total\n"
      "                            4 KiB  0x0000000120300000 0x0000000010000000 0x0000000010000000\n",
      &error);
  ASSERT_TRUE(blocks) << error;
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ((*blocks)[0].name, "");
  EXPECT_EQ((*blocks)[0].offset, 0x120300000u);
}

TEST(ParseRamBlocks, RefusesWhatIsNotTheTable) {
  std::string error;
  EXPECT_FALSE(ParseRamBlocks("Error: unknown command", &error));
  EXPECT_THAT(error, HasSubstr("no header"));
  EXPECT_FALSE(ParseRamBlocks("", &error));
  EXPECT_FALSE(ParseRamBlocks("Block Name PSize Offset Used Total\n mem 4 KiB 0xZZ 0x1 0x1\n", &error));
  EXPECT_THAT(error, HasSubstr("bad numbers"));
}

TEST(ParseMtreeRegionOffsets, GivesEachRamRegionItsOffsetInItsContainer) {
  const auto offsets = ParseMtreeRegionOffsets(kMtree);
  EXPECT_EQ(offsets.at("mem-d1"), 0x100000000u) << "0x200000000 inside device-memory at 0x100000000";
  EXPECT_EQ(offsets.at("vmem0-mem"), 0u);
  EXPECT_EQ(offsets.at("vmem1-mem"), 0x80000000u);
  EXPECT_EQ(offsets.at("boot1"), 0x10000000u);
  EXPECT_EQ(offsets.at("pc.rom"), 0xc0000u);
  EXPECT_EQ(offsets.count("ram-below-4g"), 0u) << "aliases are not regions of their own";
  EXPECT_EQ(offsets.count("device-memory"), 0u) << "containers (i/o) are not RAM";
}

TEST(BuildAuditPlan, DimmBlocksGetThePluginAddressQemuReports) {
  AuditInputs in = DefaultVm();
  const AuditPlan plan = BuildAuditPlan(in);
  const v1::AuditRange* first = At(plan, 0x200000000);
  const v1::AuditRange* second = At(plan, 0x208000000);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  // ramblock offset + offset inside device-memory (plugins/api.c, qemu_plugin_hwaddr_phys_addr)
  EXPECT_EQ(first->plugin_start(), 0x120300000u + 0x100000000u);
  EXPECT_EQ(second->plugin_start(), first->plugin_start() + kBlock);
  EXPECT_EQ(first->label(), "d1");
  EXPECT_EQ(first->size(), kBlock);
  EXPECT_EQ(first->state(), v1::AUDIT_RANGE_STATE_OFFLINE) << "not in the guest's inventory yet";
  EXPECT_EQ(plan.by_device.at("d1").size(), 2u);
}

TEST(BuildAuditPlan, BlocksSharingPluginAddressesWithOtherRamAreLeftOut) {
  const AuditPlan plan = BuildAuditPlan(DefaultVm());
  // vmem0-mem is seen from 0x20000000, boot1 at 0x20000000 (0x10000000 + 0x10000000): the
  // first 256 MiB of vmem0 cannot be told from node 1's boot memory.
  EXPECT_EQ(At(plan, 0x100000000), nullptr);
  EXPECT_EQ(At(plan, 0x108000000), nullptr);
  EXPECT_NE(At(plan, 0x110000000), nullptr);
  // vmem1's first block shares plugin addresses with pc.rom (0x120040000 + 0xc0000).
  EXPECT_EQ(At(plan, 0x180000000), nullptr);
  EXPECT_NE(At(plan, 0x188000000), nullptr);
  ASSERT_EQ(plan.skipped.size(), 3u);
  EXPECT_THAT(plan.skipped[0], HasSubstr("boot1"));
  EXPECT_THAT(plan.skipped[2], HasSubstr("pc.rom"));
  EXPECT_EQ(plan.ranges.size(), 14u + 15u + 2u);
}

TEST(BuildAuditPlan, StatesFollowTheGuestAndVirtioMemBlocksItLacksAreUnplugged) {
  AuditInputs in = DefaultVm();
  in.guest_blocks[0x200000000] = GuestBlockState::kOnline;
  in.guest_blocks[0x208000000] = GuestBlockState::kOffline;
  in.guest_blocks[0x110000000] = GuestBlockState::kOnline;
  std::map<uint64_t, uint64_t> first_seen;
  in.first_seen = &first_seen;
  in.now_ns = 1000;
  AuditPlan plan = BuildAuditPlan(in);
  EXPECT_EQ(At(plan, 0x200000000)->state(), v1::AUDIT_RANGE_STATE_ONLINE);
  EXPECT_EQ(At(plan, 0x208000000)->state(), v1::AUDIT_RANGE_STATE_OFFLINE);
  EXPECT_EQ(At(plan, 0x110000000)->state(), v1::AUDIT_RANGE_STATE_ONLINE);
  EXPECT_EQ(At(plan, 0x118000000)->state(), v1::AUDIT_RANGE_STATE_UNPLUGGED);
  EXPECT_EQ(At(plan, 0x200000000)->plugged_at_monotonic_ns(), 1000u);

  // The plug time is the first time a block was seen, not the latest refresh.
  in.now_ns = 5000;
  plan = BuildAuditPlan(in);
  EXPECT_EQ(At(plan, 0x200000000)->plugged_at_monotonic_ns(), 1000u);
  EXPECT_EQ(first_seen.count(0x118000000), 0u) << "unplugged blocks have no plug time";
}

TEST(BuildAuditPlan, ADeletedDimmStaysWatchedAsUnpluggedUntilItsPlaceIsTaken) {
  AuditInputs in = DefaultVm();
  const AuditPlan before = BuildAuditPlan(in);
  // DEVICE_DELETED: QEMU unmapped it (gone from query-memory-devices and the mtree).
  in.devices.pop_back();
  in.region_offsets.erase("mem-d1");
  in.deleted["d1"] = before.by_device.at("d1");
  AuditPlan after = BuildAuditPlan(in);
  ASSERT_NE(At(after, 0x200000000), nullptr);
  EXPECT_EQ(At(after, 0x200000000)->state(), v1::AUDIT_RANGE_STATE_UNPLUGGED);
  EXPECT_EQ(At(after, 0x200000000)->plugin_start(), At(before, 0x200000000)->plugin_start());
  EXPECT_TRUE(after.stale_deleted.empty());

  // A new DIMM at the same address: the deleted one is forgotten.
  in.devices.push_back(Dimm("d2", 0x200000000, 256ull << 20));
  in.ramblocks.push_back(RamBlockInfo{"mem-d2", 0x130300000, 256ull << 20});
  in.region_offsets["mem-d2"] = 0x100000000;
  after = BuildAuditPlan(in);
  EXPECT_EQ(At(after, 0x200000000)->label(), "d2");
  EXPECT_THAT(after.stale_deleted, ElementsAre("d1"));
}

TEST(BuildAuditPlan, NothingWithoutTheGuestBlockSizeOrTheBackend) {
  AuditInputs in = DefaultVm();
  in.block_size = 0;
  EXPECT_TRUE(BuildAuditPlan(in).ranges.empty());
  in = DefaultVm();
  in.devices = {Dimm("dx", 0x200000000, 256ull << 20)};  // no mem-dx RAMBlock
  const AuditPlan plan = BuildAuditPlan(in);
  EXPECT_TRUE(plan.ranges.empty());
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_THAT(plan.skipped[0], HasSubstr("mem-dx"));
}

// A block size the guest made tiny would make one range per 4 KiB of every device; the plan
// stops at kMaxAuditRanges and says which device it left out.
TEST(BuildAuditPlan, APlanNeverGrowsPastItsBound) {
  AuditInputs in = DefaultVm();
  in.block_size = 4096;  // 2 GiB of vmem0 alone would be 524288 ranges
  const AuditPlan plan = BuildAuditPlan(in);
  EXPECT_LE(plan.ranges.size(), kMaxAuditRanges);
  ASSERT_FALSE(plan.skipped.empty());
  EXPECT_THAT(plan.skipped[0], HasSubstr("more than 65536 ranges"));
  EXPECT_NE(At(plan, 0x200000000), nullptr) << "the small DIMM still fits";
}

}  // namespace
}  // namespace memhp::daemon
