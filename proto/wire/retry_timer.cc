// memhp wire — RetryTimer (see retry_timer.h).
#include "wire/retry_timer.h"

#include <algorithm>
#include <utility>

namespace memhp::wire {

RetryTimer::RetryTimer(GMainContext* context, Backoff backoff, std::function<void()> fire)
    : context_(context),
      // max below initial would make the delay shrink; the larger of the two bounds it.
      backoff_{backoff.initial_ms, std::max(backoff.initial_ms, backoff.max_ms)},
      delay_ms_(backoff.initial_ms),
      fire_(std::move(fire)) {}

RetryTimer::~RetryTimer() { Cancel(); }

void RetryTimer::Cancel() {
  if (source_ == nullptr) return;
  g_source_destroy(source_);
  g_source_unref(source_);
  source_ = nullptr;
}

void RetryTimer::Schedule() {
  if (source_ != nullptr) return;
  source_ = g_timeout_source_new(delay_ms_);
  g_source_set_callback(source_, &RetryTimer::OnFire, this, nullptr);
  g_source_attach(source_, context_);
  // Doubling in 64 bits: a max near UINT32_MAX must not wrap to a short delay.
  delay_ms_ = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{delay_ms_} * 2, backoff_.max_ms));
}

gboolean RetryTimer::OnFire(gpointer self_ptr) {
  auto* self = static_cast<RetryTimer*>(self_ptr);
  // Cleared before the callback, which may schedule the next try.
  g_source_unref(self->source_);
  self->source_ = nullptr;
  self->fire_();
  return G_SOURCE_REMOVE;
}

}  // namespace memhp::wire
