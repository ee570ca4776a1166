// memhp-agent — PressureWatch: memory pressure as events, when it starts and when it is over.
//
// The kernel's PSI trigger (io/psi_trigger.h) signals at most once per window while stalls stay
// over the threshold. Each signal becomes a MemoryPressure event with cause STALLED, read at
// that moment (so the host sees the averages, MemAvailable and the reclaim and OOM counters of
// the episode, not only "pressure"). Once no signal came for two whole windows the episode is
// over: one event with cause RECOVERED. So a host that grows the guest on STALLED and waits for
// RECOVERED before it considers shrinking needs no polling either; and the events are bounded by
// the kernel's rate (one per window) however hard the guest is pressed.
#pragma once

#include <glib.h>

#include <chrono>
#include <cstdint>

#include "agent/event_reporter.h"
#include "agent/pressure_report.h"

namespace memhp::agent {

class PressureWatch {
 public:
  // `window`: the trigger's window (two of them quiet end an episode).
  PressureWatch(PressureSource read, EventReporter& reporter, GMainContext* context,
                std::chrono::milliseconds window, uint32_t threshold_us);
  ~PressureWatch();
  PressureWatch(const PressureWatch&) = delete;
  PressureWatch& operator=(const PressureWatch&) = delete;

  // The trigger fired.
  void OnStalled();
  [[nodiscard]] bool under_pressure() const { return quiet_timer_ != nullptr; }

 private:
  void Report(memhp::v1::PressureCause cause);
  static gboolean OnQuiet(gpointer self);

  PressureSource read_;
  EventReporter& reporter_;
  GMainContext* context_;
  std::chrono::milliseconds window_;
  uint32_t threshold_us_;
  GSource* quiet_timer_ = nullptr;
};

}  // namespace memhp::agent
