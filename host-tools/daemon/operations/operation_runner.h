// operation_runner — runs one operation's state machine (machine.h) on the GLib loop.
//
// The runner is the only part of an operation that does anything: it feeds the machine its
// inputs one at a time, executes the actions the machine answers — through the two ports
// (ports/memory_devices.h, ports/guest_agent.h), the journal, timers, the client's reply — and
// turns each answer into the machine's next input. It keeps what the machine does not need to
// decide: the steps' timings, the operation id, the online waiter (online_waiter.h) and the
// timers. A resumed runner (memhpd restarted) finishes a journaled operation: it writes no begin
// record, answers no client, marks its end recovered, and publishes that end for `watch`.
//
// The runner is owned (shared_ptr) by the OperationQueue while it runs; every callback it
// hands out holds only a weak reference and is dropped once the operation has finished, so a
// late answer never touches a finished operation. Answers that come back from inside the call
// that asked (the agent channel answers at once when no agent is connected) are queued and fed
// after the current input, so the machine sees one input at a time, in order.
//
// Lock order (S18-S21): one host operation at a time (the queue) -> the agent's own operation
// lock; the host never holds the agent waiting on itself.
#pragma once

#include <glib.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "daemon/control_server.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/machine.h"
#include "daemon/operations/online_waiter.h"
#include "daemon/operations/operation_queue.h"
#include "daemon/ports/guest_agent.h"
#include "daemon/ports/memory_devices.h"

namespace memhp::daemon::operations {

// Where an operation's "begin", closed "step"s and (resumed) "end" go for `memhpctl watch`.
using Publish = std::function<void(std::string_view name, const google::protobuf::Message& data)>;

// What every operation reaches.
struct RunnerEnv {
  MemoryDevices& devices;
  GuestAgent& agent;
  Journal& journal;
  GMainContext* context;
  // device id -> the zone asked at plug; sent to the agent in every device map.
  std::map<std::string, memhp::v1::OnlineTarget>& targets;
  Publish publish;  // may be empty
  // Told the id of each journaled operation left open (Abandon), to resume it later; may be empty.
  std::function<void(uint64_t operation_id)> left_unfinished;
};

// A machine behind one function: feed it an input, get its actions (MakeMachine binds one).
using MachineFn = std::function<Actions(const Input&)>;

template <typename State, typename Next>
[[nodiscard]] MachineFn MakeMachine(State state, Next next) {
  auto held = std::make_shared<State>(std::move(state));
  return [held, next](const Input& input) {
    Transition<State> t = next(std::move(*held), input);
    *held = std::move(t.state);
    return std::move(t.actions);
  };
}

class OperationRunner : public Queueable, public std::enable_shared_from_this<OperationRunner> {
 public:
  // A new operation of `kind` for a client; `reply` gets its progress and its end.
  OperationRunner(RunnerEnv& env, memhp::v1::OperationKind kind, std::string device_id, MachineFn machine,
                  ControlReply reply);
  // A journaled operation memhpd found unfinished at start.
  OperationRunner(RunnerEnv& env, const JournalOp& resumed, MachineFn machine);
  ~OperationRunner() override;
  OperationRunner(const OperationRunner&) = delete;
  OperationRunner& operator=(const OperationRunner&) = delete;

  void StartTurn(std::function<void()> done) override;
  void WaitingBehind(uint32_t ahead) override;

  // Taps: the service passes the hardware's device events and the agent's news on.
  void OnDeviceEvent(const DeviceEvent& event);
  void OnAgentEvent(const memhp::v1::AgentEvent& event);
  void OnAgentLost();
  void OnQemuGone(std::string_view reason);
  void OnManagerUnreachable(std::string_view reason);

  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] const memhp::v1::OperationResult& result() const { return result_; }

 private:
  void Feed(Event event);
  void Execute(Action& action);
  // Binds `fn` to this runner weakly: it runs only while the operation has not finished.
  template <typename T>
  Done<T> Answer(std::function<Event(Result<T>)> to_event);
  void OpenStep(const std::string& name);
  void CloseStep(bool ok, const std::string& detail);
  void Progress(const std::string& step, const std::string& detail, uint64_t done_bytes, uint64_t total_bytes);
  // A one-shot timer, dropped once the operation has finished.
  void After(std::chrono::milliseconds delay, std::function<void()> fn);
  void StartWaiter(const OnlineWaitOptions& options);
  void GatherAllFacts();
  void Complete(memhp::v1::OperationResult result);
  // Abandon: the journal keeps the operation open; its client is told so.
  void LeaveUnfinished(const std::string& why);
  void FailJournal(const std::string& why);
  void EndTurn();

  RunnerEnv& env_;
  MachineFn machine_;
  ControlReply reply_;
  std::optional<JournalOp> resumed_;
  memhp::v1::OperationResult result_;  // what the client sees: kind, id, steps; the rest at the end
  JournalParams params_;               // the begin record (a refusal before JournalBegin has only these)
  std::function<void()> turn_done_;
  std::deque<Event> inbox_;
  bool feeding_ = false;
  bool finished_ = false;
  bool journaled_ = false;
  gint64 started_us_ = 0;
  gint64 step_started_us_ = 0;
  int open_step_ = -1;  // index in result_.steps(), -1: none open
  std::vector<GSource*> timers_;
  std::unique_ptr<OnlineWaiter> waiter_;
};

}  // namespace memhp::daemon::operations
