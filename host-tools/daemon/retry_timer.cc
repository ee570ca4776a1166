// RetryTimer (see retry_timer.h).
#include "daemon/retry_timer.h"

#include <utility>

namespace memhp::daemon {

RetryTimer::RetryTimer(GMainContext* context, std::function<void()> fire)
    : context_(context), fire_(std::move(fire)) {}

RetryTimer::~RetryTimer() {
  if (source_ == nullptr) return;
  g_source_destroy(source_);
  g_source_unref(source_);
}

void RetryTimer::Schedule(guint delay_ms) {
  if (source_ != nullptr) return;
  source_ = g_timeout_source_new(delay_ms);
  g_source_set_callback(source_, &RetryTimer::OnFire, this, nullptr);
  g_source_attach(source_, context_);
}

gboolean RetryTimer::OnFire(gpointer self_ptr) {
  auto* self = static_cast<RetryTimer*>(self_ptr);
  // Cleared before the callback, which may schedule the next try.
  g_source_unref(self->source_);
  self->source_ = nullptr;
  self->fire_();
  return G_SOURCE_REMOVE;
}

}  // namespace memhp::daemon
