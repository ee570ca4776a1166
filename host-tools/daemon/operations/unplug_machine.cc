// unplug_machine — see unplug_machine.h.
#include "daemon/operations/unplug_machine.h"

#include <glib.h>

#include <vector>

#include "daemon/operations/admission.h"
#include "daemon/operations/block_progress.h"
#include "daemon/operations/device_map.h"

namespace memhp::daemon::operations {
namespace {

using Phase = UnplugState::Phase;
using memhp::v1::OperationOutcome;

// "block 40" / "blocks 40, 41"
std::string BlockList(const std::vector<uint32_t>& blocks) {
  std::string out = blocks.size() == 1 ? "block " : "blocks ";
  for (size_t i = 0; i < blocks.size(); ++i) out += (i ? ", " : "") + std::to_string(blocks[i]);
  return out;
}

struct Unplug : MachineStep<UnplugState> {
  bool agent_connected = false;  // as the input saw it

  [[nodiscard]] std::chrono::milliseconds Whole() const {
    return s.request.timeout_ms() ? std::chrono::milliseconds(s.request.timeout_ms()) : s.timeouts.unplug;
  }
  [[nodiscard]] memhp::v1::BlockSelection Range() const {
    memhp::v1::BlockSelection selection;
    selection.mutable_range()->set_start(s.result.address());
    selection.mutable_range()->set_size(s.result.size_requested());
    return selection;
  }

  void OnFound(const DevicesListed& listed, const Input& in) {
    if (!listed.devices.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, listed.devices.error().message,
           ToProtoError(listed.devices.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    const memhp::v1::MemoryDevice* device = FindDevice(listed.devices.value(), s.request.device_id());
    std::string why;
    if (device == nullptr) {
      why = "no memory device '" + s.request.device_id() + "'";
    } else if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_DIMM) {
      why = device->kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM
                ? "'" + s.request.device_id() + "' is a virtio-mem device: use resize"
                : "'" + s.request.device_id() + "' is a " + device->qmp_type() + " device; memhp unplugs pc-dimm devices";
    }
    if (!why.empty()) {
      End(false, why);
      Done(memhp::v1::OPERATION_OUTCOME_REFUSED, why, MakeError(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, why));
      return;
    }
    s.result.set_node(device->node());
    s.result.set_address(device->address());
    s.result.set_size_requested(device->size());
    s.result.set_size_reached(device->size());
    s.memdev_id = ObjectIdFromPath(device->memdev());
    JournalParams params;
    params.kind = memhp::v1::OPERATION_KIND_UNPLUG;
    params.device_id = s.request.device_id();
    params.memdev_id = s.memdev_id;
    params.size = device->size();
    params.node = device->node();
    End(true, FormatBytes(device->size()) + " on node " + std::to_string(device->node()));
    out.push_back(JournalBegin{params});
    if (in.agent_connected) {
      Begin("offline");
      s.result.set_guest_side_known(true);
      OfflineBlocks offline;
      *offline.request.mutable_selection() = Range();
      offline.request.set_timeout_ms(s.request.block_timeout_ms());
      offline.request.set_all_or_nothing(true);
      offline.timeout = Whole();
      out.push_back(offline);
      s.phase = Phase::kOffline;
      return;
    }
    s.result.set_guest_side_known(false);
    if (!s.request.force()) {
      const std::string refusal =
          "no agent: the guest cannot be asked to offline the DIMM first (use force to unplug anyway)";
      Done(memhp::v1::OPERATION_OUTCOME_REFUSED, refusal, MakeError(memhp::v1::ERROR_CODE_UNAVAILABLE, refusal));
      return;
    }
    s.force_note = "forced without an agent";
    DeleteTheDimm();
  }

  void OnOfflined(const BlocksAnswered& a) {
    if (!a.result.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, "agent offline: " + a.result.error().message + "; the DIMM is still present",
           ToProtoError(a.result.error(), memhp::v1::ERROR_CODE_FAILED));
      return;
    }
    const memhp::v1::BlockOpResult& op = a.result.value();
    // Bounded: the agent answers at most its kMaxBlocksPerRequest results; keep the DIMM's.
    for (const auto& b : op.blocks()) {
      if (static_cast<uint64_t>(s.result.blocks_size()) >= kMaxBlocksPerOperation) break;
      *s.result.add_blocks() = b;
    }
    if (op.all_done()) {
      End(true, std::to_string(op.blocks_size()) + " block(s) offline");
      s.offlined = true;
      out.push_back(JournalStepDone{"agent-offlined", ""});
      DeleteTheDimm();
      return;
    }
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
      if (b.errno_value() != 0) {
        why += std::string(" errno ") + std::to_string(b.errno_value()) + " (" + g_strerror(b.errno_value()) + ")";
      }
      if (!b.vetoed_by().empty()) why += " vetoed by " + b.vetoed_by();
      if (b.errno_value() == 0 && b.vetoed_by().empty() && !b.detail().empty()) why += " " + b.detail();
    }
    End(false, why);
    if (!s.request.force()) {
      std::string after = "the guest refused to offline the DIMM: " + why;
      if (!rolled_back.empty()) after += "; " + BlockList(rolled_back) + " offlined, then online again";
      if (!left_offline.empty()) {
        Done(memhp::v1::OPERATION_OUTCOME_FAILED, after + "; " + BlockList(left_offline) +
                                                      " could not be put back online and stay offline; the DIMM is still present");
        return;
      }
      Done(memhp::v1::OPERATION_OUTCOME_REFUSED, after + "; nothing changed");
      return;
    }
    s.force_note = "forced although the guest refused (" + why + ")";
    DeleteTheDimm();
  }

  void DeleteTheDimm() {
    // The guest may eject before the delete's answer is read (blocks already offline: Linux's
    // eject has nothing left to do), and QEMU then sends the eject's events first. They are
    // this unplug's from now on; kDeleting keeps them until the answer.
    Begin("device_del");
    out.push_back(DeleteDimm{s.request.device_id()});
    s.phase = Phase::kDeleting;
  }

  void OnDeleteSent(const Status& st) {
    if (!st.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED,
           "device_del failed: " + st.error().message + "; the DIMM is still present" +
               (s.result.guest_side_known() ? " (its blocks are offline)" : ""),
           ToProtoError(st.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    End(true, s.force_note);
    out.push_back(JournalStepDone{"device-del-sent", ""});
    Begin("wait-deleted");
    s.phase = Phase::kWaitDeleted;
    if (s.early_deleted) {
      OnDeleted();
    } else if (s.early_failure) {
      FailAndRestore(*s.early_failure);
    }
  }

  void OnDeviceEvent(const DeviceEvent& ev) {
    if (ev.device_id != s.request.device_id()) return;
    const bool early = s.phase == Phase::kDeleting;
    if (early && (s.early_deleted || s.early_failure)) return;  // the first end counts
    if (ev.kind == DeviceEventKind::kDeleted) {
      if (early) {
        s.early_deleted = true;
        return;
      }
      OnDeleted();
    } else if (ev.kind == DeviceEventKind::kUnplugRefused) {
      const std::string why = ev.detail + "; the DIMM is still present";
      if (early) {
        s.early_failure = why;
        return;
      }
      FailAndRestore(why);
    }
  }

  // The guest will not eject: the blocks the agent offlined for this unplug go back online (by
  // its policy), so the failed unplug leaves the DIMM as usable as it found it.
  void FailAndRestore(const std::string& why) {
    if (!s.offlined || !agent_connected) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, why + (s.offlined ? "; its blocks stay offline (no agent)" : ""));
      return;
    }
    Begin("restore-online");
    OnlineBlocks online;
    *online.request.mutable_selection() = Range();
    online.timeout = s.timeouts.unplug;
    out.push_back(online);
    s.restore_why = why;
    s.phase = Phase::kRestoring;
  }

  void OnDeleted() {
    End(true);
    out.push_back(ForgetTarget{s.request.device_id()});
    out.push_back(JournalStepDone{"deleted", ""});
    s.result.set_size_reached(0);
    Begin("object-del");
    out.push_back(DeleteBackend{s.memdev_id});
    s.phase = Phase::kDeletingBackend;
  }

  [[nodiscard]] std::string DoneText() const {
    return "unplugged" + (s.force_note.empty() ? std::string() : " (" + s.force_note + ")");
  }

  void OnBackendDeleted(const Status& st, const Input& in) {
    if (!st.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED,
           "the DIMM is gone but object-del " + s.memdev_id + " failed: " + st.error().message,
           ToProtoError(st.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    End(true, s.memdev_id);
    out.push_back(JournalStepDone{"object-deleted", s.memdev_id});
    if (!in.agent_connected) {
      Done(memhp::v1::OPERATION_OUTCOME_DONE, DoneText());
      return;
    }
    Begin("device-map");
    out.push_back(ListDevices{});
    s.phase = Phase::kRelisting;
  }
};

}  // namespace

UnplugState BeginUnplug(memhp::v1::UnplugRequest request, OperationTimeouts timeouts) {
  UnplugState s;
  s.request = std::move(request);
  s.timeouts = timeouts;
  s.result.set_kind(memhp::v1::OPERATION_KIND_UNPLUG);
  s.result.set_device_id(s.request.device_id());
  s.result.set_node(-1);
  return s;
}

UnplugState ResumeUnplug(const JournalOp& op, ResumeCause cause) {
  return Resumed<UnplugState>(memhp::v1::OPERATION_KIND_UNPLUG, op, cause);
}

Transition<UnplugState> NextUnplug(UnplugState state, const Input& input) {
  Unplug u{{std::move(state), {}}, input.agent_connected};
  if (auto common = CommonNext(u.s, input)) return {std::move(u.s), std::move(*common)};
  const Event& e = input.event;
  if (const auto* t = std::get_if<TimerFired>(&e); t && t->timer == kUnplugDeadlineTimer && u.s.phase != Phase::kStart) {
    u.Done(memhp::v1::OPERATION_OUTCOME_TIMED_OUT,
           "no end within " + std::to_string(u.Whole().count()) + " ms" +
               (u.s.phase == Phase::kWaitDeleted ? ": no DEVICE_DELETED; the device is still present" : ""));
    return {std::move(u.s), std::move(u.out)};
  }
  switch (u.s.phase) {
    case Phase::kStart:
      if (std::holds_alternative<Started>(e)) {
        u.Begin("find");
        u.out.push_back(StartTimer{kUnplugDeadlineTimer, u.Whole()});
        u.out.push_back(ListDevices{});
        u.s.phase = Phase::kFinding;
      }
      break;
    case Phase::kFinding:
      if (const auto* l = std::get_if<DevicesListed>(&e)) u.OnFound(*l, input);
      break;
    case Phase::kOffline:
      if (const auto* a = std::get_if<BlocksAnswered>(&e)) u.OnOfflined(*a);
      break;
    case Phase::kDeleting:
      if (const auto* a = std::get_if<HardwareAnswered>(&e)) u.OnDeleteSent(a->status);
      if (const auto* d = std::get_if<DeviceEventSeen>(&e)) u.OnDeviceEvent(d->event);
      break;
    case Phase::kWaitDeleted:
      if (const auto* d = std::get_if<DeviceEventSeen>(&e)) u.OnDeviceEvent(d->event);
      break;
    case Phase::kRestoring:
      if (const auto* a = std::get_if<BlocksAnswered>(&e)) {
        const bool ok = a->result.ok() && a->result.value().all_done();
        u.Done(memhp::v1::OPERATION_OUTCOME_FAILED,
               u.s.restore_why + (ok ? "; its blocks are online again" : "; putting its blocks back online failed too"));
      }
      break;
    case Phase::kDeletingBackend:
      if (const auto* a = std::get_if<HardwareAnswered>(&e)) u.OnBackendDeleted(a->status, input);
      break;
    case Phase::kRelisting:
      if (const auto* l = std::get_if<DevicesListed>(&e)) {
        if (!l->devices.ok()) {
          u.End(false, l->devices.error().message);
          u.Done(memhp::v1::OPERATION_OUTCOME_DONE, u.DoneText());
        } else {
          u.out.push_back(SendDeviceMap{l->devices.value()});
          u.s.phase = Phase::kMapping;
        }
      }
      break;
    case Phase::kMapping:
      if (std::holds_alternative<MapAnswered>(e)) u.Done(memhp::v1::OPERATION_OUTCOME_DONE, u.DoneText());
      break;
    case Phase::kResuming:
    case Phase::kDone:
      break;
  }
  return {std::move(u.s), std::move(u.out)};
}

}  // namespace memhp::daemon::operations
