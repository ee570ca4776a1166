// plug_operation — plug a pc-dimm as a transaction (docs/architecture.md, "Plug a DIMM").
//
//   admission (admission.h, over facts from QEMU and the agent)
//   -> object-add memory-backend-ram "mem-<id>"          journal: object-added
//   -> device_add pc-dimm (id, memdev, node)             journal: device-added
//        failure: object-del "mem-<id>" (no orphan backend), FAILED with QEMU's error class
//   -> query-memory-devices: the DIMM's address
//   -> DeviceMap to the agent (every DIMM and virtio-mem range, the asked zone)
//   -> wait until every block of [addr, addr + size) is online or failed (online_waiter.h)
// Without an agent the DIMM is still plugged: DONE, guest_side_known = false.
#pragma once

#include <memory>

#include "daemon/operations/admission.h"
#include "daemon/operations/online_waiter.h"
#include "daemon/operations/qemu_facts.h"
#include "daemon/operations/operation.h"

namespace memhp::daemon::operations {

class PlugOperation : public Operation {
 public:
  PlugOperation(OperationEnv& env, memhp::v1::PlugRequest request, ControlReply reply);

  void OnAgentEvent(const memhp::v1::AgentEvent& event) override;
  void OnAgentLost() override;

 private:
  void Run() override;
  void OnFacts(GatheredFacts facts);
  void ObjectAdd();
  void DeviceAdd();
  void RollBack(const qmp::QmpError& why);
  void Locate();
  void SendDeviceMap(std::vector<memhp::v1::MemoryDevice> devices);
  void WaitOnline();
  void OnOnlineEnd(OnlineWaitEnd end);

  memhp::v1::PlugRequest request_;
  AdmissionDecision admission_;
  std::unique_ptr<OnlineWaiter> waiter_;
};

}  // namespace memhp::daemon::operations
