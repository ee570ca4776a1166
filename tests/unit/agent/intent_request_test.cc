// memhp tests — the host's PlugIntent request (guest-agent/agent/request_handler.h): answered
// PlugIntentAck and kept in AgentSettings; a second one replaces the first; a device map naming
// its device ends it; one Take cannot accept (a kind that adds no memory blocks, a range that is
// not whole blocks) is INVALID_ARGUMENT and keeps the previous intent; without settings it is
// UNSUPPORTED. The field bounds themselves are request_validation_test.cc's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "agent/agent_settings.h"
#include "agent/request_handler.h"
#include "fake_sysfs.h"
#include "policy/plug_intent.h"

namespace memhp::agent {
namespace {

using memhp::v1::AgentRequest;
using memhp::v1::AgentResponse;
using testing::FakeNodes;
using testing::FakeSysfs;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;

AgentRequest IntentRequest(uint64_t id, const std::string& device, uint64_t expected_blocks,
                           memhp::v1::OnlineTarget target = memhp::v1::ONLINE_TARGET_KERNEL) {
  AgentRequest r;
  r.set_id(id);
  memhp::v1::PlugIntent* i = r.mutable_intent();
  i->set_operation_id(100 + id);
  i->set_device_id(device);
  i->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  i->set_node(0);
  i->set_expected_size(expected_blocks * kBlock);
  i->set_target(target);
  i->set_deadline_ms(30000);
  return r;
}

class IntentRequestTest : public ::testing::Test {
 protected:
  IntentRequestTest()
      : reader_(guest_.root()),
        handler_(reader_, AgentIdentity{.kernel_release = "6.1.0-test", .page_size = 4096, .pid = 42,
                                        .policy = "", .competing_onliners = {}, .took_onlining_from = {}, .masked_udev_rules = {}},
                 nullptr, &settings_) {
    guest_.SetNodes(FakeNodes{"0", "0", "0", "0"});
    guest_.AddBlock(0, "online", "Normal", 0);
    settings_.intent = PlugIntentSlot([this] { return now_; });
  }

  std::chrono::steady_clock::time_point now_{std::chrono::seconds(50)};
  FakeSysfs guest_;
  SysfsReader reader_;
  AgentSettings settings_;
  RequestHandler handler_;
};

TEST_F(IntentRequestTest, AnIntentIsAcknowledgedAndKept) {
  const AgentResponse r = handler_.Handle(IntentRequest(5, "dimm1", 2));
  EXPECT_EQ(r.id(), 5u);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.has_intent());
  const memhp::v1::PlugIntent* kept = settings_.intent.active();
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->device_id(), "dimm1");
  EXPECT_EQ(kept->operation_id(), 105u);
  EXPECT_EQ(kept->target(), memhp::v1::ONLINE_TARGET_KERNEL);
  EXPECT_THAT(handler_.MakeHello().capabilities(), Contains("intent"));
}

TEST_F(IntentRequestTest, ASecondIntentReplacesTheFirst) {
  ASSERT_FALSE(handler_.Handle(IntentRequest(1, "dimm1", 1)).has_error());
  ASSERT_NE(settings_.intent.Claim(60, 0, nullptr), nullptr);
  ASSERT_FALSE(handler_.Handle(IntentRequest(2, "dimm2", 1, memhp::v1::ONLINE_TARGET_MOVABLE)).has_error());
  ASSERT_NE(settings_.intent.active(), nullptr);
  EXPECT_EQ(settings_.intent.active()->device_id(), "dimm2");
  EXPECT_EQ(settings_.DeviceIdOf(60), "") << "dimm1's claim went with its intent";
}

TEST_F(IntentRequestTest, ADeviceMapNamingTheDeviceEndsTheIntent) {
  ASSERT_FALSE(handler_.Handle(IntentRequest(1, "dimm1", 2)).has_error());
  ASSERT_NE(settings_.intent.Claim(60, 0, nullptr), nullptr);
  EXPECT_EQ(settings_.DeviceIdOf(60), "dimm1") << "named by the intent before the map comes";

  AgentRequest map;
  map.set_id(2);
  auto* other = map.mutable_device_map()->add_devices();
  other->set_device_id("dimm0");
  other->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  other->set_start(32 * kBlock);
  other->set_size(kBlock);
  ASSERT_FALSE(handler_.Handle(map).has_error());
  EXPECT_NE(settings_.intent.active(), nullptr) << "a map without the intent's device leaves it";

  map.set_id(3);
  auto* mine = map.mutable_device_map()->add_devices();
  mine->set_device_id("dimm1");
  mine->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  mine->set_start(60 * kBlock);
  mine->set_size(2 * kBlock);
  ASSERT_FALSE(handler_.Handle(map).has_error());
  EXPECT_EQ(settings_.intent.active(), nullptr);
  EXPECT_EQ(settings_.DeviceIdOf(61), "dimm1") << "now the map's";
}

TEST_F(IntentRequestTest, TheDeadlineRunsFromReceipt) {
  AgentRequest r = IntentRequest(1, "dimm1", 2);
  r.mutable_intent()->set_deadline_ms(2000);
  ASSERT_FALSE(handler_.Handle(r).has_error());
  now_ += std::chrono::milliseconds(1999);
  EXPECT_NE(settings_.intent.active(), nullptr);
  now_ += std::chrono::milliseconds(1);
  EXPECT_EQ(settings_.intent.active(), nullptr);
}

TEST_F(IntentRequestTest, WhatTakeCannotAcceptIsInvalidAndKeepsThePrevious) {
  ASSERT_FALSE(handler_.Handle(IntentRequest(1, "dimm1", 2)).has_error());
  AgentRequest nvdimm = IntentRequest(2, "nv0", 1);
  nvdimm.mutable_intent()->set_kind(memhp::v1::MEMORY_DEVICE_KIND_NVDIMM);
  AgentRequest half = IntentRequest(3, "vmem0", 1);
  half.mutable_intent()->set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
  half.mutable_intent()->set_start(64 * kBlock);
  half.mutable_intent()->set_size(kBlock / 2);
  AgentRequest none = IntentRequest(4, "dimm3", 0);  // no range and nothing expected
  for (const auto& [request, says] : {std::pair{nvdimm, "kind must be DIMM or VIRTIO_MEM"},
                                      std::pair{half, "not whole memory blocks"},
                                      std::pair{none, "expected_size 0"}}) {
    const AgentResponse r = handler_.Handle(request);
    EXPECT_EQ(r.id(), request.id());
    ASSERT_TRUE(r.has_error()) << says;
    EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT) << says;
    EXPECT_THAT(r.error().message(), HasSubstr(says));
    EXPECT_THAT(r.error().message(), HasSubstr("previous one is kept"));
    EXPECT_FALSE(r.has_intent());
    ASSERT_NE(settings_.intent.active(), nullptr);
    EXPECT_EQ(settings_.intent.active()->device_id(), "dimm1");
  }
}

TEST_F(IntentRequestTest, AnUnreadableBlockSizeIsFailedWithItsErrno) {
  guest_.ReplaceWithDirectory("sys/devices/system/memory/block_size_bytes");
  const AgentResponse r = handler_.Handle(IntentRequest(1, "dimm1", 2));
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_FAILED);
  EXPECT_EQ(r.error().errno_value(), EISDIR);
  EXPECT_EQ(settings_.intent.active(), nullptr);
}

TEST(IntentRequestWithoutSettingsTest, IsUnsupported) {
  FakeSysfs guest;
  SysfsReader reader(guest.root());
  RequestHandler handler(reader, AgentIdentity{});
  const AgentResponse r = handler.Handle(IntentRequest(1, "dimm1", 2));
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
  EXPECT_THAT(handler.MakeHello().capabilities(), ::testing::Not(Contains("intent")));
}

}  // namespace
}  // namespace memhp::agent
