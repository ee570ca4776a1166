// memhp — the transition driver (see transition_driver.h for the event sequences and S16).
#include "notifier/transition_driver.h"

#include <cerrno>
#include <string>
#include <utility>

namespace memhp::agent {

namespace {

// Resets the re-entry flag on every return path.
class BusyScope {
 public:
  explicit BusyScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~BusyScope() { flag_ = false; }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  bool& flag_;
};

// The write errno, never 0 (a writer that fails without an errno is an I/O error to us).
int WriteErrno(const Error& e) { return e.errno_value != 0 ? e.errno_value : EIO; }

TransitionOutcome Rejected(int err, std::string message) {
  TransitionOutcome out;
  out.result = TransitionResult::kRejected;
  out.errno_value = err;
  out.message = std::move(message);
  return out;
}

}  // namespace

std::string_view TransitionResultName(TransitionResult result) {
  switch (result) {
    case TransitionResult::kDone: return "done";
    case TransitionResult::kVetoed: return "vetoed";
    case TransitionResult::kWriteFailed: return "write-failed";
    case TransitionResult::kPostEventVetoReported: return "post-event-veto-reported";
    case TransitionResult::kReverted: return "reverted";
    case TransitionResult::kRevertFailed: return "revert-failed";
    case TransitionResult::kRejected: return "rejected";
  }
  return "";
}

// One direction of a transition: online_pages() or offline_pages() in event terms.
struct TransitionDriver::Plan {
  abi::MemoryEvent going;   // S1 / S4
  abi::MemoryEvent cancel;  // S2 / S5
  abi::MemoryEvent done;    // S3 / S6
  abi::OnlineType write;        // what to write
  abi::OnlineType write_back;   // kRevert's opposite
  memhp::v1::BlockState before;
  memhp::v1::BlockState after;
};

TransitionDriver::TransitionDriver(NotifierChain& chain, BlockWriter& writer, EventSink sink,
                                   TransitionDriverOptions options)
    : chain_(chain), writer_(writer), sink_(std::move(sink)), options_(options) {}

TransitionOutcome TransitionDriver::Online(const NotifyContext& ctx, const MemoryNotify& notify,
                                           abi::OnlineType target) {
  if (target == abi::OnlineType::kOffline) {
    return Rejected(EINVAL, "online of block " + std::to_string(ctx.block) +
                                " asked for target \"offline\"");
  }
  const Plan plan{abi::MemoryEvent::kGoingOnline, abi::MemoryEvent::kCancelOnline,
                  abi::MemoryEvent::kOnline,      target,
                  abi::OnlineType::kOffline,          memhp::v1::BLOCK_STATE_OFFLINE,
                  memhp::v1::BLOCK_STATE_ONLINE};
  return Run(plan, ctx, notify);
}

TransitionOutcome TransitionDriver::Offline(const NotifyContext& ctx,
                                            const MemoryNotify& notify) {
  // Back to the zone it left: a Movable block via online_movable, a kernel-zone block via
  // online_kernel; a plain "online" lets the kernel choose when the zone is not known.
  abi::OnlineType back = abi::OnlineType::kOnline;
  if (ctx.zone == memhp::v1::ZONE_MOVABLE) back = abi::OnlineType::kOnlineMovable;
  if (IsKernelZone(ctx.zone)) back = abi::OnlineType::kOnlineKernel;
  const Plan plan{abi::MemoryEvent::kGoingOffline, abi::MemoryEvent::kCancelOffline,
                  abi::MemoryEvent::kOffline,      abi::OnlineType::kOffline,
                  back,                            memhp::v1::BLOCK_STATE_ONLINE,
                  memhp::v1::BLOCK_STATE_OFFLINE};
  return Run(plan, ctx, notify);
}

ChainOutcome TransitionDriver::Emit(TransitionOutcome& out, abi::MemoryEvent event,
                                    const MemoryNotify& notify, const NotifyContext& ctx,
                                    int errno_value) {
  EmittedEvent e;
  e.event = event;
  e.notify = notify;
  e.chain = chain_.CallChain(event, notify, ctx);
  e.errno_value = errno_value;
  if (event == abi::MemoryEvent::kCancelOnline || event == abi::MemoryEvent::kCancelOffline) {
    e.vetoed_by = out.vetoed_by;
    e.detail = out.message;  // the veto's or the failed write's story
  }
  out.events.push_back(std::move(e));
  if (sink_) sink_(out.events.back(), ctx);
  return out.events.back().chain;
}

TransitionOutcome TransitionDriver::Run(const Plan& plan, const NotifyContext& ctx,
                                        const MemoryNotify& notify) {
  if (busy_) {
    // S21: the kernel would deadlock on mem_hotplug_lock; we refuse instead.
    return Rejected(EDEADLK, "block " + std::to_string(ctx.block) +
                                 ": transition started from inside a notifier call");
  }
  BusyScope busy(busy_);
  TransitionOutcome out;
  out.final_state = plan.before;
  const std::string block = "block " + std::to_string(ctx.block);

  // S1/S4. notifier_to_errno() != 0 is a veto: only NOTIFY_BAD (S16); NOTIFY_STOP is not (S17).
  const ChainOutcome going = Emit(out, plan.going, notify, ctx, 0);
  if (const int err = NotifierToErrno(going.final); err != 0) {
    out.result = TransitionResult::kVetoed;
    out.vetoed_by = going.stopped_by;
    out.vetoed_at = plan.going;
    out.errno_value = -err;  // EPERM, what the kernel returns to the writer of `state`
    out.message = block + ": vetoed by " + going.stopped_by + " at " +
                  std::string(abi::MemoryEventName(plan.going)) +
                  (going.veto_reason.empty() ? "" : ": " + going.veto_reason);
    Emit(out, plan.cancel, notify, ctx, out.errno_value);  // S2/S5; the block is untouched
    return out;
  }

  if (Status w = writer_.Write(ctx.block, plan.write); !w.ok()) {
    out.result = TransitionResult::kWriteFailed;
    out.errno_value = WriteErrno(w.error());
    out.message = block + ": write \"" + std::string(abi::OnlineTypeName(plan.write)) +
                  "\" failed: " + w.error().message;
    Emit(out, plan.cancel, notify, ctx, out.errno_value);  // S2/S5
    return out;
  }
  out.final_state = plan.after;

  // S3/S6. The kernel ignores this answer; what we do with BAD is options_.post_event_veto.
  const ChainOutcome done = Emit(out, plan.done, notify, ctx, 0);
  if (NotifierToErrno(done.final) == 0) {
    out.result = TransitionResult::kDone;
    return out;
  }
  out.vetoed_by = done.stopped_by;
  out.vetoed_at = plan.done;
  const std::string veto = block + ": vetoed by " + done.stopped_by + " at " +
                           std::string(abi::MemoryEventName(plan.done)) +
                           (done.veto_reason.empty() ? "" : ": " + done.veto_reason);

  switch (options_.post_event_veto) {
    case PostEventVeto::kReportOnly:
      out.result = TransitionResult::kPostEventVetoReported;
      out.message = veto + " (reported only; the block stays as written)";
      return out;
    case PostEventVeto::kRevert:
      break;
  }
  if (Status w = writer_.Write(ctx.block, plan.write_back); !w.ok()) {
    // Still in the new state: no CANCEL_*, which would tell handlers it went back.
    out.result = TransitionResult::kRevertFailed;
    out.errno_value = WriteErrno(w.error());
    out.message = veto + "; write-back \"" + std::string(abi::OnlineTypeName(plan.write_back)) +
                  "\" failed: " + w.error().message;
    return out;
  }
  out.final_state = plan.before;
  out.result = TransitionResult::kReverted;
  out.errno_value = -NotifierToErrno(done.final);  // EPERM: the veto is the reason
  out.message = veto + " (reverted)";
  Emit(out, plan.cancel, notify, ctx, out.errno_value);  // S2/S5
  return out;
}

}  // namespace memhp::agent
