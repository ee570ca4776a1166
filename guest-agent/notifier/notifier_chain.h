// memhp — the memory notifier chain, re-created in user space (S7–S9, S15–S17).
//
// In the kernel, callbacks register on memory_chain (a blocking notifier head in
// drivers/base/memory.c) with hotplug_memory_notifier(callback, priority) (S7) and are called
// by notifier_call_chain() in kernel/notifier.c for each event of include/linux/memory.h
// (S1–S6). Inside the agent the same model orders its handlers — the reserve guard, the pin
// guard, guest hook scripts — so that one handler's veto (NOTIFY_BAD) stops the others and
// cancels the transition exactly as a kernel subsystem's would (transition_driver.h). The host
// reporter is not one of them: it is the driver's event sink (agent/event_reporter.h).
//
// Ordering, as kernel/notifier.c's notifier_chain_register() inserts: walk the list and stop
// before the first entry whose priority is strictly LOWER than the new one. So a higher
// priority runs first (S8), and a new entry goes AFTER existing entries of equal priority —
// equal priorities run in registration order.
//
// Calling, as notifier_call_chain(): handlers run in list order; each answer is the chain's
// current answer; an answer with NOTIFY_STOP_MASK set (BAD, STOP) ends the walk (S16, S17);
// DONE and OK go on (S15). The chain's answer is the LAST handler's answer (NOTIFY_DONE for an
// empty chain), which is what the kernel's memory_notify() returns.
//
// Not thread-safe: the agent serialises hotplug operations (S21, one operation per guest);
// the chain is touched only on that operation's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memhp/v1/memory.pb.h"
#include "notifier/memory_notify.h"
#include "sysfs/linux_abi.h"
#include "sysfs/result.h"

namespace memhp::agent {

// include/linux/notifier.h. The enum's values ARE the kernel's raw values, so
// NotifyResultRaw() can go into reports and logs unchanged.
inline constexpr int kNotifyStopMask = 0x8000;  // NOTIFY_STOP_MASK
enum class NotifyResult : int {
  kDone = 0x0000,                    // NOTIFY_DONE: don't care (S15)
  kOk = 0x0001,                      // NOTIFY_OK: suits me (S15)
  kBad = kNotifyStopMask | 0x0002,   // NOTIFY_BAD: veto, stops the chain (S16)
  kStop = kNotifyStopMask | 0x0001,  // NOTIFY_STOP: clean way to stop the chain (S17)
};

// The kernel's raw value (0x0000, 0x0001, 0x8002, 0x8001).
constexpr int NotifyResultRaw(NotifyResult r) { return static_cast<int>(r); }

// "NOTIFY_DONE", "NOTIFY_OK", "NOTIFY_BAD", "NOTIFY_STOP"; "" for a value not in the enum.
constexpr std::string_view NotifyResultName(NotifyResult r) {
  switch (r) {
    case NotifyResult::kDone: return "NOTIFY_DONE";
    case NotifyResult::kOk: return "NOTIFY_OK";
    case NotifyResult::kBad: return "NOTIFY_BAD";
    case NotifyResult::kStop: return "NOTIFY_STOP";
  }
  return "";
}

// True when the answer ends the chain walk: the NOTIFY_STOP_MASK bit (BAD, STOP; S16, S17).
constexpr bool StopsChain(NotifyResult r) { return (NotifyResultRaw(r) & kNotifyStopMask) != 0; }

// include/linux/notifier.h notifier_to_errno(): strip the stop bit; anything above NOTIFY_OK is
// a negative errno (NOTIFY_OK - value). DONE/OK/STOP -> 0; BAD -> -1 == -EPERM, which is what
// online_pages()/offline_pages() return, and a writer of memory<N>/state sees, on a veto.
constexpr int NotifierToErrno(NotifyResult r) {
  const int v = NotifyResultRaw(r) & ~kNotifyStopMask;
  return v > NotifyResultRaw(NotifyResult::kOk) ? NotifyResultRaw(NotifyResult::kOk) - v : 0;
}

// Who caused a transition, so handlers (and the host) can tell a host request from the
// agent's own policy; changes it only observed are reported as such (docs/architecture.md,
// "Observed changes").
enum class EventOrigin {
  kUnspecified,
  kHostRequest,  // the host asked for it (request_id names the request)
  kPolicy,       // the agent's onlining policy (e.g. auto-movable on a block "add")
  kObserved,     // made by someone else (kernel auto-online, chmem, virtio-mem); only reported
};
[[nodiscard]] std::string_view EventOriginName(EventOrigin origin);

// What S9's `arg` does not say but a user-space handler needs: which block, where, why.
struct NotifyContext {
  uint32_t block = 0;                                  // memory<block>
  int node = kNumaNoNode;                              // the block's node, -1 if none
  memhp::v1::Zone zone = memhp::v1::ZONE_UNSPECIFIED;  // target zone (online) / current (offline)
  EventOrigin origin = EventOrigin::kUnspecified;
  uint64_t request_id = 0;                             // the host request's id; 0 when none
};

// S9's callback, as an object: `this` is the kernel's `self`, `action` one of S1–S6, `arg` the
// transition's memory_notify (S10–S13). The answer is one of S15–S17.
class NotifierBlock {
 public:
  virtual ~NotifierBlock() = default;
  [[nodiscard]] virtual NotifyResult Call(abi::MemoryEvent action, const MemoryNotify& arg,
                                          const NotifyContext& ctx) = 0;
  // Why this handler's last NOTIFY_BAD was answered, for people ("hooks.d/10-db exited with
  // status 1"); read by the chain right after a BAD. "" when it has nothing to say.
  [[nodiscard]] virtual std::string VetoReason() const { return {}; }
};

using NotifierFunction =
    std::function<NotifyResult(abi::MemoryEvent, const MemoryNotify&, const NotifyContext&)>;

// A NotifierBlock that calls a function (a lambda in tests and for small built-in handlers).
class FunctionNotifier final : public NotifierBlock {
 public:
  explicit FunctionNotifier(NotifierFunction fn) : fn_(std::move(fn)) {}
  [[nodiscard]] NotifyResult Call(abi::MemoryEvent action, const MemoryNotify& arg,
                                  const NotifyContext& ctx) override {
    return fn_(action, arg, ctx);
  }

 private:
  NotifierFunction fn_;
};

// Names one registration; returned by Register(), given back to Unregister(). Ids are never
// reused within a chain, so a stale handle can never remove someone else's handler.
struct NotifierHandle {
  uint64_t id = 0;
  bool operator==(const NotifierHandle&) const = default;
};

// What one CallChain() did.
struct ChainOutcome {
  NotifyResult final = NotifyResult::kDone;  // the last handler's answer (DONE if none ran)
  std::string stopped_by;                    // the handler that answered BAD/STOP; "" if none
  std::string veto_reason;                   // its VetoReason() after a BAD; "" otherwise
  int calls = 0;                             // handlers called (the kernel's nr_calls)
  std::vector<std::pair<std::string, NotifyResult>> trace;  // (name, answer) in call order
};

class NotifierChain {
 public:
  NotifierChain() = default;
  NotifierChain(const NotifierChain&) = delete;
  NotifierChain& operator=(const NotifierChain&) = delete;

  // S7: adds `block` with `priority` (higher runs first, S8; equal: after those already there).
  // Errors: EINVAL for an empty name or a null block; EEXIST when the name is taken (a veto is
  // reported as "vetoed by <name>", so names must be unique) or the same block object is
  // already registered (the kernel's notifier_chain_register() refuses that with -EEXIST too).
  [[nodiscard]] Result<NotifierHandle> Register(std::string name, int priority,
                                                std::shared_ptr<NotifierBlock> block);
  [[nodiscard]] Result<NotifierHandle> Register(std::string name, int priority,
                                                NotifierFunction fn);

  // Removes a registration. ENOENT for an unknown or already removed handle (as the kernel's
  // notifier_chain_unregister()).
  [[nodiscard]] Status Unregister(NotifierHandle handle);

  // Calls the handlers for one event (see the file comment for order and stopping).
  //
  // Changes during a call — the kernel's atomic chains survive a handler removing itself
  // because notifier_call_chain() reads `next` before calling; its blocking chains (memory's)
  // would deadlock on the rwsem. Ours are defined as:
  //   - the walk runs over the list as it was when CallChain() began;
  //   - a handler unregistered during the walk (itself or another) and not yet reached is
  //     skipped; one unregistering itself finishes its call safely (the chain keeps the object
  //     alive until the call returns);
  //   - a handler registered during the walk is first called at the next event.
  [[nodiscard]] ChainOutcome CallChain(abi::MemoryEvent action, const MemoryNotify& arg,
                                       const NotifyContext& ctx);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  // Names in call order (for status output and tests).
  [[nodiscard]] std::vector<std::string> Names() const;

 private:
  struct Entry {
    uint64_t id = 0;
    std::string name;
    int priority = 0;
    std::shared_ptr<NotifierBlock> block;
  };
  [[nodiscard]] bool IsRegistered(uint64_t id) const;

  std::vector<Entry> entries_;  // in call order
  uint64_t next_id_ = 1;
};

}  // namespace memhp::agent
