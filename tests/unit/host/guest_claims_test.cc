// memhp tests — GuestClaims: the agent's claims held against QEMU's view of the VM.
#include "daemon/guest_claims.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memhp::daemon {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr VmLimits kVm{.max_memory_bytes = 16384 * kMiB, .numa_nodes = 2};

memhp::v1::Hello GoodHello() {
  memhp::v1::Hello hello;
  hello.set_role(memhp::v1::PEER_ROLE_AGENT);
  hello.set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
  hello.set_software_version("0.1.0");
  hello.mutable_guest()->set_kernel_release("6.1.0-28-amd64");
  hello.mutable_guest()->set_page_size(4096);
  hello.mutable_guest()->set_block_size_bytes(128 * kMiB);
  hello.mutable_guest()->add_nodes(0);
  hello.mutable_guest()->add_nodes(1);
  return hello;
}

struct HelloCase {
  const char* name;
  void (*mutate)(memhp::v1::Hello&);
  bool accepted;
};

class HelloClaims : public ::testing::TestWithParam<HelloCase> {};

TEST_P(HelloClaims, AreCheckedAgainstTheVm) {
  memhp::v1::Hello hello = GoodHello();
  GetParam().mutate(hello);
  const Status status = CheckHello(hello, kVm);
  EXPECT_EQ(status.ok(), GetParam().accepted) << (status.ok() ? "accepted" : status.error().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, HelloClaims,
    ::testing::Values(
        HelloCase{"as_sent_by_the_agent", [](memhp::v1::Hello&) {}, true},
        HelloCase{"block_4k", [](memhp::v1::Hello& h) { h.mutable_guest()->set_block_size_bytes(4096); }, false},
        HelloCase{"block_zero", [](memhp::v1::Hello& h) { h.mutable_guest()->set_block_size_bytes(0); }, false},
        HelloCase{"block_not_power_of_two",
                  [](memhp::v1::Hello& h) { h.mutable_guest()->set_block_size_bytes(96 * kMiB); }, false},
        HelloCase{"block_16m_smallest_section",
                  [](memhp::v1::Hello& h) { h.mutable_guest()->set_block_size_bytes(16 * kMiB); }, true},
        HelloCase{"block_2g_x86_largest",
                  [](memhp::v1::Hello& h) { h.mutable_guest()->set_block_size_bytes(2048 * kMiB); }, true},
        HelloCase{"block_32g", [](memhp::v1::Hello& h) { h.mutable_guest()->set_block_size_bytes(32768 * kMiB); },
                  false},
        HelloCase{"page_64k", [](memhp::v1::Hello& h) { h.mutable_guest()->set_page_size(65536); }, true},
        HelloCase{"page_1m", [](memhp::v1::Hello& h) { h.mutable_guest()->set_page_size(kMiB); }, false},
        HelloCase{"page_missing", [](memhp::v1::Hello& h) { h.mutable_guest()->set_page_size(0); }, false},
        HelloCase{"node_beyond_qemu", [](memhp::v1::Hello& h) { h.mutable_guest()->add_nodes(2); }, false},
        HelloCase{"long_kernel_release",
                  [](memhp::v1::Hello& h) { h.mutable_guest()->set_kernel_release(std::string(513, 'x')); }, false},
        HelloCase{"many_onliners",
                  [](memhp::v1::Hello& h) {
                    for (int i = 0; i < 65; ++i) h.add_competing_onliners("udev: rule");
                  },
                  false}),
    [](const ::testing::TestParamInfo<HelloCase>& param_info) { return std::string(param_info.param.name); });

memhp::v1::Inventory InventoryOf(uint32_t blocks) {
  memhp::v1::Inventory inventory;
  inventory.set_block_size_bytes(128 * kMiB);
  for (uint32_t i = 0; i < blocks; ++i) {
    auto* b = inventory.add_blocks();
    b->set_id(i);
    b->set_node(static_cast<int32_t>(i % 2));
    b->set_state(memhp::v1::BLOCK_STATE_ONLINE);
  }
  return inventory;
}

TEST(InventoryClaims, AsManyBlocksAsMaxmemHoldsAreAccepted) {
  // 16 GiB of maxmem are 128 blocks of 128 MiB, plus the few a hole can split off.
  EXPECT_TRUE(CheckInventory(InventoryOf(128), 128 * kMiB, kVm).ok());
  EXPECT_TRUE(CheckInventory(InventoryOf(132), 128 * kMiB, kVm).ok());
  const Status more = CheckInventory(InventoryOf(133), 128 * kMiB, kVm);
  ASSERT_FALSE(more.ok());
  EXPECT_NE(more.error().message.find("133 blocks"), std::string::npos) << more.error().message;
}

TEST(InventoryClaims, WithoutQemusFactsTheFixedCapStillHolds) {
  const VmLimits nodes_only{.max_memory_bytes = 0, .numa_nodes = 2};
  EXPECT_TRUE(CheckInventory(InventoryOf(1000), 128 * kMiB, nodes_only).ok());
  EXPECT_FALSE(CheckInventory(InventoryOf(kMaxGuestBlocks + 1), 128 * kMiB, nodes_only).ok());
}

TEST(InventoryClaims, ABlockSizeOtherThanTheHellosIsRefused) {
  memhp::v1::Inventory inventory = InventoryOf(4);
  inventory.set_block_size_bytes(256 * kMiB);
  EXPECT_FALSE(CheckInventory(inventory, 128 * kMiB, kVm).ok());
  EXPECT_TRUE(CheckInventory(inventory, 0, kVm).ok());  // no hello yet: its own size is checked
  inventory.set_block_size_bytes(4096);
  EXPECT_FALSE(CheckInventory(inventory, 0, kVm).ok());
}

TEST(InventoryClaims, NodesZonesAndStatesMustBeKnown) {
  memhp::v1::Inventory inventory = InventoryOf(4);
  inventory.mutable_blocks(1)->set_node(5);
  EXPECT_FALSE(CheckInventory(inventory, 128 * kMiB, kVm).ok());
  inventory = InventoryOf(4);
  inventory.mutable_blocks(1)->set_node(-1);  // an offline block not linked to a node yet
  EXPECT_TRUE(CheckInventory(inventory, 128 * kMiB, kVm).ok());
  inventory.mutable_blocks(2)->set_zone(static_cast<memhp::v1::Zone>(42));
  EXPECT_FALSE(CheckInventory(inventory, 128 * kMiB, kVm).ok());
  inventory = InventoryOf(4);
  inventory.mutable_blocks(3)->set_state(static_cast<memhp::v1::BlockState>(9));
  EXPECT_FALSE(CheckInventory(inventory, 128 * kMiB, kVm).ok());
}

TEST(EventClaims, MemoryEventsAreBounded) {
  memhp::v1::AgentEvent event;
  auto* m = event.mutable_memory();
  m->set_kind(memhp::v1::MEMORY_EVENT_KIND_OFFLINE);
  m->set_block(40);
  m->set_node(1);
  m->set_zone(memhp::v1::ZONE_MOVABLE);
  EXPECT_TRUE(CheckEvent(event, 128 * kMiB, kVm).ok());
  m->set_detail(std::string(600, 'd'));
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
  m->clear_detail();
  m->set_kind(static_cast<memhp::v1::MemoryEventKind>(99));
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
  m->set_kind(memhp::v1::MEMORY_EVENT_KIND_ONLINE);
  m->set_block(uint32_t{1} << 31);  // 2^31 blocks of 128 MiB lie beyond 2^52
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
}

TEST(EventClaims, ZoneReportsNameOnlyQemusNodes) {
  memhp::v1::AgentEvent event;
  auto* report = event.mutable_zone_report();
  report->set_page_size(4096);
  report->add_nodes()->set_node(0);
  report->add_nodes()->set_node(1);
  EXPECT_TRUE(CheckEvent(event, 128 * kMiB, kVm).ok());
  report->add_nodes()->set_node(2);
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
}

TEST(EventClaims, PressureIsBoundedByPercentagesAndTheVmsMemory) {
  memhp::v1::AgentEvent event;
  auto* p = event.mutable_pressure();
  p->set_psi_available(true);
  p->mutable_some()->set_avg10_centipercent(10000);
  p->set_mem_total_bytes(1024 * kMiB);
  p->set_mem_available_bytes(512 * kMiB);
  p->set_cause(memhp::v1::PRESSURE_CAUSE_STALLED);
  p->set_threshold_us(100000);
  p->set_window_us(1000000);
  EXPECT_TRUE(CheckEvent(event, 128 * kMiB, kVm).ok());
  for (auto mutate : std::vector<void (*)(memhp::v1::MemoryPressure&)>{
           [](memhp::v1::MemoryPressure& m) { m.mutable_full()->set_avg300_centipercent(10001); },
           [](memhp::v1::MemoryPressure& m) { m.set_mem_available_bytes(m.mem_total_bytes() + 1); },
           [](memhp::v1::MemoryPressure& m) { m.set_mem_total_bytes(16385 * kMiB); },
           [](memhp::v1::MemoryPressure& m) { m.set_cause(static_cast<memhp::v1::PressureCause>(99)); },
           [](memhp::v1::MemoryPressure& m) { m.set_threshold_us(m.window_us() + 1); }}) {
    memhp::v1::AgentEvent bad = event;
    mutate(*bad.mutable_pressure());
    EXPECT_FALSE(CheckEvent(bad, 128 * kMiB, kVm).ok()) << bad.pressure().ShortDebugString();
    // The same pressure inside a zone report is refused with the report.
    memhp::v1::AgentEvent report;
    *report.mutable_zone_report()->mutable_pressure() = bad.pressure();
    EXPECT_FALSE(CheckEvent(report, 128 * kMiB, kVm).ok());
  }
}

TEST(EventClaims, ATakenIntentsDeviceIdIsBounded) {
  memhp::v1::AgentEvent event;
  event.mutable_intent_taken()->set_operation_id(7);
  event.mutable_intent_taken()->set_device_id("dimm1");
  EXPECT_TRUE(CheckEvent(event, 128 * kMiB, kVm).ok());
  event.mutable_intent_taken()->set_device_id(std::string(600, 'd'));
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
}

TEST(EventClaims, AGapOfNothingAndAnEmptyEventAreRefused) {
  memhp::v1::AgentEvent event;
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
  event.mutable_gap()->set_first_seq(3);
  EXPECT_FALSE(CheckEvent(event, 128 * kMiB, kVm).ok());
  event.mutable_gap()->set_count(2);
  EXPECT_TRUE(CheckEvent(event, 128 * kMiB, kVm).ok());
}

TEST(ResponseClaims, BlockResultsAreBounded) {
  memhp::v1::AgentResponse response;
  auto* op = response.mutable_block_op();
  for (int i = 0; i < 3; ++i) {
    auto* b = op->add_blocks();
    b->set_block(static_cast<uint32_t>(40 + i));
    b->set_outcome(memhp::v1::BLOCK_OUTCOME_DONE);
    b->set_node(1);
  }
  EXPECT_TRUE(CheckResponse(response, 128 * kMiB, kVm).ok());
  op->mutable_blocks(1)->set_outcome(static_cast<memhp::v1::BlockOutcome>(77));
  EXPECT_FALSE(CheckResponse(response, 128 * kMiB, kVm).ok());
  memhp::v1::AgentResponse empty;
  EXPECT_FALSE(CheckResponse(empty, 128 * kMiB, kVm).ok());
}

// A dry run's estimate: memhpd prints and acts on its sums, so they may not exceed its blocks.
TEST(ResponseClaims, AnEstimatesSumsMustFitItsBlocks) {
  memhp::v1::AgentResponse response;
  auto* e = response.mutable_estimate();
  e->set_block_size_bytes(128 * kMiB);
  e->set_path(memhp::v1::ESTIMATE_PATH_DRIVER);
  for (int i = 0; i < 2; ++i) {
    auto* b = e->add_blocks();
    b->set_block(static_cast<uint32_t>(40 + i));
    b->set_verdict(memhp::v1::ESTIMATE_VERDICT_WOULD_GO);
    b->set_node(1);
  }
  e->set_could_go_bytes(256 * kMiB);
  EXPECT_TRUE(CheckResponse(response, 128 * kMiB, kVm).ok());
  e->set_could_go_bytes(1024 * kMiB);  // more than the two blocks listed
  EXPECT_FALSE(CheckResponse(response, 128 * kMiB, kVm).ok());
  e->set_could_go_bytes(128 * kMiB);
  e->set_blocked_bytes(256 * kMiB);  // could + blocked over the blocks listed
  EXPECT_FALSE(CheckResponse(response, 128 * kMiB, kVm).ok());
  e->set_blocked_bytes(128 * kMiB);
  EXPECT_TRUE(CheckResponse(response, 128 * kMiB, kVm).ok());
  e->set_block_size_bytes(256 * kMiB);  // not the hello's
  EXPECT_FALSE(CheckResponse(response, 128 * kMiB, kVm).ok());
  e->set_block_size_bytes(128 * kMiB);
  e->mutable_blocks(0)->set_verdict(static_cast<memhp::v1::EstimateVerdict>(99));
  EXPECT_FALSE(CheckResponse(response, 128 * kMiB, kVm).ok());
  e->mutable_blocks(0)->set_verdict(memhp::v1::ESTIMATE_VERDICT_WOULD_GO);
  e->mutable_blocks(0)->set_node(7);  // QEMU has two nodes
  EXPECT_FALSE(CheckResponse(response, 128 * kMiB, kVm).ok());
}

}  // namespace
}  // namespace memhp::daemon
