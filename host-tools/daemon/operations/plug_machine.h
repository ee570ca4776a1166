// plug_machine — plug a pc-dimm as a transaction (docs/architecture.md, "Plug a DIMM"), as a
// pure state machine (machine.h).
//
//   admission (admission.h, over the hardware's and the agent's facts)   refused: REFUSED
//                                                          journal: begin
//   -> the plug intent to the agent (device, node, size, the zone asked), before any hardware,
//      so the agent decides the new blocks' zone at their first uevent; not fatal
//   -> add the backend                                     journal: object-added
//   -> add the DIMM                                        journal: device-added
//        failure: delete the backend (no orphan), FAILED with the hardware's error
//   -> list the devices: the DIMM's address
//   -> the device map to the agent (every DIMM and virtio-mem range, the zones asked)
//   -> wait until every block of [addr, addr + size) is online or failed (online_waiter.h);
//      with a zone asked, every online block must be in it, else PARTIAL naming the others
// Without an agent the DIMM is still plugged: DONE, guest_side_known = false. The agent lost
// while waiting: FAILED once QEMU is known to be alive (the agent's channel is a chardev of
// the same QEMU, so a lost agent alone does not say which went away).
#pragma once

#include <string>

#include "daemon/operations/admission.h"
#include "daemon/operations/machine.h"

namespace memhp::daemon::operations {

struct PlugState {
  enum class Phase {
    kStart, kAdmission, kIntent, kAddingBackend, kAddingDimm, kRollingBack, kLocating, kMapping, kOnline,
    kConfirmingAlive, kResuming, kDone,
  };
  Phase phase = Phase::kStart;
  memhp::v1::PlugRequest request;
  OperationTimeouts timeouts;
  memhp::v1::OperationResult result;
  AdmissionDecision admission;
  std::string step;                 // the step open now, or the last one opened
  std::string failure;              // device_add's failure, while rolling back
  memhp::v1::Error failure_error;
  memhp::v1::OperationResult pending;  // kConfirmingAlive: the end to send if QEMU is alive
  ResumeState resume;
};

// A new plug of `request`.
[[nodiscard]] PlugState BeginPlug(memhp::v1::PlugRequest request, OperationTimeouts timeouts);
// A plug the journal shows begun and not ended (memhpd restarted).
[[nodiscard]] PlugState ResumePlug(const JournalOp& op, ResumeCause cause = ResumeCause::kRestart);
[[nodiscard]] Transition<PlugState> NextPlug(PlugState state, const Input& input);

// The zone a target asks for, or UNSPECIFIED when it leaves the choice to the guest (the
// policy, or the kernel's default zone).
[[nodiscard]] memhp::v1::Zone ZoneAsked(memhp::v1::OnlineTarget target);

}  // namespace memhp::daemon::operations
