// operation_queue — see operation_queue.h.
#include "daemon/operations/operation_queue.h"

#include <string>

namespace memhp::daemon::operations {

memhp::v1::ControlResponse QueuedResponse(uint32_t ahead) {
  memhp::v1::ControlResponse response;
  auto* progress = response.mutable_progress();
  progress->set_step("queued");
  progress->set_detail(std::to_string(ahead) + " operation(s) ahead");
  progress->set_queued_behind(ahead);
  return response;
}

OperationQueue::OperationQueue(GMainContext* context) : context_(context) {}

OperationQueue::~OperationQueue() {
  if (next_source_) {
    g_source_destroy(next_source_);
    g_source_unref(next_source_);
  }
}

bool OperationQueue::Submit(std::shared_ptr<Queueable> op) {
  if (!current_ && waiting_.empty()) {
    current_ = op;
    const Liveness::Token alive = alive_.token();
    Queueable* started = op.get();
    op->StartTurn([this, alive, started] {
      if (alive.Expired() || current_.get() != started) return;
      StartNext();
    });
    return true;
  }
  if (waiting_.size() >= kMaxQueuedOperations) return false;
  waiting_.push_back(op);
  op->WaitingBehind(static_cast<uint32_t>(waiting_.size()));  // the running one + those before
  return true;
}

// The turn passes from an idle callback, so a finishing operation's stack unwinds first.
void OperationQueue::StartNext() {
  current_.reset();
  if (next_source_) return;
  next_source_ = g_idle_source_new();
  g_source_set_callback(
      next_source_,
      [](gpointer self_ptr) -> gboolean {
        auto* self = static_cast<OperationQueue*>(self_ptr);
        g_source_unref(self->next_source_);
        self->next_source_ = nullptr;
        // Nothing waits, or a Submit since the last end already started one (its end passes
        // the turn on again).
        if (self->waiting_.empty() || self->current_) return G_SOURCE_REMOVE;
        std::shared_ptr<Queueable> op = std::move(self->waiting_.front());
        self->waiting_.pop_front();
        uint32_t ahead = 1;
        for (auto& w : self->waiting_) w->WaitingBehind(ahead++);
        self->current_ = op;
        const Liveness::Token alive = self->alive_.token();
        Queueable* started = op.get();
        op->StartTurn([self, alive, started] {
          if (alive.Expired() || self->current_.get() != started) return;
          self->StartNext();
        });
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach(next_source_, context_);
}

}  // namespace memhp::daemon::operations
