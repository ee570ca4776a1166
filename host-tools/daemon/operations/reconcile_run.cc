// reconcile_run — see reconcile_run.h.
#include "daemon/operations/reconcile_run.h"

#include <glib.h>

#include "daemon/operations/qemu_facts.h"
#include "qmp/memory_devices.h"

namespace memhp::daemon::operations {

ReconcileRun::ReconcileRun(qmp::QmpClient& qmp, Journal& journal, std::chrono::milliseconds qmp_timeout,
                           Publish publish)
    : qmp_(qmp), journal_(journal), qmp_timeout_(qmp_timeout), publish_(std::move(publish)) {}

void ReconcileRun::StartTurn(std::function<void()> done) {
  done_ = std::move(done);
  for (auto& op : journal_.Unfinished()) todo_.push_back(std::move(op));
  if (todo_.empty()) {
    done_();
    return;
  }
  auto self = shared_from_this();
  qmp_.Execute("query-memory-devices", nullptr, qmp_timeout_, [self](qmp::Result r) {
    if (!r.ok()) {
      // QEMU cannot say: leave the journal as it is; the next memhpd start tries again.
      g_warning("reconcile: query-memory-devices: %s; %zu operation(s) left unfinished", r.error().message.c_str(),
                self->todo_.size());
      self->done_();
      return;
    }
    auto devices = qmp::ParseMemoryDevices(*r.value());
    if (!devices) {
      // A wrong shape is not "no devices": reconciling against it would undo real plugs.
      g_warning("reconcile: %s; %zu operation(s) left unfinished", devices.error.c_str(), self->todo_.size());
      self->done_();
      return;
    }
    self->state_.devices = std::move(*devices.value);
    self->qmp_.Execute("qom-list", qmp::JsonObjectBuilder().SetString("path", "/objects").Build(), self->qmp_timeout_,
                       [self](qmp::Result o) {
                         if (o.ok()) self->state_.object_ids = ParseQomChildren(*o.value());
                         self->Next();
                       });
  });
}

void ReconcileRun::Next() {
  if (todo_.empty()) {
    done_();
    return;
  }
  JournalOp op = std::move(todo_.front());
  todo_.pop_front();
  ReconcileDecision decision = DecideReconcile(op, state_);
  if (!decision.object_del) {
    End(op, decision);
    Next();
    return;
  }
  auto self = shared_from_this();
  qmp_.Execute("object-del", qmp::JsonObjectBuilder().SetString("id", *decision.object_del).Build(), qmp_timeout_,
               [self, op, decision](qmp::Result r) mutable {
                 if (!r.ok()) decision.detail += " (object-del failed: " + r.error().message + ")";
                 self->End(op, decision);
                 self->Next();
               });
}

void ReconcileRun::End(const JournalOp& op, const ReconcileDecision& decision) {
  const std::string error = journal_.End(op.id, decision.outcome, decision.detail, true, decision.size_reached);
  g_message("reconcile: operation %llu (%s %s) ends %s: %s%s", static_cast<unsigned long long>(op.id),
            KindName(op.params.kind), op.params.device_id.c_str(), OutcomeName(decision.outcome), decision.detail.c_str(),
            error.empty() ? "" : (" - journal: " + error).c_str());
  if (!publish_) return;
  memhp::v1::OperationResult result;
  result.set_operation_id(op.id);
  result.set_kind(op.params.kind);
  result.set_outcome(decision.outcome);
  result.set_device_id(op.params.device_id);
  result.set_size_reached(decision.size_reached);
  result.set_detail(decision.detail);
  result.set_recovered(true);
  publish_("end", result);
}

}  // namespace memhp::daemon::operations
