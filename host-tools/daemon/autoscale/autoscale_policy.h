// autoscale_policy — the autoscaler's decision, a pure function over values (docs/autoscale.md).
//
// Grow fast, shrink slowly. A pressure sample over either threshold (PSI "some" avg10, or
// MemAvailable under a share of MemTotal) grows the device by one step, up to the ceiling. A
// shrink comes only after a quiet period with no such sample, and in two halves: first the
// decision asks for the dry run of one step down (ESTIMATE), then, with the estimate's
// reachable size, it shrinks to what can go now — never below the floor, and never so far that
// the guest's MemAvailable (as last sampled, minus what the shrink takes) would fall under twice
// the grow threshold, so a shrink does not itself become the next grow.
//
// avg10 is a 10 s average (kernel/sched/psi.c), so it stays high for a while after the stalls
// stopped: a sample the agent sent because pressure is over (PRESSURE_CAUSE_RECOVERED) counts
// only its MemAvailable, not its averages. And when the previous sample is less than 10 s older
// than this one, the stall share between the two (the difference of PSI's "total" over the wall
// time between the readings) stands for avg10: it covers only what happened since, so the
// reading right after a grow is not held to the stalls from before it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "base/result.h"
#include "memhp/v1/agent.pb.h"
#include "memhp/v1/control.pb.h"

namespace memhp::daemon::autoscale {

inline constexpr uint32_t kDefaultQuietMs = 60000;
inline constexpr uint32_t kDefaultGrowAvg10Centipercent = 1000;  // 10 % of the time stalled
inline constexpr uint32_t kDefaultGrowAvailablePermille = 100;   // MemAvailable under 10 %

// The command with memhpd's defaults filled in, checked against the device: min <= max <=
// max-size, every size a multiple of the device's block size (virtio-mem's requested-size must
// be, hw/virtio/virtio-mem.c virtio_mem_set_requested_size), step > 0. EINVAL otherwise.
[[nodiscard]] Result<memhp::v1::AutoscaleCommand> CompleteSettings(const memhp::v1::AutoscaleCommand& command,
                                                                   uint64_t device_block_size,
                                                                   uint64_t device_max_size);

// What the decision looks at. `sample` is the guest's last pressure report, if any.
struct AutoscaleInputs {
  std::optional<memhp::v1::MemoryPressure> sample;
  std::optional<memhp::v1::MemoryPressure> previous;  // the sample before it, if any
  uint64_t size_now = 0;                 // the device's requested size
  uint64_t device_block_size = 0;
  std::chrono::milliseconds quiet_for{0};  // since the last pressure sample over a threshold or size change
  std::optional<uint64_t> size_reachable;  // the dry run's answer for one step down, when asked
};

// The "some" stall share (hundredths of a percent) the decision uses for `sample`: avg10, or
// the share since `previous` when that is under 10 s older (see the top of this file).
[[nodiscard]] uint32_t RecentStallCentipercent(const memhp::v1::MemoryPressure& sample,
                                               const std::optional<memhp::v1::MemoryPressure>& previous);

// True when the sample is over a grow threshold of `settings`.
[[nodiscard]] bool UnderPressure(const memhp::v1::AutoscaleCommand& settings,
                                 const memhp::v1::MemoryPressure& sample,
                                 const std::optional<memhp::v1::MemoryPressure>& previous);

// The decision (action, reason, sizes and the figures used). `settings` as CompleteSettings
// made them. time_unix_ns and trigger are the caller's to stamp.
[[nodiscard]] memhp::v1::AutoscaleDecision Decide(const memhp::v1::AutoscaleCommand& settings,
                                                  const AutoscaleInputs& inputs);

}  // namespace memhp::daemon::autoscale
