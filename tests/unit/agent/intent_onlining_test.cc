// memhp tests — "intent before hardware", end to end in the agent: the host's PlugIntent answered
// by the real RequestHandler, then the kernel's "add" uevents of the new blocks given to the real
// HotplugWatcher, whose settle timer has the real BlockOperator online them by policy over a fake
// guest tree (tests/unit/agent/fake_sysfs.h) — with no device map at all, as when memhpd has not
// sent one yet because the hardware is still being plugged.
//   - policy auto-movable or online_movable, intent target KERNEL: the DIMM's new blocks are
//     written "online_kernel" and land in ZONE_NORMAL, named by the intent's device; a block
//     past expected_size is the policy's (MOVABLE) and no device's;
//   - the same uevents without the intent land in ZONE_MOVABLE (so the test can tell);
//   - an intent past its deadline, or ended by a device map naming its device, decides nothing.
// Timers are 0 ms and the loop is run until it has nothing left to dispatch: no sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <glib.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "agent/agent_settings.h"
#include "agent/block_operator.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/hotplug_watcher.h"
#include "agent/own_transitions.h"
#include "agent/request_handler.h"
#include "fake_sysfs.h"
#include "kernel_like_writer.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "policy/plug_intent.h"

namespace memhp::agent {
namespace {

using memhp::v1::AgentRequest;
using testing::FakeNodes;
using testing::FakeSysfs;
using testing::KernelLikeWriter;

constexpr uint64_t kBlock = 128ull << 20;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kPagesPerBlock = kBlock / kPage;


class IntentOnliningTest : public ::testing::TestWithParam<PolicyKind> {
 protected:
  IntentOnliningTest()
      : writer_(guest_, 2 * kPagesPerBlock),  // 256 MiB boot KERNEL: 2 new blocks fit MOVABLE at 301%
        reader_(guest_.root()),
        reporter_(log_),
        driver_(chain_, writer_,
                [this](const EmittedEvent& e, const NotifyContext& c) { reporter_.OnEmitted(e, c); }),
        operator_(reader_, driver_, [](std::chrono::milliseconds) {}, kPage, settings_.policy,
                  &settings_.devices, &settings_.intent),
        handler_(reader_, AgentIdentity{.kernel_release = "6.1.0-test", .page_size = kPage, .pid = 42,
                                        .policy = "", .competing_onliners = {}, .took_onlining_from = {}, .masked_udev_rules = {}},
                 &operator_, &settings_),
        context_(g_main_context_new()),
        watcher_(reader_, operator_, reporter_, own_, context_,
                 HotplugWatcherOptions{.settle = std::chrono::milliseconds(0),
                                       .inventory_coalesce = std::chrono::milliseconds(0),
                                       .zone_report_period = std::chrono::milliseconds(0)}) {
    guest_.SetNodes(FakeNodes{"0", "0", "0", "0"});
    guest_.SetMemInfo("MemTotal: 262144 kB\nMemAvailable: 131072 kB\n");
    guest_.AddBlock(0, "online", "Normal", 0);
    guest_.AddBlock(1, "online", "Normal", 0);
    settings_.policy = PolicyConfig{.kind = GetParam(), .movable_ratio_percent = 301, .numa_aware = true};
    settings_.intent = PlugIntentSlot([this] { return now_; });
    reporter_.SetTransport([this](const memhp::v1::AgentEnvelope& e) {
      sent_.push_back(e.event());
      return wire::SendStatus::kQueued;
    });
    reporter_.SetDeviceNamer([this](uint32_t block) { return settings_.DeviceIdOf(block); });
  }
  ~IntentOnliningTest() override {
    while (g_main_context_iteration(context_, FALSE)) {}
    g_main_context_unref(context_);
  }

  // The host's intent for a DIMM about to be plugged on node 0 (QEMU chooses its address).
  void SendIntent(uint64_t expected_blocks, uint32_t deadline_ms = 30000) {
    AgentRequest r;
    r.set_id(1);
    memhp::v1::PlugIntent* i = r.mutable_intent();
    i->set_operation_id(77);
    i->set_device_id("dimm7");
    i->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
    i->set_node(0);
    i->set_expected_size(expected_blocks * kBlock);
    i->set_target(memhp::v1::ONLINE_TARGET_KERNEL);
    i->set_deadline_ms(deadline_ms);
    const memhp::v1::AgentResponse response = handler_.Handle(r);
    ASSERT_FALSE(response.has_error()) << response.error().message();
    ASSERT_TRUE(response.has_intent());
  }

  // The kernel adds the blocks (offline, linked to node 0) and sends their "add" uevents; the
  // watcher's 0 ms timers then run until nothing is left to do.
  void HotAdd(const std::vector<uint32_t>& blocks) { HotAdd(watcher_, blocks); }
  void HotAdd(HotplugWatcher& watcher, const std::vector<uint32_t>& blocks) {
    for (uint32_t id : blocks) {
      guest_.AddBlock(id, "offline", "Normal Movable", 0);
      Uevent u;
      u.action = UeventAction::kAdd;
      u.subsystem = "memory";
      u.devpath = "/devices/system/memory/memory" + std::to_string(id);
      watcher.OnUevent(u);
    }
    while (g_main_context_iteration(context_, FALSE)) {}
  }
  // A watcher whose settle (and reports) would take an hour: only what is due now runs.
  HotplugWatcher SlowWatcher() {
    return HotplugWatcher(reader_, operator_, reporter_, own_, context_,
                          HotplugWatcherOptions{.settle = std::chrono::hours(1),
                                                .inventory_coalesce = std::chrono::hours(1),
                                                .zone_report_period = std::chrono::hours(1)},
                          {}, &settings_.intent);
  }

  // The block's zone as the guest now reports it (valid_zones of an online block).
  std::string ZoneOf(uint32_t block) {
    return guest_.ReadFile(FakeSysfs::BlockAttr(block, "state")) + guest_.ReadFile(FakeSysfs::BlockAttr(block, "valid_zones"));
  }

  // The device_id and zone of the block's ONLINE event (S3), "-" when none was sent.
  std::pair<std::string, memhp::v1::Zone> OnlineEvent(uint32_t block) {
    for (const auto& e : sent_) {
      if (e.has_memory() && e.memory().block() == block && e.memory().kind() == memhp::v1::MEMORY_EVENT_KIND_ONLINE) {
        return {e.memory().device_id(), e.memory().zone()};
      }
    }
    return {"-", memhp::v1::ZONE_UNSPECIFIED};
  }

  std::chrono::steady_clock::time_point now_{std::chrono::seconds(10)};
  FakeSysfs guest_;
  KernelLikeWriter writer_;
  SysfsReader reader_;
  EventLog log_{1024};
  EventReporter reporter_;
  NotifierChain chain_;
  TransitionDriver driver_;
  AgentSettings settings_;
  BlockOperator operator_;
  RequestHandler handler_;
  OwnTransitions own_;
  GMainContext* context_;
  HotplugWatcher watcher_;
  std::vector<memhp::v1::AgentEvent> sent_;
};

constexpr auto kMovable = abi::OnlineType::kOnlineMovable;
constexpr auto kKernel = abi::OnlineType::kOnlineKernel;

TEST_P(IntentOnliningTest, WithoutTheIntentTheNewBlocksGoMovable) {
  HotAdd({60, 61});
  ASSERT_EQ(writer_.writes.size(), 2u);
  EXPECT_EQ(writer_.writes[60], kMovable);
  EXPECT_EQ(writer_.writes[61], kMovable);
  EXPECT_EQ(ZoneOf(60), "online\nMovable\n");
  EXPECT_EQ(OnlineEvent(60).first, "");
}

TEST_P(IntentOnliningTest, AnIntentForKernelOnlinesTheNewDimmIntoNormalWithoutAMap) {
  SendIntent(/*expected_blocks=*/2);
  ASSERT_TRUE(settings_.devices.empty());
  HotAdd({60, 61, 62});
  ASSERT_EQ(writer_.writes.size(), 3u);
  EXPECT_EQ(writer_.writes[60], kKernel);
  EXPECT_EQ(writer_.writes[61], kKernel);
  EXPECT_EQ(ZoneOf(60), "online\nNormal\n");
  EXPECT_EQ(ZoneOf(61), "online\nNormal\n");
  EXPECT_EQ(OnlineEvent(60), std::pair(std::string("dimm7"), memhp::v1::ZONE_NORMAL));
  EXPECT_EQ(OnlineEvent(61), std::pair(std::string("dimm7"), memhp::v1::ZONE_NORMAL));
  // The third block is past the DIMM's expected 256 MiB: not the intent's, the policy's.
  EXPECT_EQ(writer_.writes[62], kMovable);
  EXPECT_EQ(OnlineEvent(62), std::pair(std::string(""), memhp::v1::ZONE_MOVABLE));
}

TEST_P(IntentOnliningTest, ALapsedIntentDecidesNothing) {
  SendIntent(2, /*deadline_ms=*/5000);
  now_ += std::chrono::milliseconds(5000);
  HotAdd({60, 61});
  EXPECT_EQ(writer_.writes[60], kMovable);
  EXPECT_EQ(writer_.writes[61], kMovable);
  EXPECT_EQ(OnlineEvent(60).first, "");
}

TEST_P(IntentOnliningTest, ADeviceMapNamingTheDeviceTakesOverFromTheIntent) {
  SendIntent(2);
  // The map came before the policy ran, and names the DIMM with no zone asked: the map is the
  // truth, so the policy decides, and the blocks are dimm7's by the map.
  AgentRequest map;
  map.set_id(2);
  auto* d = map.mutable_device_map()->add_devices();
  d->set_device_id("dimm7");
  d->set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
  d->set_start(60 * kBlock);
  d->set_size(2 * kBlock);
  ASSERT_FALSE(handler_.Handle(map).has_error());
  EXPECT_EQ(settings_.intent.active(), nullptr);
  HotAdd({60, 61});
  EXPECT_EQ(writer_.writes[60], kMovable);
  EXPECT_EQ(writer_.writes[61], kMovable);
  EXPECT_EQ(OnlineEvent(61), std::pair(std::string("dimm7"), memhp::v1::ZONE_MOVABLE));
}

// With the intent known there is no settle: a watcher whose settle would take an hour onlines
// the DIMM as soon as all its blocks have come (the loop only dispatches what is due now), and
// waits for the rest when only some have.
TEST_P(IntentOnliningTest, AKnownDimmIsDecidedWhenItsLastBlockComesNotAfterASettle) {
  HotplugWatcher slow = SlowWatcher();
  SendIntent(/*expected_blocks=*/2);
  HotAdd(slow, {60});
  EXPECT_TRUE(writer_.writes.empty()) << "one of the DIMM's two blocks: its zone waits for the other";
  HotAdd(slow, {61});
  ASSERT_EQ(writer_.writes.size(), 2u);
  EXPECT_EQ(writer_.writes[60], kKernel);
  EXPECT_EQ(writer_.writes[61], kKernel);
}

// Without an intent the same watcher waits for the burst to settle.
TEST_P(IntentOnliningTest, WithoutAnIntentTheBurstSettlesFirst) {
  HotplugWatcher slow = SlowWatcher();
  HotAdd(slow, {60});
  EXPECT_TRUE(writer_.writes.empty());
}

INSTANTIATE_TEST_SUITE_P(Policies, IntentOnliningTest,
                         ::testing::Values(PolicyKind::kAutoMovable, PolicyKind::kOnlineMovable),
                         [](const auto& param_info) {
                           return param_info.param == PolicyKind::kAutoMovable ? std::string("auto_movable")
                                                                         : std::string("online_movable");
                         });

}  // namespace
}  // namespace memhp::agent
