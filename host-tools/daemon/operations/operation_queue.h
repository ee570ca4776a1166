// operation_queue — one operation at a time per VM (S18/S21 on the host side).
//
// Requests that arrive while one runs wait in FIFO order; each is told how many are ahead of it
// when it joins and whenever that number drops (OperationProgress.queued_behind). A client that
// disconnects while its operation waits does NOT cancel it: a plug asked is a plug done, and its
// end is in the journal and on `watch` (memhpd has no way to know whether the client meant to
// give up or just lost its terminal). The queue is bounded; a request beyond the bound is refused
// BUSY so a flood of clients cannot grow memhpd's memory.
#pragma once

#include <glib.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "memhp/v1/control.pb.h"

#include "base/liveness.h"

namespace memhp::daemon::operations {

class Queueable {
 public:
  virtual ~Queueable() = default;
  // Its turn: run, and call `done` exactly once at the end.
  virtual void StartTurn(std::function<void()> done) = 0;
  // While waiting: `ahead` operations (the running one included) come first.
  virtual void WaitingBehind(uint32_t ahead) = 0;
};

inline constexpr size_t kMaxQueuedOperations = 32;

// What a waiting request's client is told: OperationProgress step "queued", `ahead` ahead of it.
[[nodiscard]] memhp::v1::ControlResponse QueuedResponse(uint32_t ahead);

class OperationQueue {
 public:
  explicit OperationQueue(GMainContext* context);
  ~OperationQueue();
  OperationQueue(const OperationQueue&) = delete;
  OperationQueue& operator=(const OperationQueue&) = delete;

  // Runs `op` now if nothing runs, else queues it. False (nothing queued) past the bound.
  [[nodiscard]] bool Submit(std::shared_ptr<Queueable> op);

  [[nodiscard]] Queueable* current() const { return current_.get(); }
  [[nodiscard]] size_t waiting() const { return waiting_.size(); }

 private:
  void StartNext();

  GMainContext* context_;
  std::shared_ptr<Queueable> current_;
  std::deque<std::shared_ptr<Queueable>> waiting_;
  GSource* next_source_ = nullptr;
  Liveness alive_;
};

}  // namespace memhp::daemon::operations
