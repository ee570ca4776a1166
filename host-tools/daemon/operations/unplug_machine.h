// unplug_machine — unplug a pc-dimm as a transaction (docs/architecture.md, "Unplug a DIMM"),
// as a pure state machine (machine.h).
//
//   find the DIMM (list the devices; a virtio-mem id is told to use resize)    journal: begin
//   -> the agent offlines the DIMM's range all-or-nothing, each block bounded in time; if any
//      block refuses, the agent puts the others back (ROLLED_BACK) and the answer is REFUSED
//      with the per-block reasons, naming the blocks put back — nothing changed; a block the
//      agent could not put back makes it FAILED, naming the blocks left offline
//                                                          journal: agent-offlined
//   -> delete the DIMM                                     journal: device-del-sent
//   -> wait for the hardware's end for this device, heard from the moment the delete is sent
//      (the eject's events may come before its answer): deleted, or the guest's refusal (an
//      _OST failure, DEVICE_UNPLUG_GUEST_ERROR) — FAILED naming it, after asking the agent to
//      online the blocks again. No end in time: TIMED_OUT (the device is still there; the
//      eject may still come).                              journal: deleted
//   -> delete the backend                                  journal: object-deleted
//   -> the new device map to the agent.
// Without an agent the guest's side cannot be coordinated: REFUSED unless `force`.
#pragma once

#include <optional>
#include <string>

#include "daemon/operations/machine.h"

namespace memhp::daemon::operations {

struct UnplugState {
  enum class Phase {
    kStart, kFinding, kOffline, kDeleting, kWaitDeleted, kRestoring, kDeletingBackend, kRelisting, kMapping,
    kResuming, kDone,
  };
  Phase phase = Phase::kStart;
  memhp::v1::UnplugRequest request;
  OperationTimeouts timeouts;
  memhp::v1::OperationResult result;
  std::string step;
  std::string memdev_id;
  std::string force_note;
  bool offlined = false;                      // the agent offlined the DIMM's blocks for this unplug
  bool early_deleted = false;                 // deleted before the delete request's answer
  std::optional<std::string> early_failure;   // a guest refusal that came before it
  std::string restore_why;                    // kRestoring: the failure being reported
  ResumeState resume;
};

// The whole unplug's deadline timer (StartTimer / TimerFired).
inline constexpr uint32_t kUnplugDeadlineTimer = 1;

[[nodiscard]] UnplugState BeginUnplug(memhp::v1::UnplugRequest request, OperationTimeouts timeouts);
[[nodiscard]] UnplugState ResumeUnplug(const JournalOp& op, ResumeCause cause = ResumeCause::kRestart);
[[nodiscard]] Transition<UnplugState> NextUnplug(UnplugState state, const Input& input);

}  // namespace memhp::daemon::operations
