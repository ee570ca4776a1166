// autoscaler — the loop around autoscale_policy.h for one VM's virtio-mem device (memhpctl
// autoscale, docs/autoscale.md).
//
// Event-driven, never polling: it decides when the agent reports pressure (agent.proto
// AgentEvent.pressure: the guest's PSI trigger fired, or the episode is over) and when its one
// timer, the quiet period, runs out. A grow or a shrink it decides goes through the operations'
// own Resize (journaled, queued behind the operator's operations like any other, S18/S21);
// when it ends, the autoscaler asks the agent for one fresh reading (a zone report carries the
// pressure read with it) and decides again on that — so a grow that was not enough is followed
// by the next at once, and one that was is followed by the quiet period. A shrink is preceded by
// the dry run of one step down (operations/dry_run.h); only what it says can go goes.
//
// At most one resize or dry run of its own is in flight at a time. While an operation asked by
// someone else runs or waits, it decides HOLD ("paused") and tries again at the next pressure
// report or quiet period. Every decision — with its reason and figures — is published as a
// memhpd notice "autoscale" (watch_hub.h), and the end of each resize it asked as
// "autoscale_resized"; failures are decisions too (trigger "error").
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <google/protobuf/message.h>

#include "base/liveness.h"
#include "daemon/autoscale/autoscale_policy.h"
#include "daemon/control_server.h"
#include "daemon/ports/memory_devices.h"
#include "memhp/v1/control.pb.h"
#include "wire/retry_timer.h"

namespace memhp::daemon::autoscale {

// What the autoscaler reaches, passed in (OperationService gives its own; tests give fakes).
struct AutoscalerPorts {
  std::function<void(Done<std::vector<memhp::v1::MemoryDevice>>)> list_devices;
  // Both answer through the reply like a control request would (progress responses first).
  std::function<void(const memhp::v1::ResizeRequest&, ControlReply)> resize;
  std::function<void(const memhp::v1::DryRunCommand&, ControlReply)> dry_run;
  // A fresh pressure reading (the agent's zone report carries one); an error when no agent.
  std::function<void(Done<memhp::v1::MemoryPressure>)> read_pressure;
  // True while an operation someone else asked for runs or waits.
  std::function<bool()> others_busy;
  std::function<void(std::string_view, const google::protobuf::Message&)> notice;
  std::function<std::chrono::steady_clock::time_point()> now;  // null: steady_clock
};

class Autoscaler {
 public:
  Autoscaler(AutoscalerPorts ports, GMainContext* context);
  ~Autoscaler();
  Autoscaler(const Autoscaler&) = delete;
  Autoscaler& operator=(const Autoscaler&) = delete;

  // On (or on again with new settings), after checking them against the device; answers the
  // state, or an error response (unknown device, bad bounds) and nothing changes. Off: stops the
  // timer and decides nothing more; a resize it already asked for finishes as a journaled
  // operation.
  void Command(const memhp::v1::AutoscaleCommand& command, ControlReply reply);

  // The guest's pressure: an agent pressure event (decides), or the reading of a zone report
  // (decides only when it is over a threshold).
  void OnPressureEvent(const memhp::v1::MemoryPressure& sample);
  void OnPressureReading(const memhp::v1::MemoryPressure& sample);

  [[nodiscard]] const memhp::v1::AutoscaleState& state() const { return state_; }

 private:
  void Start(const memhp::v1::AutoscaleCommand& settings, const std::string& device_id);
  void Stop();
  void Evaluate(std::string_view trigger);
  void Decided(memhp::v1::AutoscaleDecision decision, std::string_view trigger);
  void Failed(std::string_view what, const std::string& why);
  // Quiet: a fresh reading and the dry run of a shrink to `target`, then the decision on both.
  void Estimate(AutoscaleInputs in, uint64_t target);
  void Apply(const memhp::v1::AutoscaleDecision& decision);
  void AfterResize();
  void NoteActivity();
  void ArmQuiet();
  [[nodiscard]] bool Current(uint64_t epoch) const { return state_.on() && epoch == epoch_; }
  [[nodiscard]] std::chrono::steady_clock::time_point Now() const;
  [[nodiscard]] std::chrono::milliseconds QuietFor() const;

  AutoscalerPorts ports_;
  GMainContext* context_;
  memhp::v1::AutoscaleState state_;
  std::optional<memhp::v1::MemoryPressure> sample_;    // the last pressure report
  std::optional<memhp::v1::MemoryPressure> previous_;  // the one before it
  std::chrono::steady_clock::time_point last_activity_{};
  uint64_t device_block_size_ = 0;
  bool in_flight_ = false;  // a list/dry run/resize/reading of ours is open
  uint64_t epoch_ = 0;      // one per Start, so a callback from before an off/on is recognised
  std::unique_ptr<wire::RetryTimer> quiet_;
  Liveness alive_;
};

}  // namespace memhp::daemon::autoscale
