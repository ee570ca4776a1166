// resize_machine — see resize_machine.h.
#include "daemon/operations/resize_machine.h"

#include <algorithm>

#include "daemon/operations/admission.h"
#include "daemon/operations/block_progress.h"
#include "daemon/operations/device_map.h"

namespace memhp::daemon::operations {
namespace {

using Phase = ResizeState::Phase;
using memhp::v1::OperationOutcome;

struct Resize : MachineStep<ResizeState> {
  const Input& in;

  [[nodiscard]] std::chrono::milliseconds Whole() const {
    return s.request.timeout_ms() ? std::chrono::milliseconds(s.request.timeout_ms()) : s.timeouts.resize;
  }
  [[nodiscard]] uint64_t Requested() const { return s.request.requested_size(); }

  void OnFound(const DevicesListed& listed) {
    if (!listed.devices.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, listed.devices.error().message,
           ToProtoError(listed.devices.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    const memhp::v1::MemoryDevice* device = FindDevice(listed.devices.value(), s.request.device_id());
    const std::string& id = s.request.device_id();
    std::string why;
    if (device == nullptr) {
      why = "no memory device '" + id + "'";
    } else if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
      why = "'" + id + "' is a " + device->qmp_type() + " device, not virtio-mem" +
            (device->kind() == memhp::v1::MEMORY_DEVICE_KIND_DIMM ? ": use plug and unplug" : "");
    } else if (device->block_size() == 0 || Requested() % device->block_size() != 0) {
      why = "requested size " + FormatBytes(Requested()) + " is not a multiple of " + id + "'s block-size " +
            FormatBytes(device->block_size());
    } else if (Requested() > device->max_size()) {
      why = "requested size " + FormatBytes(Requested()) + " is over " + id + "'s max-size " +
            FormatBytes(device->max_size());
    }
    if (!why.empty()) {
      End(false, why);
      Done(memhp::v1::OPERATION_OUTCOME_REFUSED, why, MakeError(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, why));
      return;
    }
    s.result.set_node(device->node());
    s.result.set_address(device->address());
    s.max_size = device->max_size();
    s.size_before = device->size();
    s.last_size = s.size_before;
    s.result.set_size_reached(s.size_before);
    s.result.set_guest_side_known(in.agent_connected);
    End(true, "size " + FormatBytes(s.size_before) + ", max-size " + FormatBytes(s.max_size) + ", block-size " +
                  FormatBytes(device->block_size()));
    JournalParams params;
    params.kind = memhp::v1::OPERATION_KIND_RESIZE;
    params.device_id = id;
    params.size = Requested();
    params.node = device->node();
    out.push_back(JournalBegin{params});
    if (Requested() < s.size_before && s.request.offline_first() && in.agent_connected) {
      Begin("offline");
      out.push_back(ReadInventory{});
      s.phase = Phase::kInventory;
      return;
    }
    if (Requested() > s.size_before && in.agent_connected) {
      Begin("intent");
      memhp::v1::PlugIntent intent;
      intent.set_device_id(id);
      intent.set_kind(memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM);
      intent.set_node(device->node());
      intent.set_start(device->address());  // the driver adds memory anywhere in its region
      intent.set_size(s.max_size);
      intent.set_expected_size(Requested() - s.size_before);
      const auto life = s.timeouts.intent.count() ? s.timeouts.intent : Whole();
      intent.set_deadline_ms(static_cast<uint32_t>(std::clamp<int64_t>(life.count(), 1, 3600000)));
      out.push_back(SendIntent{intent});
      s.phase = Phase::kIntent;
      return;
    }
    SetSize();
  }

  void OnInventory(const InventoryRead& r) {
    if (!r.inventory.ok()) {
      End(false, "no inventory from the agent: " + r.inventory.error().message);
      SetSize();
      return;
    }
    const auto& inv = r.inventory.value();
    const uint64_t bs = inv.block_size_bytes();
    // The device's online blocks at or above the new size, highest first (the driver's order).
    const uint64_t keep_end = s.result.address() + Requested();
    const uint64_t region_end = s.result.address() + s.max_size;
    std::vector<uint32_t> ids;
    for (const auto& b : inv.blocks()) {
      const uint64_t start = bs ? uint64_t{b.id()} * bs : 0;
      if (bs && start >= keep_end && start < region_end && b.state() == memhp::v1::BLOCK_STATE_ONLINE) {
        ids.push_back(b.id());
      }
    }
    std::sort(ids.rbegin(), ids.rend());
    if (ids.size() > kMaxBlocksPerOperation) ids.resize(kMaxBlocksPerOperation);
    if (ids.empty()) {
      End(true, "no online block above the new size");
      SetSize();
      return;
    }
    OfflineBlocks offline;
    for (uint32_t id : ids) offline.request.mutable_selection()->mutable_blocks()->add_ids(id);
    offline.request.set_all_or_nothing(false);
    offline.timeout = Whole();
    out.push_back(offline);
    s.phase = Phase::kOfflining;
  }

  void OnOfflined(const BlocksAnswered& a) {
    if (a.result.ok()) {
      uint32_t done = 0;
      for (const auto& b : a.result.value().blocks()) {
        if (static_cast<uint64_t>(s.result.blocks_size()) >= kMaxBlocksPerOperation) break;
        *s.result.add_blocks() = b;
        done += b.outcome() == memhp::v1::BLOCK_OUTCOME_DONE || b.outcome() == memhp::v1::BLOCK_OUTCOME_ALREADY;
      }
      End(a.result.value().all_done(), std::to_string(done) + " of " +
                                           std::to_string(a.result.value().blocks_size()) + " block(s) offlined");
    } else {
      End(false, "agent offline: " + a.result.error().message);
    }
    out.push_back(JournalStepDone{"agent-offlined", ""});
    SetSize();
  }

  void SetSize() {
    Begin("qom-set");
    out.push_back(SetRequestedSize{s.request.device_id(), Requested()});
    s.phase = Phase::kSetting;
  }

  void OnSizeSet(const Status& st) {
    if (!st.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, "qom-set requested-size failed: " + st.error().message,
           ToProtoError(st.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    End(true, FormatBytes(Requested()));
    out.push_back(JournalStepDone{"requested-size-set", ""});
    Begin("wait-size");
    s.phase = Phase::kWaitSize;
    RestartSettle();
    Poll();
  }

  void RestartSettle() {
    s.settle_timer = s.settle_timer == 0 ? kResizeFirstSettleTimer : s.settle_timer + 1;
    out.push_back(StartTimer{s.settle_timer, s.timeouts.resize_settle});
  }

  void Poll() {
    if (s.poll_inflight) {
      s.poll_again = true;
      return;
    }
    s.poll_inflight = true;
    out.push_back(ListDevices{});
  }

  void OnPolled(const DevicesListed& listed) {
    s.poll_inflight = false;
    if (!listed.devices.ok()) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, listed.devices.error().message,
           ToProtoError(listed.devices.error(), memhp::v1::ERROR_CODE_QMP));
      return;
    }
    const memhp::v1::MemoryDevice* device = FindDevice(listed.devices.value(), s.request.device_id());
    if (device == nullptr) {
      Done(memhp::v1::OPERATION_OUTCOME_FAILED, s.request.device_id() + " disappeared from query-memory-devices");
      return;
    }
    OnSize(device->size());
  }

  void OnSize(uint64_t size) {
    if (size != s.last_size) {
      s.last_size = size;
      RestartSettle();
    }
    s.result.set_size_reached(size);
    const uint64_t total = Requested() > s.size_before ? Requested() - s.size_before : s.size_before - Requested();
    const uint64_t moved = size > s.size_before ? size - s.size_before : s.size_before - size;
    out.push_back(ReportProgress{"wait-size", "size " + FormatBytes(size), moved, total});
    if (size == Requested()) {
      End(true, "size " + FormatBytes(size));
      out.push_back(JournalStepDone{"size-reached", std::to_string(size)});
      if (size > s.size_before && in.agent_connected) {
        WaitTheBlocks();
        return;
      }
      Done(memhp::v1::OPERATION_OUTCOME_DONE,
           "size " + FormatBytes(size) + (in.agent_connected ? "" : "; guest side unknown (no agent)"));
      return;
    }
    if (s.poll_again) {
      s.poll_again = false;
      Poll();
      return;
    }
    if (s.poll_timer_pending) return;
    s.poll_timer_pending = true;
    out.push_back(StartTimer{kResizePollTimer, s.timeouts.poll});
  }

  void WaitTheBlocks() {
    Begin("online");
    const uint64_t block_size = in.agent_block_size ? in.agent_block_size : kDefaultGuestBlockSize;
    OnlineWaitOptions options;
    // The driver adds whole memory blocks from the bottom of the region (drivers/virtio/virtio_mem.c).
    const uint64_t span = (Requested() + block_size - 1) / block_size * block_size;
    options.range = BlockRange{s.result.address(), span, block_size};
    options.device_id = s.request.device_id();
    options.timeout = Whole();  // the deadline timer still ends the resize at Whole() from its start
    options.poll = s.timeouts.poll;
    options.agent_timeout = s.timeouts.agent;
    out.push_back(WaitOnline{options});
    s.phase = Phase::kOnline;
  }

  void OnOnline(OnlineWaitEnd end) {
    for (auto& b : end.progress.blocks) {
      if (static_cast<uint64_t>(s.result.blocks_size()) >= kMaxBlocksPerOperation) break;
      *s.result.add_blocks() = std::move(b);
    }
    const std::string size = "size " + FormatBytes(s.last_size) + ", " + FormatBytes(end.progress.online_bytes) + " online";
    switch (end.reason) {
      case OnlineWaitEndReason::kSettled:
        Done(end.progress.failed ? memhp::v1::OPERATION_OUTCOME_PARTIAL : memhp::v1::OPERATION_OUTCOME_DONE,
             size + (end.progress.failed ? "; " + std::to_string(end.progress.failed) + " block(s) failed to come online"
                                         : ""));
        return;
      case OnlineWaitEndReason::kLeftOffline:
        Done(memhp::v1::OPERATION_OUTCOME_DONE, size + "; " + end.detail);
        return;
      case OnlineWaitEndReason::kTimedOut:
        Done(memhp::v1::OPERATION_OUTCOME_TIMED_OUT, size + " when the wait for the guest ended");
        return;
      case OnlineWaitEndReason::kAgentLost:
        s.result.set_guest_side_known(false);
        s.pending = Finished(s.result, memhp::v1::OPERATION_OUTCOME_FAILED, size + "; " + end.detail).result;
        out.push_back(CheckAlive{});
        s.phase = Phase::kConfirmingAlive;
        return;
    }
  }

  void OnTimer(uint32_t timer) {
    if (timer == kResizeDeadlineTimer) {
      if (s.phase == Phase::kWaitSize) {
        Done(memhp::v1::OPERATION_OUTCOME_TIMED_OUT, "size " + FormatBytes(s.last_size) + " of " +
                                                         FormatBytes(Requested()) + " requested when the time ran out");
      } else if (s.phase != Phase::kConfirmingAlive) {
        Done(memhp::v1::OPERATION_OUTCOME_TIMED_OUT,
             "no end within " + std::to_string(Whole().count()) + " ms (in the " + s.step + " step)");
      }
      return;
    }
    if (s.phase != Phase::kWaitSize) return;
    if (timer == kResizePollTimer) {
      s.poll_timer_pending = false;
      Poll();
      return;
    }
    if (timer == s.settle_timer) {
      Done(memhp::v1::OPERATION_OUTCOME_PARTIAL,
           "size stopped at " + FormatBytes(s.last_size) + " of " + FormatBytes(Requested()) +
               " requested (no change for " + std::to_string(s.timeouts.resize_settle.count() / 1000) +
               " s); requested-size stays set, the driver may go on");
    }
  }
};

}  // namespace

ResizeState BeginResize(memhp::v1::ResizeRequest request, OperationTimeouts timeouts) {
  ResizeState s;
  s.request = std::move(request);
  s.timeouts = timeouts;
  s.result.set_kind(memhp::v1::OPERATION_KIND_RESIZE);
  s.result.set_device_id(s.request.device_id());
  s.result.set_size_requested(s.request.requested_size());
  s.result.set_node(-1);
  return s;
}

ResizeState ResumeResize(const JournalOp& op, ResumeCause cause) {
  return Resumed<ResizeState>(memhp::v1::OPERATION_KIND_RESIZE, op, cause);
}

Transition<ResizeState> NextResize(ResizeState state, const Input& input) {
  Resize r{{std::move(state), {}}, input};
  if (auto common = CommonNext(r.s, input)) return {std::move(r.s), std::move(*common)};
  const Event& e = input.event;
  if (const auto* t = std::get_if<TimerFired>(&e); t && r.s.phase != Phase::kStart) {
    r.OnTimer(t->timer);
    return {std::move(r.s), std::move(r.out)};
  }
  switch (r.s.phase) {
    case Phase::kStart:
      if (std::holds_alternative<Started>(e)) {
        r.Begin("find");
        r.out.push_back(StartTimer{kResizeDeadlineTimer, r.Whole()});
        r.out.push_back(ListDevices{});
        r.s.phase = Phase::kFinding;
      }
      break;
    case Phase::kFinding:
      if (const auto* l = std::get_if<DevicesListed>(&e)) r.OnFound(*l);
      break;
    case Phase::kInventory:
      if (const auto* i = std::get_if<InventoryRead>(&e)) r.OnInventory(*i);
      break;
    case Phase::kOfflining:
      if (const auto* a = std::get_if<BlocksAnswered>(&e)) r.OnOfflined(*a);
      break;
    case Phase::kIntent:
      if (const auto* a = std::get_if<IntentAnswered>(&e)) {
        r.End(a->status.ok(), a->status.ok() ? "" : "agent did not take the intent: " + a->status.error().message);
        r.SetSize();
      }
      break;
    case Phase::kSetting:
      if (const auto* a = std::get_if<HardwareAnswered>(&e)) r.OnSizeSet(a->status);
      break;
    case Phase::kWaitSize:
      if (const auto* l = std::get_if<DevicesListed>(&e)) r.OnPolled(*l);
      if (const auto* d = std::get_if<DeviceEventSeen>(&e);
          d && d->event.kind == DeviceEventKind::kSizeChanged && d->event.device_id == r.s.request.device_id()) {
        r.Poll();  // the event's size is rate-limited; the list is the truth
      }
      break;
    case Phase::kOnline:
      if (const auto* w = std::get_if<OnlineWaitEnded>(&e)) r.OnOnline(w->end);
      break;
    case Phase::kConfirmingAlive:
      if (std::holds_alternative<AliveChecked>(e)) {
        r.s.phase = Phase::kDone;
        r.out.push_back(Finish{r.s.pending});
      }
      break;
    case Phase::kResuming:
    case Phase::kDone:
      break;
  }
  return {std::move(r.s), std::move(r.out)};
}

}  // namespace memhp::daemon::operations
