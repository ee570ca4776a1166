// unplug_operation — unplug a pc-dimm as a transaction (docs/architecture.md, "Unplug a DIMM").
//
//   find the DIMM (query-memory-devices; a virtio-mem id is told to use resize)
//   -> the agent offlines the DIMM's range all-or-nothing, each block bounded in time; if any
//      block refuses, the agent puts the others back (ROLLED_BACK) and the answer is REFUSED
//      with the per-block reasons, naming the blocks put back — nothing changed; a block the
//      agent could not put back makes it FAILED, naming the blocks left offline
//                                                          journal: agent-offlined
//   -> device_del                                        journal: device-del-sent
//   -> wait for DEVICE_DELETED naming the device ("device" and "path" in its data), heard from
//      the moment device_del is sent: the eject's events may come before its reply. The guest's
//      answer may instead be an ACPI_DEVICE_OST with a failure status for this device (not 0,
//      not 0x84 "eject in progress"; ACPI 6.x 6.3.5), or DEVICE_UNPLUG_GUEST_ERROR (QEMU >= 6.2): FAILED,
//      naming it, after asking the agent to online the blocks again. No event in time:
//      TIMED_OUT (the device is still there; the eject may still come).     journal: deleted
//   -> object-del the backend                            journal: object-deleted
//   -> the new DeviceMap to the agent.
// Without an agent the guest's side cannot be coordinated: REFUSED unless `force`.
#pragma once

#include "daemon/operations/operation.h"

#include <optional>
#include <string>

namespace memhp::daemon::operations {

class UnplugOperation : public Operation {
 public:
  UnplugOperation(OperationEnv& env, memhp::v1::UnplugRequest request, ControlReply reply);

  void OnQmpEvent(std::string_view name, const JsonNode& data) override;

 private:
  void Run() override;
  void Offline();
  void DeviceDel();
  void FailAndRestore(const std::string& why);
  void OnDeleted();
  void ObjectDel();
  void UpdateDeviceMap();

  memhp::v1::UnplugRequest request_;
  bool listening_ = false;           // device_del sent: the eject's QMP events are ours
  bool waiting_for_delete_ = false;  // device_del answered: act on them at once
  bool early_deleted_ = false;       // DEVICE_DELETED came before device_del's reply
  std::optional<std::string> early_failure_;  // a guest refusal that came before it
  bool offlined_ = false;  // the agent offlined the DIMM's blocks for this unplug
  std::string memdev_id_;
  std::string force_note_;
};

}  // namespace memhp::daemon::operations
