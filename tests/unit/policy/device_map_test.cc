// memhp tests — the host's device map (guest-agent/policy/device_map.h): validation (whole
// blocks, no overlap, unique ids, known kinds, at most 256 devices) and lookup by address and
// block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cerrno>
#include <string>
#include <vector>

#include "policy/device_map.h"

namespace memhp::agent {
namespace {

using ::testing::HasSubstr;
using memhp::v1::DeviceMap;
using memhp::v1::DeviceRange;

constexpr uint64_t kBlock = 128ull << 20;

DeviceRange Range(std::string id, memhp::v1::MemoryDeviceKind kind, uint64_t start, uint64_t size,
                  memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_UNSPECIFIED) {
  DeviceRange d;
  d.set_device_id(std::move(id));
  d.set_kind(kind);
  d.set_start(start);
  d.set_size(size);
  d.set_target(target);
  return d;
}

constexpr auto kDimm = memhp::v1::MEMORY_DEVICE_KIND_DIMM;
constexpr auto kVmem = memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM;

DeviceMap MapOf(std::vector<DeviceRange> ranges) {
  DeviceMap map;
  for (auto& r : ranges) *map.add_devices() = std::move(r);
  return map;
}

TEST(DeviceMapTest, AValidMapIsSortedAndAnswersLookups) {
  // Given out of order: the table sorts by start.
  Result<DeviceMapTable> t = DeviceMapTable::Validate(
      MapOf({Range("vmem0", kVmem, 40 * kBlock, 8 * kBlock), Range("dimm1", kDimm, 32 * kBlock, 4 * kBlock)}),
      kBlock);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(t->ranges()[0].device_id(), "dimm1");
  EXPECT_EQ(t->DeviceIdOf(31), "");
  EXPECT_EQ(t->DeviceIdOf(32), "dimm1");
  EXPECT_EQ(t->DeviceIdOf(35), "dimm1");
  EXPECT_EQ(t->DeviceIdOf(36), "");  // the gap between the two
  EXPECT_EQ(t->DeviceIdOf(40), "vmem0");
  EXPECT_EQ(t->DeviceIdOf(47), "vmem0");
  EXPECT_EQ(t->DeviceIdOf(48), "");
  EXPECT_EQ(t->FindAddress(32 * kBlock + 4096)->device_id(), "dimm1");
  EXPECT_EQ(t->FindAddress(36 * kBlock - 1)->device_id(), "dimm1");
  EXPECT_EQ(t->FindAddress(0), nullptr);
}

TEST(DeviceMapTest, AnEmptyMapIsValidAndHoldsNothing) {
  Result<DeviceMapTable> t = DeviceMapTable::Validate(DeviceMap{}, kBlock);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->DeviceIdOf(0), "");
}

struct BadMapCase {
  const char* name;
  std::vector<DeviceRange> ranges;
  const char* message_part;
};

class DeviceMapRefusalTest : public ::testing::TestWithParam<BadMapCase> {};

TEST_P(DeviceMapRefusalTest, IsEinvalNamingTheProblem) {
  const BadMapCase& c = GetParam();
  Result<DeviceMapTable> t = DeviceMapTable::Validate(MapOf(c.ranges), kBlock);
  ASSERT_FALSE(t.ok()) << c.name;
  EXPECT_EQ(t.error().errno_value, EINVAL);
  EXPECT_THAT(t.error().message, HasSubstr(c.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DeviceMapRefusalTest,
    ::testing::Values(
        BadMapCase{"unaligned start", {Range("d", kDimm, 32 * kBlock + 4096, kBlock)}, "not whole memory blocks"},
        BadMapCase{"unaligned size", {Range("d", kDimm, 32 * kBlock, kBlock / 2)}, "not whole memory blocks"},
        BadMapCase{"zero size", {Range("d", kDimm, 32 * kBlock, 0)}, "not whole memory blocks"},
        BadMapCase{"wraps", {Range("d", kDimm, UINT64_MAX - kBlock + 1, 2 * kBlock)}, "wraps"},
        BadMapCase{"overlap",
                   {Range("a", kDimm, 32 * kBlock, 4 * kBlock), Range("b", kVmem, 35 * kBlock, 4 * kBlock)},
                   "overlaps device 'a'"},
        BadMapCase{"same start",
                   {Range("a", kDimm, 32 * kBlock, kBlock), Range("b", kDimm, 32 * kBlock, kBlock)}, "overlaps"},
        BadMapCase{"duplicate id",
                   {Range("a", kDimm, 32 * kBlock, kBlock), Range("a", kDimm, 40 * kBlock, kBlock)}, "twice"},
        BadMapCase{"no id", {Range("", kDimm, 32 * kBlock, kBlock)}, "device id"},
        BadMapCase{"long id", {Range(std::string(200, 'x'), kDimm, 32 * kBlock, kBlock)}, "device id"},
        BadMapCase{"nvdimm kind", {Range("n", memhp::v1::MEMORY_DEVICE_KIND_NVDIMM, 32 * kBlock, kBlock)},
                   "kind must be DIMM or VIRTIO_MEM"},
        BadMapCase{"unspecified kind",
                   {Range("n", memhp::v1::MEMORY_DEVICE_KIND_UNSPECIFIED, 32 * kBlock, kBlock)}, "kind"},
        BadMapCase{"unknown target",
                   {Range("d", kDimm, 32 * kBlock, kBlock, static_cast<memhp::v1::OnlineTarget>(42))},
                   "unknown target"}),
    [](const auto& case_info) {
      std::string n = case_info.param.name;
      for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return n;
    });

TEST(DeviceMapTest, AdjacentRangesDoNotOverlap) {
  Result<DeviceMapTable> t = DeviceMapTable::Validate(
      MapOf({Range("a", kDimm, 32 * kBlock, 4 * kBlock), Range("b", kDimm, 36 * kBlock, 4 * kBlock)}), kBlock);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->DeviceIdOf(35), "a");
  EXPECT_EQ(t->DeviceIdOf(36), "b");
}

TEST(DeviceMapTest, MoreThan256DevicesIsE2big) {
  std::vector<DeviceRange> ranges;
  for (uint64_t i = 0; i < kMaxMapDevices + 1; ++i) {
    ranges.push_back(Range("d" + std::to_string(i), kDimm, (32 + i) * kBlock, kBlock));
  }
  Result<DeviceMapTable> t = DeviceMapTable::Validate(MapOf(ranges), kBlock);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().errno_value, E2BIG);
  ranges.pop_back();  // exactly the bound is fine
  EXPECT_TRUE(DeviceMapTable::Validate(MapOf(ranges), kBlock).ok());
}

TEST(DeviceMapTest, UnknownBlockSizeIsRefused) {
  EXPECT_FALSE(DeviceMapTable::Validate(MapOf({Range("a", kDimm, 0, kBlock)}), 0).ok());
}

}  // namespace
}  // namespace memhp::agent
