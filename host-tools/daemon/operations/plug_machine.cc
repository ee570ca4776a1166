// plug_machine — see plug_machine.h.
#include "daemon/operations/plug_machine.h"

#include <cstdio>

#include "daemon/operations/block_progress.h"
#include "daemon/operations/device_map.h"
#include "daemon/operations/admission_facts.h"

namespace memhp::daemon::operations {
namespace {

using Phase = PlugState::Phase;
using memhp::v1::OperationOutcome;

// How a zone is spelled in messages: as the kernel prints it in valid_zones.
const char* ZoneWord(memhp::v1::Zone zone) {
  switch (zone) {
    case memhp::v1::ZONE_DMA: return "DMA";
    case memhp::v1::ZONE_DMA32: return "DMA32";
    case memhp::v1::ZONE_NORMAL: return "Normal";
    case memhp::v1::ZONE_MOVABLE: return "Movable";
    case memhp::v1::ZONE_DEVICE: return "Device";
    default: return "no zone";
  }
}

struct Plug : MachineStep<PlugState> {


  void OnFacts(const FactsGathered& f, const Input& in) {
    if (!f.hardware.devices_known) {
      std::string why = "cannot learn QEMU's memory devices";
      for (const auto& p : f.hardware.problems) why += "; " + p;
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, why,
           MakeError(f.hardware.connected ? memhp::v1::ERROR_CODE_QMP : memhp::v1::ERROR_CODE_UNAVAILABLE, why));
      return;
    }
    AdmissionFacts facts = AdmissionFactsFrom(f, in.agent_block_size);
    s.admission = Admit(AdmissionRequest{s.request.device_id(), s.request.size(), s.request.node(), s.request.target()},
                        facts);
    s.result.set_device_id(s.admission.device_id);
    std::string notes;
    for (const auto& n : s.admission.notes) notes += (notes.empty() ? "" : "; ") + n;
    if (!s.admission.admitted) {
      End(false, s.admission.refusal);
      Done(memhp::v1::OPERATION_OUTCOME_REFUSED, s.admission.refusal, MakeError(s.admission.code, s.admission.refusal));
      return;
    }
    End(true, notes);
    JournalParams params;
    params.kind = memhp::v1::OPERATION_KIND_PLUG;
    params.device_id = s.admission.device_id;
    params.memdev_id = s.admission.memdev_id;
    params.size = s.request.size();
    params.node = s.request.node();
    params.target = s.request.target();
    out.push_back(JournalBegin{params});
    if (in.agent_connected) {
      Begin("intent");
      memhp::v1::PlugIntent intent;
      intent.set_device_id(s.admission.device_id);
      intent.set_kind(memhp::v1::MEMORY_DEVICE_KIND_DIMM);
      intent.set_node(s.request.node());
      intent.set_expected_size(s.request.size());  // the address is QEMU's choice at device_add
      intent.set_target(s.request.target());
      const auto life = s.timeouts.intent.count() ? s.timeouts.intent : PlugTimeout() + s.timeouts.qmp * 2;
      intent.set_deadline_ms(static_cast<uint32_t>(std::min<int64_t>(life.count(), 3600000)));
      out.push_back(SendIntent{intent});
      s.phase = Phase::kIntent;
      return;
    }
    AddTheBackend();
  }

  [[nodiscard]] std::chrono::milliseconds PlugTimeout() const {
    return s.request.timeout_ms() ? std::chrono::milliseconds(s.request.timeout_ms()) : s.timeouts.plug_guest;
  }

  [[nodiscard]] DimmSpec Dimm() const {
    return DimmSpec{s.admission.device_id, s.admission.memdev_id, s.request.size(), s.request.node()};
  }

  void AddTheBackend() {
    Begin("object-add");
    out.push_back(AddBackend{Dimm()});
    s.phase = Phase::kAddingBackend;
  }

  void OnBackendAdded(const Status& st) {
    if (!st.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, "object-add failed: " + st.error().message + "; nothing created",
           ToProtoError(st.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    End(true, s.admission.memdev_id);
    out.push_back(JournalStepDone{"object-added", s.admission.memdev_id});
    Begin("device_add");
    out.push_back(AddDimm{Dimm()});
    s.phase = Phase::kAddingDimm;
  }

  void OnDimmAdded(const Status& st) {
    if (!st.ok()) {
      End(false, st.error().message);
      // device_add failed: the backend must go too, or it is an orphan in /objects.
      s.failure = "device_add failed: " + st.error().message;
      s.failure_error = ToProtoError(st.error(), memhp::v1::ERROR_CODE_QMP);
      Begin("object-del");
      out.push_back(DeleteBackend{s.admission.memdev_id});
      s.phase = Phase::kRollingBack;
      return;
    }
    if (s.request.target() != memhp::v1::ONLINE_TARGET_UNSPECIFIED) {
      out.push_back(RememberTarget{s.admission.device_id, s.request.target()});
    }
    End(true);
    out.push_back(JournalStepDone{"device-added", s.admission.device_id});
    Begin("locate");
    out.push_back(ListDevices{});
    s.phase = Phase::kLocating;
  }

  void OnRolledBack(const Status& st) {
    if (!st.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED,
           s.failure + "; object-del " + s.admission.memdev_id + " failed too (" + st.error().message +
               "): the backend is left over",
           s.failure_error);
      return;
    }
    End(true, s.admission.memdev_id);
    out.push_back(JournalStepDone{"object-deleted", s.admission.memdev_id});
    Done(memhp::v1::OPERATION_OUTCOME_FAILED, s.failure + "; backend " + s.admission.memdev_id + " removed",
         s.failure_error);
  }

  void OnLocated(const DevicesListed& listed, const Input& in) {
    const memhp::v1::MemoryDevice* dimm =
        listed.devices.ok() ? FindDevice(listed.devices.value(), s.admission.device_id) : nullptr;
    if (dimm == nullptr) {
      // Plugged (device_add succeeded) but not found: say so rather than guess an address.
      Done(memhp::v1::OPERATION_OUTCOME_FAILED,
           "device_add succeeded but query-memory-devices does not list " + s.admission.device_id +
               (listed.devices.ok() ? "" : ": " + listed.devices.error().message));
      return;
    }
    s.result.set_address(dimm->address());
    char where[64];
    std::snprintf(where, sizeof(where), "0x%llx", static_cast<unsigned long long>(dimm->address()));
    End(true, std::string("at ") + where + " slot " + std::to_string(dimm->slot()));
    if (!in.agent_connected) {
      s.result.set_guest_side_known(false);
      s.result.set_size_reached(s.request.size());
      Done(memhp::v1::OPERATION_OUTCOME_DONE, "guest side unknown (no agent)");
      return;
    }
    s.result.set_guest_side_known(true);
    Begin("device-map");
    out.push_back(SendDeviceMap{listed.devices.value()});
    s.phase = Phase::kMapping;
  }

  void OnMapped(const MapAnswered& m) {
    // Not fatal: without the map the agent still onlines by its policy (and the intent).
    if (m.devices.ok()) {
      End(true, std::to_string(m.devices.value()) + " device(s) known to the agent");
    } else {
      End(false, "agent did not take the device map: " + m.devices.error().message);
    }
    Begin("online");
    OnlineWaitOptions options;
    options.range = BlockRange{s.result.address(), s.request.size(), s.admission.block_size};
    options.device_id = s.admission.device_id;
    options.target = s.request.target();
    options.timeout = PlugTimeout();
    options.poll = s.timeouts.poll;
    options.agent_timeout = s.timeouts.agent;
    out.push_back(WaitOnline{options});
    s.phase = Phase::kOnline;
  }

  void OnOnline(OnlineWaitEnd end) {
    for (auto& b : end.progress.blocks) *s.result.add_blocks() = std::move(b);
    s.result.set_size_reached(end.progress.online_bytes);
    const std::string online =
        FormatBytes(end.progress.online_bytes) + " of " + FormatBytes(s.request.size()) + " online";
    switch (end.reason) {
      case OnlineWaitEndReason::kSettled:
        if (end.progress.failed != 0) {
          Done(memhp::v1::OPERATION_OUTCOME_PARTIAL,
               online + "; " + std::to_string(end.progress.failed) + " block(s) failed to come online");
          return;
        }
        if (std::string misplaced = MisplacedBlocks(); !misplaced.empty()) {
          Done(memhp::v1::OPERATION_OUTCOME_PARTIAL, online + "; " + misplaced);
          return;
        }
        Done(memhp::v1::OPERATION_OUTCOME_DONE, online);
        return;
      case OnlineWaitEndReason::kLeftOffline:
        Done(memhp::v1::OPERATION_OUTCOME_DONE, online + "; " + end.detail);
        return;
      case OnlineWaitEndReason::kTimedOut:
        Done(memhp::v1::OPERATION_OUTCOME_TIMED_OUT, "the DIMM is plugged; " + online +
                                                         " when the wait for the guest ended (" +
                                                         std::to_string(end.progress.present) + " block(s) seen)");
        return;
      case OnlineWaitEndReason::kAgentLost:
        s.result.set_guest_side_known(false);
        s.pending = Finished(s.result, memhp::v1::OPERATION_OUTCOME_FAILED,
                             "the DIMM is plugged; " + end.detail + "; " + online + " when last seen")
                        .result;
        out.push_back(CheckAlive{});
        s.phase = Phase::kConfirmingAlive;
        return;
    }
  }

  // With a zone asked, the online blocks that are not in it ("" when every one is).
  [[nodiscard]] std::string MisplacedBlocks() const {
    const memhp::v1::Zone asked = ZoneAsked(s.request.target());
    if (asked == memhp::v1::ZONE_UNSPECIFIED) return "";
    std::string list;
    uint32_t count = 0;
    for (const auto& b : s.result.blocks()) {
      if (b.outcome() != memhp::v1::BLOCK_OUTCOME_DONE && b.outcome() != memhp::v1::BLOCK_OUTCOME_ALREADY) continue;
      if (b.zone() == asked) continue;
      if (++count <= 8) list += (list.empty() ? "" : ", ") + std::to_string(b.block()) + " (" + ZoneWord(b.zone()) + ")";
    }
    if (count == 0) return "";
    return std::to_string(count) + " block(s) online outside the zone asked, " + ZoneWord(asked) + ": " + list +
           (count > 8 ? ", ..." : "");
  }
};

}  // namespace

memhp::v1::Zone ZoneAsked(memhp::v1::OnlineTarget target) {
  switch (target) {
    case memhp::v1::ONLINE_TARGET_KERNEL: return memhp::v1::ZONE_NORMAL;
    case memhp::v1::ONLINE_TARGET_MOVABLE: return memhp::v1::ZONE_MOVABLE;
    default: return memhp::v1::ZONE_UNSPECIFIED;
  }
}

PlugState BeginPlug(memhp::v1::PlugRequest request, OperationTimeouts timeouts) {
  PlugState s;
  s.request = std::move(request);
  s.timeouts = timeouts;
  s.result.set_kind(memhp::v1::OPERATION_KIND_PLUG);
  s.result.set_device_id(s.request.device_id());
  s.result.set_node(s.request.node());
  s.result.set_size_requested(s.request.size());
  return s;
}

PlugState ResumePlug(const JournalOp& op, ResumeCause cause) {
  return Resumed<PlugState>(memhp::v1::OPERATION_KIND_PLUG, op, cause);
}

Transition<PlugState> NextPlug(PlugState state, const Input& input) {
  Plug p{{std::move(state), {}}};
  if (auto common = CommonNext(p.s, input)) return {std::move(p.s), std::move(*common)};
  const Event& e = input.event;
  switch (p.s.phase) {
    case Phase::kStart:
      if (std::holds_alternative<Started>(e)) {
        p.Begin("admission");
        p.out.push_back(AskFacts{});
        p.s.phase = Phase::kAdmission;
      }
      break;
    case Phase::kAdmission:
      if (const auto* f = std::get_if<FactsGathered>(&e)) p.OnFacts(*f, input);
      break;
    case Phase::kIntent:
      if (const auto* a = std::get_if<IntentAnswered>(&e)) {
        // Not fatal: an agent that does not take it still onlines by its policy, and the wait
        // below still asks for the zone when the policy leaves the blocks offline.
        p.End(a->status.ok(), a->status.ok() ? "" : "agent did not take the intent: " + a->status.error().message);
        p.AddTheBackend();
      }
      break;
    case Phase::kAddingBackend:
      if (const auto* a = std::get_if<HardwareAnswered>(&e)) p.OnBackendAdded(a->status);
      break;
    case Phase::kAddingDimm:
      if (const auto* a = std::get_if<HardwareAnswered>(&e)) p.OnDimmAdded(a->status);
      break;
    case Phase::kRollingBack:
      if (const auto* a = std::get_if<HardwareAnswered>(&e)) p.OnRolledBack(a->status);
      break;
    case Phase::kLocating:
      if (const auto* l = std::get_if<DevicesListed>(&e)) p.OnLocated(*l, input);
      break;
    case Phase::kMapping:
      if (const auto* m = std::get_if<MapAnswered>(&e)) p.OnMapped(*m);
      break;
    case Phase::kOnline:
      if (const auto* w = std::get_if<OnlineWaitEnded>(&e)) p.OnOnline(w->end);
      break;
    case Phase::kConfirmingAlive:
      if (std::holds_alternative<AliveChecked>(e)) {  // gone was handled above
        p.s.phase = Phase::kDone;
        p.out.push_back(Finish{p.s.pending});
      }
      break;
    case Phase::kResuming:
    case Phase::kDone:
      break;
  }
  return {std::move(p.s), std::move(p.out)};
}

}  // namespace memhp::daemon::operations
