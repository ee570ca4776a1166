// memhp tests — the onlining policy per device through the real BlockOperator and
// HotplugWatcher over a fake guest tree (tests/unit/agent/fake_sysfs.h) whose block writer
// keeps sysfs and /proc/zoneinfo in step, as the kernel does:
//   - with the host's device map a DIMM's blocks land in one zone and a virtio-mem device's are
//     decided block by block with its own accounting (mm/memory_hotplug.c memory groups);
//     without a map the earlier behaviour stays (one group per node);
//   - a device's DeviceRange.target overrides the policy; results and events name the device;
//   - block changes yield ONE coalesced zone_report event per period, not one per block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "agent/block_operator.h"
#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/hotplug_watcher.h"
#include "agent/zone_report.h"
#include "fake_sysfs.h"
#include "kernel_like_writer.h"
#include "notifier/notifier_chain.h"
#include "notifier/transition_driver.h"
#include "policy/device_map.h"

namespace memhp::agent {
namespace {

using testing::FakeNodes;
using testing::FakeSysfs;
using testing::KernelLikeWriter;

constexpr uint64_t kBlock = 128ull << 20;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kPagesPerBlock = kBlock / kPage;


memhp::v1::DeviceMap TestMap() {
  memhp::v1::DeviceMap map;
  auto add = [&](const char* id, memhp::v1::MemoryDeviceKind kind, uint64_t first, uint64_t n,
                 memhp::v1::OnlineTarget target) {
    auto* d = map.add_devices();
    d->set_device_id(id);
    d->set_kind(kind);
    d->set_start(first * kBlock);
    d->set_size(n * kBlock);
    d->set_target(target);
  };
  add("dimm1", memhp::v1::MEMORY_DEVICE_KIND_DIMM, 32, 4, memhp::v1::ONLINE_TARGET_UNSPECIFIED);
  add("vmem0", memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM, 40, 8, memhp::v1::ONLINE_TARGET_UNSPECIFIED);
  add("dimm9", memhp::v1::MEMORY_DEVICE_KIND_DIMM, 48, 2, memhp::v1::ONLINE_TARGET_MOVABLE);
  return map;
}

class DevicePolicyTest : public ::testing::Test {
 protected:
  DevicePolicyTest()
      : writer_(guest_, 2 * kPagesPerBlock),  // 256 MiB boot KERNEL
        reader_(guest_.root()),
        reporter_(log_),
        driver_(chain_, writer_,
                [this](const EmittedEvent& e, const NotifyContext& c) { reporter_.OnEmitted(e, c); }),
        operator_(reader_, driver_, [](std::chrono::milliseconds) {}, kPage, policy_, &devices_) {
    guest_.SetNodes(FakeNodes{"0", "0", "0", "0"});
    guest_.SetMemInfo("MemTotal: 262144 kB\nMemAvailable: 131072 kB\n");
    guest_.AddBlock(0, "online", "Normal", 0);
    guest_.AddBlock(1, "online", "Normal", 0);
    for (uint32_t id : {32u, 33u, 34u, 35u, 40u, 41u, 42u, 43u, 48u, 49u}) guest_.AddBlock(id, "offline", "Normal Movable", 0);
    reporter_.SetTransport([this](const memhp::v1::AgentEnvelope& e) {
      sent_.push_back(e.event());
      return wire::SendStatus::kQueued;
    });
    reporter_.SetDeviceNamer([this](uint32_t block) { return devices_.DeviceIdOf(block); });
  }

  void UseMap() {
    Result<DeviceMapTable> t = DeviceMapTable::Validate(TestMap(), kBlock);
    ASSERT_TRUE(t.ok()) << t.error().message;
    devices_ = std::move(t).value();
  }

  std::map<uint32_t, memhp::v1::BlockResult> OnlineByPolicy(std::vector<uint32_t> ids) {
    Result<memhp::v1::BlockOpResult> op = operator_.OnlineByPolicy(ids);
    EXPECT_TRUE(op.ok());
    std::map<uint32_t, memhp::v1::BlockResult> out;
    if (op.ok()) {
      for (const auto& r : op->blocks()) out[r.block()] = r;
    }
    return out;
  }

  FakeSysfs guest_;
  KernelLikeWriter writer_;
  SysfsReader reader_;
  EventLog log_{1024};
  EventReporter reporter_;
  NotifierChain chain_;
  TransitionDriver driver_;
  PolicyConfig policy_{.kind = PolicyKind::kAutoMovable, .movable_ratio_percent = 100, .numa_aware = true};
  DeviceMapTable devices_;
  BlockOperator operator_;
  std::vector<memhp::v1::AgentEvent> sent_;
};

constexpr auto kMovable = abi::OnlineType::kOnlineMovable;
constexpr auto kKernel = abi::OnlineType::kOnlineKernel;

TEST_F(DevicePolicyTest, WithoutAMapEachNodesBurstIsOneGroup) {
  // 8 blocks = 1 GiB > 100% of 256 MiB boot KERNEL: the whole burst goes KERNEL together.
  OnlineByPolicy({32, 33, 34, 35, 40, 41, 42, 43});
  for (uint32_t id : {32u, 33u, 34u, 35u, 40u, 41u, 42u, 43u}) EXPECT_EQ(writer_.writes[id], kKernel) << id;
}

TEST_F(DevicePolicyTest, WithAMapADimmIsOneZoneAndVirtioMemIsDecidedPerBlock) {
  UseMap();
  auto results = OnlineByPolicy({32, 33, 34, 35, 40, 41, 42, 43});
  // dimm1: 512 MiB > 100% of 256 MiB: KERNEL, all four.
  for (uint32_t id : {32u, 33u, 34u, 35u}) EXPECT_EQ(writer_.writes[id], kKernel) << id;
  // vmem0 block by block: the boot base stays 256 MiB (dimm1's KERNEL is no base for another
  // device), so two blocks fit MOVABLE, the third goes KERNEL, and that KERNEL block of the
  // device's own lets the fourth go MOVABLE again.
  EXPECT_EQ(writer_.writes[40], kMovable);
  EXPECT_EQ(writer_.writes[41], kMovable);
  EXPECT_EQ(writer_.writes[42], kKernel);
  EXPECT_EQ(writer_.writes[43], kMovable);
  EXPECT_EQ(results[33].device_id(), "dimm1");
  EXPECT_EQ(results[42].device_id(), "vmem0");
  EXPECT_THAT(results[40].detail(), ::testing::HasSubstr("vmem0"));
  // Every memory event names the device too.
  int named = 0;
  for (const auto& e : sent_) {
    if (!e.has_memory()) continue;
    EXPECT_EQ(e.memory().device_id(), e.memory().block() < 40 ? "dimm1" : "vmem0") << e.memory().block();
    ++named;
  }
  EXPECT_EQ(named, 16);  // GOING_ONLINE + ONLINE per block
}

TEST_F(DevicePolicyTest, TheHostsTargetOverridesThePolicyEvenManual) {
  UseMap();
  policy_.kind = PolicyKind::kManual;  // a run-time change is seen at the next decision
  auto results = OnlineByPolicy({48, 49, 32});
  EXPECT_EQ(writer_.writes[48], kMovable);
  EXPECT_EQ(writer_.writes[49], kMovable);
  EXPECT_EQ(writer_.writes.count(32), 0u);
  EXPECT_EQ(results[32].outcome(), memhp::v1::BLOCK_OUTCOME_LEFT_OFFLINE);
  EXPECT_EQ(results[32].device_id(), "dimm1");
  EXPECT_EQ(results[48].device_id(), "dimm9");
}

// The watcher: a burst of adds, the policy onlining them, and one zone report for all of it.
TEST_F(DevicePolicyTest, BlockChangesYieldOneCoalescedZoneReport) {
  UseMap();
  GMainContext* context = g_main_context_new();
  {
    OwnTransitions own;
    HotplugWatcher watcher(reader_, operator_, reporter_, own, context,
                           HotplugWatcherOptions{.settle = std::chrono::milliseconds(5),
                                                 .inventory_coalesce = std::chrono::milliseconds(5),
                                                 .zone_report_period = std::chrono::milliseconds(40)},
                           [this] { return ReadZoneReport(reader_, kPage); });
    reporter_.SetOwnEventObserver([&watcher](const memhp::v1::MemoryEvent& e) { watcher.OnOwnEvent(e); });
    for (uint32_t id : {40u, 41u, 42u, 43u}) {
      Uevent u;
      u.action = UeventAction::kAdd;
      u.subsystem = "memory";
      u.devpath = "/devices/system/memory/memory" + std::to_string(id);
      watcher.OnUevent(u);
    }
    auto zone_reports = [&] {
      int n = 0;
      for (const auto& e : sent_) n += e.has_zone_report();
      return n;
    };
    // Run until the report came (the bound only guards against a hang), then until quiet.
    const gint64 give_up = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (zone_reports() == 0 && g_get_monotonic_time() < give_up) g_main_context_iteration(context, TRUE);
    while (g_main_context_iteration(context, FALSE)) {}
    g_usleep(100 * 1000);
    while (g_main_context_iteration(context, FALSE)) {}
    EXPECT_EQ(writer_.writes.size(), 4u);  // the policy onlined the burst
    // 4 adds and 4 onlines (8 block changes): one report.
    EXPECT_EQ(zone_reports(), 1);
    for (const auto& e : sent_) {
      if (e.has_zone_report()) {
        EXPECT_EQ(e.zone_report().page_size(), kPage);
      }
    }
    reporter_.SetOwnEventObserver({});
  }
  g_main_context_unref(context);
}

}  // namespace
}  // namespace memhp::agent
