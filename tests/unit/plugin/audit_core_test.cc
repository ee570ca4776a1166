// AuditCore: the range map, per-block accounting per vCPU, time to first use, and the bounded
// violation record — all without QEMU, on a fake clock.
#include "audit_core.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace memhp::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kBlock = 128 * kMiB;

class FakeClock final : public Clock {
 public:
  uint64_t NowNs() override { return now; }
  uint64_t now = 1000;
};

RangeSpec Range(uint64_t start, uint64_t size, RangeState state, std::string label = "r") {
  RangeSpec spec;
  spec.start = start;
  spec.size = size;
  spec.state = state;
  spec.label = std::move(label);
  return spec;
}

class AuditCoreTest : public ::testing::Test {
 protected:
  AuditCore& Make(unsigned vcpus = 2, size_t max_violations = kDefaultMaxViolations) {
    CoreOptions options;
    options.vcpus = vcpus;
    options.max_violations = max_violations;
    EXPECT_EQ(AuditCore::ValidateOptions(options), "");
    core_ = std::make_unique<AuditCore>(options, &clock_);
    return *core_;
  }
  const BlockReport* Block(const Snapshot& s, uint64_t start) {
    for (const BlockReport& b : s.blocks) {
      if (b.start == start) return &b;
    }
    return nullptr;
  }

  FakeClock clock_;
  std::unique_ptr<AuditCore> core_;
};

TEST_F(AuditCoreTest, ValidatesOptions) {
  CoreOptions options;
  EXPECT_EQ(AuditCore::ValidateOptions(options), "");
  options.block_size = 3 * kMiB;
  EXPECT_THAT(AuditCore::ValidateOptions(options), HasSubstr("power of two"));
  options.block_size = 2048;
  EXPECT_THAT(AuditCore::ValidateOptions(options), HasSubstr("4096"));
  options = {};
  options.vcpus = 0;
  EXPECT_THAT(AuditCore::ValidateOptions(options), HasSubstr("vCPU"));
  options = {};
  options.max_violations = 0;
  EXPECT_THAT(AuditCore::ValidateOptions(options), HasSubstr("max_violations"));
}

TEST_F(AuditCoreTest, AccessesOutsideEveryRangeCountAsOutside) {
  AuditCore& core = Make();
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kOnline)}), "");
  core.Record(0, 0x1000, Access::kRead);                    // boot memory, below
  core.Record(1, 4 * kGiB + 2 * kBlock, Access::kWrite);    // just past the end
  core.Record(0, 4 * kGiB - 1, Access::kRead);              // just before the start
  const Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.outside_accesses, 3u);
  ASSERT_EQ(s.blocks.size(), 2u);
  EXPECT_EQ(s.blocks[0].reads + s.blocks[0].writes + s.blocks[1].reads + s.blocks[1].writes, 0u);
}

TEST_F(AuditCoreTest, LooksUpTheRightRangeAndBlock) {
  AuditCore& core = Make();
  ASSERT_EQ(core.SetRanges({Range(8 * kGiB, kBlock, RangeState::kOnline, "dimm1"),
                            Range(4 * kGiB, 2 * kBlock, RangeState::kOnline, "dimm0")}),
            "");
  EXPECT_EQ(core.range_count(), 2u);
  core.Record(0, 4 * kGiB, Access::kRead);               // dimm0 block 0, first byte
  core.Record(0, 4 * kGiB + kBlock - 1, Access::kRead);  // dimm0 block 0, last byte
  core.Record(0, 4 * kGiB + kBlock, Access::kWrite);     // dimm0 block 1
  core.Record(1, 8 * kGiB + 5, Access::kWrite);          // dimm1
  const Snapshot s = core.TakeSnapshot();
  ASSERT_EQ(s.blocks.size(), 3u);  // by address
  EXPECT_EQ(s.blocks[0].start, 4 * kGiB);
  EXPECT_EQ(s.blocks[0].label, "dimm0");
  EXPECT_EQ(s.blocks[0].reads, 2u);
  EXPECT_EQ(s.blocks[1].writes, 1u);
  EXPECT_EQ(s.blocks[2].label, "dimm1");
  EXPECT_EQ(s.blocks[2].writes, 1u);
  EXPECT_EQ(s.outside_accesses, 0u);
}

TEST_F(AuditCoreTest, RefusesBadRangesAndKeepsThePreviousOnes) {
  AuditCore& core = Make();
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kOnline)}), "");
  EXPECT_THAT(core.SetRanges({Range(4 * kGiB, 0, RangeState::kOnline)}), HasSubstr("size is 0"));
  EXPECT_THAT(core.SetRanges({Range(UINT64_MAX - 10, kBlock, RangeState::kOnline)}),
              HasSubstr("overflows"));
  EXPECT_THAT(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kOnline),
                              Range(4 * kGiB + kBlock, kBlock, RangeState::kOffline)}),
              HasSubstr("overlap"));
  EXPECT_THAT(core.SetRanges({Range(0, uint64_t{1} << 62, RangeState::kOnline)}),
              HasSubstr("too many blocks"));
  EXPECT_EQ(core.range_count(), 1u);
  core.Record(0, 4 * kGiB, Access::kRead);
  EXPECT_EQ(core.TakeSnapshot().blocks.at(0).reads, 1u);
}

TEST_F(AuditCoreTest, StateChangesApplyToTheNextAccess) {
  AuditCore& core = Make();
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kOnline)}), "");
  core.Record(0, 4 * kGiB, Access::kRead);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kOffline)}), "");
  core.Record(0, 4 * kGiB, Access::kRead);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kUnplugged)}), "");
  core.Record(0, 4 * kGiB, Access::kRead);
  const Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.blocks.at(0).reads, 3u);  // a block keeps its counters across SetRanges
  EXPECT_EQ(s.blocks.at(0).state, RangeState::kUnplugged);
  EXPECT_EQ(s.violations_total, 2u);
  ASSERT_EQ(s.violations.size(), 1u);  // same page, vCPU and direction
  EXPECT_EQ(s.violations[0].count, 2u);
  EXPECT_EQ(s.violations[0].state, RangeState::kOffline);  // the state at the first one
}

TEST_F(AuditCoreTest, CountsPerVcpuAndSumsThem) {
  AuditCore& core = Make(2);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kOnline)}), "");
  constexpr int kPerThread = 200000;
  std::thread t0([&] {
    for (int i = 0; i < kPerThread; ++i) core.Record(0, 4 * kGiB + (i % 64) * 4096, Access::kRead);
  });
  std::thread t1([&] {
    for (int i = 0; i < kPerThread; ++i) {
      core.Record(1, 4 * kGiB + (i % 2) * kBlock, i % 4 == 0 ? Access::kWrite : Access::kRead);
    }
  });
  t0.join();
  t1.join();
  const Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.vcpus, 2u);
  // vCPU 0: all reads to block 0. vCPU 1: even i to block 0, odd to block 1; i % 4 == 0 writes.
  EXPECT_EQ(s.blocks.at(0).reads, uint64_t{kPerThread} + kPerThread / 4);
  EXPECT_EQ(s.blocks.at(0).writes, uint64_t{kPerThread} / 4);
  EXPECT_EQ(s.blocks.at(1).reads, uint64_t{kPerThread} / 2);
  EXPECT_EQ(s.blocks.at(1).writes, 0u);
}

TEST_F(AuditCoreTest, IgnoresVcpusBeyondTheConfiguredCount) {
  AuditCore& core = Make(2);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kOnline)}), "");
  core.Record(2, 4 * kGiB, Access::kRead);
  core.Record(kMaxVcpus + 7, 4 * kGiB, Access::kRead);
  EXPECT_EQ(core.TakeSnapshot().blocks.at(0).reads, 0u);
}

TEST_F(AuditCoreTest, FirstTouchOnlyAfterOnlineAndOnlyOnce) {
  AuditCore& core = Make();
  clock_.now = 5000;
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kOffline)}), "");
  core.Record(0, 4 * kGiB, Access::kRead);  // offline: a violation, not a first touch
  EXPECT_FALSE(core.TakeSnapshot().blocks.at(0).first_touch_ns.has_value());

  clock_.now = 10000;  // comes online now; no plug time given, so the plug time is now
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kOnline)}), "");
  clock_.now = 10750;
  core.Record(1, 4 * kGiB + 8, Access::kWrite);
  clock_.now = 20000;
  core.Record(0, 4 * kGiB + 16, Access::kRead);  // not the first any more
  // The same ranges sent again (online, no new plug time) change nothing.
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kOnline)}), "");
  Snapshot s = core.TakeSnapshot();
  ASSERT_TRUE(s.blocks.at(0).first_touch_ns.has_value());
  EXPECT_EQ(*s.blocks.at(0).first_touch_ns, 750u);
  EXPECT_FALSE(s.blocks.at(1).first_touch_ns.has_value());

  // Unplugged and plugged again, with memhpd's plug time: time to first use starts over.
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, 2 * kBlock, RangeState::kUnplugged)}), "");
  s = core.TakeSnapshot();
  EXPECT_FALSE(s.blocks.at(0).first_touch_ns.has_value());
  RangeSpec replug = Range(4 * kGiB, 2 * kBlock, RangeState::kOnline);
  replug.plugged_at_ns = 30000;
  clock_.now = 31000;
  ASSERT_EQ(core.SetRanges({replug}), "");
  clock_.now = 42000;
  core.Record(0, 4 * kGiB + kBlock, Access::kRead);
  s = core.TakeSnapshot();
  EXPECT_FALSE(s.blocks.at(0).first_touch_ns.has_value());
  ASSERT_TRUE(s.blocks.at(1).first_touch_ns.has_value());
  EXPECT_EQ(*s.blocks.at(1).first_touch_ns, 12000u);
}

TEST_F(AuditCoreTest, TranslatesPluginAddressesToGuestPhysical) {
  AuditCore& core = Make();
  RangeSpec dimm = Range(4 * kGiB, 2 * kBlock, RangeState::kOffline, "dimm0");
  dimm.plugin_start = 1 * kGiB + 64 * kMiB;  // what QEMU 7.2 reports for a DIMM's first byte
  ASSERT_EQ(core.SetRanges({dimm}), "");
  core.Record(0, 1 * kGiB + 64 * kMiB + kBlock + 0x1234, Access::kWrite);
  core.Record(0, 4 * kGiB, Access::kRead);  // the guest-physical address itself: not the range
  const Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.outside_accesses, 1u);
  ASSERT_NE(Block(s, 4 * kGiB + kBlock), nullptr);
  EXPECT_EQ(Block(s, 4 * kGiB + kBlock)->writes, 1u);
  ASSERT_EQ(s.violations.size(), 1u);
  EXPECT_EQ(s.violations[0].page, 4 * kGiB + kBlock + 0x1000);
  EXPECT_EQ(s.violations[0].label, "dimm0");
}

TEST_F(AuditCoreTest, ViolationsAreKeyedByPageVcpuAndDirection) {
  AuditCore& core = Make(2);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kUnplugged, "gone")}), "");
  clock_.now = 100;
  core.Record(0, 4 * kGiB + 0x10, Access::kRead);
  clock_.now = 200;
  core.Record(0, 4 * kGiB + 0xff8, Access::kRead);   // same page, vCPU, direction
  core.Record(0, 4 * kGiB + 0x20, Access::kWrite);   // other direction
  core.Record(1, 4 * kGiB + 0x30, Access::kRead);    // other vCPU
  core.Record(1, 4 * kGiB + 0x1000, Access::kRead);  // other page
  const Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.violations_total, 5u);
  EXPECT_EQ(s.violations_dropped, 0u);
  ASSERT_EQ(s.violations.size(), 4u);  // sorted by page, vCPU, direction
  const ViolationReport& first = s.violations[0];
  EXPECT_EQ(first.page, 4 * kGiB);
  EXPECT_EQ(first.vcpu, 0u);
  EXPECT_EQ(first.access, Access::kRead);
  EXPECT_EQ(first.count, 2u);
  EXPECT_EQ(first.first_ns, 100u);
  EXPECT_EQ(first.last_ns, 200u);
  EXPECT_EQ(first.state, RangeState::kUnplugged);
  EXPECT_EQ(first.label, "gone");
  EXPECT_EQ(s.violations[1].access, Access::kWrite);
  EXPECT_EQ(s.violations[2].vcpu, 1u);
  EXPECT_EQ(s.violations[3].page, 4 * kGiB + 0x1000);
}

TEST_F(AuditCoreTest, ViolationRecordIsBoundedAndCountsGoOn) {
  AuditCore& core = Make(1, /*max_violations=*/4);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kOffline)}), "");
  for (uint64_t page = 0; page < 10; ++page) core.Record(0, 4 * kGiB + page * 4096, Access::kRead);
  Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.violations.size(), 4u);
  EXPECT_EQ(s.violations_total, 10u);
  EXPECT_EQ(s.violations_dropped, 6u);
  EXPECT_EQ(s.max_violations, 4u);

  // A recorded key keeps counting; a new one keeps being dropped.
  const uint64_t recorded = s.violations[0].page;
  core.Record(0, recorded, Access::kRead);
  core.Record(0, 4 * kGiB + 50 * 4096, Access::kRead);
  s = core.TakeSnapshot();
  EXPECT_EQ(s.violations.size(), 4u);
  EXPECT_EQ(s.violations_total, 12u);
  EXPECT_EQ(s.violations_dropped, 7u);
  EXPECT_EQ(s.violations[0].count, 2u);
}

TEST_F(AuditCoreTest, ConcurrentViolationsNeverExceedTheBound) {
  AuditCore& core = Make(2, /*max_violations=*/16);
  ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kUnplugged)}), "");
  auto hammer = [&](unsigned vcpu) {
    for (int i = 0; i < 20000; ++i) core.Record(vcpu, 4 * kGiB + (i % 40) * 4096, Access::kRead);
  };
  std::thread t0(hammer, 0);
  std::thread t1(hammer, 1);
  t0.join();
  t1.join();
  const Snapshot s = core.TakeSnapshot();
  EXPECT_EQ(s.violations.size(), 16u);
  EXPECT_EQ(s.violations_total, 40000u);
  uint64_t recorded = 0;
  for (const ViolationReport& v : s.violations) recorded += v.count;
  EXPECT_EQ(recorded + s.violations_dropped, s.violations_total);
}

TEST_F(AuditCoreTest, EmptyCoreReportsNothing) {
  AuditCore& core = Make();
  core.Record(0, 4 * kGiB, Access::kRead);
  const Snapshot s = core.TakeSnapshot();
  EXPECT_FALSE(s.armed);
  EXPECT_THAT(s.blocks, IsEmpty());
  EXPECT_THAT(s.violations, IsEmpty());
  EXPECT_EQ(s.outside_accesses, 1u);
  EXPECT_EQ(s.block_size, kBlock);
  core.SetArmed(true);
  EXPECT_TRUE(core.TakeSnapshot().armed);
}

}  // namespace
}  // namespace memhp::audit
