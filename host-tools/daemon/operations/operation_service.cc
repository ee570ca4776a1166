// operation_service — see operation_service.h.
#include "daemon/operations/operation_service.h"

#include "daemon/operations/agent_passthrough.h"
#include "daemon/operations/device_map.h"
#include "daemon/operations/plug_operation.h"
#include "daemon/operations/reconcile_run.h"
#include "daemon/operations/resize_operation.h"
#include "daemon/operations/unplug_operation.h"
#include "qmp/memory_devices.h"

namespace memhp::daemon::operations {

OperationService::OperationService(OperationServiceConfig config, qmp::QmpClient& qmp, AgentChannel& agent,
                                   GMainContext* context)
    : config_(std::move(config)),
      qmp_(qmp),
      agent_(agent),
      journal_(config_.journal_path, config_.journal_limits),
      env_(OperationEnv{qmp_, agent_, journal_, context, config_.timeouts, targets_, config_.pause_after_step, config_.publish}),
      queue_(context) {}

OperationService::~OperationService() = default;

std::string OperationService::Start() {
  std::string error = journal_.Open();
  if (!error.empty()) return "journal: " + error;
  if (journal_.torn_tail_dropped()) g_warning("journal %s: a torn last record was dropped", journal_.path().c_str());
  if (!queue_.Submit(std::make_shared<ReconcileRun>(qmp_, journal_, config_.timeouts.qmp, config_.publish))) {
    return "cannot queue the reconcile turn";
  }
  return "";
}

Operation* OperationService::Running() const { return dynamic_cast<Operation*>(queue_.current()); }

void OperationService::Submit(std::shared_ptr<Operation> op, const ControlReply& reply) {
  if (queue_.Submit(std::move(op))) return;
  memhp::v1::ControlResponse response;
  response.mutable_error()->set_code(memhp::v1::ERROR_CODE_BUSY);
  response.mutable_error()->set_message("too many operations waiting (" + std::to_string(kMaxQueuedOperations) +
                                        "); try again later");
  reply(std::move(response));
}

void OperationService::Plug(const memhp::v1::PlugRequest& request, ControlReply reply) {
  Submit(std::make_shared<PlugOperation>(env_, request, reply), reply);
}

void OperationService::Unplug(const memhp::v1::UnplugRequest& request, ControlReply reply) {
  Submit(std::make_shared<UnplugOperation>(env_, request, reply), reply);
}

void OperationService::Resize(const memhp::v1::ResizeRequest& request, ControlReply reply) {
  Submit(std::make_shared<ResizeOperation>(env_, request, reply), reply);
}

void OperationService::Policy(const memhp::v1::PolicyCommand& request, ControlReply reply) {
  ForwardPolicy(agent_, request, config_.timeouts.agent, std::move(reply));
}

void OperationService::Zones(ControlReply reply) {
  ForwardZoneReport(agent_, config_.timeouts.agent, std::move(reply));
}

void OperationService::OnQmpEvent(std::string_view name, const JsonNode& data) {
  if (Operation* op = Running()) op->OnQmpEvent(name, data);
}

void OperationService::OnAgentHello() { SendDeviceMap(); }

void OperationService::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (Operation* op = Running()) op->OnAgentEvent(event);
}

void OperationService::OnAgentLost() {
  if (Operation* op = Running()) op->OnAgentLost();
}

void OperationService::OnQemuGone(std::string_view reason) {
  if (Operation* op = Running()) op->OnQemuGone(reason);
}

void OperationService::SendDeviceMap() {
  std::weak_ptr<int> alive = alive_;
  qmp_.Execute("query-memory-devices", nullptr, config_.timeouts.qmp, [this, alive](qmp::Result r) {
    if (alive.expired() || !r.ok()) return;
    auto devices = qmp::ParseMemoryDevices(*r.value());
    if (!devices) return;
    memhp::v1::AgentRequest request;
    *request.mutable_device_map() = BuildDeviceMap(*devices.value, targets_);
    agent_.Request(std::move(request), config_.timeouts.agent, [](AgentReply reply) {
      if (!reply.response || reply.response->has_error()) {
        g_message("device map not taken by the agent: %s",
                  reply.response ? reply.response->error().message().c_str() : reply.error.c_str());
      }
    });
  });
}

}  // namespace memhp::daemon::operations
