// memhp wire — PendingRequests: the requests a peer has sent on one stream and still waits for.
//
// Every memhp wire correlates the same way (docs/architecture.md, "The wires"): a request
// carries an id the sender chose (never 0: 0 is "no id" in every envelope), the answer names it,
// and an answer naming an id nobody waits for — late, duplicated, invented by a hostile peer —
// is dropped by the receiver, never believed. Each waiting request has a deadline of its own;
// when it passes, the waiter gets TIMEOUT and a later answer is one of those dropped ones. When
// the stream goes, every waiter gets UNAVAILABLE at once (FailAll). So a waiter's callback runs
// exactly once, whatever the peer does.
//
// This table is that rule, written once for the GLib peers: memhpd's agent channel and audit
// plugin link, and the agent's hello to memhpd. (memhpctl's ControlClient is a blocking client
// with one request in flight: it keeps only the id rule and its poll() deadline.)
//
// Single-threaded, on the GMainContext given. Callbacks may send new requests or finish others;
// the entry is removed before its callback runs, so a callback never sees its own entry. The
// owner may even be destroyed from inside a callback: nothing of the table is touched after one
// returns (FailAll checks a liveness token between callbacks). Destroying the table cancels the
// deadlines and drops the waiters uncalled (the owner is going away; there is nobody to tell).
#pragma once

#include <glib.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/liveness.h"
#include "base/result.h"
#include "memhp/v1/error.pb.h"

namespace memhp::wire {

// A request that got no answer: the ErrorCode says why (UNAVAILABLE: no peer, or the stream
// closed; TIMEOUT; MALFORMED: an answer that broke the protocol; FAILED: it could not be sent),
// and the errno matches, so IsGone-style checks (ENOTCONN) read the same on every wire.
[[nodiscard]] inline Error NoReply(memhp::v1::ErrorCode code, std::string why) {
  Error e{code == memhp::v1::ERROR_CODE_UNAVAILABLE ? ENOTCONN
          : code == memhp::v1::ERROR_CODE_TIMEOUT   ? ETIMEDOUT
          : code == memhp::v1::ERROR_CODE_MALFORMED ? EPROTO
                                                    : EIO,
          std::move(why)};
  e.code = code;
  return e;
}

// A request that waits as long as the stream lives (a hello: QEMU holds it in the chardev until
// the guest opens its port, which may be a whole boot away).
inline constexpr std::chrono::milliseconds kUntilClosed{0};

template <typename Response>
class PendingRequests {
 public:
  using Reply = Result<Response>;
  using Done = std::function<void(Reply)>;

  // `peer` names the other end in the timeout message ("the agent", "the audit plugin").
  PendingRequests(GMainContext* context, std::string peer)
      : context_(context), peer_(std::move(peer)) {}
  ~PendingRequests() {
    for (auto& [id, entry] : entries_) DestroyTimer(entry.timer);
  }
  PendingRequests(const PendingRequests&) = delete;
  PendingRequests& operator=(const PendingRequests&) = delete;

  // The id for the next request. Taken before sending, so a send that fails wastes an id and
  // nothing else; ids never repeat on this table (64 bits do not wrap in a peer's lifetime).
  [[nodiscard]] uint64_t NextId() { return next_id_++; }

  // Waits for the answer to request `id` (from NextId(), already sent). `done` runs once: with
  // the answer (Finish), TIMEOUT after `timeout` (unless kUntilClosed), or FailAll's error.
  // One waiter per id: waiting again for an id replaces the earlier waiter and its deadline.
  void Wait(uint64_t id, std::chrono::milliseconds timeout, Done done) {
    Entry& entry = entries_[id];
    DestroyTimer(entry.timer);
    entry.done = std::move(done);
    if (timeout <= kUntilClosed) return;
    entry.timer = g_timeout_source_new(static_cast<guint>(timeout.count()));
    g_source_set_callback(entry.timer, &PendingRequests::OnDeadline, new TimerData{this, id},
                          [](gpointer data) { delete static_cast<TimerData*>(data); });
    g_source_attach(entry.timer, context_);
  }

  [[nodiscard]] bool Waiting(uint64_t id) const { return id != 0 && entries_.count(id) != 0; }
  [[nodiscard]] size_t size() const { return entries_.size(); }

  // Hands `reply` to the waiter of `id`. False when nobody waits for it (unknown, answered,
  // timed out): the caller drops the answer.
  bool Finish(uint64_t id, Reply reply) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    Done done = std::move(it->second.done);
    DestroyTimer(it->second.timer);
    entries_.erase(it);
    if (done) done(std::move(reply));  // may destroy *this: nothing after it
    return true;
  }

  // The stream is gone (or the peer unusable): every request waiting now gets `code`. Requests
  // a callback sends meanwhile wait on (they went to whatever stream the owner has now).
  void FailAll(memhp::v1::ErrorCode code, const std::string& why) {
    std::vector<uint64_t> ids;
    ids.reserve(entries_.size());
    for (const auto& [id, entry] : entries_) ids.push_back(id);
    // A callback may destroy the table (its owner tearing down): then the rest are not ours.
    const Liveness::Token alive = alive_.token();
    for (uint64_t id : ids) {
      if (alive.Expired()) return;
      Finish(id, NoReply(code, why));
    }
  }

 private:
  struct Entry {
    Done done;
    GSource* timer = nullptr;
  };
  struct TimerData {
    PendingRequests* self;
    uint64_t id;
  };

  static void DestroyTimer(GSource*& timer) {
    if (timer == nullptr) return;
    g_source_destroy(timer);
    g_source_unref(timer);
    timer = nullptr;
  }

  static gboolean OnDeadline(gpointer data) {
    auto* t = static_cast<TimerData*>(data);
    PendingRequests* self = t->self;
    auto it = self->entries_.find(t->id);
    if (it != self->entries_.end()) {
      // This source is being dispatched and goes when we return G_SOURCE_REMOVE: only our
      // reference is dropped here, so Finish does not destroy it under its own dispatch.
      g_source_unref(it->second.timer);
      it->second.timer = nullptr;
      self->Finish(t->id, NoReply(memhp::v1::ERROR_CODE_TIMEOUT, self->peer_ + " did not answer in time"));
    }
    return G_SOURCE_REMOVE;
  }

  GMainContext* context_;
  std::string peer_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> entries_;
  Liveness alive_;
};

}  // namespace memhp::wire
