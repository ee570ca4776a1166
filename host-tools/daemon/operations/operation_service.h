// operation_service — memhpd's operations: plug, unplug and resize as journaled transactions,
// one at a time per VM, with the agent's block online/offline and policy changes queued among
// them; the policy read and the zone report passed through.
//
// The supervisor owns one and hands it the two ports (ports/memory_devices.h,
// ports/guest_agent.h) — the service and its operations reach QEMU and the agent through them
// only — and forwards the control requests and its taps (the hardware's device events, agent
// hello/events/loss, QEMU gone) here. On start the journal is opened and one resumed operation
// per unfinished record is queued first (operation_runner.h), so a restarted memhpd finishes
// what its predecessor left in flight before it runs anything new. On every agent hello the
// agent is sent the device map (agent.proto DeviceMap: "on connect").
//
// Lock order (S18-S21): the queue (one host operation at a time) -> the agent's own operation
// lock. Nothing the agent does waits on the host, so the order never inverts.
#pragma once

#include <glib.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/liveness.h"
#include "daemon/autoscale/autoscaler.h"
#include "daemon/control_server.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/machine.h"
#include "daemon/operations/operation_queue.h"
#include "daemon/operations/operation_runner.h"
#include "daemon/ports/guest_agent.h"
#include "daemon/ports/memory_devices.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

struct OperationServiceConfig {
  std::string journal_path;
  OperationTimeouts timeouts;
  JournalLimits journal_limits;
  Publish publish;  // see RunnerEnv
  // memhpd's own notices (watch_hub.h "memhpd" source): the autoscaler's decisions.
  Publish notice;
};

class OperationService {
 public:
  OperationService(OperationServiceConfig config, MemoryDevices& devices, GuestAgent& agent, GMainContext* context);
  ~OperationService();
  OperationService(const OperationService&) = delete;
  OperationService& operator=(const OperationService&) = delete;

  // Once the hardware is reachable: opens the journal and queues the resumed operations. "" or
  // why the journal cannot be used (operations then fail with that reason; memhpd keeps serving).
  [[nodiscard]] Status Start();

  void Plug(const memhp::v1::PlugRequest& request, ControlReply reply);
  void Unplug(const memhp::v1::UnplugRequest& request, ControlReply reply);
  void Resize(const memhp::v1::ResizeRequest& request, ControlReply reply);
  void BlockOp(const memhp::v1::BlockOpCommand& request, ControlReply reply);
  void Policy(const memhp::v1::PolicyCommand& request, ControlReply reply);
  void Zones(ControlReply reply);
  // unplug/resize --dry-run (dry_run.h): the device list, then the agent's estimates; no turn.
  void DryRun(const memhp::v1::DryRunCommand& command, ControlReply reply);
  // memhpctl autoscale: on with settings, or off (daemon/autoscale/autoscaler.h). It resizes
  // through Resize, so its operations queue and journal like the operator's.
  void Autoscale(const memhp::v1::AutoscaleCommand& command, ControlReply reply);
  [[nodiscard]] const memhp::v1::AutoscaleState& autoscale_state() const { return autoscaler_.state(); }

  void OnDeviceEvent(const DeviceEvent& event);
  void OnAgentHello();
  void OnAgentEvent(const memhp::v1::AgentEvent& event);
  void OnAgentLost();
  // QEMU's QMP socket closed: the running operation ends FAILED (machine.h GoneFinish).
  void OnQemuGone(std::string_view reason);
  // The connection to the VM's manager broke (libvirtd restarted): the running operation is
  // left open in the journal (machine.h Abandon), its client told so.
  void OnManagerUnreachable(std::string_view reason);
  // Connected again: queues a resume of every operation left open since (as Start() does for a
  // predecessor's), so each ends from what the hardware says now.
  void ResumeLeftUnfinished();

  [[nodiscard]] const Journal& journal() const { return journal_; }

 private:
  void Submit(std::shared_ptr<Queueable> op, const ControlReply& reply);
  [[nodiscard]] OperationRunner* Running() const;
  void SendDeviceMap();
  // Queues a resumed runner for `op`; false when the queue is full.
  [[nodiscard]] bool QueueResume(const JournalOp& op, ResumeCause cause);
  [[nodiscard]] autoscale::AutoscalerPorts AutoscalePorts();

  OperationServiceConfig config_;
  MemoryDevices& devices_;
  GuestAgent& agent_;
  Journal journal_;
  std::vector<uint64_t> left_unfinished_;  // ids to resume once the manager is back
  std::map<std::string, memhp::v1::OnlineTarget> targets_;
  RunnerEnv env_;
  OperationQueue queue_;
  autoscale::Autoscaler autoscaler_;
  Liveness alive_;
};

}  // namespace memhp::daemon::operations
