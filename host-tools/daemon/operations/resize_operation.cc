// resize_operation — see resize_operation.h.
#include "daemon/operations/resize_operation.h"

#include <algorithm>

#include "daemon/operations/admission.h"
#include "daemon/operations/device_map.h"
#include "qmp/memory_devices.h"

namespace memhp::daemon::operations {
namespace {

memhp::v1::Error InvalidArgument(const std::string& message) {
  memhp::v1::Error e;
  e.set_code(memhp::v1::ERROR_CODE_INVALID_ARGUMENT);
  e.set_message(message);
  return e;
}

}  // namespace

ResizeOperation::ResizeOperation(OperationEnv& env, memhp::v1::ResizeRequest request, ControlReply reply)
    : Operation(env, memhp::v1::OPERATION_KIND_RESIZE, std::move(reply)), request_(std::move(request)) {
  result_.set_device_id(request_.device_id());
  result_.set_size_requested(request_.requested_size());
  result_.set_node(-1);
  params_.device_id = request_.device_id();
  params_.size = request_.requested_size();
}

void ResizeOperation::Run() {
  BeginStep("find");
  const auto whole = request_.timeout_ms() ? std::chrono::milliseconds(request_.timeout_ms()) : env_.timeouts.resize;
  deadline_us_ = g_get_monotonic_time() + whole.count() * 1000;
  QueryDevices([this](std::vector<memhp::v1::MemoryDevice> devices) {
    const memhp::v1::MemoryDevice* device = FindDevice(devices, request_.device_id());
    std::string why;
    if (device == nullptr) {
      why = "no memory device '" + request_.device_id() + "'";
    } else if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
      why = "'" + request_.device_id() + "' is a " + device->qmp_type() + " device, not virtio-mem" +
            (device->kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM ? ": use plug and unplug" : "");
    } else if (device->block_size() == 0 || request_.requested_size() % device->block_size() != 0) {
      why = "requested size " + FormatBytes(request_.requested_size()) + " is not a multiple of " +
            request_.device_id() + "'s block-size " + FormatBytes(device->block_size());
    } else if (request_.requested_size() > device->max_size()) {
      why = "requested size " + FormatBytes(request_.requested_size()) + " is over " + request_.device_id() +
            "'s max-size " + FormatBytes(device->max_size());
    }
    if (!why.empty()) {
      EndStep(false, why);
      Finish(memhp::v1::OPERATION_OUTCOME_REFUSED, why, InvalidArgument(why));
      return;
    }
    result_.set_node(device->node());
    result_.set_address(device->address());
    params_.node = device->node();
    max_size_ = device->max_size();
    size_before_ = device->size();
    last_size_ = size_before_;
    result_.set_size_reached(size_before_);
    result_.set_guest_side_known(env_.agent.agent_connected());
    EndStep(true, "size " + FormatBytes(size_before_) + ", max-size " + FormatBytes(max_size_) + ", block-size " +
                      FormatBytes(device->block_size()));
    if (!JournalBegin(params_)) return;
    if (request_.requested_size() < size_before_ && request_.offline_first() && env_.agent.agent_connected()) {
      OfflineFirst();
    } else {
      SetRequestedSize();
    }
  });
}

void ResizeOperation::OfflineFirst() {
  BeginStep("offline");
  memhp::v1::AgentRequest inventory;
  inventory.mutable_inventory();
  Agent(std::move(inventory), env_.timeouts.agent, [this](AgentReply r) {
    if (!r.response || !r.response->has_inventory()) {
      EndStep(false, "no inventory from the agent: " + (r.response ? r.response->error().message() : r.error));
      SetRequestedSize();
      return;
    }
    const auto& inv = r.response->inventory();
    const uint64_t bs = inv.block_size_bytes();
    // The device's online blocks at or above the new size, highest first (the driver's order).
    const uint64_t keep_end = result_.address() + request_.requested_size();
    const uint64_t region_end = result_.address() + max_size_;
    std::vector<uint32_t> ids;
    for (const auto& b : inv.blocks()) {
      const uint64_t start = bs ? uint64_t{b.id()} * bs : 0;
      if (bs && start >= keep_end && start < region_end && b.state() == memhp::v1::BLOCK_STATE_ONLINE) ids.push_back(b.id());
    }
    std::sort(ids.rbegin(), ids.rend());
    if (ids.size() > kMaxBlocksPerOperation) ids.resize(kMaxBlocksPerOperation);
    if (ids.empty()) {
      EndStep(true, "no online block above the new size");
      SetRequestedSize();
      return;
    }
    memhp::v1::AgentRequest request;
    auto* offline = request.mutable_offline();
    for (uint32_t id : ids) offline->mutable_selection()->mutable_blocks()->add_ids(id);
    offline->set_all_or_nothing(false);
    const auto remaining = std::chrono::milliseconds(std::max<gint64>((deadline_us_ - g_get_monotonic_time()) / 1000, 1));
    Agent(std::move(request), remaining, [this](AgentReply o) {
      if (o.response && o.response->has_block_op()) {
        uint32_t done = 0;
        for (const auto& b : o.response->block_op().blocks()) {
          if (static_cast<uint64_t>(result_.blocks_size()) >= kMaxBlocksPerOperation) break;
          *result_.add_blocks() = b;
          done += b.outcome() == memhp::v1::BLOCK_OUTCOME_DONE || b.outcome() == memhp::v1::BLOCK_OUTCOME_ALREADY;
        }
        EndStep(o.response->block_op().all_done(),
                std::to_string(done) + " of " + std::to_string(o.response->block_op().blocks_size()) + " block(s) offlined");
      } else {
        EndStep(false, "agent offline: " + (o.response ? o.response->error().message() : o.error));
      }
      if (!JournalStep("agent-offlined")) return;
      SetRequestedSize();
    });
  });
}

void ResizeOperation::SetRequestedSize() {
  BeginStep("qom-set");
  qmp::JsonObjectBuilder args;
  args.SetString("path", "/machine/peripheral/" + request_.device_id())
      .SetString("property", "requested-size")
      .SetUint("value", request_.requested_size());
  Qmp("qom-set", args.Build(), [this](qmp::Result r) {
    if (!r.ok()) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "qom-set requested-size failed: " + r.error().message,
             QmpErrorToProto(r.error()));
      return;
    }
    EndStep(true, FormatBytes(request_.requested_size()));
    if (!JournalStep("requested-size-set")) return;
    BeginStep("wait-size");
    waiting_size_ = true;
    last_change_us_ = g_get_monotonic_time();
    PollSize();
  });
}

void ResizeOperation::PollSize() {
  if (!waiting_size_ || poll_inflight_) return;
  poll_inflight_ = true;
  Qmp("query-memory-devices", nullptr, [this](qmp::Result r) {
    poll_inflight_ = false;
    if (!r.ok()) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "query-memory-devices: " + r.error().message, QmpErrorToProto(r.error()));
      return;
    }
    auto parsed = qmp::ParseMemoryDevices(*r.value());
    const memhp::v1::MemoryDevice* device = parsed ? FindDevice(*parsed.value, request_.device_id()) : nullptr;
    if (device == nullptr) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED, request_.device_id() + " disappeared from query-memory-devices");
      return;
    }
    OnSize(device->size());
  });
}

void ResizeOperation::OnSize(uint64_t size) {
  if (!waiting_size_) return;
  const gint64 now = g_get_monotonic_time();
  if (size != last_size_) {
    last_size_ = size;
    last_change_us_ = now;
  }
  result_.set_size_reached(size);
  const uint64_t total = request_.requested_size() > size_before_ ? request_.requested_size() - size_before_
                                                                    : size_before_ - request_.requested_size();
  const uint64_t moved = size > size_before_ ? size - size_before_ : size_before_ - size;
  Progress("wait-size", "size " + FormatBytes(size), moved, total);
  if (size == request_.requested_size()) {
    waiting_size_ = false;
    EndStep(true, "size " + FormatBytes(size));
    if (!JournalStep("size-reached", std::to_string(size))) return;
    if (size > size_before_ && env_.agent.agent_connected()) {
      WaitOnline();
      return;
    }
    Finish(memhp::v1::OPERATION_OUTCOME_DONE, "size " + FormatBytes(size) +
                                                  (env_.agent.agent_connected() ? "" : "; guest side unknown (no agent)"));
    return;
  }
  if (now - last_change_us_ >= env_.timeouts.resize_settle.count() * 1000) {
    waiting_size_ = false;
    Finish(memhp::v1::OPERATION_OUTCOME_PARTIAL,
           "size stopped at " + FormatBytes(size) + " of " + FormatBytes(request_.requested_size()) + " requested (no change for " +
               std::to_string(env_.timeouts.resize_settle.count() / 1000) + " s); requested-size stays set, the driver may go on");
    return;
  }
  if (now >= deadline_us_) {
    waiting_size_ = false;
    Finish(memhp::v1::OPERATION_OUTCOME_TIMED_OUT,
           "size " + FormatBytes(size) + " of " + FormatBytes(request_.requested_size()) + " requested when the time ran out");
    return;
  }
  if (poll_timer_pending_) return;
  poll_timer_pending_ = true;
  After(env_.timeouts.poll, [this] {
    poll_timer_pending_ = false;
    PollSize();
  });
}

void ResizeOperation::WaitOnline() {
  BeginStep("online");
  uint64_t block_size = kDefaultGuestBlockSize;
  if (env_.agent.hello() && env_.agent.hello()->guest().block_size_bytes()) {
    block_size = env_.agent.hello()->guest().block_size_bytes();
  }
  OnlineWaitOptions options;
  // The driver adds whole memory blocks from the bottom of the region (drivers/virtio/virtio_mem.c).
  const uint64_t span = (request_.requested_size() + block_size - 1) / block_size * block_size;
  options.range = BlockRange{result_.address(), span, block_size};
  options.device_id = request_.device_id();
  options.timeout = std::chrono::milliseconds(std::max<gint64>((deadline_us_ - g_get_monotonic_time()) / 1000, 1));
  options.poll = env_.timeouts.poll;
  options.agent_timeout = env_.timeouts.agent;
  waiter_ = std::make_unique<OnlineWaiter>(
      WaitHooks(),
      options, [this](OnlineWaitEnd end) {
        for (auto& b : end.progress.blocks) {
          if (static_cast<uint64_t>(result_.blocks_size()) >= kMaxBlocksPerOperation) break;
          *result_.add_blocks() = std::move(b);
        }
        const std::string size = "size " + FormatBytes(last_size_) + ", " + FormatBytes(end.progress.online_bytes) + " online";
        switch (end.reason) {
          case OnlineWaitEndReason::kSettled:
            Finish(end.progress.failed ? memhp::v1::OPERATION_OUTCOME_PARTIAL : memhp::v1::OPERATION_OUTCOME_DONE,
                   size + (end.progress.failed ? "; " + std::to_string(end.progress.failed) + " block(s) failed to come online" : ""));
            return;
          case OnlineWaitEndReason::kLeftOffline:
            Finish(memhp::v1::OPERATION_OUTCOME_DONE, size + "; " + end.detail);
            return;
          case OnlineWaitEndReason::kTimedOut:
            Finish(memhp::v1::OPERATION_OUTCOME_TIMED_OUT, size + " when the wait for the guest ended");
            return;
          case OnlineWaitEndReason::kAgentLost:
            result_.set_guest_side_known(false);
            FinishIfQemuAlive(memhp::v1::OPERATION_OUTCOME_FAILED, size + "; " + end.detail);
            return;
        }
      });
  waiter_->Start();
}

void ResizeOperation::OnQmpEvent(std::string_view name, const JsonNode& data) {
  if (!waiting_size_ || name != "MEMORY_DEVICE_SIZE_CHANGE") return;
  JsonObject* object = qmp::AsObject(&data);
  if (qmp::GetString(object, "id").value_or("") != request_.device_id()) return;
  PollSize();  // the event's size is rate-limited; the query is the truth
}

void ResizeOperation::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (waiter_) waiter_->OnAgentEvent(event);
}

void ResizeOperation::OnAgentLost() {
  if (waiter_) waiter_->OnAgentLost();
}

}  // namespace memhp::daemon::operations
