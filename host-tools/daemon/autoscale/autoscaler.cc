// autoscaler — see autoscaler.h.
#include "daemon/control_error.h"
#include "daemon/autoscale/autoscaler.h"

#include <string>
#include <utility>

#include "daemon/autoscale/autoscale_policy.h"

namespace memhp::daemon::autoscale {
namespace {

// The device named, or with no name the VM's first virtio-mem device.
const memhp::v1::MemoryDevice* FindDevice(const std::vector<memhp::v1::MemoryDevice>& devices,
                                          const std::string& id) {
  for (const auto& d : devices) {
    if (id.empty() ? d.kind() == memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM : d.id() == id) return &d;
  }
  return nullptr;
}

}  // namespace

Autoscaler::Autoscaler(AutoscalerPorts ports, GMainContext* context) : ports_(std::move(ports)), context_(context) {}

Autoscaler::~Autoscaler() = default;

std::chrono::steady_clock::time_point Autoscaler::Now() const {
  return ports_.now ? ports_.now() : std::chrono::steady_clock::now();
}

std::chrono::milliseconds Autoscaler::QuietFor() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now() - last_activity_);
}

void Autoscaler::Command(const memhp::v1::AutoscaleCommand& command, ControlReply reply) {
  if (command.off()) {
    Stop();
    memhp::v1::ControlResponse response;
    *response.mutable_autoscale() = state_;
    reply(std::move(response));
    return;
  }
  const Liveness::Token alive = alive_.token();
  ports_.list_devices([this, alive, command, reply](Result<std::vector<memhp::v1::MemoryDevice>> devices) {
    if (alive.Expired()) return;
    if (!devices.ok()) {
      reply(ErrorResponse(memhp::v1::ERROR_CODE_UNAVAILABLE, "autoscale: listing the memory devices: " +
                                                                  devices.error().message));
      return;
    }
    const memhp::v1::MemoryDevice* device = FindDevice(devices.value(), command.device_id());
    if (device == nullptr) {
      reply(ErrorResponse(memhp::v1::ERROR_CODE_INVALID_ARGUMENT,
                          command.device_id().empty() ? "autoscale: the VM has no virtio-mem device"
                                                      : "autoscale: no memory device '" + command.device_id() + "'"));
      return;
    }
    if (device->kind() != memhp::v1::MEMORY_DEVICE_KIND_VIRTIO_MEM) {
      reply(ErrorResponse(memhp::v1::ERROR_CODE_INVALID_ARGUMENT,
                          "autoscale: '" + device->id() + "' is not a virtio-mem device (a DIMM has no size to follow)"));
      return;
    }
    Result<memhp::v1::AutoscaleCommand> settings = CompleteSettings(command, device->block_size(), device->max_size());
    if (!settings.ok()) {
      reply(ErrorResponse(memhp::v1::ERROR_CODE_INVALID_ARGUMENT, "autoscale: " + settings.error().message));
      return;
    }
    device_block_size_ = device->block_size();
    Start(settings.value(), device->id());
    memhp::v1::ControlResponse response;
    *response.mutable_autoscale() = state_;
    reply(std::move(response));
  });
}

void Autoscaler::Start(const memhp::v1::AutoscaleCommand& settings, const std::string& device_id) {
  ++epoch_;
  state_ = memhp::v1::AutoscaleState();
  state_.set_on(true);
  *state_.mutable_settings() = settings;
  state_.mutable_settings()->set_device_id(device_id);
  // The quiet period's one timer: a fixed delay (initial == max), restarted on activity.
  const wire::Backoff fixed{settings.quiet_ms(), settings.quiet_ms()};
  quiet_ = std::make_unique<wire::RetryTimer>(context_, fixed, [this] { Evaluate("quiet"); });
  NoteActivity();  // a shrink waits one quiet period from the start too
  g_message("autoscale on: %s, min %llu, max %llu, step %llu, quiet %u ms", device_id.c_str(),
            static_cast<unsigned long long>(settings.min_size()), static_cast<unsigned long long>(settings.max_size()),
            static_cast<unsigned long long>(settings.step()), settings.quiet_ms());
  if (in_flight_) return;  // the answer of the previous run's call decides for this one
  in_flight_ = true;
  const Liveness::Token alive = alive_.token();
  ports_.read_pressure([this, alive](Result<memhp::v1::MemoryPressure> reading) {
    if (alive.Expired()) return;
    in_flight_ = false;
    if (reading.ok()) {
      sample_ = std::move(reading).value();
    } else {
      g_message("autoscale: no first pressure reading: %s", reading.error().message.c_str());
    }
    Evaluate("start");
  });
}

void Autoscaler::Stop() {
  if (!state_.on()) return;
  ++epoch_;
  state_.set_on(false);
  quiet_.reset();
  g_message("autoscale off%s", in_flight_ ? " (a call it made is still answered, and ignored)" : "");
}

void Autoscaler::NoteActivity() {
  last_activity_ = Now();
  if (!quiet_) return;
  quiet_->Cancel();
  quiet_->Schedule();
}

void Autoscaler::ArmQuiet() {
  if (quiet_) quiet_->Schedule();  // no-op when one is pending already
}

void Autoscaler::OnPressureEvent(const memhp::v1::MemoryPressure& sample) {
  previous_ = std::move(sample_);
  sample_ = sample;
  if (!state_.on()) return;
  if (UnderPressure(state_.settings(), sample, previous_)) NoteActivity();
  Evaluate("pressure");
}

void Autoscaler::OnPressureReading(const memhp::v1::MemoryPressure& sample) {
  previous_ = std::move(sample_);
  sample_ = sample;
  if (!state_.on() || !UnderPressure(state_.settings(), sample, previous_)) return;
  NoteActivity();
  Evaluate("pressure");
}

void Autoscaler::Decided(memhp::v1::AutoscaleDecision decision, std::string_view trigger) {
  decision.set_trigger(std::string(trigger));
  decision.set_time_unix_ns(static_cast<uint64_t>(g_get_real_time()) * 1000);
  g_message("autoscale %s: %s (%s)", memhp::v1::AutoscaleAction_Name(decision.action()).c_str(),
            decision.reason().c_str(), decision.trigger().c_str());
  *state_.mutable_last() = decision;
  state_.set_decisions(state_.decisions() + 1);
  if (ports_.notice) ports_.notice("autoscale", decision);
}

void Autoscaler::Failed(std::string_view what, const std::string& why) {
  in_flight_ = false;
  memhp::v1::AutoscaleDecision d;
  d.set_action(memhp::v1::AUTOSCALE_ACTION_HOLD);
  d.set_size_now(state_.last().size_now());
  d.set_size_target(state_.last().size_now());
  d.set_reason(std::string(what) + " failed: " + why);
  Decided(std::move(d), "error");
  ArmQuiet();
}

void Autoscaler::Evaluate(std::string_view trigger) {
  if (!state_.on() || in_flight_) return;
  if (ports_.others_busy && ports_.others_busy()) {
    memhp::v1::AutoscaleDecision d;
    d.set_action(memhp::v1::AUTOSCALE_ACTION_HOLD);
    d.set_size_now(state_.last().size_now());
    d.set_size_target(state_.last().size_now());
    d.set_reason("paused: another operation runs or waits; trying again at the next pressure report or quiet period");
    Decided(std::move(d), trigger);
    ArmQuiet();
    return;
  }
  in_flight_ = true;
  const uint64_t epoch = epoch_;
  const Liveness::Token alive = alive_.token();
  const std::string why(trigger);
  ports_.list_devices([this, alive, epoch, why](Result<std::vector<memhp::v1::MemoryDevice>> devices) {
    if (alive.Expired()) return;
    if (!Current(epoch)) {
      in_flight_ = false;
      return Evaluate("start");
    }
    if (!devices.ok()) return Failed("listing the memory devices", devices.error().message);
    const memhp::v1::MemoryDevice* device = FindDevice(devices.value(), state_.settings().device_id());
    if (device == nullptr) return Failed("finding the device", "'" + state_.settings().device_id() + "' is gone");
    AutoscaleInputs in;
    in.sample = sample_;
    in.previous = previous_;
    in.size_now = device->requested_size();
    in.device_block_size = device_block_size_;
    in.quiet_for = QuietFor();
    memhp::v1::AutoscaleDecision d = Decide(state_.settings(), in);
    Decided(d, why);
    switch (d.action()) {
      case memhp::v1::AUTOSCALE_ACTION_GROW:
      case memhp::v1::AUTOSCALE_ACTION_SHRINK:
        return Apply(d);
      case memhp::v1::AUTOSCALE_ACTION_ESTIMATE:
        return Estimate(std::move(in), d.size_target());
      default:
        in_flight_ = false;
        // Not quiet long enough yet (or nothing could go): the timer says when to look again.
        if (d.size_now() > state_.settings().min_size()) ArmQuiet();
        return;
    }
  });
}

void Autoscaler::Estimate(AutoscaleInputs in, uint64_t target) {
  // A fresh reading first: the last one may be from while the load still ran (nothing reports
  // memory coming free), and the shrink's MemAvailable margin is taken from it.
  const uint64_t epoch = epoch_;
  const Liveness::Token alive = alive_.token();
  ports_.read_pressure([this, alive, epoch, in, target](Result<memhp::v1::MemoryPressure> reading) mutable {
    if (alive.Expired()) return;
    if (!Current(epoch)) {
      in_flight_ = false;
      return Evaluate("start");
    }
    if (reading.ok()) {
      previous_ = std::move(sample_);
      sample_ = std::move(reading).value();
      in.sample = sample_;
      in.previous = previous_;
    }
    memhp::v1::DryRunCommand dry_run;
    dry_run.set_kind(memhp::v1::OPERATION_KIND_RESIZE);
    dry_run.set_device_id(state_.settings().device_id());
    dry_run.set_requested_size(target);
    ports_.dry_run(dry_run, [this, alive, epoch, in](memhp::v1::ControlResponse response) mutable {
      if (alive.Expired()) return;
      if (!Current(epoch)) {
        in_flight_ = false;
        return Evaluate("start");
      }
      if (response.has_error()) return Failed("the dry run", response.error().message());
      if (!response.has_dry_run()) return Failed("the dry run", "memhpd answered without an estimate");
      in.size_reachable = response.dry_run().size_reachable();
      in.quiet_for = QuietFor();
      memhp::v1::AutoscaleDecision next = Decide(state_.settings(), in);
      Decided(next, "estimate");
      if (next.action() == memhp::v1::AUTOSCALE_ACTION_SHRINK || next.action() == memhp::v1::AUTOSCALE_ACTION_GROW) {
        return Apply(next);
      }
      in_flight_ = false;
      ArmQuiet();  // nothing could go now: try again after another quiet period
    });
  });
}

void Autoscaler::Apply(const memhp::v1::AutoscaleDecision& decision) {
  memhp::v1::ResizeRequest request;
  request.set_device_id(state_.settings().device_id());
  request.set_requested_size(decision.size_target());
  const uint64_t epoch = epoch_;
  const bool grow = decision.action() == memhp::v1::AUTOSCALE_ACTION_GROW;
  const Liveness::Token alive = alive_.token();
  ports_.resize(request, [this, alive, epoch, grow](memhp::v1::ControlResponse response) {
    if (alive.Expired() || response.has_progress()) return;  // progress: the answer follows
    if (ports_.notice) {
      if (response.has_operation()) {
        ports_.notice("autoscale_resized", response.operation());
      } else {
        ports_.notice("autoscale_resized", response.error());
      }
    }
    // The size changed (or may have): the quiet period starts again from here.
    NoteActivity();
    const memhp::v1::OperationResult& result = response.operation();
    // Counted even when autoscale was turned off meanwhile: the resize happened all the same.
    if (!response.has_error() && (result.outcome() == memhp::v1::OPERATION_OUTCOME_DONE ||
                                  result.outcome() == memhp::v1::OPERATION_OUTCOME_PARTIAL)) {
      if (grow) state_.set_grows(state_.grows() + 1);
      if (!grow) state_.set_shrinks(state_.shrinks() + 1);
    }
    if (!Current(epoch)) {
      in_flight_ = false;
      return Evaluate("start");
    }
    if (response.has_error()) return Failed("the resize", response.error().message());
    if (result.outcome() != memhp::v1::OPERATION_OUTCOME_DONE &&
        result.outcome() != memhp::v1::OPERATION_OUTCOME_PARTIAL) {
      return Failed("the resize", memhp::v1::OperationOutcome_Name(result.outcome()) + ": " + result.detail());
    }
    AfterResize();
  });
}

void Autoscaler::AfterResize() {
  // One fresh reading, and the next decision on it (autoscaler.h).
  const Liveness::Token alive = alive_.token();
  ports_.read_pressure([this, alive](Result<memhp::v1::MemoryPressure> reading) {
    if (alive.Expired()) return;
    in_flight_ = false;
    if (reading.ok()) {
      previous_ = std::move(sample_);
      sample_ = std::move(reading).value();
    }
    Evaluate("resized");
  });
}

}  // namespace memhp::daemon::autoscale
