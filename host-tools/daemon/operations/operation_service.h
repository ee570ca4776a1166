// operation_service — memhpd's operations: plug, unplug and resize as journaled
// transactions, one at a time per VM, plus the agent's policy and zone report passed through.
//
// The supervisor owns one and forwards the control requests and its taps (QMP events, agent
// hello/events/loss) here; everything else lives in the files beside this one. On start the
// journal is opened and a reconcile turn is queued first, so a restarted memhpd finishes what
// its predecessor left in flight before it runs anything new. On every agent hello the agent is
// sent the device map (agent.proto DeviceMap: "on connect").
#pragma once

#include <glib.h>

#include <map>
#include <memory>
#include <string>

#include "daemon/agent_channel.h"
#include "daemon/control_server.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/operation.h"
#include "daemon/operations/operation_queue.h"
#include "memhp/v1/control.pb.h"
#include "qmp/qmp_client.h"

namespace memhp::daemon::operations {

struct OperationServiceConfig {
  std::string journal_path;
  OperationTimeouts timeouts;
  JournalLimits journal_limits;
  std::string pause_after_step;  // TEST ONLY (MEMHP_TEST_PAUSE_AFTER); see OperationEnv
  std::function<void(std::string_view, const google::protobuf::Message&)> publish;  // see OperationEnv
};

class OperationService {
 public:
  OperationService(OperationServiceConfig config, qmp::QmpClient& qmp, AgentChannel& agent, GMainContext* context);
  ~OperationService();
  OperationService(const OperationService&) = delete;
  OperationService& operator=(const OperationService&) = delete;

  // Once QMP is connected: opens the journal and queues the reconcile turn. "" or why the
  // journal cannot be used (operations then fail with that reason; memhpd keeps serving).
  [[nodiscard]] std::string Start();

  void Plug(const memhp::v1::PlugRequest& request, ControlReply reply);
  void Unplug(const memhp::v1::UnplugRequest& request, ControlReply reply);
  void Resize(const memhp::v1::ResizeRequest& request, ControlReply reply);
  void Policy(const memhp::v1::PolicyCommand& request, ControlReply reply);
  void Zones(ControlReply reply);

  void OnQmpEvent(std::string_view name, const JsonNode& data);
  void OnAgentHello();
  void OnAgentEvent(const memhp::v1::AgentEvent& event);
  void OnAgentLost();
  // QEMU's QMP socket closed: the running operation ends FAILED (Operation::OnQemuGone).
  void OnQemuGone(std::string_view reason);

  [[nodiscard]] const Journal& journal() const { return journal_; }

 private:
  void Submit(std::shared_ptr<Operation> op, const ControlReply& reply);
  [[nodiscard]] Operation* Running() const;
  void SendDeviceMap();

  OperationServiceConfig config_;
  qmp::QmpClient& qmp_;
  AgentChannel& agent_;
  Journal journal_;
  std::map<std::string, memhp::v1::OnlineTarget> targets_;
  OperationEnv env_;
  OperationQueue queue_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace memhp::daemon::operations
