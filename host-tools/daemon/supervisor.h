// memhpd — Supervisor: one VM's QEMU (over QMP), its agent, and the clients asking about both.
//
// The supervisor is the only QMP client of its QEMU and the only host end of its agent
// channel; control clients reach both through it. It answers `status` by asking QEMU for its
// memory devices, run state and memory summary (three QMP commands in flight together) and the
// agent for a fresh inventory, and joins the answers. `stop` asks QEMU to quit and answers once
// QEMU has closed its QMP socket, i.e. has exited. When QEMU goes away for any reason the
// supervisor's job is over: it answers whoever waits and ends the main loop.
#pragma once

#include <glib.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/agent_channel.h"
#include "daemon/audit_link.h"
#include "daemon/channel_guest_agent.h"
#include "daemon/control_server.h"
#include "daemon/operations/operation_service.h"
#include "daemon/qemu/qmp_memory_devices.h"
#include "daemon/watch_hub.h"
#include "memhp/v1/control.pb.h"
#include "qmp/qmp_client.h"

namespace memhp::daemon {

struct SupervisorConfig {
  std::string vm_name;
  std::string state_dir;
  std::string qmp_socket;
  std::string agent_socket;
  std::string control_socket;
  std::string qemu_pidfile;  // "" when memhpd did not launch QEMU
  std::string accel;         // "kvm"/"tcg" when known
  std::string audit_socket;  // the memhp-audit plugin's control socket; "" = no plugin
  ArmPolicy audit_arm = ArmPolicy::kOnAgentHello;
  std::chrono::milliseconds qmp_timeout{10000};
  // The deadline of status's QMP queries. They only read QEMU's state, which a QEMU that is
  // alive answers within milliseconds even with the guest paused; a status that waited the
  // operations' 10 s would look like a hung memhpd.
  std::chrono::milliseconds status_qmp_timeout{3000};
  std::chrono::milliseconds agent_timeout{5000};
};

class Supervisor {
 public:
  Supervisor(SupervisorConfig config, GMainLoop* loop);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Connects QMP (waiting for it), starts the agent channel and the control socket. Returns
  // "" when memhpd is ready to serve, else why not.
  [[nodiscard]] Status Start();

 private:
  void Handle(const memhp::v1::ControlRequest& request, ControlReply reply);
  // maxmem and the node count, asked of QEMU once at start (blocking; before the loop runs).
  [[nodiscard]] VmLimits QueryVmLimits();
  void HandleStatus(const memhp::v1::StatusRequest& request, ControlReply reply);
  void HandleStop(const memhp::v1::StopRequest& request, ControlReply reply);
  void HandleQmp(const memhp::v1::QmpCommand& request, ControlReply reply);
  // The memhp-audit plugin.
  void HandleAudit(const memhp::v1::AuditCommand& request, ControlReply reply);
  // Every QMP event and every agent notice passes here; each part that needs them taps in.
  void OnQmpEvent(std::string_view name, const JsonNode& data, const qmp::Timestamp& timestamp);
  void OnAgentHello(const memhp::v1::Hello& hello);
  void OnAgentEvent(const memhp::v1::AgentEvent& event);
  void OnAgentLost();
  void OnQemuGone(std::string_view reason);
  [[nodiscard]] long QemuPid() const;
  [[nodiscard]] operations::OperationServiceConfig OperationsConfig(const SupervisorConfig& config);

  SupervisorConfig config_;
  GMainLoop* loop_;
  GMainContext* context_;
  qmp::QmpClient qmp_;
  AgentChannel agent_;
  ControlServer control_;
  WatchHub watch_;  // the `watch` stream
  std::unique_ptr<AuditLink> audit_;  // set when QEMU runs the memhp-audit plugin
  qemu::QmpMemoryDevices devices_;    // the operations' MemoryDevices port, over qmp_
  ChannelGuestAgent guest_;           // the operations' GuestAgent port, over agent_
  operations::OperationService operations_;  // plug, unplug, resize, online/offline, policy, zones
  std::vector<ControlReply> stop_waiters_;
  bool qemu_gone_ = false;
};

}  // namespace memhp::daemon
