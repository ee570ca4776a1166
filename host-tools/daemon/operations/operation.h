// operation — what plug, unplug and resize share: a transaction on the GLib loop with steps, a
// journal record per step, progress answers and one final OperationResult.
//
// An Operation is owned (shared_ptr) by the OperationQueue while it runs; every QMP, agent and
// timer callback it registers holds only a weak reference and is ignored once the operation has
// finished, so a late QEMU reply can never touch a finished transaction. Finish() is the one
// exit: it closes the open step, writes the journal's end record, sends the final answer through
// the client's reply (a no-op if the client left) and hands the turn back to the queue.
//
// Lock order (S18-S21): one host operation at a time (the queue) -> the agent's own operation
// lock; the host never holds the agent waiting on itself.
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/agent_channel.h"
#include "daemon/control_server.h"
#include "daemon/operations/journal.h"
#include "daemon/operations/online_waiter.h"
#include "daemon/operations/operation_queue.h"
#include "memhp/v1/control.pb.h"
#include "qmp/qmp_client.h"

namespace memhp::daemon::operations {

struct OperationTimeouts {
  std::chrono::milliseconds qmp{10000};
  std::chrono::milliseconds agent{5000};
  std::chrono::milliseconds plug_guest{60000};   // PlugRequest.timeout_ms default
  std::chrono::milliseconds unplug{120000};      // UnplugRequest.timeout_ms default
  std::chrono::milliseconds resize{120000};      // ResizeRequest.timeout_ms default
  std::chrono::milliseconds resize_settle{10000};  // no size change for this long: PARTIAL
  std::chrono::milliseconds poll{500};           // query-memory-devices / inventory polling
};

// What every operation reaches: QEMU, the agent, the journal, the device targets memhpd keeps.
struct OperationEnv {
  qmp::QmpClient& qmp;
  AgentChannel& agent;
  Journal& journal;
  GMainContext* context;
  OperationTimeouts timeouts;
  // device id -> the zone asked at plug; sent to the agent in the DeviceMap.
  std::map<std::string, memhp::v1::OnlineTarget>& targets;
  // TEST ONLY (MEMHP_TEST_PAUSE_AFTER): after journaling this step memhpd blocks for a minute,
  // so a test can kill -9 it at a known point. Empty in production.
  std::string pause_after_step;
  // Where an operation's "begin" and each closed "step" go for `memhpctl watch` (WatchHub);
  // the hub publishes "requested", "progress" and "end" itself. Empty: nowhere.
  std::function<void(std::string_view name, const google::protobuf::Message& data)> publish;
};

class Operation : public Queueable, public std::enable_shared_from_this<Operation> {
 public:
  Operation(OperationEnv& env, memhp::v1::OperationKind kind, ControlReply reply);
  ~Operation() override;
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  void StartTurn(std::function<void()> done) final;
  void WaitingBehind(uint32_t ahead) final;

  // Taps: the supervisor passes every QMP event and agent notice to the running operation.
  virtual void OnQmpEvent(std::string_view /*name*/, const JsonNode& /*data*/) {}
  virtual void OnAgentEvent(const memhp::v1::AgentEvent& /*event*/) {}
  virtual void OnAgentLost() {}
  // QEMU is gone (its QMP socket closed: killed, crashed or quit under the operation). Nothing
  // the operation did to the VM outlives QEMU — a DIMM, its backend, a requested size are all
  // QEMU's state — so it ends FAILED saying so, at the step it was in; never with the guesses a
  // failed QMP command or a lost agent would otherwise produce ("the backend is left over",
  // "the DIMM is plugged"). Every QMP reply "disconnected" comes here too.
  void OnQemuGone(std::string_view reason);

  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] const memhp::v1::OperationResult& result() const { return result_; }

 protected:
  virtual void Run() = 0;

  // Steps: Begin closes any open step as ok; End sets the open step's outcome and detail.
  void BeginStep(const std::string& name);
  void EndStep(bool ok, const std::string& detail = "");
  // Journals a begin record once the parameters are known (idempotent).
  [[nodiscard]] bool JournalBegin(const JournalParams& params);
  // Journals a step record; on a journal failure the operation ends FAILED and false returns.
  [[nodiscard]] bool JournalStep(const std::string& name, const std::string& detail = "");
  void Progress(const std::string& step, const std::string& detail, uint64_t done_bytes = 0,
                uint64_t total_bytes = 0);
  void Finish(memhp::v1::OperationOutcome outcome, const std::string& detail,
              std::optional<memhp::v1::Error> error = std::nullopt);

  // Weakly bound helpers: the callback is dropped once the operation has finished.
  void Qmp(std::string_view command, qmp::JsonNodePtr arguments, std::function<void(qmp::Result)> done);
  void Agent(memhp::v1::AgentRequest request, std::chrono::milliseconds timeout,
             std::function<void(AgentReply)> done);
  // A one-shot timer; cancelled when the operation finishes.
  void After(std::chrono::milliseconds delay, std::function<void()> fn);
  // Finish, once QEMU has answered that it is still there (query-status): the agent's channel
  // is a chardev of the same QEMU, and when QEMU dies the agent's socket may close before QMP
  // does, so a lost agent alone does not tell which of the two went away.
  void FinishIfQemuAlive(memhp::v1::OperationOutcome outcome, const std::string& detail);
  // query-memory-devices, parsed; a QMP error or an answer that does not parse ends the
  // operation FAILED (naming the command), and `done` is not called.
  void QueryDevices(std::function<void(std::vector<memhp::v1::MemoryDevice>)> done);
  // How an OnlineWaiter reaches the agent, timers and progress through this operation (so its
  // callbacks, too, are dropped once the operation has finished).
  [[nodiscard]] OnlineWaitHooks WaitHooks();

  static memhp::v1::Error QmpErrorToProto(const qmp::QmpError& error);
  [[nodiscard]] uint64_t ElapsedUs() const;

  OperationEnv& env_;
  memhp::v1::OperationResult result_;
  JournalParams params_;

 private:
  ControlReply reply_;
  std::function<void()> turn_done_;
  bool finished_ = false;
  bool journaled_ = false;
  gint64 started_us_ = 0;
  gint64 step_started_us_ = 0;
  memhp::v1::OperationStep* open_step_ = nullptr;
  std::vector<GSource*> timers_;
  std::string current_step_;  // the step open now, or the last one opened
};

}  // namespace memhp::daemon::operations
