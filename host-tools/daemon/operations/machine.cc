// machine — see machine.h.
#include "daemon/operations/machine.h"

namespace memhp::daemon::operations {

memhp::v1::Error MakeError(memhp::v1::ErrorCode code, const std::string& message) {
  memhp::v1::Error e;
  e.set_code(code);
  e.set_message(message);
  return e;
}

memhp::v1::Error ToProtoError(const Error& error, memhp::v1::ErrorCode fallback) {
  memhp::v1::Error e;
  e.set_code(error.code != 0 && memhp::v1::ErrorCode_IsValid(error.code) ? static_cast<memhp::v1::ErrorCode>(error.code)
                                                                          : fallback);
  e.set_message(error.message);
  e.set_errno_value(error.errno_value);
  return e;
}

Finish Finished(memhp::v1::OperationResult result, memhp::v1::OperationOutcome outcome, const std::string& detail,
                std::optional<memhp::v1::Error> error) {
  result.set_outcome(outcome);
  result.set_detail(detail);
  if (error) *result.mutable_error() = std::move(*error);
  return Finish{std::move(result)};
}

Finish GoneFinish(memhp::v1::OperationResult result, const std::string& step, const std::string& reason) {
  const std::string why = "QEMU went away during the " + (step.empty() ? std::string("first") : step) + " step (" +
                          reason + "): the VM is gone, and with it everything this " + KindName(result.kind()) +
                          " had changed in it";
  result.set_guest_side_known(false);
  result.set_size_reached(0);
  return Finished(std::move(result), memhp::v1::OPERATION_OUTCOME_FAILED, why,
                  MakeError(memhp::v1::ERROR_CODE_UNAVAILABLE, why));
}

namespace {

// The error a hardware answer carries, if it is one that failed.
const Error* FailedAnswer(const Event& event) {
  if (const auto* a = std::get_if<HardwareAnswered>(&event); a && !a->status.ok()) return &a->status.error();
  if (const auto* a = std::get_if<DevicesListed>(&event); a && !a->devices.ok()) return &a->devices.error();
  if (const auto* a = std::get_if<BackendsListed>(&event); a && !a->backends.ok()) return &a->backends.error();
  if (const auto* a = std::get_if<AliveChecked>(&event); a && !a->status.ok()) return &a->status.error();
  return nullptr;
}

}  // namespace

std::optional<std::string> UnreachableReason(const Event& event) {
  if (const auto* lost = std::get_if<ManagerUnreachable>(&event)) return lost->reason;
  if (const Error* e = FailedAnswer(event); e && IsUnreachable(*e)) return e->message;
  return std::nullopt;
}

std::optional<std::string> GoneReason(const Event& event) {
  if (const auto* gone = std::get_if<QemuGone>(&event)) return gone->reason;
  if (const Error* e = FailedAnswer(event); e && IsGone(*e)) return e->message;
  return std::nullopt;
}

Actions ResumeStart() { return {ListDevices{}}; }

namespace {

Finish ResumeFinish(const ResumeState& state) {
  memhp::v1::OperationResult result;
  result.set_kind(state.op.params.kind);
  result.set_device_id(state.op.params.device_id);
  result.set_size_reached(state.decision.size_reached);
  result.set_recovered(true);
  return Finished(std::move(result), state.decision.outcome, state.decision.detail);
}

}  // namespace

Actions ResumeNext(ResumeState& state, const Event& event) {
  using Phase = ResumeState::Phase;
  if (const auto* gone = std::get_if<QemuGone>(&event); gone && state.phase != Phase::kDone) {
    state.phase = Phase::kDone;
    return {Abandon{"QEMU went away (" + gone->reason + ")"}};
  }
  if (auto lost = UnreachableReason(event); lost && state.phase != Phase::kDone) {
    state.phase = Phase::kDone;
    return {Abandon{"the connection to the VM's manager broke (" + *lost + ")"}};
  }
  switch (state.phase) {
    case Phase::kListingDevices: {
      const auto* listed = std::get_if<DevicesListed>(&event);
      if (listed == nullptr) return {};
      if (!listed->devices.ok()) {
        // QEMU cannot say (or says something of the wrong shape, which is not "no devices":
        // deciding on it would undo real plugs): the journal stays as it is.
        state.phase = Phase::kDone;
        return {Abandon{listed->devices.error().message}};
      }
      state.hardware.devices = listed->devices.value();
      state.phase = Phase::kListingBackends;
      return {ListBackends{}};
    }
    case Phase::kListingBackends: {
      const auto* listed = std::get_if<BackendsListed>(&event);
      if (listed == nullptr) return {};
      if (listed->backends.ok()) state.hardware.object_ids = listed->backends.value();
      state.decision = DecideReconcile(state.op, state.hardware, state.cause);
      if (state.decision.object_del) {
        state.phase = Phase::kDeletingBackend;
        return {DeleteBackend{*state.decision.object_del}};
      }
      state.phase = Phase::kDone;
      return {ResumeFinish(state)};
    }
    case Phase::kDeletingBackend: {
      const auto* answered = std::get_if<HardwareAnswered>(&event);
      if (answered == nullptr) return {};
      if (!answered->status.ok()) state.decision.detail += " (object-del failed: " + answered->status.error().message + ")";
      state.phase = Phase::kDone;
      return {ResumeFinish(state)};
    }
    case Phase::kDone:
      return {};
  }
  return {};
}

}  // namespace memhp::daemon::operations
