// memhp wire — RetryTimer: one pending "try again later" on a GMainContext, with backoff.
//
// Every memhp peer that reaches for a stream which may not be there yet retries with it:
// memhpd for the agent's chardev socket (QEMU may still be starting, or have no agent port
// yet) and the audit plugin's socket, the agent for its virtio-serial port (the host side comes
// and goes, drivers/char/virtio_console.c). Never a busy loop: each Schedule() waits the
// current delay, then doubles it up to `max_ms`; Reset() — called when the peer proved alive —
// starts the next absence from `initial_ms` again. A fixed interval is initial == max.
//
// Schedule() arms a one-shot timer unless one is already pending; when it fires the callback
// runs once (and may Schedule() again). Destroying the RetryTimer cancels a pending one, so the
// callback never runs after its owner is gone.
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>

namespace memhp::wire {

struct Backoff {
  uint32_t initial_ms = 100;
  uint32_t max_ms = 2000;
};

class RetryTimer {
 public:
  RetryTimer(GMainContext* context, Backoff backoff, std::function<void()> fire);
  ~RetryTimer();
  RetryTimer(const RetryTimer&) = delete;
  RetryTimer& operator=(const RetryTimer&) = delete;

  // Fires after next_delay_ms(), then doubles that delay (up to max_ms). A no-op while pending.
  void Schedule();
  // The peer answered: the next Schedule() waits initial_ms again. A pending one stays.
  void Reset() { delay_ms_ = backoff_.initial_ms; }
  void Cancel();

  [[nodiscard]] bool pending() const { return source_ != nullptr; }
  [[nodiscard]] uint32_t next_delay_ms() const { return delay_ms_; }

 private:
  static gboolean OnFire(gpointer self);

  GMainContext* context_;
  Backoff backoff_;
  uint32_t delay_ms_;
  std::function<void()> fire_;
  GSource* source_ = nullptr;
};

}  // namespace memhp::wire
