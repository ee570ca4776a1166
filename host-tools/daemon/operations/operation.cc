// operation — see operation.h.
#include "daemon/operations/operation.h"

#include "qmp/memory_devices.h"

namespace memhp::daemon::operations {

Operation::Operation(OperationEnv& env, memhp::v1::OperationKind kind, ControlReply reply)
    : env_(env), reply_(std::move(reply)) {
  result_.set_kind(kind);
  params_.kind = kind;
}

Operation::~Operation() {
  for (GSource* timer : timers_) {
    g_source_destroy(timer);
    g_source_unref(timer);
  }
}

void Operation::StartTurn(std::function<void()> done) {
  turn_done_ = std::move(done);
  started_us_ = g_get_monotonic_time();
  if (env_.publish) env_.publish("begin", result_);
  Run();
}

void Operation::WaitingBehind(uint32_t ahead) {
  memhp::v1::ControlResponse response;
  auto* progress = response.mutable_progress();
  progress->set_step("queued");
  progress->set_detail(std::to_string(ahead) + " operation(s) ahead");
  progress->set_queued_behind(ahead);
  reply_(std::move(response));
}

uint64_t Operation::ElapsedUs() const {
  return started_us_ ? static_cast<uint64_t>(g_get_monotonic_time() - started_us_) : 0;
}

void Operation::BeginStep(const std::string& name) {
  if (open_step_ != nullptr) EndStep(true);
  open_step_ = result_.add_steps();
  open_step_->set_name(name);
  current_step_ = name;
  step_started_us_ = g_get_monotonic_time();
  Progress(name, "");
}

void Operation::EndStep(bool ok, const std::string& detail) {
  if (open_step_ == nullptr) return;
  open_step_->set_ok(ok);
  if (!detail.empty()) open_step_->set_detail(detail);
  open_step_->set_duration_us(static_cast<uint64_t>(g_get_monotonic_time() - step_started_us_));
  if (env_.publish) env_.publish("step", *open_step_);
  open_step_ = nullptr;
}

bool Operation::JournalBegin(const JournalParams& params) {
  if (journaled_) return true;
  params_ = params;
  uint64_t id = 0;
  const std::string error = env_.journal.Begin(params_, &id);
  result_.set_operation_id(id);
  journaled_ = true;
  if (!error.empty()) {
    Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "journal: " + error);
    return false;
  }
  return true;
}

bool Operation::JournalStep(const std::string& name, const std::string& detail) {
  const std::string error = env_.journal.Step(result_.operation_id(), name, detail);
  if (!error.empty()) {
    Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "journal: " + error + " (after " + name + ")");
    return false;
  }
  if (!env_.pause_after_step.empty() && env_.pause_after_step == name) {
    // TEST ONLY: lets a test kill memhpd between two side effects (MEMHP_TEST_PAUSE_AFTER).
    g_warning("MEMHP_TEST_PAUSE_AFTER=%s: memhpd blocks for 60 s", name.c_str());
    g_usleep(60 * G_USEC_PER_SEC);
  }
  return true;
}

void Operation::Progress(const std::string& step, const std::string& detail, uint64_t done_bytes,
                         uint64_t total_bytes) {
  if (finished_) return;
  memhp::v1::ControlResponse response;
  auto* progress = response.mutable_progress();
  progress->set_operation_id(result_.operation_id());
  progress->set_step(step);
  progress->set_detail(detail);
  progress->set_done_bytes(done_bytes);
  progress->set_total_bytes(total_bytes);
  reply_(std::move(response));
}

void Operation::Finish(memhp::v1::OperationOutcome outcome, const std::string& detail,
                       std::optional<memhp::v1::Error> error) {
  if (finished_) return;
  auto self = shared_from_this();  // the queue may drop its reference below
  EndStep(outcome == memhp::v1::OPERATION_OUTCOME_DONE, outcome == memhp::v1::OPERATION_OUTCOME_DONE ? "" : detail);
  finished_ = true;
  for (GSource* timer : timers_) {
    g_source_destroy(timer);
    g_source_unref(timer);
  }
  timers_.clear();
  result_.set_outcome(outcome);
  result_.set_detail(detail);
  result_.set_duration_us(ElapsedUs());
  if (error) *result_.mutable_error() = *error;
  if (!journaled_) {
    uint64_t id = 0;
    if (std::string e = env_.journal.Begin(params_, &id); !e.empty()) g_warning("journal: %s", e.c_str());
    result_.set_operation_id(id);
    journaled_ = true;
  }
  if (std::string e = env_.journal.End(result_.operation_id(), outcome, detail, false, result_.size_reached());
      !e.empty()) {
    g_warning("journal: %s", e.c_str());
    result_.set_detail(detail + " (journal: " + e + ")");
  }
  g_message("operation %llu %s %s: %s - %s", static_cast<unsigned long long>(result_.operation_id()),
            KindName(result_.kind()), result_.device_id().c_str(), OutcomeName(outcome), detail.c_str());
  memhp::v1::ControlResponse response;
  *response.mutable_operation() = result_;
  reply_(std::move(response));
  if (turn_done_) {
    auto done = std::move(turn_done_);
    turn_done_ = nullptr;
    done();
  }
}

void Operation::Qmp(std::string_view command, qmp::JsonNodePtr arguments, std::function<void(qmp::Result)> done) {
  std::weak_ptr<Operation> weak = weak_from_this();
  env_.qmp.Execute(command, std::move(arguments), env_.timeouts.qmp,
                   [weak, done = std::move(done)](qmp::Result r) {
                     auto self = weak.lock();
                     if (!self || self->finished_) return;
                     if (!r.ok() && r.error().kind == qmp::QmpErrorKind::kDisconnected) {
                       self->OnQemuGone(r.error().message);
                       return;
                     }
                     done(std::move(r));
                   });
}

void Operation::OnQemuGone(std::string_view reason) {
  if (finished_) return;
  const std::string step = current_step_.empty() ? "first" : current_step_;
  const std::string why = "QEMU went away during the " + step + " step (" + std::string(reason) +
                          "): the VM is gone, and with it everything this " + KindName(result_.kind()) +
                          " had changed in it";
  memhp::v1::Error error;
  error.set_code(memhp::v1::ERROR_CODE_UNAVAILABLE);
  error.set_message(why);
  result_.set_guest_side_known(false);
  result_.set_size_reached(0);
  Finish(memhp::v1::OPERATION_OUTCOME_FAILED, why, error);
}

void Operation::FinishIfQemuAlive(memhp::v1::OperationOutcome outcome, const std::string& detail) {
  // A QMP "disconnected" reply ends the operation in Qmp() (OnQemuGone); any other answer means
  // QEMU is there and `detail` stands.
  Qmp("query-status", nullptr, [this, outcome, detail](qmp::Result) { Finish(outcome, detail); });
}

void Operation::Agent(memhp::v1::AgentRequest request, std::chrono::milliseconds timeout,
                      std::function<void(AgentReply)> done) {
  std::weak_ptr<Operation> weak = weak_from_this();
  env_.agent.Request(std::move(request), timeout, [weak, done = std::move(done)](AgentReply r) {
    auto self = weak.lock();
    if (!self || self->finished_) return;
    done(std::move(r));
  });
}

void Operation::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  struct Timer {
    std::weak_ptr<Operation> weak;
    std::function<void()> fn;
    GSource* source;
  };
  GSource* source = g_timeout_source_new(static_cast<guint>(delay.count()));
  auto* timer = new Timer{weak_from_this(), std::move(fn), source};
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* t = static_cast<Timer*>(data);
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
      timer, [](gpointer data) { delete static_cast<Timer*>(data); });
  g_source_attach(source, env_.context);
  timers_.push_back(source);
}

memhp::v1::Error Operation::QmpErrorToProto(const qmp::QmpError& error) {
  memhp::v1::Error e;
  e.set_code(error.kind == qmp::QmpErrorKind::kCommandError ? memhp::v1::ERROR_CODE_QMP
             : error.kind == qmp::QmpErrorKind::kTimeout    ? memhp::v1::ERROR_CODE_TIMEOUT
                                                             : memhp::v1::ERROR_CODE_UNAVAILABLE);
  e.set_message(error.message);
  e.set_errno_value(error.errno_value);
  return e;
}

void Operation::QueryDevices(std::function<void(std::vector<memhp::v1::MemoryDevice>)> done) {
  Qmp("query-memory-devices", nullptr, [this, done = std::move(done)](qmp::Result r) {
    if (!r.ok()) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "query-memory-devices: " + r.error().message,
             QmpErrorToProto(r.error()));
      return;
    }
    auto parsed = qmp::ParseMemoryDevices(*r.value());
    if (!parsed) {
      Finish(memhp::v1::OPERATION_OUTCOME_FAILED, "query-memory-devices: " + parsed.error);
      return;
    }
    done(std::move(*parsed.value));
  });
}

OnlineWaitHooks Operation::WaitHooks() {
  return OnlineWaitHooks{
      .agent = [this](memhp::v1::AgentRequest request, std::chrono::milliseconds timeout,
                      std::function<void(AgentReply)> done) { Agent(std::move(request), timeout, std::move(done)); },
      .after = [this](std::chrono::milliseconds delay, std::function<void()> fn) { After(delay, std::move(fn)); },
      .progress = [this](uint64_t done, uint64_t total) { Progress("online", "bytes online so far", done, total); },
  };
}

}  // namespace memhp::daemon::operations
