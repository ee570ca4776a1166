// autoscale_policy — see autoscale_policy.h.
#include "daemon/autoscale/autoscale_policy.h"

#include <algorithm>
#include <string>

#include "daemon/operations/admission.h"

namespace memhp::daemon::autoscale {
namespace {

using memhp::v1::AutoscaleAction;
using memhp::v1::AutoscaleCommand;
using memhp::v1::AutoscaleDecision;
using memhp::v1::MemoryPressure;
using operations::FormatBytes;

std::string Percent(uint64_t centipercent) {
  char text[32];
  std::snprintf(text, sizeof(text), "%llu.%02llu %%", static_cast<unsigned long long>(centipercent / 100),
                static_cast<unsigned long long>(centipercent % 100));
  return text;
}

// The sample is the guest's word: every byte count is clamped to 4 PiB (far above any VM's
// memory) so that the per-mille products below cannot overflow 64 bits (2^52 * 1000 < 2^62).
uint64_t Clamp(uint64_t bytes) { return std::min<uint64_t>(bytes, uint64_t{1} << 52); }

// MemAvailable * 1000 < permille * MemTotal.
bool AvailableUnder(uint64_t available, uint64_t total, uint64_t permille) {
  if (total == 0) return false;  // no MemTotal: nothing to compare with
  return Clamp(available) * 1000 < Clamp(total) * permille;
}

AutoscaleDecision Hold(AutoscaleDecision d, std::string reason) {
  d.set_action(memhp::v1::AUTOSCALE_ACTION_HOLD);
  d.set_size_target(d.size_now());
  d.set_reason(std::move(reason));
  return d;
}

AutoscaleDecision Change(AutoscaleDecision d, AutoscaleAction action, uint64_t target, std::string reason) {
  d.set_action(action);
  d.set_size_target(target);
  d.set_reason(std::move(reason));
  return d;
}

uint64_t RoundUp(uint64_t value, uint64_t unit) {
  if (unit == 0 || value % unit == 0) return value;
  return value + (unit - value % unit);
}

}  // namespace

Result<AutoscaleCommand> CompleteSettings(const AutoscaleCommand& command, uint64_t device_block_size,
                                          uint64_t device_max_size) {
  AutoscaleCommand s = command;
  if (device_block_size == 0) return Error::Invalid("the device reports no block size");
  if (s.max_size() == 0) return Error::Invalid("--max is required and must be greater than 0");
  if (s.min_size() > s.max_size()) {
    return Error::Invalid("--min " + FormatBytes(s.min_size()) + " is above --max " + FormatBytes(s.max_size()));
  }
  if (s.max_size() > device_max_size) {
    return Error::Invalid("--max " + FormatBytes(s.max_size()) + " is above the device's max-size " +
                          FormatBytes(device_max_size));
  }
  if (s.step() == 0) s.set_step(RoundUp(std::max<uint64_t>((s.max_size() - s.min_size()) / 4, 1), device_block_size));
  for (const auto& [name, value] : {std::pair<const char*, uint64_t>{"--min", s.min_size()},
                                    {"--max", s.max_size()},
                                    {"--step", s.step()}}) {
    if (value % device_block_size != 0) {
      return Error::Invalid(std::string(name) + " " + FormatBytes(value) + " is not a multiple of the device's block size " +
                            FormatBytes(device_block_size));
    }
  }
  if (s.quiet_ms() == 0) s.set_quiet_ms(kDefaultQuietMs);
  if (s.grow_some_avg10_centipercent() == 0) s.set_grow_some_avg10_centipercent(kDefaultGrowAvg10Centipercent);
  if (s.grow_some_avg10_centipercent() > 10000) return Error::Invalid("the avg10 threshold is over 100 %");
  if (s.grow_available_permille() == 0) s.set_grow_available_permille(kDefaultGrowAvailablePermille);
  // Twice the threshold must stay a share (the shrink's margin, autoscale_policy.h).
  if (s.grow_available_permille() > 500) return Error::Invalid("the MemAvailable threshold is over 50 %");
  return s;
}

uint32_t RecentStallCentipercent(const MemoryPressure& sample, const std::optional<MemoryPressure>& previous) {
  constexpr uint64_t kAvg10Ns = 10'000'000'000;
  if (previous && previous->psi_available() && previous->read_at_unix_ns() < sample.read_at_unix_ns() &&
      sample.read_at_unix_ns() - previous->read_at_unix_ns() < kAvg10Ns &&
      previous->some().total_us() <= sample.some().total_us()) {
    const uint64_t wall_us = (sample.read_at_unix_ns() - previous->read_at_unix_ns()) / 1000;
    const uint64_t stalled_us = sample.some().total_us() - previous->some().total_us();
    if (wall_us > 0) {
      // Both bounded: wall_us < 10^7, so stalled_us above it is the guest's mistake; cap at 100 %.
      return static_cast<uint32_t>(std::min<uint64_t>(stalled_us, wall_us) * 10000 / wall_us);
    }
  }
  return std::min<uint32_t>(sample.some().avg10_centipercent(), 10000);
}

bool UnderPressure(const AutoscaleCommand& settings, const MemoryPressure& sample,
                   const std::optional<MemoryPressure>& previous) {
  if (AvailableUnder(sample.mem_available_bytes(), sample.mem_total_bytes(), settings.grow_available_permille())) {
    return true;
  }
  if (sample.cause() == memhp::v1::PRESSURE_CAUSE_RECOVERED || !sample.psi_available()) return false;
  return RecentStallCentipercent(sample, previous) >= settings.grow_some_avg10_centipercent();
}

AutoscaleDecision Decide(const AutoscaleCommand& settings, const AutoscaleInputs& in) {
  AutoscaleDecision d;
  d.set_size_now(in.size_now);
  d.set_quiet_for_ms(static_cast<uint64_t>(std::max<int64_t>(in.quiet_for.count(), 0)));
  if (in.sample) {
    d.set_some_avg10_centipercent(RecentStallCentipercent(*in.sample, in.previous));
    d.set_mem_available_bytes(in.sample->mem_available_bytes());
    d.set_mem_total_bytes(in.sample->mem_total_bytes());
  }
  if (in.size_reachable) d.set_size_reachable(*in.size_reachable);
  const uint64_t min = settings.min_size();
  const uint64_t max = settings.max_size();

  if (in.size_now < min) {
    return Change(d, memhp::v1::AUTOSCALE_ACTION_GROW, min, "below the floor: grow to --min " + FormatBytes(min));
  }
  if (in.sample && UnderPressure(settings, *in.sample, in.previous)) {
    const std::string why =
        AvailableUnder(in.sample->mem_available_bytes(), in.sample->mem_total_bytes(), settings.grow_available_permille())
            ? "MemAvailable " + FormatBytes(in.sample->mem_available_bytes()) + " of " +
                  FormatBytes(in.sample->mem_total_bytes()) + " is under " +
                  Percent(uint64_t{settings.grow_available_permille()} * 10)
            : "PSI some " + Percent(d.some_avg10_centipercent()) + " (avg10, or since the last reading) is at or over " +
                  Percent(settings.grow_some_avg10_centipercent());
    if (in.size_now >= max) return Hold(d, why + ", but the device is at --max " + FormatBytes(max));
    const uint64_t target = std::min(max, in.size_now + settings.step());
    return Change(d, memhp::v1::AUTOSCALE_ACTION_GROW, target, why + ": grow by " + FormatBytes(target - in.size_now));
  }
  if (in.size_now > max) {
    // Over the ceiling (the operator resized, or the settings changed): come down like any
    // shrink, by what can go, but without waiting for quiet.
  } else if (in.size_now <= min) {
    return Hold(d, "no pressure; at the floor " + FormatBytes(min));
  } else if (in.quiet_for < std::chrono::milliseconds(settings.quiet_ms())) {
    return Hold(d, "no pressure for " + std::to_string(d.quiet_for_ms()) + " ms of the " +
                       std::to_string(settings.quiet_ms()) + " ms quiet period");
  }
  const uint64_t one_step_down =
      in.size_now > max ? max : std::max(min, in.size_now > settings.step() ? in.size_now - settings.step() : 0);
  if (!in.size_reachable) {
    return Change(d, memhp::v1::AUTOSCALE_ACTION_ESTIMATE, one_step_down,
                  "quiet: ask the dry run how much of " + FormatBytes(in.size_now - one_step_down) + " can go");
  }
  uint64_t target = std::max(one_step_down, RoundUp(*in.size_reachable, in.device_block_size));
  // Keep MemAvailable after the shrink over twice the grow threshold (of the smaller MemTotal).
  if (in.sample && in.sample->mem_total_bytes() > 0) {
    const uint64_t available = Clamp(in.sample->mem_available_bytes());
    const uint64_t total = Clamp(in.sample->mem_total_bytes());
    const uint64_t margin_permille = uint64_t{settings.grow_available_permille()} * 2;
    // Largest x (bytes taken) with (available - x) * 1000 >= margin * (total - x):
    // x <= (1000 * available - margin * total) / (1000 - margin).
    const uint64_t lhs = available * 1000;
    const uint64_t rhs = total * margin_permille;
    const uint64_t can_take =
        lhs <= rhs ? 0 : static_cast<uint64_t>((lhs - rhs) / (1000 - margin_permille));
    const uint64_t taken = in.size_now > target ? in.size_now - target : 0;
    if (taken > can_take) {
      const uint64_t floor_by_margin = RoundUp(in.size_now - std::min(can_take, in.size_now), in.device_block_size);
      target = std::max(target, floor_by_margin);
    }
  }
  if (target >= in.size_now) {
    return Hold(d, "quiet, but nothing can go: the dry run reaches " + FormatBytes(*in.size_reachable) +
                       (in.sample ? ", MemAvailable " + FormatBytes(in.sample->mem_available_bytes()) : std::string()));
  }
  return Change(d, memhp::v1::AUTOSCALE_ACTION_SHRINK, target,
                std::string(in.size_now > max ? "over --max" : "quiet") + ": shrink by " +
                    FormatBytes(in.size_now - target) + " (the dry run reaches " + FormatBytes(*in.size_reachable) + ")");
}

}  // namespace memhp::daemon::autoscale
