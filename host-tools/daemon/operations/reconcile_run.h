// reconcile_run — the first turn of memhpd's operation queue: finish, from QEMU's state, every
// operation the journal shows begun and not ended (reconcile.h decides; this asks QEMU, runs
// the object-del it calls for, writes the end record marked recovered, and logs it). Later
// operations wait behind it, so none starts while the journal still has loose ends.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string_view>

#include <google/protobuf/message.h>

#include "daemon/operations/journal.h"
#include "daemon/operations/operation_queue.h"
#include "daemon/operations/reconcile.h"
#include "qmp/qmp_client.h"

namespace memhp::daemon::operations {

class ReconcileRun : public Queueable, public std::enable_shared_from_this<ReconcileRun> {
 public:
  // `publish` (may be empty) receives an "end" OperationResult (recovered) per finished
  // operation, for `memhpctl watch`.
  using Publish = std::function<void(std::string_view, const google::protobuf::Message&)>;
  ReconcileRun(qmp::QmpClient& qmp, Journal& journal, std::chrono::milliseconds qmp_timeout, Publish publish);

  void StartTurn(std::function<void()> done) override;
  void WaitingBehind(uint32_t) override {}

 private:
  void Next();
  void End(const JournalOp& op, const ReconcileDecision& decision);

  qmp::QmpClient& qmp_;
  Journal& journal_;
  std::chrono::milliseconds qmp_timeout_;
  Publish publish_;
  std::function<void()> done_;
  QemuMemoryState state_;
  std::deque<JournalOp> todo_;
};

}  // namespace memhp::daemon::operations
