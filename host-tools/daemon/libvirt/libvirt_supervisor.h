// libvirt_supervisor — memhpd for one libvirt domain: the domain's memory devices through
// libvirt (libvirt_memory_devices.h), its agent through the domain's channel stream
// (stream_bridge.h), and the same control socket, operations, journal and watch stream as a
// QEMU memhpd serves (supervisor.h).
//
// What differs from a QEMU memhpd: there is no QMP connection (libvirt owns the monitor and
// marks a domain that gets raw QMP "tainted"), so `qmp` and `audit` are refused with a reason;
// `stop` ends memhpd and leaves the domain to its owner unless memhp launched it (StopAction); when the domain stops or is
// undefined, memhpd's job is over as when QEMU exits. A domain without the agent channel is
// served without a guest side ("guest side unknown").
//
// When the libvirt connection closes (libvirtd restarted, or a remote link dropped) the domain's
// QEMU runs on: memhpd leaves the operation in flight open in the journal (its client is told),
// tries the URI again with a growing delay for `reconnect_window`, and once connected resumes
// that operation from the journal as a restarted memhpd would, so it ends from what libvirt's
// live XML says then. The agent's stream rides on the connection and comes back with it. Past
// the window, or if the domain no longer runs, memhpd ends.
//
// One memhpd per domain: memhpd holds an exclusive lock named after the domain's UUID in
// kLockDir while it runs, so a second memhpd for the same domain is refused whatever its VM
// name or state folder (libvirt also refuses a second client on the channel).
#pragma once

#include <glib.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "daemon/agent_channel.h"
#include "daemon/channel_guest_agent.h"
#include "daemon/control_server.h"
#include "daemon/libvirt/libvirt_domain.h"
#include "daemon/libvirt/libvirt_memory_devices.h"
#include "daemon/libvirt/stream_bridge.h"
#include "daemon/operations/operation_service.h"
#include "daemon/watch_hub.h"

namespace memhp::daemon::libvirt {

inline constexpr const char* kLockDir = "/run/memhp";

// What `stop` does to the domain: an operator's domain keeps running (memhpd only ends); one
// memhpctl launched (launch --engine libvirt) is destroyed, as a launched QEMU is quit.
enum class StopAction { kLeaveRunning, kDestroy };

struct LibvirtSupervisorConfig {
  std::string vm_name;
  std::string state_dir;
  std::string control_socket;
  std::string uri = "qemu:///system";
  std::string domain;
  StopAction on_stop = StopAction::kLeaveRunning;
  std::chrono::milliseconds timeout{10000};        // operations' hardware deadline
  std::chrono::milliseconds agent_timeout{5000};
  std::chrono::milliseconds reconnect_window{120000};  // how long a closed connection is retried
};

class LibvirtSupervisor {
 public:
  LibvirtSupervisor(LibvirtSupervisorConfig config, GMainLoop* loop);
  ~LibvirtSupervisor();
  LibvirtSupervisor(const LibvirtSupervisor&) = delete;
  LibvirtSupervisor& operator=(const LibvirtSupervisor&) = delete;

  // Connects to libvirt, finds the running domain, takes its lock, starts the agent channel
  // (when the domain has one), the control socket and the journal.
  [[nodiscard]] Status Start();

 private:
  void Handle(const memhp::v1::ControlRequest& request, ControlReply reply);
  void HandleStatus(const memhp::v1::StatusRequest& request, ControlReply reply);
  void OnGone(const std::string& why);
  void OnConnectionLost(const std::string& why);
  void TryReconnect();
  void HandleStop(ControlReply reply);
  void QuitSoon();
  [[nodiscard]] Result<UniqueFd> ConnectAgent();
  [[nodiscard]] Status Lock();

  LibvirtSupervisorConfig config_;
  GMainLoop* loop_;
  GMainContext* context_;
  std::unique_ptr<LibvirtDomain> domain_;
  std::unique_ptr<LibvirtMemoryDevices> devices_;
  std::unique_ptr<StreamBridge> bridge_;
  AgentChannel agent_;
  ControlServer control_;
  WatchHub watch_;
  ChannelGuestAgent guest_;
  std::unique_ptr<operations::OperationService> operations_;
  UniqueFd lock_;
  bool has_channel_ = false;
  bool gone_ = false;
  bool reconnecting_ = false;
  bool reclaim_channel_ = false;  // the next channel open takes over our own stale stream
  gint64 reconnect_deadline_us_ = 0;
  guint reconnect_delay_ms_ = 0;
  guint reconnect_source_ = 0;
};

}  // namespace memhp::daemon::libvirt
