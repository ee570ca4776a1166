// memhpd — Supervisor (see supervisor.h).
#include "daemon/control_error.h"
#include "daemon/supervisor.h"

#include <signal.h>
#include <cerrno>
#include <unistd.h>

#include <utility>

#include "daemon/agent_status.h"
#include "daemon/operation_routes.h"
#include "daemon/qemu/qemu_facts.h"
#include "qmp/memory_devices.h"
#include "qmp/qmp_json.h"
#include "qmp/qmp_sync.h"
#include "vm/state_dir.h"

namespace memhp::daemon {
namespace {

// Collects the parts of one status answer; the last part to arrive sends it. A QMP query that
// failed, or answered in a shape QEMU's schema does not allow, fails the whole status with
// ERROR_CODE_QMP: without QEMU's answers the status would report "base 0 B, no devices" as if
// that were true. The agent's part is best effort (the agent may be booting).
struct StatusGather {
  memhp::v1::VmStatus status;
  std::vector<std::string> qmp_problems;
  std::vector<std::string> problems;
  int outstanding = 0;
  ControlReply reply;

  void Done() {
    if (--outstanding > 0) return;
    memhp::v1::ControlResponse response;
    if (!qmp_problems.empty()) {
      std::string joined;
      for (const auto& p : qmp_problems) joined += (joined.empty() ? "" : "; ") + p;
      g_warning("status failed: QMP: %s", joined.c_str());
      reply(ErrorResponse(memhp::v1::ERROR_CODE_QMP, "QMP is broken: " + joined));
      return;
    }
    if (!problems.empty()) {
      // The status is still worth having; the problems say what is missing from it.
      std::string joined;
      for (const auto& p : problems) joined += (joined.empty() ? "" : "; ") + p;
      g_message("status with gaps: %s", joined.c_str());
    }
    *response.mutable_status() = std::move(status);
    reply(std::move(response));
  }
};

}  // namespace

Supervisor::Supervisor(SupervisorConfig config, GMainLoop* loop)
    : config_(std::move(config)),
      loop_(loop),
      context_(g_main_loop_get_context(loop)),
      qmp_(context_),
      agent_(config_.agent_socket, context_,
             AgentChannelListener{
                 .on_hello = [this](const memhp::v1::Hello& hello) { OnAgentHello(hello); },
                 .on_event = [this](const memhp::v1::AgentEvent& event) { OnAgentEvent(event); },
                 .on_lost = [this] { OnAgentLost(); },
                 .on_violation =
                     [this](const std::string& why) {
                       watch_.PublishNotice("guest_violation", JsonStringObject({{"reason", why}}));
                     },
             }),
      control_(context_, [this](const memhp::v1::ControlRequest& request, ControlReply reply) {
        Handle(request, std::move(reply));
      }),
      watch_(config_.vm_name),
      devices_(qmp_, config_.qmp_timeout),
      guest_(agent_, config_.agent_timeout),
      operations_(OperationsConfig(config_), devices_, guest_, context_) {}

Supervisor::~Supervisor() = default;

operations::OperationServiceConfig Supervisor::OperationsConfig(const SupervisorConfig& config) {
  operations::OperationServiceConfig out;
  out.journal_path = vm::StateDir(config.state_dir).journal();
  out.timeouts.qmp = config.qmp_timeout;
  out.timeouts.agent = config.agent_timeout;
  // watch_ is constructed before operations_ (member order), so this is safe from the start.
  out.publish = [this](std::string_view name, const google::protobuf::Message& data) {
    watch_.PublishOperation(name, data);
  };
  out.notice = [this](std::string_view name, const google::protobuf::Message& data) { watch_.PublishNotice(name, data); };
  return out;
}

VmLimits Supervisor::QueryVmLimits() {
  // QEMU's own view of the VM, to hold the guest's claims against (guest_claims.h). Asked once:
  // neither maxmem nor the node count changes while the VM runs. Without them only the fixed
  // bounds apply, which is said in the log.
  VmLimits limits;
  qmp::CommandResult memory = qmp::ExecuteSync(
      qmp_, "qom-get", qmp::JsonObjectBuilder().SetString("path", "/machine").SetString("property", "memory").Build(),
      config_.qmp_timeout);
  if (memory.ok()) {
    if (auto parsed = qemu::ParseMachineMemory(*memory.value())) {
      limits.max_memory_bytes = parsed->max_size;
    } else {
      g_warning("guest limits: /machine memory: %s", parsed.error().message.c_str());
    }
  } else {
    g_warning("guest limits: qom-get /machine memory: %s", memory.error().message.c_str());
  }
  qmp::CommandResult numa = qmp::ExecuteSync(
      qmp_, "human-monitor-command", qmp::JsonObjectBuilder().SetString("command-line", "info numa").Build(),
      config_.qmp_timeout);
  JsonNode* text = numa.ok() ? numa->get() : nullptr;
  if (text != nullptr && JSON_NODE_HOLDS_VALUE(text) && json_node_get_value_type(text) == G_TYPE_STRING) {
    if (auto nodes = qemu::ParseInfoNumaNodeCount(json_node_get_string(text))) limits.numa_nodes = *nodes;
  } else {
    g_warning("guest limits: info numa gave no node count");
  }
  g_message("guest limits: maxmem %llu bytes, %u NUMA node(s)",
            static_cast<unsigned long long>(limits.max_memory_bytes), limits.numa_nodes);
  return limits;
}

long Supervisor::QemuPid() const {
  return config_.qemu_pidfile.empty() ? 0 : vm::ReadLivePid(config_.qemu_pidfile);
}

Status Supervisor::Start() {
  qmp_.SetListener(qmp::QmpListener{
      .on_event = [this](std::string_view name, const JsonNode& data, const qmp::Timestamp& timestamp) {
        OnQmpEvent(name, data, timestamp);
      },
      .on_disconnected = [this](std::string_view reason) { OnQemuGone(reason); },
  });
  if (Status connected = qmp::ConnectSync(qmp_, config_.qmp_socket); !connected.ok()) {
    return Error{connected.error().errno_value, "QMP " + config_.qmp_socket + ": " + connected.error().message};
  }
  if (Status listening = control_.Listen(config_.control_socket); !listening.ok()) return listening;
  agent_.SetLimits(QueryVmLimits());
  agent_.Start();
  // The journal and the reconcile of what a previous memhpd left in flight (QMP is up now).
  if (Status journal = operations_.Start(); !journal.ok()) {
    g_warning("%s: operations will fail until it is fixed", journal.error().message.c_str());
  }
  if (!config_.audit_socket.empty()) {
    audit_ = std::make_unique<AuditLink>(config_.audit_socket, config_.audit_arm, context_, &qmp_);
    audit_->Start();
  }
  return OkStatus();
}

void Supervisor::OnQemuGone(std::string_view reason) {
  if (qemu_gone_) return;
  qemu_gone_ = true;
  g_message("QEMU is gone (%.*s); memhpd ends", static_cast<int>(reason.size()), reason.data());
  watch_.PublishNotice("qemu_gone", JsonStringObject({{"reason", reason}}));
  // An operation in flight ends now, journaled, saying that QEMU went away under it.
  operations_.OnQemuGone(reason);
  for (ControlReply& reply : stop_waiters_) {
    memhp::v1::ControlResponse response;
    response.mutable_stop()->set_qemu_exited(true);
    reply(std::move(response));
  }
  stop_waiters_.clear();
  // Give the answers a moment to leave before the loop (and the sockets) go.
  g_timeout_add(200, [](gpointer loop) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(loop));
    return G_SOURCE_REMOVE;
  }, loop_);
}

void Supervisor::Handle(const memhp::v1::ControlRequest& request, ControlReply reply) {
  switch (request.op_case()) {
    case memhp::v1::ControlRequest::kStatus:
      HandleStatus(request.status(), std::move(reply));
      return;
    case memhp::v1::ControlRequest::kStop:
      HandleStop(request.stop(), std::move(reply));
      return;
    case memhp::v1::ControlRequest::kQmp:
      HandleQmp(request.qmp(), std::move(reply));
      return;
    case memhp::v1::ControlRequest::kAudit:
      HandleAudit(request.audit(), std::move(reply));
      return;
    default:
      if (RouteOperation(request, reply, operations_, watch_, agent_)) return;
  }
  reply(ErrorResponse(memhp::v1::ERROR_CODE_UNSUPPORTED, "unknown request kind"));
}

void Supervisor::HandleStatus(const memhp::v1::StatusRequest& request, ControlReply reply) {
  auto gather = std::make_shared<StatusGather>();
  gather->reply = std::move(reply);
  memhp::v1::VmStatus& status = gather->status;
  status.set_vm_name(config_.vm_name);
  status.set_state_dir(config_.state_dir);
  status.set_memhpd_pid(getpid());
  auto* qemu = status.mutable_qemu();
  qemu->set_connected(qmp_.connected());
  qemu->set_pid(QemuPid());
  qemu->set_accel(config_.accel);
  if (const qmp::Greeting* greeting = qmp_.greeting()) qmp::ApplyTo(*greeting, *qemu);

  FillAgentStatus(agent_, status.mutable_agent());
  *status.mutable_autoscale() = operations_.autoscale_state();

  gather->outstanding = 4;  // three QMP queries + the agent inventory (or its absence)
  const auto timeout = config_.status_qmp_timeout;
  qmp_.Execute("query-memory-devices", nullptr, timeout, [gather](qmp::CommandResult r) {
    if (!r.ok()) {
      gather->qmp_problems.push_back("query-memory-devices: " + r.error().message);
    } else if (auto devices = qmp::ParseMemoryDevices(*r.value())) {
      for (auto& device : *devices) *gather->status.add_devices() = std::move(device);
    } else {
      gather->qmp_problems.push_back(devices.error().message);
    }
    gather->Done();
  });
  qmp_.Execute("query-status", nullptr, timeout, [gather](qmp::CommandResult r) {
    if (!r.ok()) {
      gather->qmp_problems.push_back("query-status: " + r.error().message);
    } else if (auto s = qmp::ParseStatus(*r.value())) {
      qmp::ApplyTo(*s, *gather->status.mutable_qemu());
    } else {
      gather->qmp_problems.push_back(s.error().message);
    }
    gather->Done();
  });
  qmp_.Execute("query-memory-size-summary", nullptr, timeout, [gather](qmp::CommandResult r) {
    if (!r.ok()) {
      gather->qmp_problems.push_back("query-memory-size-summary: " + r.error().message);
    } else if (auto s = qmp::ParseMemorySizeSummary(*r.value())) {
      qmp::ApplyTo(*s, *gather->status.mutable_qemu());
    } else {
      gather->qmp_problems.push_back(s.error().message);
    }
    gather->Done();
  });
  if (!request.refresh_inventory() || !agent_.agent_connected()) {
    gather->Done();
    return;
  }
  memhp::v1::AgentRequest inventory_request;
  inventory_request.mutable_inventory();
  agent_.Request(std::move(inventory_request), config_.agent_timeout, [gather](AgentReply r) {
    if (r.ok() && r.value().has_inventory()) {
      *gather->status.mutable_agent()->mutable_inventory() = r.value().inventory();
    } else {
      gather->problems.push_back("agent inventory: " + (r.ok() ? r.value().error().message() : r.error().message));
    }
    gather->Done();
  });
}

void Supervisor::HandleStop(const memhp::v1::StopRequest& request, ControlReply reply) {
  if (qemu_gone_) {
    memhp::v1::ControlResponse response;
    response.mutable_stop()->set_qemu_exited(true);
    reply(std::move(response));
    return;
  }
  stop_waiters_.push_back(std::move(reply));
  if (stop_waiters_.size() > 1) return;  // a quit is already on its way
  const auto timeout = std::chrono::milliseconds(request.timeout_ms() ? request.timeout_ms() : 10000);
  qmp_.Execute("quit", nullptr, timeout, [this](qmp::CommandResult r) {
    // QEMU answers quit and then closes QMP; OnQemuGone answers the waiters. If quit failed
    // (QEMU wedged), fall back to the pid we launched, then wait for the disconnect.
    if (r.ok() || r.error().code == memhp::v1::ERROR_CODE_UNAVAILABLE) return;
    g_warning("quit failed: %s", r.error().message.c_str());
    std::string why = "quit failed: " + r.error().message;
    if (const long pid = QemuPid()) {
      if (kill(static_cast<pid_t>(pid), SIGKILL) == 0) return;  // the disconnect answers the waiters
      // Not killed (gone meanwhile, or not ours to kill): nothing will close QMP for us.
      why += std::string("; kill -KILL ") + std::to_string(pid) + ": " + g_strerror(errno);
      g_warning("%s", why.c_str());
    }
    for (ControlReply& waiter : stop_waiters_) waiter(ErrorResponse(memhp::v1::ERROR_CODE_QMP, why));
    stop_waiters_.clear();
  });
}

}  // namespace memhp::daemon

namespace memhp::daemon {

void Supervisor::HandleQmp(const memhp::v1::QmpCommand& request, ControlReply reply) {
  if (request.command().empty()) {
    reply(ErrorResponse(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, "no QMP command given"));
    return;
  }
  qmp::JsonNodePtr arguments;
  if (!request.arguments_json().empty()) {
    memhp::Result<qmp::JsonNodePtr> parsed = qmp::ParseJson(request.arguments_json());
    if (!parsed || !qmp::AsObject(parsed->get())) {
      reply(ErrorResponse(memhp::v1::ERROR_CODE_INVALID_ARGUMENT,
                          "QMP arguments must be a JSON object" + (parsed ? std::string() : ": " + parsed.error().message)));
      return;
    }
    arguments = std::move(*parsed);
  }
  const auto timeout = request.timeout_ms() ? std::chrono::milliseconds(request.timeout_ms()) : config_.qmp_timeout;
  qmp_.Execute(request.command(), std::move(arguments), timeout, [reply](qmp::CommandResult r) {
    if (!r.ok()) {
      // The client's code as it is, except that a protocol error is answered as UNAVAILABLE:
      // to whoever sent the command, QEMU did not answer it.
      const int code = r.error().code;
      reply(ErrorResponse(code == memhp::v1::ERROR_CODE_MALFORMED ? memhp::v1::ERROR_CODE_UNAVAILABLE
                                                                  : static_cast<memhp::v1::ErrorCode>(code),
                          r.error().message));
      return;
    }
    memhp::v1::ControlResponse response;
    response.mutable_qmp()->set_return_json(qmp::ToJson(r->get()));
    reply(std::move(response));
  });
}

}  // namespace memhp::daemon

// --- Taps: QMP and agent news passed on to the audit link, the watch stream and the operations;
// then the audit link's requests (the operations' own are routed by operation_routes.h). ---
namespace memhp::daemon {

void Supervisor::OnQmpEvent(std::string_view name, const JsonNode& data,
                            const qmp::Timestamp& timestamp) {
  if (audit_) audit_->OnQmpEvent(name, data);
  // QEMU stamps events with the host's wall clock; -1 when it could not read it (0 = now).
  const uint64_t qemu_ns = timestamp.seconds < 0 ? 0
                           : static_cast<uint64_t>(timestamp.seconds) * 1'000'000'000u +
                                 static_cast<uint64_t>(timestamp.microseconds) * 1000u;
  watch_.PublishQmp(name, qmp::ToJson(&data), qemu_ns);
  if (auto event = qemu::ToDeviceEvent(name, data)) operations_.OnDeviceEvent(*event);
  g_message("QMP event %.*s", static_cast<int>(name.size()), name.data());
}

void Supervisor::OnAgentHello(const memhp::v1::Hello& hello) {
  if (audit_) audit_->OnAgentHello(hello);
  watch_.PublishNotice("agent_connected", hello);
  operations_.OnAgentHello();
}

void Supervisor::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (audit_) audit_->OnAgentEvent(event);
  watch_.PublishAgent(event);
  operations_.OnAgentEvent(event);
}

void Supervisor::OnAgentLost() {
  // When QEMU quits, QMP and the agent's chardev close in either order; after qemu_gone the
  // agent is gone with the VM, and "qemu_gone" stays a watch stream's last line.
  if (!qemu_gone_) watch_.PublishNotice("agent_lost");
  operations_.OnAgentLost();
}

// The plugin's report, after an arm or disarm when asked; the plugin answers in order, so the
// report already reflects the arm.
void Supervisor::HandleAudit(const memhp::v1::AuditCommand& request, ControlReply reply) {
  if (!audit_) {
    reply(ErrorResponse(memhp::v1::ERROR_CODE_UNAVAILABLE, "VM launched without --audit"));
    return;
  }
  if (request.arm() && request.disarm()) {
    reply(ErrorResponse(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, "arm or disarm, not both"));
    return;
  }
  if (request.arm() || request.disarm()) audit_->SetArmed(request.arm(), nullptr);
  memhp::v1::AuditRequest report;
  report.mutable_report()->set_include_json(request.include_json());
  audit_->Request(std::move(report), std::chrono::seconds(10), [reply](AuditReply r) {
    if (!r.ok()) {
      reply(ErrorResponse(static_cast<memhp::v1::ErrorCode>(r.error().code), r.error().message));
      return;
    }
    memhp::v1::ControlResponse response;
    if (r.value().has_error()) {
      *response.mutable_error() = r.value().error();
    } else {
      *response.mutable_audit() = r.value().report();
    }
    reply(std::move(response));
  });
}

}  // namespace memhp::daemon
