// memhp-agent — InterruptSignal: the signal that cuts a stuck sysfs write short.
//
// Writing "offline" to memory<N>/state can block for as long as pages cannot be migrated:
// mm/memory_hotplug.c offline_pages() retries until it succeeds or
// `if (signal_pending(current)) { ret = -EINTR; ... }`. Other waits on that path (opening a
// file, sleeping on a lock) end the same way when a signal arrives. The only way for user space
// to bound such a write is therefore to signal the thread doing it. SysfsBlockWriter does that
// with pthread_kill() and this signal.
//
// The handler does nothing; it exists so that the signal interrupts instead of killing the
// process (the default action of SIGUSR2 is to terminate). It is installed WITHOUT SA_RESTART,
// so a blocked call the kernel would otherwise restart (-ERESTARTSYS, kernel/signal.c) returns
// EINTR to the writer's worker thread instead.
//
// Installation is explicit and process-wide (sigaction is per process): the AgentDaemon
// (agent/agent_daemon.h) creates one InterruptSignal for the agent's lifetime and hands it to
// the writer, whose constructor takes a reference as proof it is installed. The destructor restores the previous action. Do not use
// the same signal for anything else (GLib's g_unix_signal_add(SIGUSR2) included).
#pragma once

#include <csignal>

namespace memhp::agent {

class InterruptSignal {
 public:
  static constexpr int kDefaultSignal = SIGUSR2;

  // Installs the do-nothing handler for `signo`. Aborts the process if sigaction() fails
  // (only possible for an invalid or uncatchable signal number: a programming error).
  explicit InterruptSignal(int signo = kDefaultSignal);
  ~InterruptSignal();
  InterruptSignal(const InterruptSignal&) = delete;
  InterruptSignal& operator=(const InterruptSignal&) = delete;

  [[nodiscard]] int signo() const { return signo_; }

 private:
  int signo_;
  struct sigaction previous_ {};
};

}  // namespace memhp::agent
