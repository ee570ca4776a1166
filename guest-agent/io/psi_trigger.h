// memhp-agent — PsiTrigger: the kernel telling the agent that tasks stall on memory.
//
// A PSI trigger (kernel/sched/psi.c, Documentation/accounting/psi.rst): an fd of
// /proc/pressure/memory opened read-write, with "some <threshold us> <window us>" written to
// it, polls POLLPRI once stalls of some task add up to more than the threshold within one
// window — at most once per window, and only while it lasts. So the agent learns of pressure
// without a polling loop: the fd sits in the GLib main loop until the kernel wakes it. Only
// POLLPRI is watched: psi_trigger_poll() always reports the default mask (readable, writable)
// as well. The kernel refuses a window outside 500 ms..10 s, a threshold of 0 or over the
// window (EINVAL), and, on 6.1, a writer without CAP_SYS_RESOURCE (psi_open: EPERM).
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "sysfs/result.h"

namespace memhp::agent {

struct PsiTriggerSpec {
  uint32_t threshold_us = 100'000;  // 100 ms of stall ...
  uint32_t window_us = 1'000'000;   // ... within 1 s
};

// The spec's bounds as the kernel checks them, so a bad option is refused before any fd.
[[nodiscard]] Status CheckPsiTriggerSpec(const PsiTriggerSpec& spec);

class PsiTrigger {
 public:
  // Opens `path` (root + proc/pressure/memory), arms the trigger and watches it on `context`;
  // `on_fire` runs on the loop each time the kernel signals.
  [[nodiscard]] static Result<std::unique_ptr<PsiTrigger>> Open(const std::string& path, PsiTriggerSpec spec,
                                                                GMainContext* context,
                                                                std::function<void()> on_fire);
  ~PsiTrigger();
  PsiTrigger(const PsiTrigger&) = delete;
  PsiTrigger& operator=(const PsiTrigger&) = delete;

  [[nodiscard]] const PsiTriggerSpec& spec() const { return spec_; }

 private:
  PsiTrigger(UniqueFd fd, PsiTriggerSpec spec, GMainContext* context, std::function<void()> on_fire);
  static gboolean OnReady(gint fd, GIOCondition condition, gpointer self);

  UniqueFd fd_;
  PsiTriggerSpec spec_;
  std::function<void()> on_fire_;
  GSource* source_ = nullptr;
};

}  // namespace memhp::agent
