// memhp — one block transition driven through the six memory events (S1–S6, S16, S17).
//
// The agent's online/offline of a block follows mm/memory_hotplug.c's online_pages() and
// offline_pages():
//   online:  MEM_GOING_ONLINE (S1) -> answered BAD: no write, MEM_CANCEL_ONLINE (S2)
//                                  -> else write "online*" -> failed: MEM_CANCEL_ONLINE (S2)
//                                                          -> done:   MEM_ONLINE (S3)
//   offline: MEM_GOING_OFFLINE (S4) -> answered BAD: no write, MEM_CANCEL_OFFLINE (S5)
//                                   -> else write "offline" -> failed: MEM_CANCEL_OFFLINE (S5)
//                                                           -> done:   MEM_OFFLINE (S6)
// The same MemoryNotify (S10–S13, computed once by ComputeMemoryNotify) goes with every event
// of one transition, as the kernel's one `struct memory_notify arg` does. NOTIFY_STOP (S17)
// ends the chain walk but not the transition. CANCEL_* is sent to the whole chain, also to
// handlers that never saw the GOING_* event because an earlier one vetoed (the kernel does the
// same: memory_notify(MEM_CANCEL_*) walks the full chain).
//
// S16 at ONLINE/OFFLINE — our documented choice. The kernel ignores the answer to MEM_ONLINE
// and MEM_OFFLINE (online_pages()/offline_pages() discard memory_notify()'s return there); the
// seed text reads as if BAD there cancelled too. There is nothing to cancel at that point: the
// memory already changed state, and undoing it is a second transition that can itself fail
// (an offline that cannot migrate pages). So the default, kReportOnly, keeps kernel semantics
// and records the veto in the outcome (the host sees who objected); kRevert is offered for
// setups that want the seed's wider reading: write the opposite state back, then send CANCEL_*.
// If that write-back fails, no CANCEL_* is sent (the memory did not go back) and the outcome
// says kRevertFailed with the errno.
//
// Every emitted event also goes to the EventSink (the host reporter hooks there), in order,
// after the chain answered, so a report can name the handler that vetoed.
//
// One transition at a time (S21: the kernel holds mem_hotplug_lock in write mode; the agent
// holds its operation lock). A handler that starts another transition from inside the chain
// would deadlock in the kernel; here it gets kRejected with EDEADLK and nothing is emitted.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memhp/v1/memory.pb.h"
#include "notifier/memory_notify.h"
#include "notifier/notifier_chain.h"
#include "sysfs/linux_abi.h"
#include "sysfs/result.h"

namespace memhp::agent {

// The seam to the kernel: the sysfs writer in production, a fake in tests. Write() puts
// abi::OnlineTypeName(target) in memory<block>/state (linux_abi.h; S20). The error's
// errno_value is the write(2) errno (EBUSY, EINVAL, ...); 0 is taken as EIO.
class BlockWriter {
 public:
  virtual ~BlockWriter() = default;
  [[nodiscard]] virtual Status Write(uint32_t block, abi::OnlineType target) = 0;
};

// How NOTIFY_BAD at MEM_ONLINE / MEM_OFFLINE is honoured (S16; see the file comment).
enum class PostEventVeto {
  kReportOnly,  // default: record the veto; the memory stays as written (kernel semantics)
  kRevert,      // write the opposite state back, then send the CANCEL_* event
};

struct TransitionDriverOptions {
  PostEventVeto post_event_veto = PostEventVeto::kReportOnly;
};

// One event as emitted: which, with what arg, what the chain answered.
struct EmittedEvent {
  abi::MemoryEvent event = abi::MemoryEvent::kGoingOnline;
  MemoryNotify notify;
  ChainOutcome chain;
  // For CANCEL_*: why — EPERM for a veto (notifier_to_errno(NOTIFY_BAD)), else the write's
  // errno. 0 for every other event.
  int errno_value = 0;
  // For CANCEL_* after a veto: the handler that answered NOTIFY_BAD (at GOING_*, or at
  // ONLINE/OFFLINE under kRevert), so the report of the cancel names it (agent.proto
  // MemoryEvent.vetoed_by). "" for a failed write and for every other event.
  std::string vetoed_by;
  // For CANCEL_*: why, for people (the handler's VetoReason() or the write error).
  std::string detail;
};

// Receives every emitted event, in order. May be empty (nothing is called).
using EventSink = std::function<void(const EmittedEvent&, const NotifyContext&)>;

enum class TransitionResult {
  kDone,                    // written; ONLINE/OFFLINE sent; no veto
  kVetoed,                  // BAD at GOING_*: not written; CANCEL_* sent (S16)
  kWriteFailed,             // the write failed; CANCEL_* sent with its errno
  kPostEventVetoReported,   // BAD at ONLINE/OFFLINE, kReportOnly: recorded, state as written
  kReverted,                // BAD at ONLINE/OFFLINE, kRevert: written back; CANCEL_* sent
  kRevertFailed,            // BAD at ONLINE/OFFLINE, kRevert: write-back failed; state as written
  kRejected,                // bad call (wrong target, re-entrant call): nothing emitted/written
};
[[nodiscard]] std::string_view TransitionResultName(TransitionResult result);

struct TransitionOutcome {
  TransitionResult result = TransitionResult::kRejected;
  std::vector<EmittedEvent> events;  // in emission order (the sink saw the same)
  // The block's state after the transition, as far as the driver knows. A failed write leaves
  // the state unchanged (drivers/base/memory.c memory_block_change_state() restores it).
  memhp::v1::BlockState final_state = memhp::v1::BLOCK_STATE_UNSPECIFIED;
  std::string vetoed_by;                       // the handler that answered BAD; "" if none
  std::optional<abi::MemoryEvent> vetoed_at;   // the event it answered BAD to
  int errno_value = 0;  // EPERM for a GOING_* veto, else the failed write's errno; 0 if none
  std::string message;  // for people: "vetoed by <name> at MEM_GOING_ONLINE", the write error
};

class TransitionDriver {
 public:
  // `chain` and `writer` must outlive the driver.
  TransitionDriver(NotifierChain& chain, BlockWriter& writer, EventSink sink,
                   TransitionDriverOptions options = {});
  TransitionDriver(const TransitionDriver&) = delete;
  TransitionDriver& operator=(const TransitionDriver&) = delete;

  // Onlines ctx.block (currently offline) to `target` (not kOffline: that is kRejected with
  // EINVAL). `notify` is ComputeMemoryNotify() of this online.
  [[nodiscard]] TransitionOutcome Online(const NotifyContext& ctx, const MemoryNotify& notify,
                                         abi::OnlineType target = abi::OnlineType::kOnline);

  // Offlines ctx.block (currently online in ctx.zone). Under kRevert, a veto at MEM_OFFLINE
  // writes it back with online_movable for a Movable block, online_kernel for a kernel zone,
  // "online" otherwise — so it returns to the zone it left.
  [[nodiscard]] TransitionOutcome Offline(const NotifyContext& ctx, const MemoryNotify& notify);

 private:
  struct Plan;  // the events and states of one direction (defined in the .cc)
  [[nodiscard]] TransitionOutcome Run(const Plan& plan, const NotifyContext& ctx,
                                      const MemoryNotify& notify);
  ChainOutcome Emit(TransitionOutcome& out, abi::MemoryEvent event,
                    const MemoryNotify& notify, const NotifyContext& ctx, int errno_value);

  NotifierChain& chain_;
  BlockWriter& writer_;
  EventSink sink_;
  TransitionDriverOptions options_;
  bool busy_ = false;  // inside Online()/Offline(): catches re-entry from a handler
};

}  // namespace memhp::agent
