// memhpd — AuditLink (see audit_link.h).
#include "daemon/audit_link.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "qmp/memory_devices.h"
#include "qmp/qmp_json.h"
#include "wire/unix_connect.h"

namespace memhp::daemon {
namespace {

namespace v1 = memhp::v1;
using namespace std::chrono_literals;

// QEMU may still be starting: try its plugin's socket every second (a fixed interval).
constexpr wire::Backoff kReconnect{.initial_ms = 1000, .max_ms = 1000};
// Agent events come in bursts (GOING_ONLINE, ONLINE, inventory): one refresh after they settle.
constexpr guint kRefreshDelayMs = 100;
constexpr auto kQmpTimeout = 10s;
constexpr auto kPluginTimeout = 5s;

uint64_t MonotonicNs() { return static_cast<uint64_t>(g_get_monotonic_time()) * 1000; }

void DestroySource(GSource*& source) {
  if (source == nullptr) return;
  g_source_destroy(source);
  g_source_unref(source);
  source = nullptr;
}

}  // namespace

AuditLink::AuditLink(std::string socket_path, ArmPolicy arm_policy, GMainContext* context,
                     qmp::QmpClient* qmp)
    : socket_path_(std::move(socket_path)),
      arm_policy_(arm_policy),
      context_(context),
      qmp_(qmp),
      reconnect_timer_(context, kReconnect, [this] { TryConnect(); }),
      pending_(context, "the audit plugin") {}

AuditLink::~AuditLink() { DestroySource(refresh_timer_); }

void AuditLink::Start() { TryConnect(); }

void AuditLink::TryConnect() {
  const int fd = wire::ConnectUnix(socket_path_);
  if (fd < 0) {
    std::string why = "connect " + socket_path_ + ": " + g_strerror(-fd);
    if (why != last_connect_error_) g_message("audit plugin socket: %s (retrying)", why.c_str());
    last_connect_error_ = std::move(why);
    reconnect_timer_.Schedule();
    return;
  }
  last_connect_error_.clear();
  g_message("audit plugin socket %s connected", socket_path_.c_str());
  stream_ = std::make_unique<wire::FramedStream>(
      fd, context_,
      wire::FramedStreamCallbacks{
          .on_frame = [this](std::string payload) { OnFrame(std::move(payload)); },
          .on_closed = [this](wire::CloseReason, int) { OnClosed(); },
          .on_drained = nullptr,
      });
  last_sent_.reset();  // the plugin may have restarted with QEMU: send everything again
  if (want_armed_) SendArm(*want_armed_, nullptr);
  ScheduleRefresh();
}

void AuditLink::OnClosed() {
  g_message("audit plugin socket closed");
  stream_.reset();
  pending_.FailAll(v1::ERROR_CODE_UNAVAILABLE, "the audit plugin's socket closed");
  TryConnect();
}

void AuditLink::OnFrame(std::string payload) {
  v1::AuditResponse response;
  if (!response.ParseFromString(payload)) {
    g_warning("audit plugin: a frame that is not an AuditResponse (dropped)");
    return;
  }
  const uint64_t id = response.id();
  if (!pending_.Finish(id, AuditReply(std::move(response)))) {
    g_debug("audit plugin: answer to unknown id %" G_GUINT64_FORMAT, id);
  }
}

void AuditLink::Request(v1::AuditRequest request, std::chrono::milliseconds timeout,
                        AuditReplyCallback done) {
  if (!stream_) {
    if (done) {
      done(wire::NoReply(v1::ERROR_CODE_UNAVAILABLE, "the audit plugin's socket " + socket_path_ + " is not connected"));
    }
    return;
  }
  const uint64_t id = pending_.NextId();
  request.set_id(id);
  if (stream_->SendMessage(request) != wire::SendStatus::kQueued) {
    if (done) done(wire::NoReply(v1::ERROR_CODE_FAILED, "could not send to the audit plugin"));
    return;
  }
  pending_.Wait(id, timeout, std::move(done));
}

void AuditLink::SetArmed(bool armed, AuditReplyCallback done) {
  want_armed_ = armed;
  SendArm(armed, std::move(done));
}

void AuditLink::SendArm(bool armed, AuditReplyCallback done) {
  v1::AuditRequest request;
  request.mutable_arm()->set_armed(armed);
  Request(std::move(request), kPluginTimeout, [armed, done = std::move(done)](AuditReply r) {
    if (!r.ok() || r.value().has_error()) {
      g_warning("audit plugin: %s failed: %s", armed ? "arm" : "disarm",
                r.ok() ? r.value().error().message().c_str() : r.error().message.c_str());
    } else {
      g_message("audit plugin %s", r.value().armed() ? "armed" : "disarmed");
    }
    if (done) done(std::move(r));
  });
}

// --- Taps ---

void AuditLink::OnQmpEvent(std::string_view name, const JsonNode& data) {
  if (name == "DEVICE_DELETED") {
    const std::optional<std::string> id = qmp::GetString(qmp::AsObject(&data), "device");
    if (id) {
      auto it = live_dimms_.find(*id);
      if (it != live_dimms_.end()) {
        deleted_[*id] = std::move(it->second);
        live_dimms_.erase(it);
      }
    }
    ScheduleRefresh();
  } else if (name == "ACPI_DEVICE_OST" || name == "MEMORY_DEVICE_SIZE_CHANGE" ||
             name == "DEVICE_UNPLUG_GUEST_ERROR") {
    ScheduleRefresh();
  }
}

void AuditLink::OnAgentHello(const v1::Hello& hello) {
  if (hello.guest().block_size_bytes() != 0) block_size_ = hello.guest().block_size_bytes();
  if (arm_policy_ == ArmPolicy::kOnAgentHello && !armed_once_) {
    armed_once_ = true;  // only the first boot's hello: an operator's disarm later holds
    SetArmed(true, nullptr);
  }
  ScheduleRefresh();
}

void AuditLink::OnAgentEvent(const v1::AgentEvent& event) {
  if (event.has_inventory_changed()) {
    const v1::Inventory& inventory = event.inventory_changed();
    if (inventory.block_size_bytes() != 0) block_size_ = inventory.block_size_bytes();
    guest_blocks_.clear();
    for (const v1::MemoryBlock& block : inventory.blocks()) {
      const bool online = block.state() == v1::BLOCK_STATE_ONLINE ||
                          block.state() == v1::BLOCK_STATE_GOING_OFFLINE;
      guest_blocks_[block.id()] = online ? GuestBlockState::kOnline : GuestBlockState::kOffline;
    }
    ScheduleRefresh();
    return;
  }
  if (!event.has_memory()) return;
  const v1::MemoryEvent& memory = event.memory();
  switch (memory.kind()) {
    case v1::MEMORY_EVENT_KIND_GOING_ONLINE:  // the kernel may touch it from now on (S1)
    case v1::MEMORY_EVENT_KIND_ONLINE:
    case v1::MEMORY_EVENT_KIND_CANCEL_OFFLINE:
      SetGuestBlock(memory.block(), GuestBlockState::kOnline);
      break;
    case v1::MEMORY_EVENT_KIND_OFFLINE:  // S6: offlining completed
    case v1::MEMORY_EVENT_KIND_CANCEL_ONLINE:
    case v1::MEMORY_EVENT_KIND_BLOCK_ADDED:
      SetGuestBlock(memory.block(), GuestBlockState::kOffline);
      break;
    case v1::MEMORY_EVENT_KIND_BLOCK_REMOVED:
      SetGuestBlock(memory.block(), std::nullopt);
      break;
    default:
      return;  // GOING_OFFLINE: still online until OFFLINE (S4)
  }
  ScheduleRefresh();
}

void AuditLink::SetGuestBlock(uint32_t block, std::optional<GuestBlockState> state) {
  if (state) {
    guest_blocks_[block] = *state;
  } else {
    guest_blocks_.erase(block);
  }
}

// --- Refresh ---

void AuditLink::ScheduleRefresh() {
  if (refresh_timer_ != nullptr) return;
  refresh_timer_ = g_timeout_source_new(kRefreshDelayMs);
  g_source_set_callback(
      refresh_timer_,
      [](gpointer self_ptr) -> gboolean {
        auto* self = static_cast<AuditLink*>(self_ptr);
        g_source_unref(self->refresh_timer_);
        self->refresh_timer_ = nullptr;
        self->Refresh();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach(refresh_timer_, context_);
}

void AuditLink::Refresh() {
  if (!stream_ || block_size_ == 0) return;  // nothing to tell yet; connect/hello refresh again
  if (refresh_running_) {
    refresh_again_ = true;
    return;
  }
  refresh_running_ = true;
  struct Gather {
    AuditInputs inputs;
    int outstanding = 3;
    std::vector<std::string> problems;
  };
  auto gather = std::make_shared<Gather>();
  const Liveness::Token alive = alive_.token();
  auto part_done = [this, gather, alive] {
    if (alive.Expired() || --gather->outstanding > 0) return;
    refresh_running_ = false;
    if (gather->problems.empty()) {
      Apply(std::move(gather->inputs));
    } else {
      for (const std::string& p : gather->problems) g_warning("audit ranges: %s", p.c_str());
    }
    if (refresh_again_) {
      refresh_again_ = false;
      ScheduleRefresh();
    }
  };
  qmp_->Execute("query-memory-devices", nullptr, kQmpTimeout, [gather, part_done](qmp::CommandResult r) {
    if (!r.ok()) {
      gather->problems.push_back("query-memory-devices: " + r.error().message);
    } else if (auto devices = qmp::ParseMemoryDevices(*r.value())) {
      gather->inputs.devices = std::move(*devices);
    } else {
      gather->problems.push_back("query-memory-devices: " + devices.error().message);
    }
    part_done();
  });
  auto hmp = [this, gather, part_done](const char* command, std::function<void(std::string)> use) {
    qmp_->Execute("human-monitor-command",
                  qmp::JsonObjectBuilder().SetString("command-line", command).Build(), kQmpTimeout,
                  [gather, part_done, command, use = std::move(use)](qmp::CommandResult r) {
                    if (!r.ok()) {
                      gather->problems.push_back(std::string(command) + ": " + r.error().message);
                    } else {
                      auto* node = r->get();
                      if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
                        gather->problems.push_back(std::string(command) + ": not a string");
                      } else {
                        use(json_node_get_string(node));
                      }
                    }
                    part_done();
                  });
  };
  hmp("info ramblock", [gather](std::string text) {
    std::string error;
    if (auto blocks = ParseRamBlocks(text, &error)) {
      gather->inputs.ramblocks = std::move(*blocks);
    } else {
      gather->problems.push_back(error);
    }
  });
  hmp("info mtree", [gather](std::string text) {
    gather->inputs.region_offsets = ParseMtreeRegionOffsets(text);
  });
}

void AuditLink::Apply(AuditInputs inputs) {
  inputs.block_size = block_size_;
  for (const auto& [id, state] : guest_blocks_) inputs.guest_blocks[uint64_t{id} * block_size_] = state;
  inputs.deleted = deleted_;
  inputs.first_seen = &first_seen_;
  inputs.now_ns = MonotonicNs();
  AuditPlan plan = BuildAuditPlan(inputs);
  live_dimms_ = std::move(plan.by_device);
  for (const std::string& id : plan.stale_deleted) deleted_.erase(id);
  std::set<std::string> skipped(plan.skipped.begin(), plan.skipped.end());
  if (skipped != last_skipped_) {
    for (const std::string& s : skipped) {
      if (!last_skipped_.count(s)) g_message("audit: not watched: %s", s.c_str());
    }
    last_skipped_ = std::move(skipped);
  }

  v1::AuditRequest request;
  for (v1::AuditRange& range : plan.ranges) *request.mutable_set_ranges()->add_ranges() = std::move(range);
  request.mutable_set_ranges();
  std::string serialized;
  request.set_ranges().SerializeToString(&serialized);
  if (last_sent_ && *last_sent_ == serialized) return;
  last_sent_ = serialized;
  const int count = request.set_ranges().ranges_size();
  const Liveness::Token alive = alive_.token();
  Request(std::move(request), kPluginTimeout, [this, alive, count](AuditReply r) {
    if (alive.Expired()) return;
    if (!r.ok() || r.value().has_error()) {
      g_warning("audit plugin refused the ranges: %s",
                r.ok() ? r.value().error().message().c_str() : r.error().message.c_str());
      last_sent_.reset();
      return;
    }
    g_message("audit plugin watches %d block ranges", count);
  });
}

}  // namespace memhp::daemon
