// RetryTimer — one pending "try again later" on a GMainContext, for memhpd's clients of sockets
// that may not be there yet (the agent's chardev, the audit plugin's socket).
//
// Schedule() arms a one-shot timer unless one is already pending; when it fires, the callback
// runs once (and may Schedule() again). Destroying the RetryTimer cancels a pending one, so the
// callback never runs after its owner is gone.
#pragma once

#include <glib.h>

#include <functional>

namespace memhp::daemon {

class RetryTimer {
 public:
  RetryTimer(GMainContext* context, std::function<void()> fire);
  ~RetryTimer();
  RetryTimer(const RetryTimer&) = delete;
  RetryTimer& operator=(const RetryTimer&) = delete;

  void Schedule(guint delay_ms);
  [[nodiscard]] bool pending() const { return source_ != nullptr; }

 private:
  static gboolean OnFire(gpointer self);

  GMainContext* context_;
  std::function<void()> fire_;
  GSource* source_ = nullptr;
};

}  // namespace memhp::daemon
