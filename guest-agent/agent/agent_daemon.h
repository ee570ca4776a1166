// memhp-agent — AgentDaemon: the whole agent, wired: sysfs, the block writer, the notifier chain
// with the built-in handlers, the event log and reporter, the host link, the hotplug watcher on
// the kernel's uevents, and the GLib main loop they all run on.
//
// main() only parses the command line into an AgentDaemonConfig, chooses the seams and runs the
// daemon. The seams are what a test replaces to run the real wiring without a guest: how the
// host channel opens (a unix socket instead of the virtio-serial port), where uevents come from
// (a socketpair instead of netlink), the main context, and whether the process's signals are the
// daemon's (SIGTERM/SIGINT end the loop, SIGPIPE is ignored) — a test leaves them alone.
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/host_link.h"
#include "handlers/hook_scripts.h"
#include "handlers/pin_guard.h"
#include "io/psi_trigger.h"
#include "io/uevent_monitor.h"
#include "base/unique_fd.h"
#include "policy/online_policy.h"
#include "sysfs/result.h"

namespace memhp::agent {

// What the command line decides (README, "The agent"); the defaults are the documented ones.
struct AgentDaemonConfig {
  std::string sysfs_root = "/";  // the kernel's /sys and /proc are read under it
  PolicyConfig policy{.kind = PolicyKind::kAutoMovable, .movable_ratio_percent = 301, .numa_aware = true};
  size_t event_backlog = 4096;   // unacknowledged events kept for replay; at least 1
  uint64_t reserve_bytes = 128ull << 20;  // the reserve guard's floor of MemAvailable; 0: off
  std::string hooks_dir = std::string(kDefaultHookFolder);  // the hook scripts' folder
  std::string pins_dir = std::string(kDefaultPinFolder);    // the pin files' (created if missing)
  bool pressure_events = true;  // a PSI trigger reports pressure as events (pressure_watch.h)
  PsiTriggerSpec pressure;      // its threshold and window
};

// A datagram socket of uevents and how far its sender is trusted (io/uevent_monitor.h).
struct UeventSource {
  UniqueFd fd;
  SenderCheck check = SenderCheck::kKernelOnly;
};
using UeventOpener = std::function<Result<UeventSource>()>;

// The kernel's NETLINK_KOBJECT_UEVENT socket, kernel senders only.
[[nodiscard]] Result<UeventSource> OpenKernelUevents();

struct AgentDaemonSeams {
  ChannelOpener open_channel;                   // required: the host channel
  UeventOpener open_uevents = OpenKernelUevents;  // failing: hotplug is not watched (a warning)
  GMainContext* context = nullptr;              // nullptr: the global default context
  bool own_process_signals = true;              // SIGTERM/SIGINT quit, SIGPIPE ignored
};

class AgentDaemon {
 public:
  AgentDaemon(AgentDaemonConfig config, AgentDaemonSeams seams);
  ~AgentDaemon();
  AgentDaemon(const AgentDaemon&) = delete;
  AgentDaemon& operator=(const AgentDaemon&) = delete;

  // Builds the parts and starts the host link; the loop does not run yet. An error when the
  // configuration is impossible or a part cannot be set up (nothing then runs). Once only.
  [[nodiscard]] Status Start();
  // Start() unless done, then the main loop until Quit() (or SIGTERM/SIGINT, see the seams).
  [[nodiscard]] Status Run();
  // Ends Run()'s loop; safe from the loop's own callbacks.
  void Quit();

  // For tests: whether the host link is open now (false before Start()).
  [[nodiscard]] bool host_connected() const;
  // For tests: how many uevents reached the hotplug watcher (0 without a uevent source).
  [[nodiscard]] uint64_t uevents_delivered() const;

 private:
  struct Parts;

  AgentDaemonConfig config_;
  AgentDaemonSeams seams_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace memhp::agent
