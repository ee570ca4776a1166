// memhp tests — the onlining policy (guest-agent/policy/online_policy.h).
//
// Each row is one device's group of offline blocks in a small 2-node guest: node 0 has 2 GiB
// of boot memory (DMA + DMA32), node 1 has 384 MiB Normal and 768 MiB already Movable; blocks
// are 128 MiB (x86_64's default for guests this size). Every row states what is written, the
// zone, whether valid_zones forced a fallback, and a piece of the reason; every decision is
// also checked to put the whole group in one zone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "policy/online_policy.h"

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;
using memhp::v1::Zone;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBlock = 128 * kMiB;
constexpr Zone kDma = memhp::v1::ZONE_DMA;
constexpr Zone kDma32 = memhp::v1::ZONE_DMA32;
constexpr Zone kNormal = memhp::v1::ZONE_NORMAL;
constexpr Zone kMovable = memhp::v1::ZONE_MOVABLE;
constexpr Zone kNoZone = memhp::v1::ZONE_UNSPECIFIED;

ZoneInfoEntry ZoneMiB(uint32_t node, Zone zone, uint64_t mib) {
  return ZoneInfoEntry{node, zone, mib * kMiB / 4096, mib * kMiB / 4096, 0};
}

// `count` blocks from `first`, every one with the same valid_zones (nullopt: unreadable).
std::vector<GroupBlock> Blocks(uint32_t first, uint32_t count,
                               std::optional<std::vector<Zone>> zones = {{kNormal, kMovable}}) {
  std::vector<GroupBlock> out;
  for (uint32_t i = 0; i < count; ++i) out.push_back({first + i, zones});
  return out;
}

PolicyInput TwoNodes(PolicyKind kind) {
  PolicyInput in;
  in.config.kind = kind;
  in.block_size_bytes = kBlock;
  in.node = 1;
  in.device_kind = DeviceKind::kDimm;
  in.blocks = Blocks(40, 2);  // a 256 MiB DIMM on node 1
  in.zoneinfo = {ZoneMiB(0, kDma, 16),    ZoneMiB(0, kDma32, 2032), ZoneMiB(0, kNormal, 0),
                 ZoneMiB(0, kMovable, 0), ZoneMiB(1, kDma, 0),      ZoneMiB(1, kDma32, 0),
                 ZoneMiB(1, kNormal, 384), ZoneMiB(1, kMovable, 768)};
  return in;
}

struct Row {
  const char* name;
  PolicyKind kind;
  std::function<void(PolicyInput&)> tweak;
  abi::OnlineType action;
  Zone zone;
  bool fell_back;
  const char* reason;
};

void Check(const Row& row) {
  SCOPED_TRACE(row.name);
  PolicyInput in = TwoNodes(row.kind);
  if (row.tweak) row.tweak(in);
  const OnlineDecision d = Decide(in);
  EXPECT_EQ(d.action, row.action) << d.reason;
  EXPECT_EQ(d.zone, row.zone) << d.reason;
  EXPECT_EQ(d.fell_back, row.fell_back) << d.reason;
  EXPECT_THAT(d.reason, HasSubstr(row.reason));
  // One zone per group: every block gets the same write, or none does.
  if (d.action == abi::OnlineType::kOffline) {
    EXPECT_TRUE(d.writes.empty());
    return;
  }
  ASSERT_EQ(d.writes.size(), in.blocks.size());
  for (std::size_t i = 0; i < d.writes.size(); ++i) {
    EXPECT_EQ(d.writes[i], (BlockWrite{in.blocks[i].id, abi::OnlineTypeName(d.action)}));
  }
}

TEST(PolicyKindTest, ParseAndFormatRoundTrip) {
  const std::vector<std::pair<const char*, PolicyKind>> rows = {
      {"manual", PolicyKind::kManual},
      {"online", PolicyKind::kOnline},
      {"online_kernel", PolicyKind::kOnlineKernel},
      {"online_movable", PolicyKind::kOnlineMovable},
      {"auto-movable", PolicyKind::kAutoMovable},
  };
  for (const auto& [text, kind] : rows) {
    const Result<PolicyKind> r = ParsePolicyKind(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(*r, kind);
    EXPECT_EQ(FormatPolicyKind(kind), text);
  }
}

// Every policy but auto-movable writes one online type to every group (online_policy.h).
TEST(PolicyKindTest, MapsToTheOnlineTypeItWrites) {
  EXPECT_EQ(PolicyOnlineType(PolicyKind::kManual), abi::OnlineType::kOffline);
  EXPECT_EQ(PolicyOnlineType(PolicyKind::kOnline), abi::OnlineType::kOnline);
  EXPECT_EQ(PolicyOnlineType(PolicyKind::kOnlineKernel), abi::OnlineType::kOnlineKernel);
  EXPECT_EQ(PolicyOnlineType(PolicyKind::kOnlineMovable), abi::OnlineType::kOnlineMovable);
  EXPECT_EQ(PolicyOnlineType(PolicyKind::kAutoMovable), std::nullopt);
}

// The kernel's online types by name (mhp_online_type_from_str()): exact, nothing else.
TEST(OnlineTypeTest, ParsesTheKernelsNamesOnly) {
  for (abi::OnlineType t : {abi::OnlineType::kOffline, abi::OnlineType::kOnline, abi::OnlineType::kOnlineKernel,
                            abi::OnlineType::kOnlineMovable}) {
    EXPECT_EQ(abi::ParseOnlineType(abi::OnlineTypeName(t)), t);
  }
  for (const char* text : {"", "manual", "auto-movable", "online ", "Online", "online-movable"}) {
    EXPECT_EQ(abi::ParseOnlineType(text), std::nullopt) << text;
  }
}

TEST(PolicyKindTest, UnknownNamesAreErrors) {
  for (const char* text : {"", "auto_movable", "Online", "online ", "offline", "contig-zones"}) {
    const Result<PolicyKind> r = ParsePolicyKind(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().errno_value, EINVAL);
    EXPECT_THAT(r.error().message, HasSubstr("auto-movable"));
  }
}

TEST(PolicyConfigTest, DefaultsAreTheKernels) {
  const PolicyConfig c;
  EXPECT_EQ(c.movable_ratio_percent, 301u);
  EXPECT_TRUE(c.numa_aware);
}

TEST(DecideTest, EveryPolicyKind) {
  const std::vector<Row> rows = {
      {"manual leaves offline", PolicyKind::kManual, nullptr, abi::OnlineType::kOffline,
       kNoZone, false, "manual"},
      {"online: kernel default zone", PolicyKind::kOnline, nullptr, abi::OnlineType::kOnline,
       kNormal, false, "default zone (Normal)"},
      {"online with Movable as default", PolicyKind::kOnline,
       [](PolicyInput& in) { in.blocks = Blocks(40, 2, {{kMovable, kNormal}}); },
       abi::OnlineType::kOnline, kMovable, false, "(Movable)"},
      {"online, valid_zones unreadable", PolicyKind::kOnline,
       [](PolicyInput& in) { in.blocks = Blocks(40, 2, std::nullopt); }, abi::OnlineType::kOnline,
       kNoZone, false, "valid_zones unknown"},
      {"online_kernel", PolicyKind::kOnlineKernel, nullptr, abi::OnlineType::kOnlineKernel,
       kNormal, false, "online_kernel"},
      {"online_kernel below 4 GiB lands in DMA32", PolicyKind::kOnlineKernel,
       [](PolicyInput& in) { in.blocks = Blocks(8, 2, {{kDma32, kMovable}}); },
       abi::OnlineType::kOnlineKernel, kDma32, false, "online_kernel"},
      {"online_movable", PolicyKind::kOnlineMovable, nullptr, abi::OnlineType::kOnlineMovable,
       kMovable, false, "online_movable"},
      {"auto-movable, room on node 1", PolicyKind::kAutoMovable, nullptr,
       abi::OnlineType::kOnlineMovable, kMovable, false,
       "auto-movable: node 1 MOVABLE 768 MiB + 256 MiB ≤ 301% of KERNEL 384 MiB"},
      {"auto-movable, ratio 0 never movable", PolicyKind::kAutoMovable,
       [](PolicyInput& in) { in.config.movable_ratio_percent = 0; },
       abi::OnlineType::kOnlineKernel, kNormal, false, "ratio 0%"},
  };
  for (const Row& r : rows) Check(r);
}

TEST(DecideTest, NoBlocksOrNoBlockSizeLeavesOffline) {
  PolicyInput in = TwoNodes(PolicyKind::kOnlineMovable);
  in.blocks.clear();
  EXPECT_EQ(Decide(in).action, abi::OnlineType::kOffline);
  in = TwoNodes(PolicyKind::kOnlineMovable);
  in.block_size_bytes = 0;
  const OnlineDecision d = Decide(in);
  EXPECT_EQ(d.action, abi::OnlineType::kOffline);
  EXPECT_THAT(d.reason, HasSubstr("block size"));
}

// 100 blocks of boot KERNEL allow exactly 301 blocks of MOVABLE at 301%.
TEST(DecideTest, RatioBoundaryIsInclusive) {
  auto boundary = [](uint32_t movable_blocks, uint32_t group_blocks) {
    return [=](PolicyInput& in) {
      in.node = 0;
      in.zoneinfo = {ZoneMiB(0, kNormal, 100 * 128), ZoneMiB(0, kMovable, movable_blocks * 128)};
      in.blocks = Blocks(200, group_blocks);
    };
  };
  const std::vector<Row> rows = {
      {"one block to exactly 301%", PolicyKind::kAutoMovable, boundary(300, 1),
       abi::OnlineType::kOnlineMovable, kMovable, false,
       "MOVABLE 38400 MiB + 128 MiB ≤ 301% of KERNEL 12800 MiB"},
      {"a group to exactly 301%", PolicyKind::kAutoMovable, boundary(298, 3),
       abi::OnlineType::kOnlineMovable, kMovable, false, "+ 384 MiB ≤ 301%"},
      {"one block over 301%", PolicyKind::kAutoMovable, boundary(301, 1),
       abi::OnlineType::kOnlineKernel, kNormal, false,
       "MOVABLE 38528 MiB + 128 MiB > 301% of KERNEL 12800 MiB"},
      {"a group one block over: all of it KERNEL", PolicyKind::kAutoMovable, boundary(298, 4),
       abi::OnlineType::kOnlineKernel, kNormal, false, "+ 512 MiB > 301%"},
  };
  for (const Row& r : rows) Check(r);
}

// A 512 MiB DIMM on node 1: 768 + 512 MiB exceeds 301% of node 1's 384 MiB KERNEL, but not
// 301% of the system's 2432 MiB. The kernel checks the system and, if NUMA-aware, the node too.
TEST(DecideTest, NumaAwareOnVersusOff) {
  auto group = [](bool aware, uint32_t node, uint32_t blocks) {
    return [=](PolicyInput& in) {
      in.config.numa_aware = aware;
      in.node = node;
      in.blocks = Blocks(40, blocks);
    };
  };
  const std::vector<Row> rows = {
      {"aware: node 1 is full", PolicyKind::kAutoMovable, group(true, 1, 4),
       abi::OnlineType::kOnlineKernel, kNormal, false,
       "node 1 MOVABLE 768 MiB + 512 MiB > 301% of KERNEL 384 MiB"},
      {"unaware: the system has room", PolicyKind::kAutoMovable, group(false, 1, 4),
       abi::OnlineType::kOnlineMovable, kMovable, false,
       "system MOVABLE 768 MiB + 512 MiB ≤ 301% of KERNEL 2432 MiB"},
      {"aware: node 0 has room; both checks named", PolicyKind::kAutoMovable, group(true, 0, 4),
       abi::OnlineType::kOnlineMovable, kMovable, false,
       "node 0 MOVABLE 0 MiB + 512 MiB ≤ 301% of KERNEL 2048 MiB; system MOVABLE"},
      {"aware: a memoryless node gets KERNEL", PolicyKind::kAutoMovable, group(true, 2, 1),
       abi::OnlineType::kOnlineKernel, kNormal, false, "node 2 MOVABLE 0 MiB + 128 MiB > 301% of "
                                                    "KERNEL 0 MiB"},
      {"unaware: a memoryless node gets MOVABLE", PolicyKind::kAutoMovable, group(false, 2, 1),
       abi::OnlineType::kOnlineMovable, kMovable, false, "system MOVABLE"},
      {"aware but the system is full", PolicyKind::kAutoMovable,
       [](PolicyInput& in) { in.blocks = Blocks(40, 60); }, abi::OnlineType::kOnlineKernel,
       kNormal, false, "system MOVABLE 768 MiB + 7680 MiB > 301% of KERNEL 2432 MiB"},
  };
  for (const Row& r : rows) Check(r);
}

TEST(DecideTest, HostRequestedZoneOverridesThePolicy) {
  auto ask = [](ZoneRequest z) { return [=](PolicyInput& in) { in.requested_zone = z; }; };
  const std::vector<Row> rows = {
      {"manual, host asks MOVABLE", PolicyKind::kManual, ask(ZoneRequest::kMovable),
       abi::OnlineType::kOnlineMovable, kMovable, false, "host requested MOVABLE"},
      {"auto-movable would pick MOVABLE, host asks KERNEL", PolicyKind::kAutoMovable,
       ask(ZoneRequest::kKernel), abi::OnlineType::kOnlineKernel, kNormal, false,
       "host requested KERNEL"},
      {"online_kernel, host asks MOVABLE", PolicyKind::kOnlineKernel,
       ask(ZoneRequest::kMovable), abi::OnlineType::kOnlineMovable, kMovable, false,
       "host requested MOVABLE"},
      {"host asks MOVABLE, a block cannot take it", PolicyKind::kOnline,
       [](PolicyInput& in) {
         in.requested_zone = ZoneRequest::kMovable;
         in.blocks[1].valid_zones = std::vector<Zone>{kNormal};
       },
       abi::OnlineType::kOnlineKernel, kNormal, true,
       "host requested MOVABLE; block 41's valid_zones (Normal) do not allow Movable: "
       "onlining Normal instead"},
  };
  for (const Row& r : rows) Check(r);
}

TEST(DecideTest, ValidZonesFallback) {
  auto zones = [](std::vector<std::optional<std::vector<Zone>>> per_block) {
    return [=](PolicyInput& in) {
      in.blocks.clear();
      for (std::size_t i = 0; i < per_block.size(); ++i) {
        in.blocks.push_back({static_cast<uint32_t>(40 + i), per_block[i]});
      }
    };
  };
  const std::vector<Zone> normal_only = {kNormal}, movable_only = {kMovable};
  const std::vector<Zone> both = {kNormal, kMovable};
  const std::vector<Row> rows = {
      {"online_movable, one block Normal-only: whole group KERNEL", PolicyKind::kOnlineMovable,
       zones({both, normal_only, both}), abi::OnlineType::kOnlineKernel, kNormal, true,
       "block 41's valid_zones (Normal) do not allow Movable: onlining Normal instead"},
      {"auto-movable's MOVABLE not offered", PolicyKind::kAutoMovable,
       zones({normal_only, normal_only}), abi::OnlineType::kOnlineKernel, kNormal, true,
       "block 40's valid_zones (Normal) do not allow Movable: onlining Normal instead"},
      {"online_kernel, Movable-only block", PolicyKind::kOnlineKernel,
       zones({both, movable_only}), abi::OnlineType::kOnlineMovable, kMovable, true,
       "do not allow a kernel zone: onlining Movable instead"},
      {"unknown valid_zones rule nothing out", PolicyKind::kOnlineMovable,
       zones({std::nullopt, both}), abi::OnlineType::kOnlineMovable, kMovable, false,
       "online_movable"},
      {"no zone every block takes", PolicyKind::kOnlineMovable,
       zones({movable_only, normal_only}), abi::OnlineType::kOffline, kNoZone, false,
       "no zone every block can take"},
      {"valid_zones none", PolicyKind::kOnlineKernel, zones({both, std::vector<Zone>{}}),
       abi::OnlineType::kOffline, kNoZone, false, "block 41's valid_zones is none"},
      {"online, defaults differ: pinned to the first", PolicyKind::kOnline,
       zones({both, std::vector<Zone>{kMovable, kNormal}}), abi::OnlineType::kOnlineKernel,
       kNormal, false, "differs between blocks (block 41: Movable), pinning the group to "
                       "Normal"},
  };
  for (const Row& r : rows) Check(r);
}

// Devices, as the kernel's memory groups see them. Node 1's Normal here is 512 MiB: 384 MiB of
// boot memory plus 128 MiB hot-added and onlined KERNEL, by another DIMM or by this device.
TEST(DecideTest, DeviceAccounting) {
  auto setup = [](DeviceKind kind, uint64_t own_kernel, std::vector<DeviceMemory> others) {
    return [=](PolicyInput& in) {
      in.zoneinfo = {ZoneMiB(1, kNormal, 512), ZoneMiB(1, kMovable, 768)};
      in.device_kind = kind;
      in.device_kernel_bytes = own_kernel;
      in.other_devices = others;
      in.blocks = Blocks(40, 4);  // 512 MiB
    };
  };
  const std::vector<Row> rows = {
      {"another DIMM's KERNEL is no base for this DIMM", PolicyKind::kAutoMovable,
       setup(DeviceKind::kDimm, 0, {{1, DeviceKind::kDimm, 128 * kMiB, 0}}),
       abi::OnlineType::kOnlineKernel, kNormal, false,
       "> 301% of KERNEL 384 MiB (boot memory only: 128 MiB hot-added KERNEL not counted)"},
      {"boot memory counts all of Normal when nothing was hot-added KERNEL",
       PolicyKind::kAutoMovable, setup(DeviceKind::kBootMemory, 0, {}),
       abi::OnlineType::kOnlineMovable, kMovable, false, "≤ 301% of KERNEL 512 MiB"},
      {"a virtio-mem device's own KERNEL is its base", PolicyKind::kAutoMovable,
       setup(DeviceKind::kVirtioMem, 128 * kMiB, {}), abi::OnlineType::kOnlineMovable, kMovable,
       false, "≤ 301% of KERNEL 512 MiB (boot memory only: 128 MiB hot-added KERNEL not "
              "counted; incl. 128 MiB KERNEL of this virtio-mem device)"},
      {"a DIMM with a KERNEL block stays KERNEL", PolicyKind::kAutoMovable,
       setup(DeviceKind::kDimm, 128 * kMiB, {}), abi::OnlineType::kOnlineKernel, kNormal, false,
       "the DIMM already has 128 MiB online KERNEL; the rest follows (one zone per DIMM)"},
      {"another virtio-mem device keeps the KERNEL its MOVABLE needs", PolicyKind::kAutoMovable,
       [](PolicyInput& in) {
         in.zoneinfo = {ZoneMiB(1, kNormal, 384), ZoneMiB(1, kMovable, 1536)};
         in.device_kind = DeviceKind::kVirtioMem;
         in.other_devices = {{1, DeviceKind::kVirtioMem, 0, 1536 * kMiB}};
         in.blocks = Blocks(40, 1);
       },
       abi::OnlineType::kOnlineKernel, kNormal, false,
       "boot KERNEL 384 MiB is all needed by other virtio-mem devices"},
      {"another virtio-mem device's MOVABLE is its own business", PolicyKind::kAutoMovable,
       [](PolicyInput& in) {
         in.zoneinfo = {ZoneMiB(1, kNormal, 384), ZoneMiB(1, kMovable, 602)};
         in.device_kind = DeviceKind::kVirtioMem;
         in.other_devices = {{1, DeviceKind::kVirtioMem, 0, 602 * kMiB}};
         in.blocks = Blocks(40, 4);
       },
       abi::OnlineType::kOnlineMovable, kMovable, false,
       "MOVABLE 0 MiB + 512 MiB ≤ 301% of KERNEL 184 MiB (other virtio-mem devices: "
       "602 MiB MOVABLE and 200 MiB KERNEL set aside)"},
  };
  for (const Row& r : rows) Check(r);
}

}  // namespace
}  // namespace memhp::agent
