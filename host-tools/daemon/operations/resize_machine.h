// resize_machine — resize a virtio-mem device (docs/architecture.md, "Resize virtio-mem"), as a
// pure state machine (machine.h).
//
//   find the device (list the devices): it must be virtio-mem; the request must be a multiple
//   of its block-size and <= its max-size                                journal: begin
//   -> shrink with offline_first and an agent: the agent offlines the device's online blocks
//      above the new size (not all-or-nothing). Linux's virtio-mem driver unplugs from the top
//      of the device's region (drivers/virtio/virtio_mem.c walks memory blocks in reverse), so
//      those are the blocks it will want; offlining them first lets the agent's notifier chain
//      (hooks, reserve guard) have its say. Without offline_first the driver offlines/fake-
//      offlines by itself, and the agent only observes.      journal: agent-offlined
//   -> growth with an agent: the plug intent (the device's region, the bytes coming), first
//   -> set the requested size                                journal: requested-size-set
//   -> wait: a size-change event (QEMU >= 5.1 MEMORY_DEVICE_SIZE_CHANGE, rate-limited to 1/s)
//      or a poll of the device list; size == requested: on; no change for the settle period:
//      PARTIAL with size_reached; the deadline: TIMED_OUT.    journal: size-reached
//   -> growth with an agent: wait until the blocks of [memaddr, memaddr + size) are online.
// Without an agent the resize still happens (guest_side_known = false).
#pragma once

#include <string>

#include "daemon/operations/machine.h"

namespace memhp::daemon::operations {

struct ResizeState {
  enum class Phase {
    kStart, kFinding, kInventory, kOfflining, kIntent, kSetting, kWaitSize, kOnline, kConfirmingAlive, kResuming,
    kDone,
  };
  Phase phase = Phase::kStart;
  memhp::v1::ResizeRequest request;
  OperationTimeouts timeouts;
  memhp::v1::OperationResult result;
  std::string step;
  uint64_t max_size = 0;
  uint64_t size_before = 0;
  uint64_t last_size = 0;
  bool poll_inflight = false;
  bool poll_again = false;         // a size-change event came while a poll was in flight
  bool poll_timer_pending = false;
  uint32_t settle_timer = 0;       // the settle timer that counts; older ones are stale
  memhp::v1::OperationResult pending;  // kConfirmingAlive: the end to send if QEMU is alive
  ResumeState resume;
};

inline constexpr uint32_t kResizeDeadlineTimer = 1;
inline constexpr uint32_t kResizePollTimer = 2;
inline constexpr uint32_t kResizeFirstSettleTimer = 100;  // then 101, 102, ... one per size change

[[nodiscard]] ResizeState BeginResize(memhp::v1::ResizeRequest request, OperationTimeouts timeouts);
[[nodiscard]] ResizeState ResumeResize(const JournalOp& op, ResumeCause cause = ResumeCause::kRestart);
[[nodiscard]] Transition<ResizeState> NextResize(ResizeState state, const Input& input);

}  // namespace memhp::daemon::operations
