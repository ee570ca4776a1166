// AuditCore under concurrency, as QEMU runs it: several vCPU threads call Record() on the hot
// path while the control thread replaces the ranges (state changes, plugs) and a reporter takes
// snapshots. Built in every build and, in suite 'tsan', under ThreadSanitizer, which reports
// any unsynchronised access; the assertions check what the counters promise: nothing lost, and
// a snapshot never shows a half-written violation or a count that goes backwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "audit_core.h"

namespace memhp::audit {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kBlock = 128 * kMiB;
constexpr unsigned kVcpus = 4;
constexpr int kAccessesPerVcpu = 50000;

// Read by every vCPU thread (first touches, violations) while the control thread advances it.
class AtomicClock final : public Clock {
 public:
  uint64_t NowNs() override { return now_.fetch_add(1, std::memory_order_relaxed) + 1000; }

 private:
  std::atomic<uint64_t> now_{0};
};

RangeSpec Range(uint64_t start, uint64_t size, RangeState state, std::string label) {
  RangeSpec spec;
  spec.start = start;
  spec.size = size;
  spec.state = state;
  spec.label = std::move(label);
  return spec;
}

// dimm1 flips online <-> offline; vmem0 stays online; the window at 6 GiB is plugged and
// unplugged. Accesses to every one of them (and to boot memory) go on meanwhile.
std::vector<RangeSpec> Ranges(int round) {
  std::vector<RangeSpec> ranges{
      Range(4 * kGiB, 2 * kBlock, round % 2 ? RangeState::kOffline : RangeState::kOnline, "dimm1"),
      Range(5 * kGiB, 4 * kBlock, RangeState::kOnline, "vmem0"),
  };
  if (round % 3 == 1) ranges.push_back(Range(6 * kGiB, kBlock, RangeState::kUnplugged, "dimm2"));
  return ranges;
}

uint64_t AddressFor(unsigned vcpu, int i) {
  switch (i % 4) {
    case 0: return 4 * kGiB + static_cast<uint64_t>(i % 64) * 4096;           // dimm1
    case 1: return 5 * kGiB + static_cast<uint64_t>(i % 4) * kBlock + vcpu;    // vmem0
    case 2: return 6 * kGiB + static_cast<uint64_t>(i % 8) * 4096;             // dimm2 or outside
    default: return 64 * kMiB + static_cast<uint64_t>(i) * 64;                 // boot memory
  }
}

uint64_t Accesses(const Snapshot& s) {
  uint64_t n = s.outside_accesses;
  for (const BlockReport& b : s.blocks) n += b.reads + b.writes;
  return n;
}

TEST(AuditCoreConcurrencyTest, VcpusCountWhileRangesChangeAndSnapshotsAreTaken) {
  AtomicClock clock;
  CoreOptions options;
  options.vcpus = kVcpus;
  options.max_violations = 64;
  AuditCore core(options, &clock);
  ASSERT_EQ(core.SetRanges(Ranges(0)), "");
  core.SetArmed(true);

  // The vCPUs record until the control thread has replaced the ranges kRounds times (and at
  // least kAccessesPerVcpu accesses each), so every SetRanges overlaps their Record()s. The
  // flag is read relaxed: nothing but the core's own publication orders their view of a table.
  constexpr int kRounds = 200;
  std::atomic<bool> go{false};
  std::atomic<bool> control_done{false};
  std::atomic<unsigned> running{kVcpus};
  std::vector<uint64_t> recorded_by(kVcpus, 0);  // each vCPU writes its own, read after join
  std::vector<std::thread> vcpus;
  for (unsigned v = 0; v < kVcpus; ++v) {
    vcpus.emplace_back([&, v] {
      while (!go.load()) std::this_thread::yield();
      int i = 0;
      for (; i < kAccessesPerVcpu || !control_done.load(std::memory_order_relaxed); ++i) {
        core.Record(v, AddressFor(v, i), i % 3 ? Access::kRead : Access::kWrite);
      }
      recorded_by[v] = static_cast<uint64_t>(i);
      running.fetch_sub(1);
    });
  }

  std::thread control([&] {
    go.store(true);
    for (int round = 1; round <= kRounds; ++round) {
      EXPECT_EQ(core.SetRanges(Ranges(round)), "");
      std::this_thread::yield();
    }
    control_done.store(true, std::memory_order_relaxed);
  });

  // The reporter (this thread): counts only grow, and every violation is complete.
  std::map<uint64_t, uint64_t> last_block_count;
  std::map<std::tuple<uint64_t, unsigned, Access>, uint64_t> last_violation_count;
  int snapshots = 0;
  while (running.load() > 0 || snapshots == 0) {
    const Snapshot s = core.TakeSnapshot();
    ++snapshots;
    for (const BlockReport& b : s.blocks) {
      uint64_t& last = last_block_count[b.start];
      EXPECT_GE(b.reads + b.writes, last) << "block " << b.start;
      last = b.reads + b.writes;
    }
    uint64_t recorded = 0;
    for (const ViolationReport& v : s.violations) {
      EXPECT_THAT(v.label, ::testing::AnyOf("dimm1", "dimm2"));
      EXPECT_NE(v.state, RangeState::kOnline);
      EXPECT_GT(v.count, 0u);
      EXPECT_GE(v.first_ns, 1000u) << "a violation reported before its time was written";
      EXPECT_LE(v.first_ns, v.last_ns);
      uint64_t& last = last_violation_count[{v.page, v.vcpu, v.access}];
      EXPECT_GE(v.count, last);
      last = v.count;
      recorded += v.count;
    }
    EXPECT_LE(s.violations.size(), options.max_violations);
    EXPECT_LE(recorded, s.violations_total);
  }
  for (std::thread& t : vcpus) t.join();
  control.join();

  // Every access is in exactly one place: a block's counters (kept across SetRanges) or outside.
  // Blocks of the unplugged window count only when it was in the table, so sum what is there
  // now (dimm2 present) with the outside counter.
  ASSERT_EQ(core.SetRanges(Ranges(1)), "");
  const Snapshot end = core.TakeSnapshot();
  uint64_t total = 0;
  for (uint64_t n : recorded_by) total += n;
  EXPECT_EQ(Accesses(end), total);
  uint64_t recorded = 0;
  for (const ViolationReport& v : end.violations) recorded += v.count;
  EXPECT_EQ(recorded + end.violations_dropped, end.violations_total);
}

TEST(AuditCoreConcurrencyTest, VcpusRacingForViolationSlotsEachGetTheirOwn) {
  // Every vCPU hits the same fresh pages at once. Keys differ only in their vCPU bits, so they
  // hash to neighbouring slots and race to claim them; a snapshot taken meanwhile must never
  // see a claimed slot whose range and times are not written yet.
  for (int trial = 0; trial < 20; ++trial) {
    AtomicClock clock;
    CoreOptions options;
    options.vcpus = kVcpus;
    options.max_violations = 256;
    AuditCore core(options, &clock);
    ASSERT_EQ(core.SetRanges({Range(4 * kGiB, kBlock, RangeState::kOffline, "dimm1")}), "");
    std::atomic<bool> go{false};
    std::atomic<unsigned> running{kVcpus};
    std::vector<std::thread> vcpus;
    for (unsigned v = 0; v < kVcpus; ++v) {
      vcpus.emplace_back([&, v] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 2000; ++i) core.Record(v, 4 * kGiB + static_cast<uint64_t>(i % 32) * 4096, Access::kWrite);
        running.fetch_sub(1);
      });
    }
    go.store(true);
    while (running.load() > 0) {
      for (const ViolationReport& v : core.TakeSnapshot().violations) {
        ASSERT_EQ(v.label, "dimm1");
        ASSERT_GE(v.first_ns, 1000u);
      }
    }
    for (std::thread& t : vcpus) t.join();
    const Snapshot s = core.TakeSnapshot();
    EXPECT_EQ(s.violations.size(), 32u * kVcpus);
    EXPECT_EQ(s.violations_total, uint64_t{kVcpus} * 2000);
    uint64_t recorded = 0;
    for (const ViolationReport& v : s.violations) recorded += v.count;
    EXPECT_EQ(recorded, s.violations_total);
  }
}

}  // namespace
}  // namespace memhp::audit
