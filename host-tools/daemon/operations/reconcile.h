// reconcile — what a restarted memhpd does about an operation its journal shows begun and not
// ended (memhpd was killed mid-operation). Pure: the journal's record and QEMU's state now, in;
// the cleanup and the end record, out.
//
//   plug, device present            -> DONE (recovered): the DIMM is there; the agent onlines
//                                      its blocks per policy when it sees them
//   plug, backend but no device     -> object-del the backend; FAILED (recovered)
//   plug, neither                   -> FAILED (recovered): nothing was created
//   unplug, device gone             -> object-del the backend if it remains; DONE (recovered)
//   unplug, device present          -> FAILED (recovered): still plugged (say whether the
//                                      guest had offlined it, from the journal's steps)
//   resize, device present          -> DONE when size == requested, else PARTIAL; size_reached
//   resize, device gone             -> FAILED (recovered)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/operations/journal.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::operations {

struct QemuMemoryState {
  std::vector<memhp::v1::MemoryDevice> devices;  // query-memory-devices
  std::vector<std::string> object_ids;           // qom-list /objects
};

struct ReconcileDecision {
  memhp::v1::OperationOutcome outcome = memhp::v1::OPERATION_OUTCOME_FAILED;
  std::string detail;
  std::optional<std::string> object_del;  // a backend to delete first
  uint64_t size_reached = 0;
};

// Why an operation is being resumed: it was in the journal when memhpd started, or this memhpd
// left it unfinished when the VM's manager went out of reach and has reached it again
// (machine.h ManagerUnreachable). Only the detail's words differ; the decision is the same.
enum class ResumeCause { kRestart, kReconnect };

[[nodiscard]] ReconcileDecision DecideReconcile(const JournalOp& op, const QemuMemoryState& qemu,
                                                ResumeCause cause = ResumeCause::kRestart);

}  // namespace memhp::daemon::operations
