// resize_operation — resize a virtio-mem device (docs/architecture.md, "Resize virtio-mem").
//
//   find the device (query-memory-devices): it must be virtio-mem; the request must be a
//   multiple of its block-size and <= its max-size
//   -> shrink with offline_first and an agent: the agent offlines the device's online blocks
//      above the new size (not all-or-nothing). Linux's virtio-mem driver unplugs from the top
//      of the device's region (drivers/virtio/virtio_mem.c walks memory blocks in reverse), so
//      those are the blocks it will want; offlining them first lets the agent's notifier chain
//      (hooks, reserve guard) have its say. Without offline_first the driver offlines/fake-
//      offlines by itself, and the agent only observes.      journal: agent-offlined
//   -> qom-set /machine/peripheral/<id> requested-size        journal: requested-size-set
//   -> wait: MEMORY_DEVICE_SIZE_CHANGE (QEMU >= 5.1, rate-limited to 1/s) or a poll of
//      query-memory-devices; size == requested-size: DONE; no change for the settle period:
//      PARTIAL with size_reached; the deadline: TIMED_OUT.
//   -> growth with an agent: wait until the blocks of [memaddr, memaddr + size) are online.
// Without an agent the resize still happens (guest_side_known = false).
#pragma once

#include <memory>

#include "daemon/operations/online_waiter.h"
#include "daemon/operations/operation.h"

namespace memhp::daemon::operations {

class ResizeOperation : public Operation {
 public:
  ResizeOperation(OperationEnv& env, memhp::v1::ResizeRequest request, ControlReply reply);

  void OnQmpEvent(std::string_view name, const JsonNode& data) override;
  void OnAgentEvent(const memhp::v1::AgentEvent& event) override;
  void OnAgentLost() override;

 private:
  void Run() override;
  void OfflineFirst();
  void SetRequestedSize();
  void PollSize();
  void OnSize(uint64_t size);
  void WaitOnline();

  memhp::v1::ResizeRequest request_;
  uint64_t max_size_ = 0;
  uint64_t size_before_ = 0;
  uint64_t last_size_ = 0;
  gint64 last_change_us_ = 0;
  gint64 deadline_us_ = 0;
  bool waiting_size_ = false;
  bool poll_inflight_ = false;
  bool poll_timer_pending_ = false;
  std::unique_ptr<OnlineWaiter> waiter_;
};

}  // namespace memhp::daemon::operations
