// libvirt_supervisor — see libvirt_supervisor.h.
#include "daemon/control_error.h"
#include "daemon/libvirt/libvirt_supervisor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "daemon/agent_status.h"
#include "daemon/libvirt/domain_xml.h"
#include "daemon/libvirt/glib_event_impl.h"
#include "daemon/operation_routes.h"
#include "vm/state_dir.h"

namespace memhp::daemon::libvirt {
LibvirtSupervisor::LibvirtSupervisor(LibvirtSupervisorConfig config, GMainLoop* loop)
    : config_(std::move(config)),
      loop_(loop),
      context_(g_main_loop_get_context(loop)),
      agent_([this] { return ConnectAgent(); }, context_,
             AgentChannelListener{
                 .on_hello =
                     [this](const memhp::v1::Hello& hello) {
                       watch_.PublishNotice("agent_connected", hello);
                       if (operations_) operations_->OnAgentHello();
                     },
                 .on_event =
                     [this](const memhp::v1::AgentEvent& event) {
                       watch_.PublishAgent(event);
                       if (operations_) operations_->OnAgentEvent(event);
                     },
                 .on_lost =
                     [this] {
                       // The stream rides on the libvirt connection: when that broke, the
                       // operation in flight is left for the resume before it hears of the agent.
                       if (domain_ && !gone_ && !domain_->Alive()) {
                         OnConnectionLost("the libvirt connection to " + config_.uri + " broke");
                       }
                       if (!gone_) watch_.PublishNotice("agent_lost");
                       if (operations_) operations_->OnAgentLost();
                     },
                 .on_violation =
                     [this](const std::string& why) {
                       watch_.PublishNotice("guest_violation", JsonStringObject({{"reason", why}}));
                     },
             }),
      control_(context_, [this](const memhp::v1::ControlRequest& request, ControlReply reply) {
        Handle(request, std::move(reply));
      }),
      watch_(config_.vm_name),
      guest_(agent_, config_.agent_timeout) {}

LibvirtSupervisor::~LibvirtSupervisor() {
  if (reconnect_source_ != 0) g_source_remove(reconnect_source_);
}

Status LibvirtSupervisor::Lock() {
  if (mkdir(kLockDir, 0755) != 0 && errno != EEXIST) return Error::FromErrno(errno, "mkdir", kLockDir);
  const std::string path = std::string(kLockDir) + "/libvirt-" + domain_->uuid() + ".lock";
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return Error::FromErrno(errno, "open", path);
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      Error e{EBUSY, "another memhpd already serves libvirt domain '" + domain_->name() + "' (" + path + " is locked)"};
      e.code = memhp::v1::ERROR_CODE_BUSY;
      return e;
    }
    return Error::FromErrno(errno, "flock", path);
  }
  lock_ = std::move(fd);
  return OkStatus();
}

Status LibvirtSupervisor::Start() {
  if (!InstallGlibEventImpl(context_)) return Error::Invalid("libvirt's event loop is installed on another context");
  Result<std::unique_ptr<LibvirtDomain>> opened = LibvirtDomain::Open(config_.uri, config_.domain);
  if (!opened) return opened.error();
  domain_ = std::move(opened).value();
  if (Status locked = Lock(); !locked.ok()) return locked;
  if (Status subscribed = domain_->Subscribe(DomainListener{
          .on_device_removed =
              [this](const std::string& alias) {
                watch_.PublishNotice("libvirt_device_removed", JsonStringObject({{"alias", alias}}));
                if (operations_) operations_->OnDeviceEvent(ToDeviceEvent(LibvirtDeviceEvent::kRemoved, alias, 0));
              },
          .on_device_removal_failed =
              [this](const std::string& alias) {
                watch_.PublishNotice("libvirt_device_removal_failed", JsonStringObject({{"alias", alias}}));
                if (operations_) {
                  operations_->OnDeviceEvent(ToDeviceEvent(LibvirtDeviceEvent::kRemovalFailed, alias, 0));
                }
              },
          .on_memory_size_change =
              [this](const std::string& alias, uint64_t size) {
                watch_.PublishNotice("libvirt_memory_device_size_change",
                                     JsonStringObject({{"alias", alias}, {"size", std::to_string(size)}}));
                if (operations_) {
                  operations_->OnDeviceEvent(ToDeviceEvent(LibvirtDeviceEvent::kSizeChanged, alias, size));
                }
              },
          .on_gone = [this](const std::string& why) { OnGone(why); },
          .on_connection_lost = [this](const std::string& why) { OnConnectionLost(why); },
      });
      !subscribed.ok()) {
    return subscribed;
  }
  Result<std::string> xml = domain_->LiveXml();
  if (!xml) return xml.error();
  Result<DomainMemory> memory = ParseDomainMemory(*xml);
  if (!memory) return Error{memory.error().errno_value, "libvirt domain XML: " + memory.error().message};
  has_channel_ = memory->has_agent_channel;

  devices_ = std::make_unique<LibvirtMemoryDevices>(*domain_, context_);
  operations::OperationServiceConfig ops;
  ops.journal_path = vm::StateDir(config_.state_dir).journal();
  ops.timeouts.qmp = config_.timeout;
  ops.timeouts.agent = config_.agent_timeout;
  ops.publish = [this](std::string_view name, const google::protobuf::Message& data) {
    watch_.PublishOperation(name, data);
  };
  ops.notice = [this](std::string_view name, const google::protobuf::Message& data) { watch_.PublishNotice(name, data); };
  operations_ = std::make_unique<operations::OperationService>(std::move(ops), *devices_, guest_, context_);

  if (Status listening = control_.Listen(config_.control_socket); !listening.ok()) return listening;
  // The guest's claims are held against libvirt's view of the VM (guest_claims.h).
  agent_.SetLimits(VmLimits{.max_memory_bytes = memory->max_memory.value_or(0), .numa_nodes = memory->node_count});
  if (has_channel_) {
    agent_.Start();
  } else {
    g_message("libvirt domain '%s' has no channel %s: guest side unknown", domain_->name().c_str(),
              std::string(kAgentChannelName).c_str());
  }
  if (Status journal = operations_->Start(); !journal.ok()) {
    g_warning("%s: operations will fail until it is fixed", journal.error().message.c_str());
  }
  g_message("serving libvirt domain '%s' (%s) on %s", domain_->name().c_str(), domain_->uuid().c_str(),
            config_.uri.c_str());
  return OkStatus();
}

Result<UniqueFd> LibvirtSupervisor::ConnectAgent() {
  if (gone_ || !domain_) return Error{ENOTCONN, "the libvirt domain is gone"};
  bridge_.reset();
  // After our own connection died, libvirtd may still count the old stream as the channel's
  // holder: it releases a client's streams only when it sees the client go (at once for a
  // closed socket, after its keepalive for a silent network), and until then a plain open is
  // refused as "in use" — the agent would never be heard again. The old holder is this memhpd,
  // so it is taken over; any other holder is refused as before.
  Result<virStreamPtr> stream = domain_->OpenChannel(std::string(kAgentChannelName), reclaim_channel_);
  if (!stream) return stream.error();
  reclaim_channel_ = false;
  UniqueFd peer;
  Result<std::unique_ptr<StreamBridge>> bridge = StreamBridge::Create(*stream, context_, &peer);
  if (!bridge) return bridge.error();
  bridge_ = std::move(bridge).value();
  return peer;
}

void LibvirtSupervisor::QuitSoon() {
  // Give the answers a moment to leave before the loop (and the sockets) go.
  g_timeout_add(200, [](gpointer loop) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(loop));
    return G_SOURCE_REMOVE;
  }, loop_);
}

void LibvirtSupervisor::OnGone(const std::string& why) {
  if (gone_) return;
  gone_ = true;
  g_message("%s; memhpd ends", why.c_str());
  watch_.PublishNotice("qemu_gone", JsonStringObject({{"reason", why}}));
  if (operations_) operations_->OnQemuGone(why);
  QuitSoon();
}

void LibvirtSupervisor::OnConnectionLost(const std::string& why) {
  if (gone_ || reconnecting_) return;
  reconnecting_ = true;
  reconnect_deadline_us_ = g_get_monotonic_time() + config_.reconnect_window.count() * 1000;
  reconnect_delay_ms_ = 100;
  g_message("%s; reconnecting for up to %lld s", why.c_str(),
            static_cast<long long>(config_.reconnect_window.count() / 1000));
  watch_.PublishNotice("libvirt_connection_lost", JsonStringObject({{"reason", why}}));
  if (operations_) operations_->OnManagerUnreachable(why);
  reclaim_channel_ = has_channel_;
  // Not from here: this runs inside libvirt's close callback, which holds the connection's
  // close-callback lock, and the reconnect unregisters that callback
  // (virConnectUnregisterCloseCallback takes the same lock): called inline, memhpd deadlocked
  // for good (seen in a vm case that cut the connection). The loop runs it once this returns.
  reconnect_source_ = g_idle_add([](gpointer self) -> gboolean {
    auto* supervisor = static_cast<LibvirtSupervisor*>(self);
    // The agent's stream belonged to the closed connection and no longer carries anything; a
    // libvirt stream on a dead connection need not say so, so it is closed here, and the agent
    // channel's reconnect opens a new one on the new connection.
    supervisor->bridge_.reset();
    supervisor->TryReconnect();
    return G_SOURCE_REMOVE;
  }, this);
}

void LibvirtSupervisor::TryReconnect() {
  reconnect_source_ = 0;
  if (gone_) return;
  Status reconnected = domain_->Reconnect();
  if (reconnected.ok()) {
    reconnecting_ = false;
    g_message("reconnected to %s: resuming what was left in flight", config_.uri.c_str());
    watch_.PublishNotice("libvirt_reconnected", JsonStringObject({{"uri", config_.uri}}));
    if (operations_) operations_->ResumeLeftUnfinished();
    return;
  }
  if (IsGone(reconnected.error())) return OnGone(reconnected.error().message);
  if (g_get_monotonic_time() >= reconnect_deadline_us_) {
    return OnGone("libvirt did not answer on " + config_.uri + " again within " +
                  std::to_string(config_.reconnect_window.count() / 1000) + " s (" + reconnected.error().message + ")");
  }
  reconnect_source_ = g_timeout_add(reconnect_delay_ms_, [](gpointer self) -> gboolean {
    static_cast<LibvirtSupervisor*>(self)->TryReconnect();
    return G_SOURCE_REMOVE;
  }, this);
  reconnect_delay_ms_ = std::min<guint>(reconnect_delay_ms_ * 2, 2000);
}

void LibvirtSupervisor::Handle(const memhp::v1::ControlRequest& request, ControlReply reply) {
  switch (request.op_case()) {
    case memhp::v1::ControlRequest::kStatus:
      HandleStatus(request.status(), std::move(reply));
      return;
    case memhp::v1::ControlRequest::kStop:
      HandleStop(std::move(reply));
      return;
    case memhp::v1::ControlRequest::kQmp:
      reply(ErrorResponse(memhp::v1::ERROR_CODE_UNSUPPORTED,
                          "raw QMP is refused on a libvirt domain: libvirt owns its monitor and marks a domain that "
                          "gets raw QMP as tainted (use virsh qemu-monitor-command if you must)"));
      return;
    case memhp::v1::ControlRequest::kAudit:
      reply(ErrorResponse(memhp::v1::ERROR_CODE_UNSUPPORTED,
                          "the audit plugin is refused on a libvirt domain: loading it needs <qemu:commandline>, which "
                          "taints the domain"));
      return;
    default:
      if (RouteOperation(request, reply, *operations_, watch_, agent_)) return;
  }
  reply(ErrorResponse(memhp::v1::ERROR_CODE_UNSUPPORTED, "unknown request kind"));
}

void LibvirtSupervisor::HandleStop(ControlReply reply) {
  memhp::v1::ControlResponse response;
  if (config_.on_stop == StopAction::kDestroy && !gone_) {
    // virDomainDestroy returns once QEMU is gone (libvirt kills it and waits).
    if (Status destroyed = domain_->Destroy(); !destroyed.ok()) {
      reply(ErrorResponse(memhp::v1::ERROR_CODE_LIBVIRT, destroyed.error().message));
      return;
    }
    response.mutable_stop()->set_qemu_exited(true);
    reply(std::move(response));
    OnGone("memhpctl stop destroyed the libvirt domain");
    return;
  }
  // An operator's domain is libvirt's: memhpd stops serving it and leaves it running.
  response.mutable_stop()->set_qemu_exited(gone_);
  reply(std::move(response));
  g_message("stop: memhpd ends; libvirt domain '%s' keeps running", domain_->name().c_str());
  QuitSoon();
}

void LibvirtSupervisor::HandleStatus(const memhp::v1::StatusRequest& request, ControlReply reply) {
  auto status = std::make_shared<memhp::v1::VmStatus>();
  status->set_vm_name(config_.vm_name);
  status->set_state_dir(config_.state_dir);
  status->set_memhpd_pid(getpid());
  auto* lv = status->mutable_libvirt();
  lv->set_uri(config_.uri);
  lv->set_domain(domain_->name());
  lv->set_uuid(domain_->uuid());
  lv->set_agent_channel(has_channel_);
  Result<std::string> xml = domain_->LiveXml();
  Result<DomainMemory> memory = xml ? ParseDomainMemory(*xml) : Result<DomainMemory>(xml.error());
  if (!memory) {
    reply(ErrorResponse(static_cast<memhp::v1::ErrorCode>(memory.error().code ? memory.error().code
                                                                              : memhp::v1::ERROR_CODE_LIBVIRT),
                        memory.error().message));
    return;
  }
  auto* qemu = status->mutable_qemu();
  qemu->set_connected(domain_->connected());
  qemu->set_version(domain_->hypervisor_version());
  qemu->set_run_state(gone_ ? "shutdown" : "running");
  qemu->set_base_memory(memory->base_memory);
  qemu->set_plugged_memory(memory->plugged_memory);
  for (auto& device : memory->devices) *status->add_devices() = std::move(device);
  FillAgentStatus(agent_, status->mutable_agent());
  if (operations_) *status->mutable_autoscale() = operations_->autoscale_state();
  if (!request.refresh_inventory() || !agent_.agent_connected()) {
    memhp::v1::ControlResponse response;
    *response.mutable_status() = std::move(*status);
    reply(std::move(response));
    return;
  }
  memhp::v1::AgentRequest inventory_request;
  inventory_request.mutable_inventory();
  agent_.Request(std::move(inventory_request), config_.agent_timeout, [status, reply](AgentReply r) {
    if (r.ok() && r.value().has_inventory()) {
      *status->mutable_agent()->mutable_inventory() = r.value().inventory();
    } else {
      g_message("status with gaps: agent inventory: %s",
                (r.ok() ? r.value().error().message() : r.error().message).c_str());
    }
    memhp::v1::ControlResponse response;
    *response.mutable_status() = std::move(*status);
    reply(std::move(response));
  });
}

}  // namespace memhp::daemon::libvirt
