// reconcile — see reconcile.h.
#include "daemon/operations/reconcile.h"

#include <algorithm>

#include "daemon/operations/device_map.h"

namespace memhp::daemon::operations {

ReconcileDecision DecideReconcile(const JournalOp& op, const QemuMemoryState& qemu, ResumeCause cause) {
  ReconcileDecision d;
  const memhp::v1::MemoryDevice* device = FindDevice(qemu.devices, op.params.device_id);
  const bool backend = !op.params.memdev_id.empty() &&
                       std::find(qemu.object_ids.begin(), qemu.object_ids.end(), op.params.memdev_id) != qemu.object_ids.end();
  const std::string prefix = cause == ResumeCause::kReconnect ? "recovered after the connection to the VM's manager came back: "
                                                              : "recovered after a memhpd restart: ";
  switch (op.params.kind) {
    case memhp::v1::OPERATION_KIND_PLUG:
      if (device != nullptr) {
        d.outcome = memhp::v1::OPERATION_OUTCOME_DONE;
        d.size_reached = device->size();
        d.detail = prefix + op.params.device_id + " is plugged; the agent onlines its blocks per its policy";
      } else if (backend) {
        d.object_del = op.params.memdev_id;
        d.detail = prefix + "device_add never completed; backend " + op.params.memdev_id + " removed";
      } else {
        d.detail = prefix + "nothing was plugged";
      }
      return d;
    case memhp::v1::OPERATION_KIND_UNPLUG:
      if (device == nullptr) {
        d.outcome = memhp::v1::OPERATION_OUTCOME_DONE;
        if (backend) d.object_del = op.params.memdev_id;
        d.detail = prefix + op.params.device_id + " is gone" +
                   (backend ? "; backend " + op.params.memdev_id + " removed" : "");
      } else {
        d.size_reached = device->size();
        d.detail = prefix + op.params.device_id + " is still plugged" +
                   (op.HasStep("agent-offlined") ? " (the guest had offlined its blocks; online them again or unplug again)"
                                                  : "");
      }
      return d;
    case memhp::v1::OPERATION_KIND_RESIZE:
      if (device == nullptr) {
        d.detail = prefix + op.params.device_id + " is gone";
      } else {
        d.size_reached = device->size();
        d.outcome = device->size() == op.params.size ? memhp::v1::OPERATION_OUTCOME_DONE
                                                     : memhp::v1::OPERATION_OUTCOME_PARTIAL;
        d.detail = prefix + "size " + std::to_string(device->size()) + " of " + std::to_string(op.params.size) +
                   " requested";
      }
      return d;
    default:
      d.detail = prefix + "unknown operation kind";
      return d;
  }
}

}  // namespace memhp::daemon::operations
