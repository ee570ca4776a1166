// operation_service — see operation_service.h.
#include "daemon/operations/operation_service.h"

#include <algorithm>

#include "daemon/operations/agent_passthrough.h"
#include "daemon/operations/agent_turn.h"
#include "daemon/operations/device_map.h"
#include "daemon/operations/dry_run.h"
#include "daemon/operations/plug_machine.h"
#include "daemon/operations/resize_machine.h"
#include "daemon/operations/unplug_machine.h"

namespace memhp::daemon::operations {

OperationService::OperationService(OperationServiceConfig config, MemoryDevices& devices, GuestAgent& agent,
                                   GMainContext* context)
    : config_(std::move(config)),
      devices_(devices),
      agent_(agent),
      journal_(config_.journal_path, config_.journal_limits),
      env_(RunnerEnv{devices_, agent_, journal_, context, targets_, config_.publish,
                     [this](uint64_t id) { left_unfinished_.push_back(id); }}),
      queue_(context),
      autoscaler_(AutoscalePorts(), context) {}

autoscale::AutoscalerPorts OperationService::AutoscalePorts() {
  autoscale::AutoscalerPorts ports;
  ports.list_devices = [this](Done<std::vector<memhp::v1::MemoryDevice>> done) { devices_.ListDevices(std::move(done)); };
  ports.resize = [this](const memhp::v1::ResizeRequest& request, ControlReply reply) { Resize(request, std::move(reply)); };
  ports.dry_run = [this](const memhp::v1::DryRunCommand& command, ControlReply reply) { DryRun(command, std::move(reply)); };
  ports.read_pressure = [this](Done<memhp::v1::MemoryPressure> done) {
    if (!agent_.connected()) return done(Error{ENOTCONN, "no agent is connected"});
    agent_.ZoneReport([done](Result<memhp::v1::ZoneReport> report) {
      if (!report.ok()) return done(report.error());
      if (!report.value().has_pressure()) return done(Error{ENODATA, "the agent's zone report has no pressure reading"});
      done(report.value().pressure());
    });
  };
  // Asked only while none of the autoscaler's own calls is open, so anything queued is another's.
  ports.others_busy = [this] { return queue_.current() != nullptr || queue_.waiting() > 0; };
  ports.notice = [this](std::string_view name, const google::protobuf::Message& data) {
    if (config_.notice) config_.notice(name, data);
  };
  return ports;
}

void OperationService::Autoscale(const memhp::v1::AutoscaleCommand& command, ControlReply reply) {
  autoscaler_.Command(command, std::move(reply));
}

OperationService::~OperationService() = default;

Status OperationService::Start() {
  if (Status opened = journal_.Open(); !opened.ok()) {
    return Error{opened.error().errno_value, "journal: " + opened.error().message};
  }
  if (journal_.torn_tail_dropped()) g_warning("journal %s: a torn last record was dropped", journal_.path().c_str());
  for (const JournalOp& op : journal_.Unfinished()) {
    if (!QueueResume(op, ResumeCause::kRestart)) return Error{EBUSY, "cannot queue the recovery of operation " + std::to_string(op.id)};
  }
  return OkStatus();
}

bool OperationService::QueueResume(const JournalOp& op, ResumeCause cause) {
  MachineFn machine;
  switch (op.params.kind) {
    case memhp::v1::OPERATION_KIND_PLUG: machine = MakeMachine(ResumePlug(op, cause), NextPlug); break;
    case memhp::v1::OPERATION_KIND_UNPLUG: machine = MakeMachine(ResumeUnplug(op, cause), NextUnplug); break;
    case memhp::v1::OPERATION_KIND_RESIZE: machine = MakeMachine(ResumeResize(op, cause), NextResize); break;
    default:
      // A kind this memhpd does not know cannot be decided on: end it so it does not come back.
      if (Status ended = journal_.End(op.id, memhp::v1::OPERATION_OUTCOME_FAILED,
                                      "recovered: unknown operation kind", true, 0);
          !ended.ok()) {
        g_warning("journal: %s", ended.error().message.c_str());
      }
      return true;
  }
  return queue_.Submit(std::make_shared<OperationRunner>(env_, op, std::move(machine)));
}

void OperationService::ResumeLeftUnfinished() {
  std::vector<uint64_t> ids;
  ids.swap(left_unfinished_);
  for (const JournalOp& op : journal_.Unfinished()) {
    if (std::find(ids.begin(), ids.end(), op.id) == ids.end()) continue;
    if (!QueueResume(op, ResumeCause::kReconnect)) g_warning("journal: cannot queue the recovery of operation %llu", static_cast<unsigned long long>(op.id));
  }
}

OperationRunner* OperationService::Running() const { return dynamic_cast<OperationRunner*>(queue_.current()); }

void OperationService::Submit(std::shared_ptr<Queueable> op, const ControlReply& reply) {
  if (queue_.Submit(std::move(op))) return;
  memhp::v1::ControlResponse response;
  response.mutable_error()->set_code(memhp::v1::ERROR_CODE_BUSY);
  response.mutable_error()->set_message("too many operations waiting (" + std::to_string(kMaxQueuedOperations) +
                                        "); try again later");
  reply(std::move(response));
}

void OperationService::Plug(const memhp::v1::PlugRequest& request, ControlReply reply) {
  Submit(std::make_shared<OperationRunner>(env_, memhp::v1::OPERATION_KIND_PLUG, request.device_id(),
                                           MakeMachine(BeginPlug(request, config_.timeouts), NextPlug), reply),
         reply);
}

void OperationService::Unplug(const memhp::v1::UnplugRequest& request, ControlReply reply) {
  Submit(std::make_shared<OperationRunner>(env_, memhp::v1::OPERATION_KIND_UNPLUG, request.device_id(),
                                           MakeMachine(BeginUnplug(request, config_.timeouts), NextUnplug), reply),
         reply);
}

void OperationService::Resize(const memhp::v1::ResizeRequest& request, ControlReply reply) {
  Submit(std::make_shared<OperationRunner>(env_, memhp::v1::OPERATION_KIND_RESIZE, request.device_id(),
                                           MakeMachine(BeginResize(request, config_.timeouts), NextResize), reply),
         reply);
}

void OperationService::BlockOp(const memhp::v1::BlockOpCommand& request, ControlReply reply) {
  GuestAgent& agent = agent_;
  Submit(std::make_shared<AgentTurn>(
             [&agent, request, reply](std::function<void()> done) {
               ForwardBlockOp(agent, request, reply, std::move(done));
             },
             reply),
         reply);
}

void OperationService::Policy(const memhp::v1::PolicyCommand& request, ControlReply reply) {
  if (!ChangesPolicy(request)) {
    ForwardPolicy(agent_, request, std::move(reply));
    return;
  }
  GuestAgent& agent = agent_;
  Submit(std::make_shared<AgentTurn>(
             [&agent, request, reply](std::function<void()> done) {
               ForwardPolicy(agent, request, reply, std::move(done));
             },
             reply),
         reply);
}

void OperationService::Zones(ControlReply reply) { ForwardZoneReport(agent_, std::move(reply)); }

void OperationService::DryRun(const memhp::v1::DryRunCommand& command, ControlReply reply) {
  auto fail = [](const ControlReply& to, const Error& error) {
    memhp::v1::ControlResponse response;
    *response.mutable_error() = ToProtoError(error, memhp::v1::ERROR_CODE_FAILED);
    to(std::move(response));
  };
  if (!agent_.connected()) {
    Error e{ENOTCONN, "no agent is connected: the guest cannot be asked for an estimate"};
    e.code = memhp::v1::ERROR_CODE_UNAVAILABLE;
    fail(reply, e);
    return;
  }
  const Liveness::Token alive = alive_.token();
  devices_.ListDevices([this, alive, command, reply, fail](Result<std::vector<memhp::v1::MemoryDevice>> devices) {
    if (alive.Expired()) return;
    if (!devices.ok()) return fail(reply, devices.error());
    Result<DryRunPlan> planned = PlanDryRun(command, devices.value(), agent_.block_size());
    if (!planned.ok()) return fail(reply, planned.error());
    auto plan = std::make_shared<DryRunPlan>(std::move(planned).value());
    auto answer = [reply](const DryRunPlan& p, std::optional<memhp::v1::UnplugEstimate> e,
                          std::optional<memhp::v1::UnplugEstimate> first) {
      memhp::v1::ControlResponse response;
      *response.mutable_dry_run() = FinishDryRun(p, e, first);
      reply(std::move(response));
    };
    if (!plan->estimate) return answer(*plan, std::nullopt, std::nullopt);
    agent_.Estimate(*plan->estimate, [this, alive, plan, reply, fail, answer](Result<memhp::v1::UnplugEstimate> e) {
      if (alive.Expired()) return;
      if (!e.ok()) return fail(reply, e.error());
      if (!plan->offline_first) return answer(*plan, e.value(), std::nullopt);
      memhp::v1::UnplugEstimate driver = std::move(e).value();
      agent_.Estimate(*plan->offline_first, [alive, plan, reply, fail, answer, driver](Result<memhp::v1::UnplugEstimate> f) {
        if (alive.Expired()) return;
        if (!f.ok()) return fail(reply, f.error());
        answer(*plan, driver, f.value());
      });
    });
  });
}

void OperationService::OnDeviceEvent(const DeviceEvent& event) {
  if (OperationRunner* op = Running()) op->OnDeviceEvent(event);
}

void OperationService::OnAgentHello() { SendDeviceMap(); }

void OperationService::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (OperationRunner* op = Running()) op->OnAgentEvent(event);
  // A replayed event is old news: pressure that was, not pressure that is.
  if (event.replayed()) return;
  if (event.has_pressure()) autoscaler_.OnPressureEvent(event.pressure());
  if (event.has_zone_report() && event.zone_report().has_pressure()) {
    autoscaler_.OnPressureReading(event.zone_report().pressure());
  }
}

void OperationService::OnAgentLost() {
  if (OperationRunner* op = Running()) op->OnAgentLost();
}

void OperationService::OnQemuGone(std::string_view reason) {
  if (OperationRunner* op = Running()) op->OnQemuGone(reason);
}

void OperationService::OnManagerUnreachable(std::string_view reason) {
  if (OperationRunner* op = Running()) op->OnManagerUnreachable(reason);
}

void OperationService::SendDeviceMap() {
  const Liveness::Token alive = alive_.token();
  devices_.ListDevices([this, alive](Result<std::vector<memhp::v1::MemoryDevice>> devices) {
    if (alive.Expired() || !devices.ok()) return;
    agent_.SendDeviceMap(BuildDeviceMap(devices.value(), targets_), [](Result<uint32_t> taken) {
      if (!taken.ok()) g_message("device map not taken by the agent: %s", taken.error().message.c_str());
    });
  });
}

}  // namespace memhp::daemon::operations
