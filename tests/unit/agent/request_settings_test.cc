// memhp tests — the host's run-time requests (guest-agent/agent/request_handler.h):
// SetPolicyRequest -> PolicyState, DeviceMap -> DeviceMapAck, ZoneReportRequest -> ZoneReport,
// and their bad input: an unknown policy, a bad or oversized map, an unreadable zoneinfo — each
// a clear error answer that leaves the settings as they were.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/agent_settings.h"
#include "agent/request_handler.h"
#include "fake_sysfs.h"

namespace memhp::agent {
namespace {

using memhp::v1::AgentRequest;
using memhp::v1::AgentResponse;
using testing::FakeNodes;
using testing::FakeSysfs;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr uint64_t kBlock = 128ull << 20;

class RequestSettingsTest : public ::testing::Test {
 protected:
  RequestSettingsTest()
      : reader_(guest_.root()),
        handler_(reader_, AgentIdentity{.kernel_release = "6.1.0-test", .page_size = 4096, .pid = 42,
                                        .policy = "ignored-when-settings-exist", .competing_onliners = {}, .took_onlining_from = {}, .masked_udev_rules = {}},
                 nullptr, &settings_) {
    guest_.SetNodes(FakeNodes{"0", "0", "0", "0"});
    guest_.AddBlock(0, "online", "Normal", 0);
    guest_.SetZoneInfo("Node 0, zone   Normal\n  pages free     10\n        present  32768\n        managed  30000\n");
    guest_.SetMemInfo("MemTotal: 131072 kB\nMemAvailable: 65536 kB\n");
    settings_.policy = PolicyConfig{.kind = PolicyKind::kAutoMovable, .movable_ratio_percent = 301, .numa_aware = true};
  }

  AgentResponse Send(AgentRequest request) { return handler_.Handle(request); }
  AgentResponse SetPolicy(std::string name, uint32_t ratio = 0) {
    AgentRequest r;
    r.set_id(++id_);
    r.mutable_set_policy()->set_policy(std::move(name));
    r.mutable_set_policy()->set_movable_ratio_percent(ratio);
    return Send(r);
  }
  AgentResponse Map(std::vector<std::tuple<std::string, uint64_t, uint64_t>> ranges) {
    AgentRequest r;
    r.set_id(++id_);
    auto* map = r.mutable_device_map();
    for (auto& [id, start, size] : ranges) {
      auto* d = map->add_devices();
      d->set_device_id(id);
      d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
      d->set_start(start);
      d->set_size(size);
    }
    return Send(r);
  }

  FakeSysfs guest_;
  SysfsReader reader_;
  AgentSettings settings_;
  RequestHandler handler_;
  uint64_t id_ = 0;
};

TEST_F(RequestSettingsTest, SetPolicyChangesThePolicyAndTheNextHelloSaysSo) {
  EXPECT_EQ(handler_.MakeHello().policy(), "auto-movable");
  const AgentResponse r = SetPolicy("manual");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.id(), id_);
  EXPECT_EQ(r.policy().policy(), "manual");
  EXPECT_EQ(r.policy().movable_ratio_percent(), 301u);
  EXPECT_EQ(settings_.policy.kind, PolicyKind::kManual);
  EXPECT_EQ(handler_.MakeHello().policy(), "manual");
}

TEST_F(RequestSettingsTest, AnEmptyNameChangesOnlyTheRatioAndZeroKeepsIt) {
  AgentResponse r = SetPolicy("", 150);
  ASSERT_FALSE(r.has_error());
  EXPECT_EQ(r.policy().policy(), "auto-movable");
  EXPECT_EQ(settings_.policy.movable_ratio_percent, 150u);
  r = SetPolicy("online_movable", 0);
  ASSERT_FALSE(r.has_error());
  EXPECT_EQ(r.policy().movable_ratio_percent(), 150u);  // 0 keeps
  EXPECT_EQ(settings_.policy.kind, PolicyKind::kOnlineMovable);
}

TEST_F(RequestSettingsTest, AnUnknownPolicyOrAbsurdRatioIsInvalidAndChangesNothing) {
  for (const auto& [name, ratio] : {std::pair<std::string, uint32_t>{"auto_movable", 0},
                                    {"MANUAL", 0},
                                    {"manual", kMaxMovableRatioPercent + 1}}) {
    const AgentResponse r = SetPolicy(name, ratio);
    ASSERT_TRUE(r.has_error()) << name;
    EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT) << name;
    EXPECT_FALSE(r.has_policy());
    EXPECT_EQ(settings_.policy.kind, PolicyKind::kAutoMovable) << name;
    EXPECT_EQ(settings_.policy.movable_ratio_percent, 301u) << name;
  }
  EXPECT_THAT(SetPolicy("bogus").error().message(), HasSubstr("bogus"));
}

TEST_F(RequestSettingsTest, ADeviceMapIsTakenAndABadOneKeepsThePrevious) {
  AgentResponse r = Map({{"dimm1", 32 * kBlock, 4 * kBlock}, {"dimm2", 36 * kBlock, 2 * kBlock}});
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.device_map().devices(), 2u);
  EXPECT_EQ(settings_.devices.DeviceIdOf(37), "dimm2");

  r = Map({{"a", 32 * kBlock, 4 * kBlock}, {"b", 34 * kBlock, 4 * kBlock}});  // overlapping
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_THAT(r.error().message(), HasSubstr("overlaps"));
  EXPECT_THAT(r.error().message(), HasSubstr("previous one is kept"));
  r = Map({{"a", 32 * kBlock + 4096, kBlock}});  // not block-aligned
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(settings_.devices.size(), 2u);
  EXPECT_EQ(settings_.devices.DeviceIdOf(37), "dimm2");

  std::vector<std::tuple<std::string, uint64_t, uint64_t>> many;
  for (uint64_t i = 0; i <= kMaxMapDevices; ++i) many.emplace_back("d" + std::to_string(i), (64 + i) * kBlock, kBlock);
  r = Map(many);
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_TOO_LARGE);
  EXPECT_EQ(settings_.devices.size(), 2u);

  r = Map({});  // the host unplugged everything: an empty map replaces the old one
  ASSERT_FALSE(r.has_error());
  EXPECT_EQ(r.device_map().devices(), 0u);
  EXPECT_TRUE(settings_.devices.empty());
}

TEST_F(RequestSettingsTest, ZoneReportIsAnsweredAndAReadFailureIsFailed) {
  AgentRequest q;
  q.set_id(9);
  q.mutable_zone_report();
  AgentResponse r = Send(q);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  ASSERT_EQ(r.zone_report().nodes_size(), 1);
  EXPECT_EQ(r.zone_report().nodes(0).zones(0).present_pages(), 32768u);
  EXPECT_EQ(r.zone_report().mem_available_bytes(), 65536ull * 1024);
  EXPECT_EQ(r.zone_report().page_size(), 4096u);

  guest_.ReplaceWithDirectory("proc/zoneinfo");
  r = Send(q);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), memhp::v1::ERROR_CODE_FAILED);
  EXPECT_EQ(r.error().errno_value(), EISDIR);
  EXPECT_FALSE(r.has_zone_report());
}

TEST_F(RequestSettingsTest, HelloNamesTheNewCapabilities) {
  const memhp::v1::Hello hello = handler_.MakeHello();
  EXPECT_THAT(hello.capabilities(), Contains("set_policy"));
  EXPECT_THAT(hello.capabilities(), Contains("device_map"));
  EXPECT_THAT(hello.capabilities(), Contains("zone_report"));
}

TEST(RequestSettingsWithoutSettingsTest, SetPolicyAndDeviceMapAreUnsupported) {
  FakeSysfs guest;
  SysfsReader reader(guest.root());
  RequestHandler handler(reader, AgentIdentity{});
  AgentRequest r;
  r.set_id(1);
  r.mutable_set_policy()->set_policy("manual");
  EXPECT_EQ(handler.Handle(r).error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
  r.mutable_device_map();
  EXPECT_EQ(handler.Handle(r).error().code(), memhp::v1::ERROR_CODE_UNSUPPORTED);
  EXPECT_THAT(handler.MakeHello().capabilities(), ::testing::Not(Contains("set_policy")));
}

}  // namespace
}  // namespace memhp::agent
