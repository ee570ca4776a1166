// autoscaler — the loop over fake ports: it grows on a pressure event and never asks a second
// resize while one is open, decides again on a fresh reading after each, pauses while someone
// else's operation runs, shrinks only after the quiet period by what the dry run allows, makes
// a failed resize a decision, refuses bad settings, and stops on --off.
#include "daemon/autoscale/autoscaler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memhp::daemon::autoscale {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = 1ull << 20;

struct Fake {
  uint64_t requested = 0;
  std::vector<ControlReply> open_resizes;
  int resizes_asked = 0;
  int dry_runs = 0;
  uint64_t reachable = 0;
  bool busy = false;
  memhp::v1::MemoryPressure reading;
  std::vector<memhp::v1::AutoscaleDecision> decisions;
  std::chrono::steady_clock::time_point now{};

  AutoscalerPorts Ports() {
    AutoscalerPorts p;
    p.list_devices = [this](Done<std::vector<memhp::v1::MemoryDevice>> done) {
      memhp::v1::MemoryDevice d;
      d.set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
      d.set_id("vmem1");
      d.set_block_size(2 * kMiB);
      d.set_max_size(2048 * kMiB);
      d.set_requested_size(requested);
      done(std::vector<memhp::v1::MemoryDevice>{d});
    };
    p.resize = [this](const memhp::v1::ResizeRequest& r, ControlReply reply) {
      ++resizes_asked;
      requested = r.requested_size();
      open_resizes.push_back(std::move(reply));
    };
    p.dry_run = [this](const memhp::v1::DryRunCommand&, ControlReply reply) {
      ++dry_runs;
      memhp::v1::ControlResponse r;
      r.mutable_dry_run()->set_size_reachable(reachable);
      reply(std::move(r));
    };
    p.read_pressure = [this](Done<memhp::v1::MemoryPressure> done) { done(reading); };
    p.others_busy = [this] { return busy; };
    p.notice = [this](std::string_view name, const google::protobuf::Message& m) {
      if (name == "autoscale") decisions.push_back(static_cast<const memhp::v1::AutoscaleDecision&>(m));
    };
    p.now = [this] { return now; };
    return p;
  }
  void FinishResize(memhp::v1::OperationOutcome outcome) {
    ASSERT_FALSE(open_resizes.empty());
    ControlReply reply = std::move(open_resizes.front());
    open_resizes.erase(open_resizes.begin());
    memhp::v1::ControlResponse r;
    r.mutable_operation()->set_outcome(outcome);
    r.mutable_operation()->set_detail("scripted");
    reply(std::move(r));
  }
};

memhp::v1::MemoryPressure Pressure(memhp::v1::PressureCause cause, uint64_t available_mib, uint64_t total_mib) {
  memhp::v1::MemoryPressure p;
  p.set_psi_available(true);
  p.set_cause(cause);
  p.set_mem_available_bytes(available_mib * kMiB);
  p.set_mem_total_bytes(total_mib * kMiB);
  return p;
}

memhp::v1::AutoscaleCommand On() {
  memhp::v1::AutoscaleCommand c;
  c.set_device_id("vmem1");
  c.set_min_size(0);
  c.set_max_size(1024 * kMiB);
  c.set_step(256 * kMiB);
  c.set_quiet_ms(10000);
  return c;
}

class AutoscalerTest : public ::testing::Test {
 protected:
  AutoscalerTest() : context_(g_main_context_new()), scaler_(fake_.Ports(), context_) {
    fake_.reading = Pressure(memhp::v1::PRESSURE_CAUSE_REQUEST, 300, 512);
  }
  ~AutoscalerTest() override { g_main_context_unref(context_); }

  memhp::v1::ControlResponse Send(const memhp::v1::AutoscaleCommand& c) {
    memhp::v1::ControlResponse out;
    scaler_.Command(c, [&out](memhp::v1::ControlResponse r) { out = std::move(r); });
    return out;
  }
  memhp::v1::AutoscaleAction Last() const {
    return fake_.decisions.empty() ? memhp::v1::AUTOSCALE_ACTION_UNSPECIFIED : fake_.decisions.back().action();
  }

  Fake fake_;
  GMainContext* context_;
  Autoscaler scaler_;
};

TEST_F(AutoscalerTest, GrowsOneResizeAtATimeAndDecidesAgainOnAFreshReading) {
  ASSERT_TRUE(Send(On()).autoscale().on());
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_HOLD);  // the start: at the floor, no pressure
  EXPECT_EQ(fake_.decisions.back().trigger(), "start");

  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_STALLED, 20, 512));
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_GROW);
  EXPECT_EQ(fake_.resizes_asked, 1);
  EXPECT_EQ(fake_.requested, 256 * kMiB);
  // More pressure while the resize is open: no second resize, no decision.
  const size_t decided = fake_.decisions.size();
  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_STALLED, 10, 512));
  EXPECT_EQ(fake_.resizes_asked, 1);
  EXPECT_EQ(fake_.decisions.size(), decided);

  // The resize ends; the fresh reading is still short: the next grow at once.
  fake_.reading = Pressure(memhp::v1::PRESSURE_CAUSE_REQUEST, 30, 768);
  fake_.FinishResize(memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(fake_.resizes_asked, 2);
  EXPECT_EQ(fake_.requested, 512 * kMiB);
  EXPECT_EQ(fake_.decisions.back().trigger(), "resized");
  // This one was enough: hold.
  fake_.reading = Pressure(memhp::v1::PRESSURE_CAUSE_REQUEST, 400, 1024);
  fake_.FinishResize(memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(fake_.resizes_asked, 2);
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_HOLD);
  EXPECT_EQ(scaler_.state().grows(), 2u);
}

TEST_F(AutoscalerTest, ShrinksOnlyAfterTheQuietPeriodByWhatTheDryRunAllows) {
  fake_.requested = 512 * kMiB;
  ASSERT_TRUE(Send(On()).autoscale().on());
  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_RECOVERED, 700, 1024));
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_HOLD);  // not quiet for 10 s yet
  EXPECT_EQ(fake_.dry_runs, 0);

  fake_.now += 11s;
  fake_.reachable = 384 * kMiB;  // of the 256 MiB asked, 128 MiB can go
  fake_.reading = Pressure(memhp::v1::PRESSURE_CAUSE_REQUEST, 700, 1024);
  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_RECOVERED, 700, 1024));
  EXPECT_EQ(fake_.dry_runs, 1);
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_SHRINK);
  EXPECT_EQ(fake_.requested, 384 * kMiB);
  fake_.FinishResize(memhp::v1::OPERATION_OUTCOME_DONE);
  EXPECT_EQ(scaler_.state().shrinks(), 1u);
  // The size changed: the quiet period starts again.
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_HOLD);
}

TEST_F(AutoscalerTest, PausesWhileAnotherOperationRunsAndAFailedResizeIsADecision) {
  ASSERT_TRUE(Send(On()).autoscale().on());
  fake_.busy = true;
  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_STALLED, 10, 512));
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_HOLD);
  EXPECT_NE(fake_.decisions.back().reason().find("paused"), std::string::npos);
  EXPECT_EQ(fake_.resizes_asked, 0);

  fake_.busy = false;
  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_STALLED, 10, 512));
  EXPECT_EQ(fake_.resizes_asked, 1);
  fake_.FinishResize(memhp::v1::OPERATION_OUTCOME_FAILED);
  EXPECT_EQ(Last(), memhp::v1::AUTOSCALE_ACTION_HOLD);
  EXPECT_EQ(fake_.decisions.back().trigger(), "error");
  EXPECT_NE(fake_.decisions.back().reason().find("the resize failed"), std::string::npos);
}

TEST_F(AutoscalerTest, BadSettingsAreRefusedAndOffStopsDeciding) {
  memhp::v1::AutoscaleCommand bad = On();
  bad.set_max_size(4096 * kMiB);  // over the device's max-size
  memhp::v1::ControlResponse refused = Send(bad);
  EXPECT_EQ(refused.error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  EXPECT_NE(refused.error().message().find("max-size"), std::string::npos);
  EXPECT_FALSE(scaler_.state().on());
  memhp::v1::AutoscaleCommand unknown = On();
  unknown.set_device_id("dimm0");
  EXPECT_EQ(Send(unknown).error().code(), memhp::v1::ERROR_CODE_INVALID_ARGUMENT);

  ASSERT_TRUE(Send(On()).autoscale().on());
  memhp::v1::AutoscaleCommand off;
  off.set_off(true);
  EXPECT_FALSE(Send(off).autoscale().on());
  const size_t decided = fake_.decisions.size();
  scaler_.OnPressureEvent(Pressure(memhp::v1::PRESSURE_CAUSE_STALLED, 10, 512));
  EXPECT_EQ(fake_.decisions.size(), decided);
  EXPECT_EQ(fake_.resizes_asked, 0);
}

}  // namespace
}  // namespace memhp::daemon::autoscale
