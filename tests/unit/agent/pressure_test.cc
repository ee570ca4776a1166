// memhp tests — memory pressure in the agent: the report read from a fake guest tree
// (agent/pressure_report.h), the events of PressureWatch (agent/pressure_watch.h) on a manually
// run GMainContext, and the trigger bounds of io/psi_trigger.h. The real trigger — the kernel
// waking the fd — is exercised in the VM (tests/vm/vm_agent_paths_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/event_log.h"
#include "agent/event_reporter.h"
#include "agent/pressure_report.h"
#include "agent/pressure_watch.h"
#include "agent/zone_report.h"
#include "fake_sysfs.h"
#include "io/psi_trigger.h"

namespace memhp::agent {
namespace {

using namespace std::chrono_literals;
using testing::FakeNodes;
using testing::FakeSysfs;
using ::testing::HasSubstr;

constexpr uint64_t kNs = 1'700'000'000'000'000'000ULL;
constexpr const char* kMemInfo = "MemTotal:        1000000 kB\nMemAvailable:     250000 kB\n";
constexpr const char* kPsi =
    "some avg10=7.50 avg60=1.25 avg300=0.30 total=4242\nfull avg10=2.00 avg60=0.50 avg300=0.10 total=1000\n";
constexpr const char* kVmstat = "pgscan_kswapd 400\npgscan_direct 100\npgsteal_kswapd 300\npgsteal_direct 50\noom_kill 1\n";

void BuildGuest(FakeSysfs& guest, bool with_psi) {
  guest.SetMemInfo(kMemInfo);
  guest.WriteFile("proc/vmstat", kVmstat);
  if (with_psi) guest.WriteFile("proc/pressure/memory", kPsi);
}

TEST(PressureReportTest, ReadsPsiMeminfoAndTheReclaimCounters) {
  FakeSysfs guest;
  BuildGuest(guest, /*with_psi=*/true);
  Result<memhp::v1::MemoryPressure> p =
      ReadPressure(SysfsReader(guest.root()), memhp::v1::PRESSURE_CAUSE_REQUEST, [] { return kNs; });
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->psi_available());
  EXPECT_EQ(p->some().avg10_centipercent(), 750u);
  EXPECT_EQ(p->some().avg60_centipercent(), 125u);
  EXPECT_EQ(p->some().avg300_centipercent(), 30u);
  EXPECT_EQ(p->some().total_us(), 4242u);
  EXPECT_EQ(p->full().avg10_centipercent(), 200u);
  EXPECT_EQ(p->mem_total_bytes(), 1000000ull * 1024);
  EXPECT_EQ(p->mem_available_bytes(), 250000ull * 1024);
  EXPECT_EQ(p->pgscan(), 500u);
  EXPECT_EQ(p->pgsteal(), 350u);
  EXPECT_EQ(p->oom_kill(), 1u);
  EXPECT_EQ(p->cause(), memhp::v1::PRESSURE_CAUSE_REQUEST);
  EXPECT_EQ(p->read_at_unix_ns(), kNs);
}

TEST(PressureReportTest, AKernelWithoutPsiStillReportsTheRest) {
  FakeSysfs guest;
  BuildGuest(guest, /*with_psi=*/false);
  Result<memhp::v1::MemoryPressure> p = ReadPressure(SysfsReader(guest.root()), memhp::v1::PRESSURE_CAUSE_REQUEST);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->psi_available());
  EXPECT_FALSE(p->has_some());
  EXPECT_EQ(p->oom_kill(), 1u);
}

TEST(PressureReportTest, AGarbledSourceIsAnErrorNamingIt) {
  FakeSysfs guest;
  BuildGuest(guest, /*with_psi=*/true);
  guest.WriteFile("proc/pressure/memory", "some avg10=nonsense\n");
  Result<memhp::v1::MemoryPressure> p = ReadPressure(SysfsReader(guest.root()), memhp::v1::PRESSURE_CAUSE_REQUEST);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, HasSubstr("proc/pressure/memory"));
}

TEST(PressureReportTest, AZoneReportCarriesThePressureAndStaysTrueWithoutIt) {
  FakeSysfs guest;
  BuildGuest(guest, /*with_psi=*/true);
  guest.SetNodes(FakeNodes{"0", "0", "0", "0"});
  guest.SetZoneInfo("Node 0, zone   Normal\n  pages free     10\n        present  20\n        managed  20\n");
  Result<memhp::v1::ZoneReport> r = ReadZoneReport(SysfsReader(guest.root()), 4096);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_pressure());
  EXPECT_EQ(r->pressure().some().avg10_centipercent(), 750u);
  EXPECT_EQ(r->pressure().cause(), memhp::v1::PRESSURE_CAUSE_REQUEST);

  guest.WriteFile("proc/vmstat", "garbage\n");
  r = ReadZoneReport(SysfsReader(guest.root()), 4096);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_pressure());
  EXPECT_EQ(r->nodes_size(), 1);
}

class PressureWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = g_main_context_new();
    BuildGuest(guest_, /*with_psi=*/true);
    reporter_.SetTransport([this](const memhp::v1::AgentEnvelope& e) {
      if (e.has_event() && e.event().has_pressure()) sent_.push_back(e.event().pressure());
      return wire::SendStatus::kQueued;
    });
  }
  void TearDown() override {
    watch_.reset();
    g_main_context_unref(context_);
  }
  void MakeWatch(std::chrono::milliseconds window) {
    watch_ = std::make_unique<PressureWatch>(
        [this](memhp::v1::PressureCause cause) { return ReadPressure(sysfs_, cause); }, reporter_, context_,
        window, 1234);
  }
  bool RunUntil(const std::function<bool()>& done) {
    const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done()) {
      if (g_get_monotonic_time() > deadline) return false;
      g_main_context_iteration(context_, TRUE);
    }
    return true;
  }

  GMainContext* context_ = nullptr;
  FakeSysfs guest_;
  SysfsReader sysfs_{guest_.root()};
  EventLog log_{64};
  EventReporter reporter_{log_};
  std::vector<memhp::v1::MemoryPressure> sent_;
  std::unique_ptr<PressureWatch> watch_;
};

TEST_F(PressureWatchTest, EachSignalIsAStalledEventAndTwoQuietWindowsEndTheEpisode) {
  MakeWatch(5ms);
  EXPECT_FALSE(watch_->under_pressure());
  watch_->OnStalled();
  watch_->OnStalled();
  EXPECT_TRUE(watch_->under_pressure());
  ASSERT_EQ(sent_.size(), 2u);
  for (const auto& p : sent_) {
    EXPECT_EQ(p.cause(), memhp::v1::PRESSURE_CAUSE_STALLED);
    EXPECT_EQ(p.threshold_us(), 1234u);
    EXPECT_EQ(p.window_us(), 5000u);
    EXPECT_EQ(p.some().avg10_centipercent(), 750u);  // read at the moment of the signal
  }
  ASSERT_TRUE(RunUntil([&] { return sent_.size() == 3; }));
  EXPECT_EQ(sent_.back().cause(), memhp::v1::PRESSURE_CAUSE_RECOVERED);
  EXPECT_FALSE(watch_->under_pressure());
  // The events went through the event log: numbered, kept until acknowledged.
  EXPECT_EQ(log_.last_seq(), 3u);
}

TEST_F(PressureWatchTest, ANewSignalRestartsTheQuietWindowsSoAnEpisodeEndsOnce) {
  MakeWatch(5ms);
  for (int i = 0; i < 3; ++i) watch_->OnStalled();
  ASSERT_TRUE(RunUntil([&] { return sent_.size() == 4; }));
  EXPECT_EQ(sent_.back().cause(), memhp::v1::PRESSURE_CAUSE_RECOVERED);
  // Well past the first signal's two windows: the replaced timers never fire.
  bool marker = false;
  GSource* source = g_timeout_source_new(30);
  g_source_set_callback(
      source, [](gpointer f) -> gboolean { *static_cast<bool*>(f) = true; return G_SOURCE_REMOVE; }, &marker,
      nullptr);
  g_source_attach(source, context_);
  g_source_unref(source);
  ASSERT_TRUE(RunUntil([&] { return marker; }));
  EXPECT_EQ(sent_.size(), 4u);
}

TEST_F(PressureWatchTest, AnUnreadableGuestSendsNothingAndSaysSo) {
  MakeWatch(5ms);
  guest_.WriteFile("proc/vmstat", "garbage\n");
  watch_->OnStalled();
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(watch_->under_pressure());  // the episode is still timed; its end is also unread
}

TEST(PsiTriggerTest, TheKernelsBoundsAreCheckedBeforeAnyFd) {
  EXPECT_TRUE(CheckPsiTriggerSpec({.threshold_us = 100'000, .window_us = 1'000'000}).ok());
  EXPECT_TRUE(CheckPsiTriggerSpec({.threshold_us = 1, .window_us = 500'000}).ok());
  EXPECT_TRUE(CheckPsiTriggerSpec({.threshold_us = 10'000'000, .window_us = 10'000'000}).ok());
  for (PsiTriggerSpec bad : {PsiTriggerSpec{.threshold_us = 1, .window_us = 499'999},
                             PsiTriggerSpec{.threshold_us = 1, .window_us = 10'000'001},
                             PsiTriggerSpec{.threshold_us = 0, .window_us = 1'000'000},
                             PsiTriggerSpec{.threshold_us = 1'000'001, .window_us = 1'000'000}}) {
    const Status s = CheckPsiTriggerSpec(bad);
    ASSERT_FALSE(s.ok()) << bad.threshold_us << "/" << bad.window_us;
    EXPECT_EQ(s.error().errno_value, EINVAL);
  }
}

TEST(PsiTriggerTest, AMissingPressureFileIsAnErrorNamingIt) {
  GMainContext* context = g_main_context_new();
  Result<std::unique_ptr<PsiTrigger>> t =
      PsiTrigger::Open("/nonexistent/proc/pressure/memory", PsiTriggerSpec{}, context, [] {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().errno_value, ENOENT);
  EXPECT_THAT(t.error().message, HasSubstr("/nonexistent/proc/pressure/memory"));
  g_main_context_unref(context);
}

}  // namespace
}  // namespace memhp::agent
