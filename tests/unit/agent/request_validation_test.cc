// memhp tests — a host value out of range is refused (guest-agent/agent/request_validation.h).
//
// Protobuf keeps an enum number this build does not know, so each row below is a request a
// broken or newer host could send: an unknown online target, device kind or role, a timeout,
// node or deadline past its bound, a plug intent without a device id or with a range that wraps. Each must be answered INVALID_ARGUMENT naming the field, write nothing
// and change no setting — not be taken as "the policy decides" or a default. The in-range
// neighbours of each row are answered without error, so the bound is where the table says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "agent/agent_settings.h"
#include "agent/block_operator.h"
#include "agent/request_handler.h"
#include "agent/request_validation.h"
#include "fake_sysfs.h"
#include "policy/device_map.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"

namespace memhp::agent {
namespace {

using memhp::v1::AgentRequest;
using testing::FakeNodes;
using testing::FakeSysfs;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;

class CountingWriter : public BlockWriter {
 public:
  explicit CountingWriter(FakeSysfs& guest) : guest_(guest) {}
  Status Write(uint32_t block, abi::OnlineType target) override {
    ++writes;
    guest_.SetBlockState(block, target == abi::OnlineType::kOffline ? "offline" : "online");
    return OkStatus();
  }
  int writes = 0;

 private:
  FakeSysfs& guest_;
};

struct Row {
  std::string name;
  std::function<void(AgentRequest&)> fill;
  std::string field;  // what the error message must name
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

AgentRequest::OpCase Op(const AgentRequest& r) { return r.op_case(); }

// A well-formed intent (a DIMM about to be plugged on node 0); each bad row breaks one field.
void FillIntent(AgentRequest& r) {
  memhp::v1::PlugIntent* i = r.mutable_intent();
  i->set_operation_id(3);
  i->set_device_id("dimm1");
  i->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  i->set_node(0);
  i->set_expected_size(2 * kBlock);
  i->set_target(memhp::v1::ONLINE_TARGET_KERNEL);
  i->set_deadline_ms(30000);
}

std::vector<Row> BadRows() {
  return {
      {"online_unknown_target",
       [](AgentRequest& r) {
         r.mutable_online()->mutable_selection()->mutable_blocks()->add_ids(40);
         r.mutable_online()->set_target(static_cast<memhp::v1::OnlineTarget>(7));
       },
       "unknown target 7"},
      {"online_negative_target",
       [](AgentRequest& r) {
         r.mutable_online()->mutable_selection()->mutable_blocks()->add_ids(40);
         r.mutable_online()->set_target(static_cast<memhp::v1::OnlineTarget>(-1));
       },
       "unknown target -1"},
      {"online_amount_negative_node",
       [](AgentRequest& r) {
         r.mutable_online()->mutable_selection()->mutable_amount()->set_node(-1);
         r.mutable_online()->mutable_selection()->mutable_amount()->set_bytes(kBlock);
       },
       "node -1"},
      {"offline_amount_node_past_max",
       [](AgentRequest& r) {
         r.mutable_offline()->mutable_selection()->mutable_amount()->set_node(kMaxNumaNodes);
         r.mutable_offline()->mutable_selection()->mutable_amount()->set_bytes(kBlock);
       },
       "node 1024"},
      {"offline_timeout_past_max",
       [](AgentRequest& r) {
         r.mutable_offline()->mutable_selection()->mutable_blocks()->add_ids(41);
         r.mutable_offline()->set_timeout_ms(kMaxOfflineTimeoutMs + 1);
       },
       "timeout_ms 3600001"},
      {"device_map_unknown_kind",
       [](AgentRequest& r) {
         auto* d = r.mutable_device_map()->add_devices();
         d->set_device_id("dimm1");
         d->set_kind(static_cast<memhp::v1::MemoryDeviceKind>(42));
         d->set_start(40 * kBlock);
         d->set_size(kBlock);
       },
       "unknown kind 42"},
      {"device_map_unknown_target",
       [](AgentRequest& r) {
         auto* d = r.mutable_device_map()->add_devices();
         d->set_device_id("dimm1");
         d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
         d->set_start(40 * kBlock);
         d->set_size(kBlock);
         d->set_target(static_cast<memhp::v1::OnlineTarget>(9));
       },
       "unknown target 9"},
      {"device_map_negative_node",
       [](AgentRequest& r) {
         auto* d = r.mutable_device_map()->add_devices();
         d->set_device_id("dimm1");
         d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
         d->set_start(40 * kBlock);
         d->set_size(kBlock);
         d->set_node(-3);
       },
       "node -3"},
      {"hello_unknown_role",
       [](AgentRequest& r) {
         r.mutable_hello()->set_protocol(memhp::v1::AGENT_PROTOCOL_V1);
         r.mutable_hello()->set_role(static_cast<memhp::v1::PeerRole>(5));
       },
       "unknown role 5"},
      {"intent_unknown_kind",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_kind(static_cast<memhp::v1::MemoryDeviceKind>(42));
       },
       "unknown kind 42"},
      {"intent_unknown_target",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_target(static_cast<memhp::v1::OnlineTarget>(9));
       },
       "unknown target 9"},
      {"intent_negative_node",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_node(-1);
       },
       "node -1"},
      {"intent_node_past_max",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_node(kMaxNumaNodes);
       },
       "node 1024"},
      {"intent_no_deadline",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_deadline_ms(0);
       },
       "deadline_ms 0"},
      {"intent_deadline_past_max",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_deadline_ms(kMaxIntentDeadlineMs + 1);
       },
       "deadline_ms 3600001"},
      {"intent_no_device_id",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->clear_device_id();
       },
       "device id of 1 to 128 bytes"},
      {"intent_device_id_too_long",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_device_id(std::string(kMaxDeviceIdBytes + 1, 'd'));
       },
       "device id of 1 to 128 bytes"},
      {"intent_range_wraps",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_start(UINT64_MAX - kBlock + 1);
         r.mutable_intent()->set_size(2 * kBlock);
       },
       "wraps around"},
      {"intent_expected_size_past_max",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_expected_size(kMaxIntentBytes + kBlock);
       },
       "expected_size"},
      {"set_policy_unknown_name",
       [](AgentRequest& r) { r.mutable_set_policy()->set_policy("online_movable "); },
       "unknown onlining policy"},
      {"set_policy_ratio_past_max",
       [](AgentRequest& r) { r.mutable_set_policy()->set_movable_ratio_percent(kMaxMovableRatioPercent + 1); },
       "above the limit"},
  };
}

// The in-range neighbours: the bound itself is accepted.
std::vector<Row> GoodRows() {
  return {
      {"online_movable_target",
       [](AgentRequest& r) {
         r.mutable_online()->mutable_selection()->mutable_blocks()->add_ids(40);
         r.mutable_online()->set_target(memhp::v1::ONLINE_TARGET_MOVABLE);
       },
       ""},
      {"offline_timeout_at_max",
       [](AgentRequest& r) {
         r.mutable_offline()->mutable_selection()->mutable_blocks()->add_ids(41);
         r.mutable_offline()->set_timeout_ms(kMaxOfflineTimeoutMs);
       },
       ""},
      {"device_map_node_zero",
       [](AgentRequest& r) {
         auto* d = r.mutable_device_map()->add_devices();
         d->set_device_id("dimm1");
         d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
         d->set_start(40 * kBlock);
         d->set_size(kBlock);
         d->set_target(memhp::v1::ONLINE_TARGET_KERNEL);
       },
       ""},
      {"intent_at_every_bound",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_node(kMaxNumaNodes - 1);
         r.mutable_intent()->set_deadline_ms(kMaxIntentDeadlineMs);
         r.mutable_intent()->set_device_id(std::string(kMaxDeviceIdBytes, 'd'));
         r.mutable_intent()->set_expected_size(kMaxIntentBytes);
       },
       ""},
      {"intent_range_ending_a_block_below_2_to_the_64",
       [](AgentRequest& r) {
         FillIntent(r);
         r.mutable_intent()->set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
         r.mutable_intent()->set_start(UINT64_MAX - 3 * kBlock + 1);
         r.mutable_intent()->set_size(2 * kBlock);
         r.mutable_intent()->set_deadline_ms(1);
         r.mutable_intent()->set_target(memhp::v1::ONLINE_TARGET_UNSPECIFIED);
       },
       ""},
      {"set_policy_ratio_at_max",
       [](AgentRequest& r) { r.mutable_set_policy()->set_movable_ratio_percent(kMaxMovableRatioPercent); },
       ""},
  };
}

class RequestValidationTest : public ::testing::TestWithParam<Row> {
 protected:
  RequestValidationTest()
      : reader_(guest_.root()),
        writer_(guest_),
        driver_(chain_, writer_, {}),
        operator_(reader_, driver_, [](std::chrono::milliseconds) {}, 4096, settings_.policy, &settings_.devices),
        handler_(reader_, AgentIdentity{.kernel_release = "6.1.0-test", .page_size = 4096, .pid = 42,
                                        .policy = "", .competing_onliners = {}, .took_onlining_from = {}, .masked_udev_rules = {}},
                 &operator_, &settings_) {
    guest_.SetNodes(FakeNodes{"0", "0", "0", "0"});
    guest_.SetMemInfo("MemTotal: 262144 kB\nMemAvailable: 131072 kB\n");
    guest_.SetZoneInfo("Node 0, zone   Normal\n  pages free 0\n        present 65536\n        managed 65536\n");
    guest_.AddBlock(0, "online", "Normal", 0);
    guest_.AddBlock(40, "offline", "Normal Movable", 0);
    guest_.AddBlock(41, "online", "Movable", 0);
    // The policy would online block 40 if an unknown target fell back to it.
    settings_.policy = PolicyConfig{.kind = PolicyKind::kOnlineMovable, .movable_ratio_percent = 301, .numa_aware = true};
  }

  FakeSysfs guest_;
  SysfsReader reader_;
  CountingWriter writer_;
  NotifierChain chain_;
  TransitionDriver driver_;
  AgentSettings settings_;
  BlockOperator operator_;
  RequestHandler handler_;
};

class RefusedRequest : public RequestValidationTest {};
class AcceptedRequest : public RequestValidationTest {};

TEST_P(RefusedRequest, IsInvalidArgumentAndChangesNothing) {
  AgentRequest request;
  request.set_id(7);
  GetParam().fill(request);
  ASSERT_NE(Op(request), AgentRequest::OP_NOT_SET);
  const memhp::v1::AgentResponse response = handler_.Handle(request);
  EXPECT_EQ(response.id(), 7u);
  ASSERT_TRUE(response.has_error()) << response.DebugString();
  EXPECT_EQ(response.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT) << response.DebugString();
  EXPECT_THAT(response.error().message(), HasSubstr(GetParam().field));
  EXPECT_EQ(writer_.writes, 0) << "nothing is written for a refused request";
  EXPECT_EQ(settings_.policy.kind, PolicyKind::kOnlineMovable);
  EXPECT_EQ(settings_.policy.movable_ratio_percent, 301u);
  EXPECT_EQ(settings_.devices.size(), 0u) << "the device map is kept as it was";
  EXPECT_EQ(settings_.intent.active(), nullptr) << "no intent is kept";
  EXPECT_EQ(guest_.ReadFile(FakeSysfs::BlockAttr(40, "state")), "offline\n");
  EXPECT_EQ(guest_.ReadFile(FakeSysfs::BlockAttr(41, "state")), "online\n");
}

TEST_P(AcceptedRequest, IsAnsweredWithoutError) {
  AgentRequest request;
  request.set_id(8);
  GetParam().fill(request);
  const memhp::v1::AgentResponse response = handler_.Handle(request);
  EXPECT_FALSE(response.has_error()) << response.DebugString();
}

std::string RowName(const ::testing::TestParamInfo<Row>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(OutOfRange, RefusedRequest, ::testing::ValuesIn(BadRows()), RowName);
INSTANTIATE_TEST_SUITE_P(InRange, AcceptedRequest, ::testing::ValuesIn(GoodRows()), RowName);

// ValidateRequest itself, without the handler: the same rows are EINVAL.
TEST(ValidateRequest, EveryOutOfRangeRowIsEinval) {
  for (const Row& row : BadRows()) {
    AgentRequest request;
    request.set_id(1);
    row.fill(request);
    Status s = ValidateRequest(request);
    if (row.name.rfind("set_policy", 0) == 0) continue;  // SetPolicy parses its own fields
    ASSERT_FALSE(s.ok()) << row.name;
    EXPECT_EQ(s.error().errno_value, EINVAL) << row.name;
  }
}

}  // namespace
}  // namespace memhp::agent
