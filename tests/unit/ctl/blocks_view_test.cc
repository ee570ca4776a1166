// memhp tests — `memhpctl blocks` (ctl/blocks_view.h): lsmem's view of the agent's inventory
// beside QEMU's devices, through libsmartcols: ranges merged while the split columns agree,
// --all, --split, -o, -b, -r, -n, the totals, JSON with numbers, and the column list's errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <string>

#include "ctl/blocks_view.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kBlock = uint64_t{128} << 20;

void AddBlock(memhp::v1::VmStatus& s, uint32_t id, memhp::v1::BlockState state, memhp::v1::Zone zone, int node) {
  memhp::v1::MemoryBlock* b = s.mutable_agent()->mutable_inventory()->add_blocks();
  b->set_id(id);
  b->set_start_address(id * kBlock);
  b->set_state(state);
  b->set_zone(zone);
  b->set_node(node);
  b->set_removable(true);
  if (state != memhp::v1::BLOCK_STATE_ONLINE) {
    b->add_valid_zones(memhp::v1::ZONE_NORMAL);
    b->add_valid_zones(memhp::v1::ZONE_MOVABLE);
  }
}

// Boot memory 0-3 (node 0, Normal), dimm1 at 4 * 128 MiB: 4-5 offline, 6 online Movable, and
// block 7 beyond any device, online Movable on node 1.
memhp::v1::VmStatus Status() {
  memhp::v1::VmStatus s;
  s.mutable_agent()->set_connected(true);
  s.mutable_agent()->mutable_inventory()->set_block_size_bytes(kBlock);
  for (uint32_t id = 0; id < 4; ++id) AddBlock(s, id, memhp::v1::BLOCK_STATE_ONLINE, memhp::v1::ZONE_NORMAL, 0);
  AddBlock(s, 4, memhp::v1::BLOCK_STATE_OFFLINE, memhp::v1::ZONE_UNSPECIFIED, 1);
  AddBlock(s, 5, memhp::v1::BLOCK_STATE_OFFLINE, memhp::v1::ZONE_UNSPECIFIED, 1);
  AddBlock(s, 6, memhp::v1::BLOCK_STATE_ONLINE, memhp::v1::ZONE_MOVABLE, 1);
  AddBlock(s, 7, memhp::v1::BLOCK_STATE_ONLINE, memhp::v1::ZONE_MOVABLE, 1);
  memhp::v1::MemoryDevice* d = s.add_devices();
  d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  d->set_id("dimm1");
  d->set_address(4 * kBlock);
  d->set_size(3 * kBlock);
  return s;
}

BlocksReport Report(const BlocksViewOptions& options) {
  Result<BlocksReport> r = BuildBlocksReport(Status(), options);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? r.value() : BlocksReport{};
}

TEST(BlocksViewTest, MergesAdjacentBlocksWhileTheShownColumnsAgree) {
  const BlocksViewOptions options;
  EXPECT_EQ(RenderBlocksText(Report(options), options),
            "RANGE                                    SIZE   STATE BLOCK NODE          ZONES DEVICE REMOVABLE\n"
            "0x0000000000000000-0x000000001fffffff 512 MiB  online   0-3    0         Normal      -       yes\n"
            "0x0000000020000000-0x000000002fffffff 256 MiB offline   4-5    1 Normal/Movable  dimm1       yes\n"
            "0x0000000030000000-0x0000000037ffffff 128 MiB  online     6    1        Movable  dimm1       yes\n"
            "0x0000000038000000-0x000000003fffffff 128 MiB  online     7    1        Movable      -       yes\n"
            "\n"
            "Memory block size:    128 MiB\n"
            "Total online memory:  768 MiB\n"
            "Total offline memory: 256 MiB\n");
}

TEST(BlocksViewTest, AllSplitOutputBytesRawNoHeadings) {
  BlocksViewOptions all;
  all.all = true;
  EXPECT_EQ(Report(all).ranges.size(), 8u);

  // Split by STATE only: 0-3 online, 4-5 offline, 6-7 online (the device no longer splits).
  BlocksViewOptions by_state;
  by_state.split = {BlockColumn::kState};
  by_state.split_given = true;
  ASSERT_EQ(Report(by_state).ranges.size(), 3u);
  EXPECT_EQ(Report(by_state).ranges[2].first_block, 6u);
  EXPECT_EQ(Report(by_state).ranges[2].last_block, 7u);

  BlocksViewOptions none;
  none.split_given = true;  // "none": only a gap splits
  ASSERT_EQ(Report(none).ranges.size(), 1u);
  EXPECT_EQ(Report(none).ranges[0].size, 8 * kBlock);

  BlocksViewOptions picked;
  picked.columns = {BlockColumn::kBlock, BlockColumn::kSize, BlockColumn::kState};
  picked.bytes = true;
  picked.raw = true;
  picked.noheadings = true;
  // Split by the shown columns: STATE alone, as above.
  EXPECT_EQ(RenderBlocksText(Report(picked), picked),
            "0-3 536870912 online\n4-5 268435456 offline\n6-7 268435456 online\n"
            "\nMemory block size:    134217728\nTotal online memory:  805306368\nTotal offline memory: 268435456\n");
}

TEST(BlocksViewTest, JsonHasNumbersNullsAndTheTotals) {
  const BlocksViewOptions options;
  const std::string json = RenderBlocksJson(Report(options), options);
  g_autoptr(JsonParser) parser = json_parser_new();
  ASSERT_TRUE(json_parser_load_from_data(parser, json.c_str(), -1, nullptr)) << json;
  JsonObject* root = json_node_get_object(json_parser_get_root(parser));
  EXPECT_EQ(json_object_get_int_member(root, "block_size"), static_cast<gint64>(kBlock));
  EXPECT_EQ(json_object_get_int_member(root, "online_bytes"), static_cast<gint64>(6 * kBlock));
  EXPECT_EQ(json_object_get_int_member(root, "offline_bytes"), static_cast<gint64>(2 * kBlock));
  JsonArray* memory = json_object_get_array_member(root, "memory");
  ASSERT_EQ(json_array_get_length(memory), 4u);
  JsonObject* boot = json_array_get_object_element(memory, 0);
  EXPECT_STREQ(json_object_get_string_member(boot, "range"), "0x0000000000000000-0x000000001fffffff");
  EXPECT_EQ(json_object_get_int_member(boot, "size"), static_cast<gint64>(4 * kBlock));
  EXPECT_EQ(json_object_get_int_member(boot, "node"), 0);
  EXPECT_STREQ(json_object_get_string_member(boot, "block"), "0-3");
  EXPECT_TRUE(json_object_get_null_member(boot, "device"));
  EXPECT_TRUE(json_object_get_boolean_member(boot, "removable"));
  EXPECT_STREQ(json_object_get_string_member(json_array_get_object_element(memory, 1), "device"), "dimm1");
  EXPECT_STREQ(json_object_get_string_member(json_array_get_object_element(memory, 1), "zones"), "Normal/Movable");
}

TEST(BlocksViewTest, AVirtioMemDeviceOwnsItsWholeRegion) {
  memhp::v1::VmStatus s = Status();
  s.clear_devices();
  memhp::v1::MemoryDevice* d = s.add_devices();
  d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  d->set_id("vmem1");
  d->set_address(4 * kBlock);
  d->set_size(kBlock);          // plugged so far
  d->set_max_size(4 * kBlock);  // the region
  BlocksViewOptions all;
  all.all = true;
  Result<BlocksReport> r = BuildBlocksReport(s, all);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ranges[3].device, "");
  for (int i = 4; i < 8; ++i) EXPECT_EQ(r->ranges[i].device, "vmem1") << i;
}

TEST(BlocksViewTest, NoInventoryIsAnError) {
  memhp::v1::VmStatus s;
  Result<BlocksReport> r = BuildBlocksReport(s, BlocksViewOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("the agent is not connected"));
}

TEST(BlockColumnsTest, NamesAreLsmemsInAnyCase) {
  Result<std::vector<BlockColumn>> c = ParseBlockColumns("range,SIZE,Zones", false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value(), (std::vector<BlockColumn>{BlockColumn::kRange, BlockColumn::kSize, BlockColumn::kZones}));
  EXPECT_TRUE(ParseBlockColumns("none", true).ok());
  EXPECT_TRUE(ParseBlockColumns("none", true)->empty());
  EXPECT_THAT(ParseBlockColumns("RANGE,FOO", false).error().message, HasSubstr("unknown column 'FOO'"));
  EXPECT_THAT(ParseBlockColumns("", false).error().message, HasSubstr("unknown column ''"));
  EXPECT_THAT(ParseBlockColumns("RANGE,RANGE", false).error().message, HasSubstr("named twice"));
  EXPECT_THAT(ParseBlockColumns("SIZE", true).error().message, HasSubstr("does not split"));
  EXPECT_FALSE(ParseBlockColumns("none", false).ok());
}

}  // namespace
}  // namespace memhp::ctl
