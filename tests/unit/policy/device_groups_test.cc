// memhp tests — grouping added blocks by device for the onlining policy
// (guest-agent/policy/device_groups.h): a DIMM's blocks are one group (the kernel's static
// memory group), a virtio-mem device's blocks one group each (dynamic group, decided per
// block), unmapped memory one group per node (the agent's behaviour without a map); the host's
// DeviceRange.target becomes the group's zone request; per-device accounting feeds auto-movable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/device_groups.h"
#include "policy/plug_intent.h"

namespace memhp::agent {
namespace {

using abi::OnlineType;
using memhp::v1::DeviceMap;
using memhp::v1::DeviceRange;

constexpr uint64_t kBlock = 128ull << 20;
constexpr uint64_t kPage = 4096;
constexpr auto kDimm = memhp::v1::MEMORY_DEVICE_KIND_DIMM;
constexpr auto kVmem = memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;

DeviceMapTable Map(std::vector<std::tuple<std::string, memhp::v1::MemoryDeviceKind, uint64_t, uint64_t,
                                          memhp::v1::OnlineTarget>> ranges) {
  DeviceMap map;
  for (auto& [id, kind, first_block, blocks, target] : ranges) {
    DeviceRange* d = map.add_devices();
    d->set_device_id(id);
    d->set_kind(kind);
    d->set_start(first_block * kBlock);
    d->set_size(blocks * kBlock);
    d->set_target(target);
  }
  Result<DeviceMapTable> t = DeviceMapTable::Validate(map, kBlock);
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t.ok() ? std::move(t).value() : DeviceMapTable{};
}

constexpr auto kAsk = memhp::v1::ONLINE_TARGET_UNSPECIFIED;

// The map every grouping case uses: dimm1 blocks 32-35 (host asks nothing), dimm2 36-37 (host
// asks KERNEL), vmem0 40-47 (asks nothing), vmem1 48-55 (asks MOVABLE).
DeviceMapTable TestMap() {
  return Map({{"dimm1", kDimm, 32, 4, kAsk},
              {"dimm2", kDimm, 36, 2, memhp::v1::ONLINE_TARGET_KERNEL},
              {"vmem0", kVmem, 40, 8, kAsk},
              {"vmem1", kVmem, 48, 8, memhp::v1::ONLINE_TARGET_MOVABLE}});
}

struct GroupView {
  std::string device;
  DeviceKind kind;
  ZoneRequest request;
  int32_t node;
  std::vector<uint32_t> blocks;
  bool operator==(const GroupView&) const = default;
};

void PrintTo(const GroupView& g, std::ostream* os) {
  *os << "{" << g.device << " kind=" << static_cast<int>(g.kind) << " req=" << static_cast<int>(g.request)
      << " node=" << g.node << " blocks=";
  for (uint32_t b : g.blocks) *os << b << ",";
  *os << "}";
}

struct GroupCase {
  const char* name;
  bool with_map;
  std::vector<std::pair<uint32_t, int32_t>> added;  // (block, node)
  std::vector<GroupView> want;
};

class GroupByDeviceTest : public ::testing::TestWithParam<GroupCase> {};

TEST_P(GroupByDeviceTest, GroupsAsTheKernelsMemoryGroupsWould) {
  const GroupCase& c = GetParam();
  const DeviceMapTable map = TestMap();
  std::vector<AddedBlock> added;
  for (auto [id, node] : c.added) added.push_back(AddedBlock{.id = id, .node = node, .valid_zones = std::nullopt});
  std::vector<GroupView> got;
  for (const DeviceGroup& g : GroupByDevice(added, c.with_map ? &map : nullptr)) {
    GroupView v{g.device_id, g.kind, g.requested_zone, g.node, {}};
    for (const AddedBlock& b : g.blocks) v.blocks.push_back(b.id);
    got.push_back(v);
  }
  EXPECT_EQ(got, c.want) << c.name;
}

constexpr auto kD = DeviceKind::kDimm;
constexpr auto kV = DeviceKind::kVirtioMem;
constexpr auto kNone = ZoneRequest::kNone;

INSTANTIATE_TEST_SUITE_P(
    Table, GroupByDeviceTest,
    ::testing::Values(
        GroupCase{"no map: one group per node, as a DIMM (the earlier behaviour)", false,
                  {{32, 0}, {33, 0}, {40, 1}, {41, 1}, {34, 0}},
                  {{"", kD, kNone, 0, {32, 33, 34}}, {"", kD, kNone, 1, {40, 41}}}},
        GroupCase{"a DIMM's blocks are one group", true, {{32, 0}, {33, 0}, {34, 0}, {35, 0}},
                  {{"dimm1", kD, kNone, 0, {32, 33, 34, 35}}}},
        GroupCase{"two DIMMs added in one burst stay apart; the host's KERNEL goes with dimm2", true,
                  {{32, 0}, {36, 0}, {33, 0}, {37, 0}},
                  {{"dimm1", kD, kNone, 0, {32, 33}}, {"dimm2", kD, ZoneRequest::kKernel, 0, {36, 37}}}},
        GroupCase{"virtio-mem: one group per block, in order", true, {{40, 0}, {41, 0}, {42, 0}},
                  {{"vmem0", kV, kNone, 0, {40}}, {"vmem0", kV, kNone, 0, {41}}, {"vmem0", kV, kNone, 0, {42}}}},
        GroupCase{"the host's MOVABLE goes with vmem1's blocks", true, {{48, 1}, {49, 1}},
                  {{"vmem1", kV, ZoneRequest::kMovable, 1, {48}}, {"vmem1", kV, ZoneRequest::kMovable, 1, {49}}}},
        GroupCase{"memory in no range: per node, no device", true, {{20, 0}, {21, 0}, {33, 0}, {22, 1}},
                  {{"", kD, kNone, 0, {20, 21}}, {"dimm1", kD, kNone, 0, {33}}, {"", kD, kNone, 1, {22}}}},
        GroupCase{"nothing added: no group", true, {}, {}}),
    [](const auto& case_info) { return "case" + std::to_string(case_info.index); });

// The host's plug intent (plug_intent.h) for a device the map does not name yet: its blocks are
// grouped as that device's kind would be, with its target; the map still wins where it has a
// range, and blocks the intent does not cover stay the policy's, per node.
memhp::v1::PlugIntent Intent(const std::string& id, memhp::v1::MemoryDeviceKind kind, int32_t node,
                             uint64_t first_block, uint64_t blocks, uint64_t expected_blocks,
                             memhp::v1::OnlineTarget target) {
  memhp::v1::PlugIntent i;
  i.set_device_id(id);
  i.set_kind(kind);
  i.set_node(node);
  i.set_start(first_block * kBlock);
  i.set_size(blocks * kBlock);
  i.set_expected_size(expected_blocks * kBlock);
  i.set_target(target);
  i.set_deadline_ms(30000);
  return i;
}

std::vector<GroupView> Views(const std::vector<DeviceGroup>& groups) {
  std::vector<GroupView> got;
  for (const DeviceGroup& g : groups) {
    GroupView v{g.device_id, g.kind, g.requested_zone, g.node, {}};
    for (const AddedBlock& b : g.blocks) v.blocks.push_back(b.id);
    got.push_back(v);
  }
  return got;
}

TEST(GroupByDeviceWithIntentTest, ADimmsIntentMakesItsNewBlocksOneGroupWithItsTarget) {
  const DeviceMapTable map = TestMap();
  PlugIntentSlot intent;
  ASSERT_TRUE(intent.Take(Intent("dimm7", kDimm, 0, 0, 0, 2, memhp::v1::ONLINE_TARGET_KERNEL), kBlock).ok());
  // 33 is dimm1's by the map; 60 and 61 are the DIMM being plugged; 62 is past its 2 blocks;
  // 63 is on another node.
  const auto got = Views(GroupByDevice(
      {{60, 0, std::nullopt}, {33, 0, std::nullopt}, {61, 0, std::nullopt}, {62, 0, std::nullopt},
       {63, 1, std::nullopt}},
      &map, &intent));
  EXPECT_EQ(got, (std::vector<GroupView>{{"dimm7", kD, ZoneRequest::kKernel, 0, {60, 61}},
                                         {"dimm1", kD, kNone, 0, {33}},
                                         {"", kD, kNone, 0, {62}},
                                         {"", kD, kNone, 1, {63}}}));
}

TEST(GroupByDeviceWithIntentTest, AVirtioMemIntentWithItsRegionIsDecidedPerBlockWithoutAMap) {
  PlugIntentSlot intent;
  ASSERT_TRUE(intent.Take(Intent("vmem5", kVmem, 0, 64, 8, 2, memhp::v1::ONLINE_TARGET_UNSPECIFIED), kBlock).ok());
  const auto got = Views(GroupByDevice({{64, 0, std::nullopt}, {65, 0, std::nullopt}, {72, 0, std::nullopt}},
                                       nullptr, &intent));
  EXPECT_EQ(got, (std::vector<GroupView>{{"vmem5", kV, kNone, 0, {64}},
                                         {"vmem5", kV, kNone, 0, {65}},
                                         {"", kD, kNone, 0, {72}}}));
}

TEST(AccountDevicesTest, BlocksTheIntentCoversCountForItsDevice) {
  PlugIntentSlot intent;
  ASSERT_TRUE(intent.Take(Intent("vmem5", kVmem, 0, 64, 8, 2, memhp::v1::ONLINE_TARGET_UNSPECIFIED), kBlock).ok());
  std::vector<DeviceUsage> usage = AccountDevices(
      {{64, 0, memhp::v1::ZONE_NORMAL}, {65, 0, memhp::v1::ZONE_MOVABLE}, {0, 0, memhp::v1::ZONE_NORMAL}},
      DeviceMapTable{}, &intent);
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].device_id, "vmem5");
  EXPECT_EQ(usage[0].memory.kind, DeviceKind::kVirtioMem);
  EXPECT_EQ(usage[0].memory.kernel_bytes, kBlock);
  EXPECT_EQ(usage[0].memory.movable_bytes, kBlock);
}

TEST(ZoneRequestOfTest, MapsEveryTarget) {
  EXPECT_EQ(ZoneRequestOf(memhp::v1::ONLINE_TARGET_UNSPECIFIED), ZoneRequest::kNone);
  EXPECT_EQ(ZoneRequestOf(memhp::v1::ONLINE_TARGET_DEFAULT), ZoneRequest::kDefault);
  EXPECT_EQ(ZoneRequestOf(memhp::v1::ONLINE_TARGET_KERNEL), ZoneRequest::kKernel);
  EXPECT_EQ(ZoneRequestOf(memhp::v1::ONLINE_TARGET_MOVABLE), ZoneRequest::kMovable);
}

TEST(AccountDevicesTest, SumsOnlineMemoryPerDeviceAndLeavesUnmappedOut) {
  const DeviceMapTable map = TestMap();
  std::vector<DeviceUsage> usage = AccountDevices(
      {{32, 0, memhp::v1::ZONE_NORMAL}, {33, 0, memhp::v1::ZONE_MOVABLE}, {40, 0, memhp::v1::ZONE_MOVABLE},
       {41, 0, memhp::v1::ZONE_MOVABLE}, {0, 0, memhp::v1::ZONE_NORMAL} /* boot memory */},
      map);
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[0].device_id, "dimm1");
  EXPECT_EQ(usage[0].memory.kernel_bytes, kBlock);
  EXPECT_EQ(usage[0].memory.movable_bytes, kBlock);
  EXPECT_EQ(usage[1].device_id, "vmem0");
  EXPECT_EQ(usage[1].memory.kind, DeviceKind::kVirtioMem);
  EXPECT_EQ(usage[1].memory.movable_bytes, 2 * kBlock);
}

TEST(FillGroupInputTest, OwnKernelMemoryIsTheDevicesAndTheRestAreOthers) {
  std::vector<DeviceUsage> usage;
  AddToUsage(usage, "dimm1", DeviceKind::kDimm, 0, memhp::v1::ZONE_NORMAL, kBlock);
  AddToUsage(usage, "vmem0", DeviceKind::kVirtioMem, 0, memhp::v1::ZONE_MOVABLE, 3 * kBlock);
  AddToUsage(usage, "", DeviceKind::kDimm, 0, memhp::v1::ZONE_MOVABLE, kBlock);  // no device: ignored
  PolicyInput in;
  FillGroupInput(DeviceGroup{.device_id = "dimm1", .kind = DeviceKind::kDimm,
                             .requested_zone = ZoneRequest::kNone, .node = 0,
                             .blocks = {{34, 0, std::nullopt}}},
                 usage, in);
  EXPECT_EQ(in.device_kernel_bytes, kBlock);
  ASSERT_EQ(in.other_devices.size(), 1u);
  EXPECT_EQ(in.other_devices[0].movable_bytes, 3 * kBlock);
  ASSERT_EQ(in.blocks.size(), 1u);
  EXPECT_EQ(in.blocks[0].id, 34u);
}

// The point of grouping, end to end through Decide(): a DIMM already partly online KERNEL
// onlines its new blocks KERNEL ("if anything is kernel, we have to online all kernel"), while
// a virtio-mem device decided block by block switches to KERNEL exactly when the next block
// would break the ratio — which a single batch decision could not do.
std::vector<ZoneInfoEntry> BootZones(uint64_t normal_bytes, uint64_t movable_bytes) {
  return {{0, memhp::v1::ZONE_DMA32, 0, 0, 0},
          {0, memhp::v1::ZONE_NORMAL, normal_bytes / kPage, normal_bytes / kPage, 0},
          {0, memhp::v1::ZONE_MOVABLE, movable_bytes / kPage, movable_bytes / kPage, 0}};
}

TEST(DecidePerDeviceTest, ADimmWithKernelMemoryStaysKernel) {
  const DeviceMapTable map = TestMap();
  std::vector<DeviceUsage> usage = AccountDevices({{32, 0, memhp::v1::ZONE_NORMAL}}, map);
  std::vector<DeviceGroup> groups = GroupByDevice({{33, 0, std::nullopt}, {34, 0, std::nullopt}}, &map);
  ASSERT_EQ(groups.size(), 1u);
  PolicyInput in;
  in.config = PolicyConfig{.kind = PolicyKind::kAutoMovable, .movable_ratio_percent = 301, .numa_aware = true};
  in.block_size_bytes = kBlock;
  in.page_size_bytes = kPage;
  in.zoneinfo = BootZones(1024ull << 20, 0);
  FillGroupInput(groups[0], usage, in);
  const OnlineDecision d = Decide(in);
  EXPECT_EQ(d.action, OnlineType::kOnlineKernel) << d.reason;
  EXPECT_EQ(d.writes.size(), 2u);
}

TEST(DecidePerDeviceTest, VirtioMemBlocksSwitchToKernelWhenTheRatioIsReached) {
  // 256 MiB boot KERNEL at 100%: two 128 MiB blocks fit MOVABLE, the third must go KERNEL —
  // and after it, its own KERNEL block lets the fourth go MOVABLE again (the dynamic group's
  // own KERNEL counts, auto_movable_zone_for_pfn()).
  const DeviceMapTable map = TestMap();
  std::vector<DeviceGroup> groups = GroupByDevice(
      {{40, 0, std::nullopt}, {41, 0, std::nullopt}, {42, 0, std::nullopt}, {43, 0, std::nullopt}}, &map);
  ASSERT_EQ(groups.size(), 4u);
  std::vector<DeviceUsage> usage;
  uint64_t normal = 256ull << 20, movable = 0;
  std::vector<OnlineType> actions;
  for (const DeviceGroup& g : groups) {
    PolicyInput in;
    in.config = PolicyConfig{.kind = PolicyKind::kAutoMovable, .movable_ratio_percent = 100, .numa_aware = true};
    in.block_size_bytes = kBlock;
    in.page_size_bytes = kPage;
    in.zoneinfo = BootZones(normal, movable);
    FillGroupInput(g, usage, in);
    const OnlineDecision d = Decide(in);
    actions.push_back(d.action);
    const bool to_movable = d.action == OnlineType::kOnlineMovable;
    (to_movable ? movable : normal) += kBlock;  // what zoneinfo shows after the online
    AddToUsage(usage, g.device_id, g.kind, g.node,
               to_movable ? memhp::v1::ZONE_MOVABLE : memhp::v1::ZONE_NORMAL, kBlock);
  }
  EXPECT_EQ(actions, (std::vector<OnlineType>{OnlineType::kOnlineMovable, OnlineType::kOnlineMovable,
                                           OnlineType::kOnlineKernel, OnlineType::kOnlineMovable}));
}

TEST(DecidePerDeviceTest, TheHostsTargetOverridesManual) {
  const DeviceMapTable map = TestMap();
  std::vector<DeviceGroup> groups = GroupByDevice({{36, 0, std::nullopt}, {48, 0, std::nullopt}}, &map);
  ASSERT_EQ(groups.size(), 2u);
  for (const auto& [group, want] : {std::pair{groups[0], OnlineType::kOnlineKernel},
                                    std::pair{groups[1], OnlineType::kOnlineMovable}}) {
    PolicyInput in;
    in.config = PolicyConfig{.kind = PolicyKind::kManual, .movable_ratio_percent = 301, .numa_aware = true};
    in.block_size_bytes = kBlock;
    in.zoneinfo = BootZones(1024ull << 20, 0);
    FillGroupInput(group, {}, in);
    EXPECT_EQ(Decide(in).action, want) << group.device_id;
  }
}

}  // namespace
}  // namespace memhp::agent
