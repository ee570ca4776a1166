// memhp tests — single-value sysfs/procfs parsers (guest-agent/sysfs/sysfs_parse.h), table by
// table: what the kernel prints is accepted, anything else is rejected.
#include "sysfs/sysfs_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string_view>
#include <vector>

#include "sysfs/linux_abi.h"

namespace memhp::agent {
namespace {

using memhp::v1::BlockState;
using memhp::v1::Zone;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using U64 = std::optional<uint64_t>;

struct U64Case {
  std::string_view text;
  U64 want;
};

TEST(SysfsParse, BlockSizeBytes) {
  const U64Case cases[] = {
      {"8000000\n", 134217728},          // 128 MiB, x86_64 default
      {"8000000", 134217728},            // no newline
      {"  10000000 \n", 268435456},      // 256 MiB, surrounding space
      {"80000000\n", uint64_t{1} << 31}, // 2 GiB (large x86_64 machines)
      {"8000000\n\n", 134217728},
      {"0\n", std::nullopt},             // zero
      {"6000000\n", std::nullopt},       // not a power of two
      {"0x8000000\n", std::nullopt},     // the kernel prints no 0x
      {"", std::nullopt},
      {"\n", std::nullopt},
      {"8000000 1\n", std::nullopt},     // trailing garbage
      {"-8000000", std::nullopt},
      {"8000g00", std::nullopt},
      {"10000000000000000", std::nullopt},  // 65 bits
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    EXPECT_EQ(ParseBlockSizeBytes(c.text), c.want);
  }
}

TEST(SysfsParse, PhysIndexIsHex) {
  const U64Case cases[] = {
      {"00000000\n", 0},
      {"00000028\n", 40},       // memory40 with 128 MiB blocks
      {"0000002a\n", 42},
      {"0000002A\n", 42},       // either case
      {"ffffffffffffffff\n", UINT64_MAX},
      {"1ffffffffffffffff\n", std::nullopt},
      {"", std::nullopt},
      {"28h\n", std::nullopt},
      {"2 8\n", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    EXPECT_EQ(ParsePhysIndex(c.text), c.want);
  }
}

TEST(SysfsParse, DecU64) {
  const U64Case cases[] = {
      {"0", 0},
      {"42\n", 42},
      {"18446744073709551615", UINT64_MAX},
      {"18446744073709551616", std::nullopt},
      {"+1", std::nullopt},
      {"-1", std::nullopt},
      {"1.0", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    EXPECT_EQ(ParseDecU64(c.text), c.want);
  }
}

TEST(SysfsParse, BlockState) {
  const struct {
    std::string_view text;
    BlockState want;
  } cases[] = {
      {"online\n", memhp::v1::BLOCK_STATE_ONLINE},
      {"offline\n", memhp::v1::BLOCK_STATE_OFFLINE},
      {"going-offline\n", memhp::v1::BLOCK_STATE_GOING_OFFLINE},
      {"online", memhp::v1::BLOCK_STATE_ONLINE},
      {"ERROR-UNKNOWN-4\n", memhp::v1::BLOCK_STATE_UNKNOWN},  // state_show()'s default
      {"Online\n", memhp::v1::BLOCK_STATE_UNKNOWN},
      {"online_movable\n", memhp::v1::BLOCK_STATE_UNKNOWN},  // a write value, never read back
      {"", memhp::v1::BLOCK_STATE_UNKNOWN},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    EXPECT_EQ(ParseBlockState(c.text), c.want);
  }
  EXPECT_EQ(BlockStateName(memhp::v1::BLOCK_STATE_GOING_OFFLINE), "going-offline");
  EXPECT_EQ(BlockStateName(memhp::v1::BLOCK_STATE_UNKNOWN), "");
}

TEST(SysfsParse, Removable) {
  EXPECT_EQ(ParseRemovable("1\n"), true);
  EXPECT_EQ(ParseRemovable("0\n"), false);
  EXPECT_EQ(ParseRemovable("2\n"), std::nullopt);
  EXPECT_EQ(ParseRemovable(""), std::nullopt);
  EXPECT_EQ(ParseRemovable("yes"), std::nullopt);
}

TEST(SysfsParse, ZoneNamesRoundTrip) {
  const struct {
    std::string_view name;
    Zone zone;
  } cases[] = {
      {"DMA", memhp::v1::ZONE_DMA},         {"DMA32", memhp::v1::ZONE_DMA32},
      {"Normal", memhp::v1::ZONE_NORMAL},   {"Movable", memhp::v1::ZONE_MOVABLE},
      {"Device", memhp::v1::ZONE_DEVICE},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ZoneFromName(c.name), c.zone);
    EXPECT_EQ(ZoneName(c.zone), c.name);
  }
  EXPECT_EQ(ZoneName(memhp::v1::ZONE_UNSPECIFIED), "none");
  for (std::string_view bad : {"none", "HighMem", "normal", "NORMAL", "", "Normal "}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ZoneFromName(bad), std::nullopt);
  }
}

TEST(SysfsParse, ValidZones) {
  using Zones = std::optional<std::vector<Zone>>;
  const struct {
    std::string_view text;
    Zones want;
  } cases[] = {
      // An offline hot-added block: default zone first, then the others (valid_zones_show()).
      {"Normal Movable\n", std::vector<Zone>{memhp::v1::ZONE_NORMAL, memhp::v1::ZONE_MOVABLE}},
      {"Movable Normal\n", std::vector<Zone>{memhp::v1::ZONE_MOVABLE, memhp::v1::ZONE_NORMAL}},
      {"DMA32 Normal Movable\n",
       std::vector<Zone>{memhp::v1::ZONE_DMA32, memhp::v1::ZONE_NORMAL, memhp::v1::ZONE_MOVABLE}},
      // An online block: its one zone.
      {"Normal\n", std::vector<Zone>{memhp::v1::ZONE_NORMAL}},
      {"DMA32", std::vector<Zone>{memhp::v1::ZONE_DMA32}},
      // An online block spanning zones (e.g. memory0: DMA + DMA32).
      {"none\n", std::vector<Zone>{}},
      {"", std::nullopt},
      {"\n", std::nullopt},
      {"Normal HighMem\n", std::nullopt},
      {"Normal Normal\n", std::nullopt},
      {"none Normal\n", std::nullopt},
      {"Normal,Movable\n", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    EXPECT_EQ(ParseValidZones(c.text), c.want);
  }
}

TEST(SysfsParse, NodeList) {
  using Ids = std::optional<std::vector<uint32_t>>;
  const struct {
    std::string_view text;
    Ids want;
  } cases[] = {
      {"0\n", std::vector<uint32_t>{0}},
      {"0-1\n", std::vector<uint32_t>{0, 1}},
      {"0-1,3\n", std::vector<uint32_t>{0, 1, 3}},
      {"0,2-4,7\n", std::vector<uint32_t>{0, 2, 3, 4, 7}},
      {"\n", std::vector<uint32_t>{}},  // empty mask, e.g. has_memory of a memoryless guest
      {"", std::vector<uint32_t>{}},
      {"1-0\n", std::nullopt},          // reversed
      {"1,0\n", std::nullopt},          // not ascending
      {"0-2,2\n", std::nullopt},        // overlapping
      {"0,\n", std::nullopt},
      {",0\n", std::nullopt},
      {"0-\n", std::nullopt},
      {"-1\n", std::nullopt},
      {"0 - 1\n", std::nullopt},
      {"0-1-2\n", std::nullopt},
      {"a\n", std::nullopt},
      {"4096\n", std::nullopt},         // over kMaxNodeId
      {"0-99999999999\n", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    EXPECT_EQ(ParseNodeList(c.text), c.want);
  }
}

TEST(SysfsParse, DirectoryNames) {
  EXPECT_EQ(ParseMemoryBlockDirName("memory0"), 0u);
  EXPECT_EQ(ParseMemoryBlockDirName("memory40"), 40u);
  EXPECT_EQ(ParseMemoryBlockDirName("memory4294967295"), 4294967295u);
  for (std::string_view bad : {"memory", "memory01", "memory4294967296", "memory-1", "memory4x",
                               "block_size_bytes", "auto_online_blocks", "probe", "power",
                               "uevent", "Memory4", "memory 4"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseMemoryBlockDirName(bad), std::nullopt);
  }
  EXPECT_EQ(ParseNodeDirName("node1"), 1u);
  EXPECT_EQ(ParseNodeDirName("node"), std::nullopt);
  EXPECT_EQ(ParseNodeDirName("possible"), std::nullopt);
  EXPECT_EQ(ParseNodeDirName("memory1"), std::nullopt);
}

constexpr std::string_view kMemInfo = R"(MemTotal:        4012124 kB
MemFree:         3551212 kB
MemAvailable:    3612340 kB
Buffers:            2288 kB
Cached:           178040 kB
SwapCached:            0 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
DirectMap4k:      126848 kB
DirectMap2M:     4065280 kB
)";

TEST(SysfsParse, MemInfo) {
  Result<MemInfo> info = ParseMemInfo(kMemInfo);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->mem_total_bytes, uint64_t{4012124} * 1024);
  EXPECT_EQ(info->mem_available_bytes, uint64_t{3612340} * 1024);
}

TEST(SysfsParse, MemInfoRejects) {
  const struct {
    std::string_view text;
    std::string_view why;
  } cases[] = {
      {"MemTotal: 4012124 kB\n", "MemTotal or MemAvailable missing"},
      {"", "MemTotal or MemAvailable missing"},
      {"MemTotal: 1 kB\nMemAvailable: x kB\n", "line 2: bad number"},
      {"MemTotal: 1 kB\nMemAvailable: 1 MB\n", "line 2: bad value"},
      {"MemTotal: 1\nMemAvailable: 1 kB\n", "line 1: expected kB"},
      {"MemTotal: 1 kB\nMemTotal: 2 kB\nMemAvailable: 1 kB\n", "line 2: repeated key"},
      {"MemTotal 1 kB\n", "line 1: no key"},
      {"MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n", "overflows"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    Result<MemInfo> info = ParseMemInfo(c.text);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().errno_value, EINVAL);
    EXPECT_THAT(info.error().message, HasSubstr(c.why));
  }
}

// kernel/sched/psi.c psi_show() on 6.1, under a workload.
constexpr std::string_view kPsiMemory =
    "some avg10=12.34 avg60=3.05 avg300=0.70 total=1234567\n"
    "full avg10=100.00 avg60=0.00 avg300=0.00 total=890\n";

TEST(SysfsParse, PsiMemory) {
  Result<PsiMemory> psi = ParsePsiMemory(kPsiMemory);
  ASSERT_TRUE(psi.ok()) << psi.error().message;
  EXPECT_EQ(psi->some, (PsiValues{.avg10 = 1234, .avg60 = 305, .avg300 = 70, .total_us = 1234567}));
  EXPECT_EQ(psi->full, (PsiValues{.avg10 = 10000, .avg60 = 0, .avg300 = 0, .total_us = 890}));
}

TEST(SysfsParse, PsiMemoryRejects) {
  const struct {
    std::string_view text;
    std::string_view why;
  } cases[] = {
      {"", "expected a \"some\" and a \"full\" line"},
      {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "expected a \"some\" and a \"full\""},
      {"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "line 1: expected the \"some\""},
      {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
       "line 2: expected the"},
      {"some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n", "line 1: bad percentage"},
      {"some avg10=101.00 avg60=0.00 avg300=0.00 total=0\n", "bad percentage"},
      {"some avg10=1.5 avg60=0.00 avg300=0.00 total=0\n", "bad percentage"},
      {"some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", "bad percentage"},
      {"some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n", "expected avg10="},
      {"some avg10=0.00 avg60=0.00 avg300=0.00 total=x\n", "bad total"},
      {"some avg10=0.00 avg60=0.00 avg300=0.00\n", "expected the"},
      {"some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", "bad total"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    Result<PsiMemory> psi = ParsePsiMemory(c.text);
    ASSERT_FALSE(psi.ok());
    EXPECT_EQ(psi.error().errno_value, EINVAL);
    EXPECT_THAT(psi.error().message, HasSubstr(c.why));
  }
}

TEST(SysfsParse, VmstatReclaim) {
  Result<ReclaimCounters> counters = ParseVmstatReclaim(
      "nr_free_pages 12345\npgscan_kswapd 100\npgscan_direct 20\npgscan_khugepaged 3\n"
      "pgsteal_kswapd 90\npgsteal_direct 10\npgsteal_khugepaged 0\noom_kill 2\nthp_fault_alloc 0\n");
  ASSERT_TRUE(counters.ok()) << counters.error().message;
  EXPECT_EQ(*counters, (ReclaimCounters{.pgscan = 123, .pgsteal = 100, .oom_kill = 2}));
  // A kernel before 5.16 has no khugepaged counters.
  counters = ParseVmstatReclaim("pgscan_kswapd 1\npgsteal_direct 1\noom_kill 0\n");
  ASSERT_TRUE(counters.ok()) << counters.error().message;
  EXPECT_EQ(*counters, (ReclaimCounters{.pgscan = 1, .pgsteal = 1, .oom_kill = 0}));
}

TEST(SysfsParse, VmstatReclaimRejects) {
  const struct {
    std::string_view text;
    std::string_view why;
  } cases[] = {
      {"", "missing"},
      {"pgscan_kswapd 1\npgsteal_kswapd 1\n", "missing"},
      {"pgscan_kswapd 1\noom_kill 1\n", "missing"},
      {"pgscan_kswapd 1\npgsteal_kswapd x\noom_kill 0\n", "line 2: bad number"},
      {"pgscan_kswapd 1 2\n", "line 1: expected \"name value\""},
      {"pgscan_kswapd 1\npgscan_kswapd 1\n", "line 2: repeated key"},
      {"pgscan_kswapd 18446744073709551615\npgscan_direct 1\n", "line 2: sum overflows"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text=\"" << c.text << "\"");
    Result<ReclaimCounters> counters = ParseVmstatReclaim(c.text);
    ASSERT_FALSE(counters.ok());
    EXPECT_EQ(counters.error().errno_value, EINVAL);
    EXPECT_THAT(counters.error().message, HasSubstr(c.why));
  }
}

TEST(SysfsParse, BootIdHash) {
  const std::optional<uint64_t> a = ParseBootIdHash("0b3a4f0e-54d8-4c2c-9a47-1f1f4c0f9c11\n");
  ASSERT_TRUE(a.has_value());
  // Case does not matter (same 16 bytes); one changed digit does.
  EXPECT_EQ(ParseBootIdHash("0B3A4F0E-54D8-4C2C-9A47-1F1F4C0F9C11"), a);
  const std::optional<uint64_t> b = ParseBootIdHash("0b3a4f0e-54d8-4c2c-9a47-1f1f4c0f9c12\n");
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(*a, *b);
  // FNV-1a 64 of 16 zero bytes: a fixed value, so the hash is stable across builds.
  EXPECT_EQ(ParseBootIdHash("00000000-0000-0000-0000-000000000000"),
            uint64_t{0x88201fb960ff6465ULL});
  for (std::string_view bad : {"", "0b3a4f0e54d84c2c9a471f1f4c0f9c11",
                               "0b3a4f0e-54d8-4c2c-9a47-1f1f4c0f9c1",
                               "0b3a4f0e-54d8-4c2c-9a47-1f1f4c0f9c1g",
                               "0b3a4f0e_54d8-4c2c-9a47-1f1f4c0f9c11"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseBootIdHash(bad), std::nullopt);
  }
}

TEST(LinuxAbi, NotifierEventsCarryKernelNamesAndSeedRules) {
  using abi::MemoryEvent;
  const struct {
    MemoryEvent e;
    uint32_t value;  // include/linux/memory.h
    std::string_view name;
    std::string_view rule;
  } cases[] = {
      {MemoryEvent::kGoingOnline, 1u << 3, "MEM_GOING_ONLINE", "S1"},
      {MemoryEvent::kCancelOnline, 1u << 4, "MEM_CANCEL_ONLINE", "S2"},
      {MemoryEvent::kOnline, 1u << 0, "MEM_ONLINE", "S3"},
      {MemoryEvent::kGoingOffline, 1u << 1, "MEM_GOING_OFFLINE", "S4"},
      {MemoryEvent::kCancelOffline, 1u << 5, "MEM_CANCEL_OFFLINE", "S5"},
      {MemoryEvent::kOffline, 1u << 2, "MEM_OFFLINE", "S6"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(static_cast<uint32_t>(c.e), c.value);
    EXPECT_EQ(abi::MemoryEventName(c.e), c.name);
    EXPECT_EQ(abi::MemoryEventRule(c.e), c.rule);
  }
  EXPECT_EQ(abi::MemoryBlockAttr(40, abi::kBlockState), "sys/devices/system/memory/memory40/state");
  EXPECT_EQ(abi::NodeDir(1), "sys/devices/system/node/node1");
}

}  // namespace
}  // namespace memhp::agent
