// operation_runner — see operation_runner.h.
#include "daemon/operations/operation_runner.h"

#include "daemon/operations/device_map.h"

namespace memhp::daemon::operations {

OperationRunner::OperationRunner(RunnerEnv& env, memhp::v1::OperationKind kind, std::string device_id,
                                 MachineFn machine, ControlReply reply)
    : env_(env), machine_(std::move(machine)), reply_(std::move(reply)) {
  result_.set_kind(kind);
  result_.set_device_id(device_id);
  params_.kind = kind;
  params_.device_id = std::move(device_id);
}

OperationRunner::OperationRunner(RunnerEnv& env, const JournalOp& resumed, MachineFn machine)
    : env_(env), machine_(std::move(machine)), reply_([](memhp::v1::ControlResponse) {}), resumed_(resumed) {
  result_.set_kind(resumed.params.kind);
  result_.set_device_id(resumed.params.device_id);
  result_.set_operation_id(resumed.id);
  params_ = resumed.params;
  journaled_ = true;
}

OperationRunner::~OperationRunner() {
  for (GSource* timer : timers_) {
    g_source_destroy(timer);
    g_source_unref(timer);
  }
}

void OperationRunner::StartTurn(std::function<void()> done) {
  turn_done_ = std::move(done);
  started_us_ = g_get_monotonic_time();
  if (!resumed_ && env_.publish) env_.publish("begin", result_);
  Feed(Started{});
}

void OperationRunner::WaitingBehind(uint32_t ahead) { reply_(QueuedResponse(ahead)); }

void OperationRunner::OnDeviceEvent(const DeviceEvent& event) { Feed(DeviceEventSeen{event}); }

void OperationRunner::OnAgentEvent(const memhp::v1::AgentEvent& event) {
  if (waiter_ && !finished_) waiter_->OnAgentEvent(event);
}

void OperationRunner::OnAgentLost() {
  if (waiter_ && !finished_) waiter_->OnAgentLost();
}

void OperationRunner::OnQemuGone(std::string_view reason) { Feed(QemuGone{std::string(reason)}); }

void OperationRunner::OnManagerUnreachable(std::string_view reason) {
  Feed(ManagerUnreachable{std::string(reason)});
}

void OperationRunner::Feed(Event event) {
  if (finished_) return;
  inbox_.push_back(std::move(event));
  if (feeding_) return;  // an answer from inside an action: after the current input
  feeding_ = true;
  auto self = shared_from_this();  // Complete() may hand the turn back, and the queue drop us
  while (!inbox_.empty() && !finished_) {
    Input input{std::move(inbox_.front()), env_.agent.connected(), env_.agent.block_size()};
    inbox_.pop_front();
    Actions actions = machine_(input);
    for (Action& action : actions) {
      if (finished_) break;
      Execute(action);
    }
  }
  inbox_.clear();
  feeding_ = false;
}

template <typename T>
Done<T> OperationRunner::Answer(std::function<Event(Result<T>)> to_event) {
  std::weak_ptr<OperationRunner> weak = weak_from_this();
  return [weak, to_event = std::move(to_event)](Result<T> r) {
    auto self = weak.lock();
    if (!self || self->finished_) return;
    self->Feed(to_event(std::move(r)));
  };
}

void OperationRunner::Execute(Action& action) {
  std::visit(
      [this](auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, BeginStep>) {
          OpenStep(a.name);
        } else if constexpr (std::is_same_v<A, EndStep>) {
          CloseStep(a.ok, a.detail);
        } else if constexpr (std::is_same_v<A, ReportProgress>) {
          Progress(a.step, a.detail, a.done_bytes, a.total_bytes);
        } else if constexpr (std::is_same_v<A, JournalBegin>) {
          if (journaled_) return;
          params_ = a.params;
          uint64_t id = 0;
          const Status begun = env_.journal.Begin(params_, &id);
          result_.set_operation_id(id);
          journaled_ = true;
          if (!begun.ok()) FailJournal("journal: " + begun.error().message);
        } else if constexpr (std::is_same_v<A, JournalStepDone>) {
          if (Status step = env_.journal.Step(result_.operation_id(), a.name, a.detail); !step.ok()) {
            FailJournal("journal: " + step.error().message + " (after " + a.name + ")");
          }
        } else if constexpr (std::is_same_v<A, AskFacts>) {
          GatherAllFacts();
        } else if constexpr (std::is_same_v<A, ListDevices>) {
          env_.devices.ListDevices(Answer<std::vector<memhp::v1::MemoryDevice>>(
              [](Result<std::vector<memhp::v1::MemoryDevice>> r) -> Event { return DevicesListed{std::move(r)}; }));
        } else if constexpr (std::is_same_v<A, ListBackends>) {
          env_.devices.ListBackends(Answer<std::vector<std::string>>(
              [](Result<std::vector<std::string>> r) -> Event { return BackendsListed{std::move(r)}; }));
        } else if constexpr (std::is_same_v<A, AddBackend> || std::is_same_v<A, AddDimm> ||
                             std::is_same_v<A, DeleteDimm> || std::is_same_v<A, DeleteBackend> ||
                             std::is_same_v<A, SetRequestedSize>) {
          auto done = Answer<void>([](Status s) -> Event { return HardwareAnswered{std::move(s)}; });
          if constexpr (std::is_same_v<A, AddBackend>) env_.devices.AddBackend(a.dimm, std::move(done));
          if constexpr (std::is_same_v<A, AddDimm>) env_.devices.AddDimm(a.dimm, std::move(done));
          if constexpr (std::is_same_v<A, DeleteDimm>) env_.devices.DeleteDimm(a.device_id, std::move(done));
          if constexpr (std::is_same_v<A, DeleteBackend>) env_.devices.DeleteBackend(a.backend_id, std::move(done));
          if constexpr (std::is_same_v<A, SetRequestedSize>) {
            env_.devices.SetRequestedSize(a.device_id, a.size, std::move(done));
          }
        } else if constexpr (std::is_same_v<A, CheckAlive>) {
          env_.devices.CheckAlive(Answer<void>([](Status s) -> Event { return AliveChecked{std::move(s)}; }));
        } else if constexpr (std::is_same_v<A, ReadInventory>) {
          env_.agent.Inventory(Answer<memhp::v1::Inventory>(
              [](Result<memhp::v1::Inventory> r) -> Event { return InventoryRead{std::move(r)}; }));
        } else if constexpr (std::is_same_v<A, OnlineBlocks> || std::is_same_v<A, OfflineBlocks>) {
          auto done = Answer<memhp::v1::BlockOpResult>(
              [](Result<memhp::v1::BlockOpResult> r) -> Event { return BlocksAnswered{std::move(r)}; });
          if constexpr (std::is_same_v<A, OnlineBlocks>) env_.agent.Online(a.request, a.timeout, std::move(done));
          if constexpr (std::is_same_v<A, OfflineBlocks>) env_.agent.Offline(a.request, a.timeout, std::move(done));
        } else if constexpr (std::is_same_v<A, SendDeviceMap>) {
          env_.agent.SendDeviceMap(BuildDeviceMap(a.devices, env_.targets),
                                   Answer<uint32_t>([](Result<uint32_t> r) -> Event { return MapAnswered{std::move(r)}; }));
        } else if constexpr (std::is_same_v<A, SendIntent>) {
          a.intent.set_operation_id(result_.operation_id());
          env_.agent.SendIntent(a.intent, Answer<void>([](Status s) -> Event { return IntentAnswered{std::move(s)}; }));
        } else if constexpr (std::is_same_v<A, RememberTarget>) {
          env_.targets[a.device_id] = a.target;
        } else if constexpr (std::is_same_v<A, ForgetTarget>) {
          env_.targets.erase(a.device_id);
        } else if constexpr (std::is_same_v<A, WaitOnline>) {
          StartWaiter(a.options);
        } else if constexpr (std::is_same_v<A, StartTimer>) {
          const uint32_t timer = a.timer;
          After(a.delay, [this, timer] { Feed(TimerFired{timer}); });
        } else if constexpr (std::is_same_v<A, Finish>) {
          Complete(std::move(a.result));
        } else if constexpr (std::is_same_v<A, Abandon>) {
          LeaveUnfinished(a.why);
        }
      },
      action);
}

void OperationRunner::GatherAllFacts() {
  // The hardware's part and the agent's (its zone report, then its policy: an empty
  // SetPolicyRequest reads it) at once; joined when both are in.
  struct Join {
    FactsGathered facts;
    int outstanding = 2;
    std::function<void(FactsGathered)> done;
    void One() {
      if (--outstanding == 0) done(std::move(facts));
    }
  };
  auto join = std::make_shared<Join>();
  std::weak_ptr<OperationRunner> weak = weak_from_this();
  join->done = [weak](FactsGathered facts) {
    auto self = weak.lock();
    if (!self || self->finished_) return;
    self->Feed(std::move(facts));
  };
  env_.devices.GatherFacts([join](HardwareFacts hardware) {
    join->facts.hardware = std::move(hardware);
    join->One();
  });
  if (!env_.agent.connected()) {
    join->One();
    return;
  }
  GuestAgent& agent = env_.agent;
  agent.ZoneReport([join, &agent](Result<memhp::v1::ZoneReport> zones) {
    if (zones.ok()) {
      join->facts.zones = std::move(zones).value();
    } else {
      join->facts.agent_problems.push_back("agent zone report: " + zones.error().message);
    }
    agent.Policy(memhp::v1::SetPolicyRequest(), [join](Result<memhp::v1::PolicyState> policy) {
      if (policy.ok()) join->facts.policy = std::move(policy).value();
      join->One();
    });
  });
}

void OperationRunner::OpenStep(const std::string& name) {
  if (open_step_ >= 0) CloseStep(true, "");
  auto* step = result_.add_steps();
  step->set_name(name);
  open_step_ = result_.steps_size() - 1;
  step_started_us_ = g_get_monotonic_time();
  Progress(name, "", 0, 0);
}

void OperationRunner::CloseStep(bool ok, const std::string& detail) {
  if (open_step_ < 0) return;
  auto* step = result_.mutable_steps(open_step_);
  step->set_ok(ok);
  if (!detail.empty()) step->set_detail(detail);
  step->set_duration_us(static_cast<uint64_t>(g_get_monotonic_time() - step_started_us_));
  if (env_.publish) env_.publish("step", *step);
  open_step_ = -1;
}

void OperationRunner::Progress(const std::string& step, const std::string& detail, uint64_t done_bytes,
                               uint64_t total_bytes) {
  if (finished_ || resumed_) return;
  memhp::v1::ControlResponse response;
  auto* progress = response.mutable_progress();
  progress->set_operation_id(result_.operation_id());
  progress->set_step(step);
  progress->set_detail(detail);
  progress->set_done_bytes(done_bytes);
  progress->set_total_bytes(total_bytes);
  reply_(std::move(response));
}

void OperationRunner::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  struct Timer {
    std::weak_ptr<OperationRunner> weak;
    std::function<void()> fn;
    GSource* source;
  };
  GSource* source = g_timeout_source_new(static_cast<guint>(std::max<int64_t>(delay.count(), 0)));
  auto* data = new Timer{weak_from_this(), std::move(fn), source};
  g_source_set_callback(
      source,
      [](gpointer p) -> gboolean {
        auto* t = static_cast<Timer*>(p);
        auto self = t->weak.lock();
        if (!self || self->finished_) return G_SOURCE_REMOVE;
        auto& timers = self->timers_;
        for (auto it = timers.begin(); it != timers.end(); ++it) {
          if (*it == t->source) {
            g_source_unref(*it);
            timers.erase(it);
            break;
          }
        }
        auto fn_copy = t->fn;
        fn_copy();
        return G_SOURCE_REMOVE;
      },
      data, [](gpointer p) { delete static_cast<Timer*>(p); });
  g_source_attach(source, env_.context);
  timers_.push_back(source);
}

void OperationRunner::StartWaiter(const OnlineWaitOptions& options) {
  std::weak_ptr<OperationRunner> weak = weak_from_this();
  GuestAgent& agent = env_.agent;
  // Each hook reaches the agent or a timer only while the operation runs.
  auto alive = [weak]() -> bool {
    auto self = weak.lock();
    return self && !self->finished_;
  };
  OnlineWaitHooks hooks{
      .inventory =
          [&agent, alive, weak](Done<memhp::v1::Inventory> done) {
            if (!alive()) return;
            agent.Inventory([weak, done = std::move(done)](Result<memhp::v1::Inventory> r) {
              auto self = weak.lock();
              if (self && !self->finished_) done(std::move(r));
            });
          },
      .online =
          [&agent, alive, weak](const memhp::v1::OnlineRequest& request, std::chrono::milliseconds timeout,
                                Done<memhp::v1::BlockOpResult> done) {
            if (!alive()) return;
            agent.Online(request, timeout, [weak, done = std::move(done)](Result<memhp::v1::BlockOpResult> r) {
              auto self = weak.lock();
              if (self && !self->finished_) done(std::move(r));
            });
          },
      .after =
          [this, alive](std::chrono::milliseconds delay, std::function<void()> fn) {
            if (alive()) After(delay, std::move(fn));
          },
      .progress = [this](uint64_t done, uint64_t total) { Progress("online", "bytes online so far", done, total); },
  };
  waiter_ = std::make_unique<OnlineWaiter>(std::move(hooks), options, [weak](OnlineWaitEnd end) {
    auto self = weak.lock();
    if (!self || self->finished_) return;
    self->Feed(OnlineWaitEnded{std::move(end)});
  });
  waiter_->Start();
}

void OperationRunner::FailJournal(const std::string& why) {
  memhp::v1::OperationResult result = result_;
  result.set_outcome(memhp::v1::OPERATION_OUTCOME_FAILED);
  result.set_detail(why);
  Complete(std::move(result));
}

void OperationRunner::Complete(memhp::v1::OperationResult result) {
  if (finished_) return;
  auto self = shared_from_this();  // the queue may drop its reference below
  const memhp::v1::OperationOutcome outcome = result.outcome();
  const std::string detail = result.detail();
  CloseStep(outcome == memhp::v1::OPERATION_OUTCOME_DONE, outcome == memhp::v1::OPERATION_OUTCOME_DONE ? "" : detail);
  finished_ = true;
  for (GSource* timer : timers_) {
    g_source_destroy(timer);
    g_source_unref(timer);
  }
  timers_.clear();
  // The machine's view, with what only the runner knows: the id, the steps, the time taken.
  *result.mutable_steps() = result_.steps();
  if (!journaled_) {
    // Ended before its begin record (refused at admission, say): journaled all the same, so
    // every answer a client saw has its record.
    uint64_t id = 0;
    if (Status begun = env_.journal.Begin(params_, &id); !begun.ok()) {
      g_warning("journal: %s", begun.error().message.c_str());
    }
    result_.set_operation_id(id);
    journaled_ = true;
  }
  result.set_operation_id(result_.operation_id());
  result.set_duration_us(started_us_ ? static_cast<uint64_t>(g_get_monotonic_time() - started_us_) : 0);
  result.set_recovered(resumed_.has_value());
  if (Status ended = env_.journal.End(result.operation_id(), outcome, detail, resumed_.has_value(), result.size_reached());
      !ended.ok()) {
    g_warning("journal: %s", ended.error().message.c_str());
    result.set_detail(detail + " (journal: " + ended.error().message + ")");
  }
  g_message("%soperation %llu %s %s: %s - %s", resumed_ ? "reconcile: " : "",
            static_cast<unsigned long long>(result.operation_id()), KindName(result.kind()), result.device_id().c_str(),
            OutcomeName(outcome), detail.c_str());
  result_ = result;
  if (resumed_) {
    if (env_.publish) env_.publish("end", result_);
  } else {
    memhp::v1::ControlResponse response;
    *response.mutable_operation() = result_;
    reply_(std::move(response));
  }
  EndTurn();
}

void OperationRunner::LeaveUnfinished(const std::string& why) {
  if (finished_) return;
  if (!resumed_ && !journaled_) {
    // No begin record yet: nothing was asked of the hardware, so there is nothing to resume.
    memhp::v1::OperationResult result = result_;
    result.set_outcome(memhp::v1::OPERATION_OUTCOME_FAILED);
    result.set_detail(why + "; nothing was changed");
    result.mutable_error()->set_code(memhp::v1::ERROR_CODE_UNAVAILABLE);
    result.mutable_error()->set_message(result.detail());
    Complete(std::move(result));
    return;
  }
  auto self = shared_from_this();  // the queue may drop its reference below
  CloseStep(false, why);
  finished_ = true;
  for (GSource* timer : timers_) {
    g_source_destroy(timer);
    g_source_unref(timer);
  }
  timers_.clear();
  g_warning("%soperation %llu (%s %s) left unfinished in the journal: %s", resumed_ ? "reconcile: " : "",
            static_cast<unsigned long long>(result_.operation_id()), KindName(result_.kind()),
            result_.device_id().c_str(), why.c_str());
  if (env_.left_unfinished) env_.left_unfinished(result_.operation_id());
  if (!resumed_) {
    memhp::v1::ControlResponse response;
    response.mutable_error()->set_code(memhp::v1::ERROR_CODE_UNAVAILABLE);
    response.mutable_error()->set_message(
        "operation " + std::to_string(result_.operation_id()) + " (" + KindName(result_.kind()) + " " +
        result_.device_id() + ") is left unfinished in the journal: " + why +
        "; memhpd finishes it once it reaches the VM's manager again (memhpctl watch shows its end)");
    reply_(std::move(response));
  }
  EndTurn();
}

void OperationRunner::EndTurn() {
  if (turn_done_) {
    auto done = std::move(turn_done_);
    turn_done_ = nullptr;
    done();
  }
}

}  // namespace memhp::daemon::operations
