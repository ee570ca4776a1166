// memhp tests — the host's plug intent (guest-agent/policy/plug_intent.h): which new blocks it
// covers (a known range whatever the node; without a range, new blocks of its node in no mapped
// device up to expected_size, counted once each), when it lapses (its deadline from receipt, on
// a hand-moved clock; a device map naming its device) and that a second intent replaces the
// first whole. Take refuses what the device map that follows would refuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "policy/device_map.h"
#include "policy/plug_intent.h"

namespace memhp::agent {
namespace {

using memhp::v1::PlugIntent;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;

// Time stands still until a test moves it.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  MonotonicClock Get() {
    return [this] { return now; };
  }
};

// A DIMM the host is about to device_add: QEMU chooses its address, so there is no range.
PlugIntent DimmIntent(const std::string& id, int32_t node, uint64_t blocks, uint32_t deadline_ms = 30000) {
  PlugIntent i;
  i.set_operation_id(11);
  i.set_device_id(id);
  i.set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  i.set_node(node);
  i.set_expected_size(blocks * kBlock);
  i.set_target(memhp::v1::ONLINE_TARGET_KERNEL);
  i.set_deadline_ms(deadline_ms);
  return i;
}

// A virtio-mem device about to grow: its region is known.
PlugIntent VmemIntent(const std::string& id, uint64_t first_block, uint64_t blocks) {
  PlugIntent i;
  i.set_operation_id(12);
  i.set_device_id(id);
  i.set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  i.set_node(0);
  i.set_start(first_block * kBlock);
  i.set_size(blocks * kBlock);
  i.set_expected_size(kBlock);
  i.set_target(memhp::v1::ONLINE_TARGET_MOVABLE);
  i.set_deadline_ms(30000);
  return i;
}

DeviceMapTable MapWith(const std::string& id, uint64_t first_block, uint64_t blocks) {
  memhp::v1::DeviceMap map;
  auto* d = map.add_devices();
  d->set_device_id(id);
  d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  d->set_start(first_block * kBlock);
  d->set_size(blocks * kBlock);
  Result<DeviceMapTable> t = DeviceMapTable::Validate(map, kBlock);
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t.ok() ? std::move(t).value() : DeviceMapTable{};
}

std::string IdOf(const PlugIntent* i) { return i ? i->device_id() : "(none)"; }

class PlugIntentTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  PlugIntentSlot slot_{clock_.Get()};
};

TEST_F(PlugIntentTest, NothingIsCoveredWithoutAnIntent) {
  EXPECT_EQ(slot_.active(), nullptr);
  EXPECT_EQ(slot_.Find(40), nullptr);
  EXPECT_EQ(slot_.Claim(40, 0, nullptr), nullptr);
}

TEST_F(PlugIntentTest, AKnownRangeCoversTheBlocksInsideItOnWhateverNode) {
  ASSERT_TRUE(slot_.Take(VmemIntent("vmem0", 40, 8), kBlock).ok());
  EXPECT_EQ(IdOf(slot_.Find(39)), "(none)");
  EXPECT_EQ(IdOf(slot_.Find(40)), "vmem0");
  EXPECT_EQ(IdOf(slot_.Find(47)), "vmem0");
  EXPECT_EQ(IdOf(slot_.Find(48)), "(none)") << "start + size is past the range";
  EXPECT_EQ(IdOf(slot_.Claim(44, 3, nullptr)), "vmem0") << "the range decides, not the node";
  EXPECT_EQ(IdOf(slot_.Claim(48, 0, nullptr)), "(none)");
  EXPECT_EQ(slot_.claimed_bytes(), 0u) << "a known range counts nothing";
  ASSERT_NE(slot_.Find(40), nullptr);
  EXPECT_EQ(slot_.Find(40)->target(), memhp::v1::ONLINE_TARGET_MOVABLE);
  EXPECT_EQ(slot_.Find(40)->kind(), memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
}

TEST_F(PlugIntentTest, WithoutARangeItClaimsNewBlocksOfItsNodeUpToExpectedSize) {
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 1, 2), kBlock).ok());
  EXPECT_EQ(IdOf(slot_.Claim(60, 0, nullptr)), "(none)") << "another node's block is not this DIMM's";
  EXPECT_EQ(IdOf(slot_.Find(61)), "(none)") << "Find claims nothing";
  EXPECT_EQ(slot_.claimed_bytes(), 0u);
  EXPECT_EQ(IdOf(slot_.Claim(61, 1, nullptr)), "dimm1");
  EXPECT_EQ(IdOf(slot_.Claim(62, 1, nullptr)), "dimm1");
  EXPECT_EQ(IdOf(slot_.Claim(63, 1, nullptr)), "(none)") << "expected_size (2 blocks) is used up";
  EXPECT_EQ(slot_.claimed_bytes(), 2 * kBlock);
  // Claimed blocks stay the intent's, and asking again counts nothing more.
  EXPECT_EQ(IdOf(slot_.Claim(61, 1, nullptr)), "dimm1");
  EXPECT_EQ(slot_.claimed_bytes(), 2 * kBlock);
  EXPECT_EQ(IdOf(slot_.Find(62)), "dimm1");
  EXPECT_EQ(IdOf(slot_.Find(63)), "(none)");
}

TEST_F(PlugIntentTest, WithoutARangeBlocksOfMappedDevicesAreNeverClaimed) {
  const DeviceMapTable map = MapWith("dimm0", 60, 2);
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 0, 2), kBlock).ok());
  EXPECT_EQ(IdOf(slot_.Claim(60, 0, &map)), "(none)") << "dimm0's, by the map";
  EXPECT_EQ(IdOf(slot_.Claim(61, 0, &map)), "(none)");
  EXPECT_EQ(slot_.claimed_bytes(), 0u) << "mapped blocks use up none of expected_size";
  EXPECT_EQ(IdOf(slot_.Claim(62, 0, &map)), "dimm1");
  EXPECT_EQ(IdOf(slot_.Claim(63, 0, &map)), "dimm1");
}

TEST_F(PlugIntentTest, ARangeIsReadyAtOnceADimmOnceAllItsBlocksHaveCome) {
  EXPECT_FALSE(slot_.ReadyToDecide(4)) << "no intent: the burst settles first";
  ASSERT_TRUE(slot_.Take(VmemIntent("vmem0", 40, 8), kBlock).ok());
  EXPECT_TRUE(slot_.ReadyToDecide(1)) << "virtio-mem: each block alone, as the kernel's dynamic group";
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 0, 3, /*deadline_ms=*/1000), kBlock).ok());
  EXPECT_FALSE(slot_.ReadyToDecide(2));
  EXPECT_TRUE(slot_.ReadyToDecide(3));
  EXPECT_EQ(IdOf(slot_.Claim(60, 0, nullptr)), "dimm1");
  EXPECT_TRUE(slot_.ReadyToDecide(2)) << "one claimed before plus two new: all three";
  EXPECT_FALSE(slot_.ReadyToDecide(1));
  clock_.now += milliseconds(1000);
  EXPECT_FALSE(slot_.ReadyToDecide(3)) << "a lapsed intent says nothing";
}

TEST_F(PlugIntentTest, ItLapsesAtItsDeadlineCountedFromReceipt) {
  clock_.now += std::chrono::seconds(5);  // the slot was made earlier: the deadline runs from Take
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 0, 4, /*deadline_ms=*/1000), kBlock).ok());
  clock_.now += milliseconds(999);
  ASSERT_NE(slot_.active(), nullptr);
  EXPECT_EQ(IdOf(slot_.Claim(60, 0, nullptr)), "dimm1");
  clock_.now += milliseconds(1);
  EXPECT_EQ(slot_.active(), nullptr);
  EXPECT_EQ(IdOf(slot_.Find(60)), "(none)") << "a lapsed intent names no block";
  EXPECT_EQ(IdOf(slot_.Claim(61, 0, nullptr)), "(none)") << "and claims none";
}

TEST_F(PlugIntentTest, ADeviceMapNamingItsDeviceEndsIt) {
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 0, 2), kBlock).ok());
  ASSERT_EQ(IdOf(slot_.Claim(60, 0, nullptr)), "dimm1");
  EXPECT_FALSE(slot_.OnDeviceMap(MapWith("dimm0", 32, 2))) << "another device's map changes nothing";
  EXPECT_EQ(IdOf(slot_.Find(60)), "dimm1");
  EXPECT_TRUE(slot_.OnDeviceMap(MapWith("dimm1", 60, 2)));
  EXPECT_EQ(slot_.active(), nullptr);
  EXPECT_EQ(IdOf(slot_.Find(60)), "(none)");
  EXPECT_EQ(IdOf(slot_.Claim(61, 0, nullptr)), "(none)") << "from now on the map is the truth";
}

TEST_F(PlugIntentTest, ASecondIntentReplacesTheFirstWhole) {
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 0, 1), kBlock).ok());
  ASSERT_EQ(IdOf(slot_.Claim(60, 0, nullptr)), "dimm1");
  ASSERT_TRUE(slot_.Take(DimmIntent("dimm2", 0, 1), kBlock).ok());
  EXPECT_EQ(IdOf(slot_.active()), "dimm2");
  EXPECT_EQ(IdOf(slot_.Find(60)), "(none)") << "the first intent's claims went with it";
  EXPECT_EQ(slot_.claimed_bytes(), 0u);
  EXPECT_EQ(IdOf(slot_.Claim(61, 0, nullptr)), "dimm2") << "the count starts over";
  ASSERT_TRUE(slot_.Take(VmemIntent("vmem0", 40, 2), kBlock).ok());
  EXPECT_EQ(IdOf(slot_.Find(61)), "(none)");
  EXPECT_EQ(IdOf(slot_.Find(41)), "vmem0");
}

TEST_F(PlugIntentTest, TargetUnspecifiedIsKeptAsThePolicysChoice) {
  PlugIntent i = DimmIntent("dimm1", 0, 1);
  i.set_target(memhp::v1::ONLINE_TARGET_UNSPECIFIED);
  ASSERT_TRUE(slot_.Take(i, kBlock).ok());
  const PlugIntent* claimed = slot_.Claim(60, 0, nullptr);
  ASSERT_NE(claimed, nullptr);
  EXPECT_EQ(claimed->target(), memhp::v1::ONLINE_TARGET_UNSPECIFIED);
}

struct BadTake {
  const char* name;
  PlugIntent intent;
  uint64_t block_size;
  int errno_value;
  const char* says;
};

TEST_F(PlugIntentTest, TakeRefusesWhatTheMapWouldAndKeepsThePreviousIntent) {
  PlugIntent nvdimm = DimmIntent("nv0", 0, 1);
  nvdimm.set_kind(memhp::v1::MEMORY_DEVICE_KIND_NVDIMM);
  PlugIntent unspecified_kind = DimmIntent("d", 0, 1);
  unspecified_kind.set_kind(memhp::v1::MEMORY_DEVICE_KIND_UNSPECIFIED);
  PlugIntent half_range = VmemIntent("vmem0", 40, 2);
  half_range.set_size(kBlock + kBlock / 2);
  PlugIntent odd_start = VmemIntent("vmem0", 40, 2);
  odd_start.set_start(40 * kBlock + 4096);
  PlugIntent nothing_expected = DimmIntent("dimm3", 0, 0);
  PlugIntent half_expected = DimmIntent("dimm3", 0, 1);
  half_expected.set_expected_size(kBlock / 2);
  for (const BadTake& bad : {
           BadTake{"nvdimm", nvdimm, kBlock, EINVAL, "kind must be DIMM or VIRTIO_MEM"},
           BadTake{"unspecified kind", unspecified_kind, kBlock, EINVAL, "kind must be"},
           BadTake{"range of 1.5 blocks", half_range, kBlock, EINVAL, "not whole memory blocks"},
           BadTake{"range off a block boundary", odd_start, kBlock, EINVAL, "not whole memory blocks"},
           BadTake{"no range, nothing expected", nothing_expected, kBlock, EINVAL, "expected_size 0"},
           BadTake{"no range, half a block expected", half_expected, kBlock, EINVAL, "whole memory blocks"},
           BadTake{"block size unknown", DimmIntent("dimm3", 0, 1), 0, EIO, "block size is unknown"},
       }) {
    ASSERT_TRUE(slot_.Take(DimmIntent("dimm1", 0, 1), kBlock).ok());
    ASSERT_EQ(IdOf(slot_.Claim(60, 0, nullptr)), "dimm1");
    Status s = slot_.Take(bad.intent, bad.block_size);
    ASSERT_FALSE(s.ok()) << bad.name;
    EXPECT_EQ(s.error().errno_value, bad.errno_value) << bad.name;
    EXPECT_THAT(s.error().message, HasSubstr(bad.says)) << bad.name;
    EXPECT_EQ(IdOf(slot_.active()), "dimm1") << bad.name;
    EXPECT_EQ(IdOf(slot_.Find(60)), "dimm1") << bad.name << ": the kept intent's claims stay";
  }
}

}  // namespace
}  // namespace memhp::agent
