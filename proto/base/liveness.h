// memhp — Liveness: lets a callback tell whether the object that made it still exists.
//
// memhp's daemons run on a GLib main loop, and their objects hand callbacks to code that keeps
// them past the call: a reply handed to a handler, a QMP or agent answer, a queued operation's
// "turn done". Such a callback can run after its owner was destroyed (memhpd tearing down while
// an answer is on its way), or its owner can be destroyed while the callback runs (user code
// called from a loop over pending commands). Capturing `this` alone would then touch freed
// memory. The owner holds a Liveness as a member; a callback captures a Token and checks
// Expired() before touching the owner. Destroying the Liveness (with its owner) — or Expire(),
// for an owner that must cut its callbacks off before the rest of its teardown — expires every
// token handed out.
//
// Single-threaded like the loop it serves: a Token says nothing about an object another thread
// may be destroying.
#pragma once

#include <memory>
#include <utility>

namespace memhp {

class Liveness {
 public:
  class Token {
   public:
    // The Liveness that gave this token was destroyed or expired.
    [[nodiscard]] bool Expired() const { return flag_.expired(); }

   private:
    friend class Liveness;
    explicit Token(std::weak_ptr<const void> flag) : flag_(std::move(flag)) {}
    std::weak_ptr<const void> flag_;
  };

  Liveness() = default;
  // A copy would share the owner's flag and outlive it; each owner has its own.
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  [[nodiscard]] Token token() const { return Token(flag_); }
  // Expires every token now; tokens taken afterwards are expired too.
  void Expire() { flag_.reset(); }

 private:
  // Only its lifetime matters; weak_ptrs to it are the tokens.
  std::shared_ptr<const void> flag_ = std::make_shared<int>(0);
};

}  // namespace memhp
