// unplug_operation — see unplug_operation.h.
#include "daemon/operations/unplug_operation.h"

#include "daemon/operations/admission.h"
#include "daemon/operations/block_progress.h"
#include "daemon/operations/device_map.h"
#include "qmp/memory_devices.h"

#include <string>
#include <vector>

namespace memhp::daemon::operations {
namespace {

constexpr int64_t kOstSourceEject = 3;
constexpr int64_t kOstEjectInProgress = 0x84;

memhp::v1::Error MakeError(memhp::v1::ErrorCode code, const std::string& message) {
  memhp::v1::Error e;
  e.set_code(code);
  e.set_message(message);
  return e;
}

// "block 40" / "blocks 40, 41"
std::string BlockList(const std::vector<uint32_t>& blocks) {
  std::string out = blocks.size() == 1 ? "block " : "blocks ";
  for (size_t i = 0; i < blocks.size(); ++i) out += (i ? ", " : "") + std::to_string(blocks[i]);
  return out;
}

}  // namespace

UnplugOperation::UnplugOperation(OperationEnv& env, memhp::v1::UnplugRequest request, ControlReply reply)
    : Operation(env, memhp::v1::OPERATION_KIND_UNPLUG, std::move(reply)), request_(std::move(request)) {
  result_.set_device_id(request_.device_id());
  result_.set_node(-1);
  params_.device_id = request_.device_id();
}

void UnplugOperation::Run() {
  BeginStep("find");
  const std::chrono::milliseconds whole =
      request_.timeout_ms() ? std::chrono::milliseconds(request_.timeout_ms()) : env_.timeouts.unplug;
  After(whole, [this, whole] {
    Finish(memhp::v1::OPERATION_OUTCOME_TIMED_OUT,
           "no end within " + std::to_string(whole.count()) + " ms" +
               (waiting_for_delete_ ? ": no DEVICE_DELETED; the device is still present" : ""));
  });
  QueryDevices([this](std::vector<memhp::v1::MemoryDevice> devices) {
    const memhp::v1::MemoryDevice* device = FindDevice(devices, request_.device_id());
    if (device == nullptr) {
      const std::string why = "no memory device '" + request_.device_id() + "'";
      EndStep(false, why);
      Finish(memhp::v1::OPERATION_OUTCOME_REFUSED, why, MakeError(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, why));
      return;
    }
    if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_DIMM) {
      const std::string why = device->kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM
                                  ? "'" + request_.device_id() + "' is a virtio-mem device: use resize"
                                  : "'" + request_.device_id() + "' is a " + device->qmp_type() +
                                        " device; memhp unplugs pc-dimm devices";
      EndStep(false, why);
      Finish(memhp::v1::OPERATION_OUTCOME_REFUSED, why, MakeError(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, why));
      return;
    }
    result_.set_node(device->node());
    result_.set_address(device->address());
    result_.set_size_requested(device->size());
    result_.set_size_reached(device->size());
    memdev_id_ = ObjectIdFromPath(device->memdev());
    params_.memdev_id = memdev_id_;
    params_.size = device->size();
    params_.node = device->node();
    EndStep(true, FormatBytes(device->size()) + " on node " + std::to_string(device->node()));
    if (!JournalBegin(params_)) return;
    if (env_.agent.agent_connected()) {
      Offline();
      return;
    }
    result_.set_guest_side_known(false);
    if (!request_.force()) {
      const std::string why = "no agent: the guest cannot be asked to offline the DIMM first (use force to unplug anyway)";
      Finish(memhp::v1::OPERATION_OUTCOME_REFUSED, why, MakeError(memhp::v1::ERROR_CODE_UNAVAILABLE, why));
      return;
    }
    force_note_ = "forced without an agent";
    DeviceDel();
  });
}

void UnplugOperation::Offline() {
  BeginStep("offline");
  result_.set_guest_side_known(true);
  memhp::v1::AgentRequest request;
  auto* offline = request.mutable_offline();
  offline->mutable_selection()->mutable_range()->set_start(result_.address());
  offline->mutable_selection()->mutable_range()->set_size(result_.size_requested());
  offline->set_timeout_ms(request_.block_timeout_ms());
  offline->set_all_or_nothing(true);
  const std::chrono::milliseconds whole =
      request_.timeout_ms() ? std::chrono::milliseconds(request_.timeout_ms()) : env_.timeouts.unplug;
  Agent(std::move(request), whole, [this](AgentReply r) {
    if (!r.response) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "agent offline: " + r.error + "; the DIMM is still present",
             MakeError(r.error_code, r.error));
      return;
    }
    if (r.response->has_error()) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
             "agent offline: " + r.response->error().message() + "; the DIMM is still present", r.response->error());
      return;
    }
    const auto& op = r.response->block_op();
    // Bounded: the agent answers at most its kMaxBlocksPerRequest results; keep the DIMM's.
    for (const auto& b : op.blocks()) {
      if (static_cast<uint64_t>(result_.blocks_size()) >= kMaxBlocksPerOperation) break;
      *result_.add_blocks() = b;
    }
    if (!op.all_done()) {
      // All-or-nothing: the agent put back online what it had offlined before a block refused
      // (ROLLED_BACK). A block still DONE here was offlined and could not be put back: then
      // something did change, and the answer says which blocks stay offline.
      std::string why;
      std::vector<uint32_t> rolled_back;
      std::vector<uint32_t> left_offline;
      for (const auto& b : op.blocks()) {
        if (b.outcome() == memhp::v1::BLOCK_OUTCOME_ROLLED_BACK) rolled_back.push_back(b.block());
        if (b.outcome() == memhp::v1::BLOCK_OUTCOME_DONE) left_offline.push_back(b.block());
        if (b.outcome() == memhp::v1::BLOCK_OUTCOME_DONE || b.outcome() == memhp::v1::BLOCK_OUTCOME_ALREADY ||
            b.outcome() == memhp::v1::BLOCK_OUTCOME_ROLLED_BACK || b.outcome() == memhp::v1::BLOCK_OUTCOME_SKIPPED) {
          continue;
        }
        if (!why.empty()) why += ", ";
        why += "block " + std::to_string(b.block());
        if (b.errno_value() != 0) why += std::string(" errno ") + std::to_string(b.errno_value()) + " (" + g_strerror(b.errno_value()) + ")";
        if (!b.vetoed_by().empty()) why += " vetoed by " + b.vetoed_by();
        if (b.errno_value() == 0 && b.vetoed_by().empty() && !b.detail().empty()) why += " " + b.detail();
      }
      EndStep(false, why);
      if (!request_.force()) {
        std::string after = "the guest refused to offline the DIMM: " + why;
        if (!rolled_back.empty()) after += "; " + BlockList(rolled_back) + " offlined, then online again";
        if (!left_offline.empty()) {
          Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
                 after + "; " + BlockList(left_offline) + " could not be put back online and stay offline; the DIMM is still present");
          return;
        }
        Finish(memhp::v1::OPERATION_OUTCOME_REFUSED, after + "; nothing changed");
        return;
      }
      force_note_ = "forced although the guest refused (" + why + ")";
    } else {
      EndStep(true, std::to_string(op.blocks_size()) + " block(s) offline");
      offlined_ = true;
      if (!JournalStep("agent-offlined")) return;
    }
    DeviceDel();
  });
}

void UnplugOperation::DeviceDel() {
  BeginStep("device_del");
  // The guest may eject before memhpd reads device_del's reply (blocks already offline: Linux's
  // eject has nothing left to do), and QEMU then sends the eject's events first. They are this
  // unplug's from the moment device_del goes out; OnQmpEvent keeps them until the reply.
  listening_ = true;
  Qmp("device_del", qmp::JsonObjectBuilder().SetString("id", request_.device_id()).Build(), [this](qmp::Result r) {
    if (!r.ok()) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
             "device_del failed: " + r.error().message + "; the DIMM is still present" +
                 (result_.guest_side_known() ? " (its blocks are offline)" : ""),
             QmpErrorToProto(r.error()));
      return;
    }
    EndStep(true, force_note_);
    if (!JournalStep("device-del-sent")) return;
    BeginStep("wait-deleted");
    waiting_for_delete_ = true;
    if (early_deleted_) {
      waiting_for_delete_ = false;
      OnDeleted();
    } else if (early_failure_) {
      waiting_for_delete_ = false;
      FailAndRestore(*early_failure_);
    }
  });
}

void UnplugOperation::OnQmpEvent(std::string_view name, const JsonNode& data) {
  if (!listening_ || finished() || early_deleted_ || early_failure_) return;
  // Before device_del's reply the outcome is kept for it (DeviceDel); after it, acted on now.
  const bool early = !waiting_for_delete_;
  auto fail = [this, early](const std::string& why) {
    if (early) {
      early_failure_ = why;
      return;
    }
    waiting_for_delete_ = false;
    FailAndRestore(why);
  };
  JsonObject* object = qmp::AsObject(&data);
  if (name == "DEVICE_DELETED") {
    if (qmp::GetString(object, "device").value_or("") != request_.device_id()) return;
    if (early) {
      early_deleted_ = true;
      return;
    }
    waiting_for_delete_ = false;
    OnDeleted();
  } else if (name == "ACPI_DEVICE_OST") {
    JsonObject* info = qmp::GetObject(object, "info");
    if (qmp::GetString(info, "device").value_or("") != request_.device_id()) return;
    const int64_t status = qmp::GetInt(info, "status").value_or(0);
    const int64_t source = qmp::GetInt(info, "source").value_or(0);
    // ACPI 6.x, 6.3.5 _OST: 0 is success; for an eject request (source 3) 0x84 means "ejection
    // in progress" (Linux's acpi_scan sends it before ejecting, ACPI_OST_SC_EJECT_IN_PROGRESS).
    // Anything else (1 failure, 0x80 not supported, 0x81 in use, 0x82 busy, 0x83 dependency)
    // means the guest will not eject.
    if (status == 0 || (source == kOstSourceEject && status == kOstEjectInProgress)) return;
    char hex[32];
    std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(status));
    fail(std::string("the guest reported an _OST failure for the eject: status ") + hex + " (source " +
         std::to_string(source) + "); the DIMM is still present");
  } else if (name == "DEVICE_UNPLUG_GUEST_ERROR") {
    if (qmp::GetString(object, "device").value_or("") != request_.device_id()) return;
    fail("DEVICE_UNPLUG_GUEST_ERROR: the guest failed the unplug; the DIMM is still present");
  }
}

// The guest will not eject: the blocks the agent offlined for this unplug go back online (by
// its policy), so the failed unplug leaves the DIMM as usable as it found it.
void UnplugOperation::FailAndRestore(const std::string& why) {
  if (!offlined_ || !env_.agent.agent_connected()) {
    Finish(memhp::v1::OPERATION_OUTCOME_FAILED, why + (offlined_ ? "; its blocks stay offline (no agent)" : ""));
    return;
  }
  BeginStep("restore-online");
  memhp::v1::AgentRequest request;
  auto* online = request.mutable_online();
  online->mutable_selection()->mutable_range()->set_start(result_.address());
  online->mutable_selection()->mutable_range()->set_size(result_.size_requested());
  Agent(std::move(request), env_.timeouts.unplug, [this, why](AgentReply r) {
    const bool ok = r.response && r.response->has_block_op() && r.response->block_op().all_done();
    Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
           why + (ok ? "; its blocks are online again" : "; putting its blocks back online failed too"));
  });
}

void UnplugOperation::OnDeleted() {
  EndStep(true);
  env_.targets.erase(request_.device_id());
  if (!JournalStep("deleted")) return;
  result_.set_size_reached(0);
  ObjectDel();
}

void UnplugOperation::ObjectDel() {
  BeginStep("object-del");
  Qmp("object-del", qmp::JsonObjectBuilder().SetString("id", memdev_id_).Build(), [this](qmp::Result r) {
    if (!r.ok()) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED,
             "the DIMM is gone but object-del " + memdev_id_ + " failed: " + r.error().message,
             QmpErrorToProto(r.error()));
      return;
    }
    EndStep(true, memdev_id_);
    if (!JournalStep("object-deleted", memdev_id_)) return;
    UpdateDeviceMap();
  });
}

void UnplugOperation::UpdateDeviceMap() {
  const std::string done = "unplugged" + (force_note_.empty() ? std::string() : " (" + force_note_ + ")");
  if (!env_.agent.agent_connected()) {
    Finish(memhp::v1::OPERATION_OUTCOME_DONE, done);
    return;
  }
  BeginStep("device-map");
  Qmp("query-memory-devices", nullptr, [this, done](qmp::Result r) {
    auto parsed = r.ok() ? qmp::ParseMemoryDevices(*r.value())
                         : qmp::ParseResult<std::vector<memhp::v1::MemoryDevice>>::Fail(r.error().message);
    if (!parsed) {
      EndStep(false, parsed.error);
      Finish(memhp::v1::OPERATION_OUTCOME_DONE, done);
      return;
    }
    memhp::v1::AgentRequest request;
    *request.mutable_device_map() = BuildDeviceMap(*parsed.value, env_.targets);
    Agent(std::move(request), env_.timeouts.agent, [this, done](AgentReply) {
      Finish(memhp::v1::OPERATION_OUTCOME_DONE, done);
    });
  });
}

}  // namespace memhp::daemon::operations
