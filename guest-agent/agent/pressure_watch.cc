// memhp-agent — PressureWatch (see pressure_watch.h).
#include "agent/pressure_watch.h"

#include <utility>

namespace memhp::agent {

PressureWatch::PressureWatch(PressureSource read, EventReporter& reporter, GMainContext* context,
                             std::chrono::milliseconds window, uint32_t threshold_us)
    : read_(std::move(read)), reporter_(reporter), context_(context), window_(window), threshold_us_(threshold_us) {}

PressureWatch::~PressureWatch() {
  if (quiet_timer_ == nullptr) return;
  g_source_destroy(quiet_timer_);
  g_source_unref(quiet_timer_);
}

void PressureWatch::OnStalled() {
  Report(memhp::v1::PRESSURE_CAUSE_STALLED);
  // The episode lasts while signals keep coming: each one restarts the two quiet windows.
  if (quiet_timer_ != nullptr) {
    g_source_destroy(quiet_timer_);
    g_source_unref(quiet_timer_);
  }
  quiet_timer_ = g_timeout_source_new(static_cast<guint>(2 * window_.count()));
  g_source_set_callback(quiet_timer_, &PressureWatch::OnQuiet, this, nullptr);
  g_source_attach(quiet_timer_, context_);
}

gboolean PressureWatch::OnQuiet(gpointer self_ptr) {
  auto* self = static_cast<PressureWatch*>(self_ptr);
  g_source_unref(self->quiet_timer_);
  self->quiet_timer_ = nullptr;
  self->Report(memhp::v1::PRESSURE_CAUSE_RECOVERED);
  return G_SOURCE_REMOVE;
}

void PressureWatch::Report(memhp::v1::PressureCause cause) {
  Result<memhp::v1::MemoryPressure> pressure = read_(cause);
  if (!pressure.ok()) {
    g_warning("memory pressure not read: %s", pressure.error().message.c_str());
    return;
  }
  pressure->set_threshold_us(threshold_us_);
  pressure->set_window_us(static_cast<uint32_t>(window_.count() * 1000));
  memhp::v1::AgentEvent event;
  *event.mutable_pressure() = std::move(pressure).value();
  reporter_.Report(std::move(event));
}

}  // namespace memhp::agent
