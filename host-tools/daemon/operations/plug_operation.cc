// plug_operation — see plug_operation.h.
#include "daemon/operations/plug_operation.h"

#include "daemon/operations/device_map.h"
#include "daemon/operations/qemu_facts.h"
#include "qmp/memory_devices.h"

#include <cstdio>

namespace memhp::daemon::operations {

PlugOperation::PlugOperation(OperationEnv& env, memhp::v1::PlugRequest request, ControlReply reply)
    : Operation(env, memhp::v1::OPERATION_KIND_PLUG, std::move(reply)), request_(std::move(request)) {
  result_.set_device_id(request_.device_id());
  result_.set_node(request_.node());
  result_.set_size_requested(request_.size());
}

void PlugOperation::Run() {
  BeginStep("admission");
  std::weak_ptr<Operation> weak = weak_from_this();
  GatherFacts(env_.qmp, env_.agent, FactsTimeouts{env_.timeouts.qmp, env_.timeouts.agent},
              [weak, this](GatheredFacts facts) {
                auto self = weak.lock();
                if (!self || finished()) return;
                OnFacts(std::move(facts));
              });
}

void PlugOperation::OnFacts(GatheredFacts gathered) {
  if (!gathered.devices_ok) {
    std::string why = "cannot learn QEMU's memory devices";
    for (const auto& p : gathered.problems) why += "; " + p;
    memhp::v1::Error error;
    error.set_code(env_.qmp.connected() ? memhp::v1::ERROR_CODE_QMP : memhp::v1::ERROR_CODE_UNAVAILABLE);
    error.set_message(why);
    Finish(memhp::v1::OPERATION_OUTCOME_FAILED, why, error);
    return;
  }
  admission_ = Admit(AdmissionRequest{request_.device_id(), request_.size(), request_.node(), request_.target()},
                     gathered.facts);
  result_.set_device_id(admission_.device_id);
  params_.device_id = admission_.device_id;
  params_.memdev_id = admission_.memdev_id;
  params_.size = request_.size();
  params_.node = request_.node();
  params_.target = request_.target();
  std::string notes;
  for (const auto& n : admission_.notes) notes += (notes.empty() ? "" : "; ") + n;
  if (!admission_.admitted) {
    EndStep(false, admission_.refusal);
    memhp::v1::Error error;
    error.set_code(admission_.code);
    error.set_message(admission_.refusal);
    Finish(memhp::v1::OPERATION_OUTCOME_REFUSED, admission_.refusal, error);
    return;
  }
  EndStep(true, notes);
  if (!JournalBegin(params_)) return;
  ObjectAdd();
}

void PlugOperation::ObjectAdd() {
  BeginStep("object-add");
  Qmp("object-add",
      qmp::JsonObjectBuilder()
          .SetString("qom-type", "memory-backend-ram")
          .SetString("id", admission_.memdev_id)
          .SetUint("size", request_.size())
          .Build(),
      [this](qmp::Result r) {
        if (!r.ok()) {
          Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "object-add failed: " + r.error().message + "; nothing created",
                 QmpErrorToProto(r.error()));
          return;
        }
        EndStep(true, admission_.memdev_id);
        if (!JournalStep("object-added", admission_.memdev_id)) return;
        DeviceAdd();
      });
}

void PlugOperation::DeviceAdd() {
  BeginStep("device_add");
  Qmp("device_add",
      qmp::JsonObjectBuilder()
          .SetString("driver", "pc-dimm")
          .SetString("id", admission_.device_id)
          .SetString("memdev", admission_.memdev_id)
          .SetInt("node", request_.node())
          .Build(),
      [this](qmp::Result r) {
        if (!r.ok()) {
          EndStep(false, r.error().message);
          RollBack(r.error());
          return;
        }
        if (request_.target() != memhp::v1::ONLINE_TARGET_UNSPECIFIED) env_.targets[admission_.device_id] = request_.target();
        EndStep(true);
        if (!JournalStep("device-added", admission_.device_id)) return;
        Locate();
      });
}

// device_add failed: the backend must go too, or it is an orphan in /objects.
void PlugOperation::RollBack(const qmp::QmpError& why) {
  BeginStep("object-del");
  const std::string failure = "device_add failed: " + why.message;
  memhp::v1::Error error = QmpErrorToProto(why);
  Qmp("object-del", qmp::JsonObjectBuilder().SetString("id", admission_.memdev_id).Build(),
      [this, failure, error](qmp::Result r) {
        if (!r.ok()) {
          Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
                 failure + "; object-del " + admission_.memdev_id + " failed too (" + r.error().message +
                     "): the backend is left over",
                 error);
          return;
        }
        EndStep(true, admission_.memdev_id);
        if (!JournalStep("object-deleted", admission_.memdev_id)) return;
        Finish(memhp::v1::OPERATION_OUTCOME_FAILED, failure + "; backend " + admission_.memdev_id + " removed", error);
      });
}

void PlugOperation::Locate() {
  BeginStep("locate");
  Qmp("query-memory-devices", nullptr, [this](qmp::Result r) {
    std::vector<memhp::v1::MemoryDevice> devices;
    if (r.ok()) {
      if (auto parsed = qmp::ParseMemoryDevices(*r.value())) devices = std::move(*parsed.value);
    }
    const memhp::v1::MemoryDevice* dimm = FindDevice(devices, admission_.device_id);
    if (dimm == nullptr) {
      // Plugged (device_add succeeded) but not found: say so rather than guess an address.
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
             "device_add succeeded but query-memory-devices does not list " + admission_.device_id +
                 (r.ok() ? "" : ": " + r.error().message));
      return;
    }
    result_.set_address(dimm->address());
    char where[64];
    std::snprintf(where, sizeof(where), "0x%llx", static_cast<unsigned long long>(dimm->address()));
    EndStep(true, std::string("at ") + where + " slot " + std::to_string(dimm->slot()));
    if (!env_.agent.agent_connected()) {
      result_.set_guest_side_known(false);
      result_.set_size_reached(request_.size());
      Finish(memhp::v1::OPERATION_OUTCOME_DONE, "guest side unknown (no agent)");
      return;
    }
    result_.set_guest_side_known(true);
    SendDeviceMap(std::move(devices));
  });
}

void PlugOperation::SendDeviceMap(std::vector<memhp::v1::MemoryDevice> devices) {
  BeginStep("device-map");
  memhp::v1::AgentRequest request;
  *request.mutable_device_map() = BuildDeviceMap(devices, env_.targets);
  Agent(std::move(request), env_.timeouts.agent, [this](AgentReply r) {
    // Not fatal: without the map the agent still onlines by its policy, device by block.
    if (r.response && r.response->has_device_map()) {
      EndStep(true, std::to_string(r.response->device_map().devices()) + " device(s) known to the agent");
    } else {
      EndStep(false, "agent did not take the device map: " +
                         (r.response ? r.response->error().message() : r.error));
    }
    WaitOnline();
  });
}

void PlugOperation::WaitOnline() {
  BeginStep("online");
  std::weak_ptr<Operation> weak = weak_from_this();
  OnlineWaitOptions options;
  options.range = BlockRange{result_.address(), request_.size(), admission_.block_size};
  options.device_id = admission_.device_id;
  options.target = request_.target();
  options.timeout = request_.timeout_ms() ? std::chrono::milliseconds(request_.timeout_ms()) : env_.timeouts.plug_guest;
  options.poll = env_.timeouts.poll;
  options.agent_timeout = env_.timeouts.agent;
  waiter_ = std::make_unique<OnlineWaiter>(
      WaitHooks(),
      options, [this](OnlineWaitEnd end) { OnOnlineEnd(std::move(end)); });
  waiter_->Start();
}

void PlugOperation::OnOnlineEnd(OnlineWaitEnd end) {
  for (auto& b : end.progress.blocks) *result_.add_blocks() = std::move(b);
  result_.set_size_reached(end.progress.online_bytes);
  const std::string online = FormatBytes(end.progress.online_bytes) + " of " + FormatBytes(request_.size()) + " online";
  switch (end.reason) {
    case OnlineWaitEndReason::kSettled:
      if (end.progress.failed == 0) {
        Finish(memhp::v1::OPERATION_OUTCOME_DONE, online);
      } else {
        Finish(memhp::v1::OPERATION_OUTCOME_PARTIAL,
               online + "; " + std::to_string(end.progress.failed) + " block(s) failed to come online");
      }
      return;
    case OnlineWaitEndReason::kLeftOffline:
      Finish(memhp::v1::OPERATION_OUTCOME_DONE, online + "; " + end.detail);
      return;
    case OnlineWaitEndReason::kTimedOut:
      Finish(memhp::v1::OPERATION_OUTCOME_TIMED_OUT,
             "the DIMM is plugged; " + online + " when the wait for the guest ended (" +
                 std::to_string(end.progress.present) + " block(s) seen)");
      return;
    case OnlineWaitEndReason::kAgentLost:
      result_.set_guest_side_known(false);
      FinishIfQemuAlive(memhp::v1::OPERATION_OUTCOME_FAILED,
                        "the DIMM is plugged; " + end.detail + "; " + online + " when last seen");
      return;
  }
}

void PlugOperation::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (waiter_) waiter_->OnAgentEvent(event);
}

void PlugOperation::OnAgentLost() {
  if (waiter_) waiter_->OnAgentLost();
}

}  // namespace memhp::daemon::operations
