// scenario_runner — runs a scenario's steps (see scenario_runner.h).
#include "ctl/scenario_runner.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "ctl/status_view.h"

namespace memhp::ctl {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = uint64_t{1} << 20;
// How often a condition is checked (wait until, a workload's start and stop).
constexpr auto kPollInterval = 500ms;

std::string OutcomeName(memhp::v1::OperationOutcome outcome) {
  const std::string& name = memhp::v1::OperationOutcome_Name(outcome);
  return name.size() > 18 ? name.substr(18) : name;  // "OPERATION_OUTCOME_"
}

memhp::v1::OnlineTarget TargetOf(ZoneAsk zone) {
  switch (zone) {
    case ZoneAsk::kDefault: return memhp::v1::ONLINE_TARGET_DEFAULT;
    case ZoneAsk::kKernel: return memhp::v1::ONLINE_TARGET_KERNEL;
    case ZoneAsk::kMovable: return memhp::v1::ONLINE_TARGET_MOVABLE;
    case ZoneAsk::kPolicy: break;
  }
  return memhp::v1::ONLINE_TARGET_UNSPECIFIED;
}

// A control answer that is memhpd's error is a failure too.
Result<memhp::v1::ControlResponse> Checked(Result<memhp::v1::ControlResponse> response) {
  if (!response.ok()) return response;
  if (response->has_error()) return Error::Invalid("memhpd: " + response->error().message());
  return response;
}

// The number after `key` in `text` (the console echoes the command line, so keys are written
// split in the command: "wl""pid"), or -1.
long NumberAfter(const std::string& text, const std::string& key) {
  const size_t at = text.rfind(key);
  if (at == std::string::npos) return -1;
  char* end = nullptr;
  const long value = std::strtol(text.c_str() + at + key.size(), &end, 10);
  return end == text.c_str() + at + key.size() ? -1 : value;
}

std::string Mib(uint64_t bytes) { return std::to_string(bytes / kMiB) + " MiB"; }

}  // namespace

int ScenarioExitCode(const ScenarioRun& run) { return run.expects_failed == 0 && run.step_errors == 0 ? 0 : 1; }

uint64_t ScenarioRunner::Elapsed() { return peer_.MonotonicNs() - start_ns_; }

ScenarioRun ScenarioRunner::Run(const Scenario& scenario) {
  run_ = ScenarioRun();
  run_.name = scenario.name;
  run_.seed = scenario.seed;
  run_.started_unix_ns = peer_.UnixNs();
  start_ns_ = peer_.MonotonicNs();
  rng_.seed(scenario.seed);
  const std::string vm = scenario.vm.empty() ? default_vm_ : scenario.vm;
  if (Result<MemorySample> first = Sample(vm); first.ok()) run_.memory.push_back(*first);
  RunSteps(scenario.steps, "", vm);
  // Whatever the steps did, no workload outlives the run.
  while (!workloads_.empty()) {
    const std::string name = workloads_.begin()->first;
    if (Status s = StopWorkload(name, 60); !s.ok()) {
      workloads_.erase(name);
      ++run_.step_errors;
      StepRecord record;
      record.index = run_.steps.size() + 1;
      record.path = "end";
      record.kind = StepKind::kWorkload;
      record.error = "stopping workload " + name + " at the end: " + s.error().message;
      run_.steps.push_back(std::move(record));
    }
  }
  run_.duration_ns = Elapsed();
  return std::move(run_);
}

void ScenarioRunner::RunSteps(const std::vector<ScenarioStep>& steps, const std::string& prefix,
                              const std::string& scenario_vm) {
  for (size_t i = 0; i < steps.size(); ++i) {
    const ScenarioStep& step = steps[i];
    const std::string where = prefix + std::to_string(i + 1);
    if (step.kind == StepKind::kRepeat) {
      for (uint32_t n = 1; n <= step.times; ++n) {
        RunSteps(step.steps, where + "#" + std::to_string(n) + ".", step.vm.empty() ? scenario_vm : step.vm);
      }
      continue;
    }
    StepRecord record;
    record.index = run_.steps.size() + 1;
    record.path = where;
    record.line = step.line;
    record.kind = step.kind;
    record.label = step.label;
    record.vm = step.vm.empty() ? scenario_vm : step.vm;
    record.start_ns = Elapsed();
    RunOne(step, record);
    record.duration_ns = Elapsed() - record.start_ns;
    if (!record.error.empty()) ++run_.step_errors;
    if (record.held) ++(*record.held ? run_.expects_held : run_.expects_failed);
    const std::string vm = record.vm;
    const size_t index = record.index;
    run_.steps.push_back(std::move(record));
    if (step.kind == StepKind::kExpect) continue;  // an expect changes nothing
    if (Result<MemorySample> sample = Sample(vm); sample.ok()) {
      sample->after_step = index;
      run_.memory.push_back(*sample);
    }
  }
}

void ScenarioRunner::RunOne(const ScenarioStep& step, StepRecord& record) {
  switch (step.kind) {
    case StepKind::kPlug:
    case StepKind::kUnplug:
    case StepKind::kResize: RunOperation(step, record); return;
    case StepKind::kPolicy: RunPolicy(step, record); return;
    case StepKind::kWorkload: RunWorkload(step, record); return;
    case StepKind::kWait: RunWait(step, record); return;
    case StepKind::kExpect: RunExpect(step, record); return;
    case StepKind::kRepeat: return;  // unrolled by RunSteps
  }
}

Result<MemorySample> ScenarioRunner::Sample(const std::string& vm) {
  memhp::v1::ControlRequest zones;
  zones.mutable_zones();
  Result<memhp::v1::ControlResponse> z = Checked(peer_.Call(vm, std::move(zones), 30s));
  if (!z.ok()) return z.error();
  if (!z->has_zones()) return Error::Invalid("memhpd answered the zone report without one");
  memhp::v1::ControlRequest status;
  status.mutable_status()->set_refresh_inventory(false);
  Result<memhp::v1::ControlResponse> s = Checked(peer_.Call(vm, std::move(status), 30s));
  if (!s.ok()) return s.error();
  MemorySample sample;
  sample.t_ns = Elapsed();
  sample.vm = vm;
  const memhp::v1::ZoneReport& report = z->zones();
  sample.mem_total_bytes = report.mem_total_bytes();
  sample.mem_available_bytes = report.mem_available_bytes();
  // The agent's page size; pages are counted in it (agent.proto ZoneStats). Bounded so a bad
  // report cannot overflow the products below.
  const uint64_t page = report.page_size() > 0 && report.page_size() <= (uint64_t{1} << 30) ? report.page_size() : 4096;
  const uint64_t max_pages = UINT64_MAX / page;
  for (const auto& node : report.nodes()) {
    for (const auto& zone : node.zones()) {
      if (zone.present_pages() == 0) continue;
      ZoneSample zs;
      zs.node = node.node();
      zs.zone = std::string(FormatZone(zone.zone()));
      zs.present_bytes = std::min(zone.present_pages(), max_pages) * page;
      zs.managed_bytes = std::min(zone.managed_pages(), max_pages) * page;
      zs.free_bytes = std::min(zone.free_pages(), max_pages) * page;
      sample.zones.push_back(std::move(zs));
    }
  }
  if (s->has_status()) {
    for (const auto& device : s->status().devices()) {
      sample.devices.push_back({device.id(), device.size(), device.requested_size()});
    }
  }
  last_sample_[vm] = sample;
  return sample;
}

void ScenarioRunner::RunOperation(const ScenarioStep& step, StepRecord& record) {
  memhp::v1::ControlRequest request;
  uint32_t timeout_s = 120;
  std::string device;
  uint64_t requested = 0;  // the size the device should have after (unplug: 0)
  switch (step.kind) {
    case StepKind::kPlug: {
      auto* plug = request.mutable_plug();
      plug->set_device_id(step.plug.device);
      plug->set_size(step.plug.size_mib * kMiB);
      plug->set_node(step.plug.node);
      plug->set_target(TargetOf(step.plug.zone));
      plug->set_timeout_ms(step.plug.timeout_s * 1000);
      timeout_s = step.plug.timeout_s ? step.plug.timeout_s : 60;
      record.detail = "plug " + Mib(step.plug.size_mib * kMiB) + " on node " + std::to_string(step.plug.node);
      break;
    }
    case StepKind::kUnplug: {
      auto* unplug = request.mutable_unplug();
      unplug->set_device_id(step.unplug.device);
      unplug->set_force(step.unplug.force);
      unplug->set_timeout_ms(step.unplug.timeout_s * 1000);
      if (step.unplug.timeout_s) timeout_s = step.unplug.timeout_s;
      device = step.unplug.device;
      record.detail = "unplug " + device;
      break;
    }
    default: {
      const ResizeStep& r = step.resize;
      uint64_t mib = 0;
      if (r.size_mib) {
        mib = *r.size_mib;
      } else {
        // mt19937_64's sequence is fixed by the standard, and the modulo is ours: the same
        // seed draws the same sizes everywhere.
        const uint64_t choices = (r.max_mib - r.min_mib) / r.align_mib + 1;
        mib = r.min_mib + (rng_() % choices) * r.align_mib;
      }
      auto* resize = request.mutable_resize();
      resize->set_device_id(r.device);
      resize->set_requested_size(mib * kMiB);
      resize->set_offline_first(r.offline_first);
      resize->set_timeout_ms(r.timeout_s * 1000);
      if (r.timeout_s) timeout_s = r.timeout_s;
      device = r.device;
      requested = mib * kMiB;
      record.detail = "resize " + device + " to " + Mib(mib * kMiB) + (r.size_mib ? "" : " (drawn)");
      break;
    }
  }
  if (!device.empty()) {
    // The size before, for the fraction unplugged: from the last sample of this VM.
    const auto it = last_sample_.find(record.vm);
    if (it != last_sample_.end()) {
      for (const DeviceSample& d : it->second.devices) {
        if (d.id == device) record.size_before = d.size;
      }
    }
  }
  // memhpd bounds the operation itself; the margin covers the answer's way back.
  Result<memhp::v1::ControlResponse> response =
      Checked(peer_.Call(record.vm, std::move(request), std::chrono::seconds(timeout_s) + 30s));
  if (!response.ok()) {
    record.error = response.error().message;
    return;
  }
  if (!response->has_operation()) {
    record.error = "memhpd answered without an operation result";
    return;
  }
  record.operation = response->operation();
  record.detail += ": " + OutcomeName(record.operation->outcome());
  if (!device.empty() && record.size_before > requested) {
    const uint64_t asked = record.size_before - requested;
    const uint64_t reached = std::min(record.operation->size_reached(), record.size_before);
    record.fraction_unplugged = static_cast<double>(record.size_before - reached) / static_cast<double>(asked);
  }
}

void ScenarioRunner::RunPolicy(const ScenarioStep& step, StepRecord& record) {
  memhp::v1::ControlRequest request;
  auto* set = request.mutable_policy()->mutable_set();
  set->set_policy(step.policy.policy);
  set->set_movable_ratio_percent(step.policy.ratio_percent);
  Result<memhp::v1::ControlResponse> response = Checked(peer_.Call(record.vm, std::move(request), 30s));
  if (!response.ok()) {
    record.error = response.error().message;
    return;
  }
  record.detail = "policy " + response->policy().policy();
  if (response->policy().movable_ratio_percent()) {
    record.detail += " ratio " + std::to_string(response->policy().movable_ratio_percent()) + "%";
  }
}

void ScenarioRunner::RunWorkload(const ScenarioStep& step, StepRecord& record) {
  const WorkloadStep& w = step.workload;
  if (w.action == WorkloadAction::kStop) {
    if (!workloads_.count(w.name)) {
      record.error = "no workload named " + w.name + " is running";
      return;
    }
    if (Status s = StopWorkload(w.name, w.timeout_s); !s.ok()) {
      record.error = s.error().message;
      return;
    }
    record.detail = "stopped workload " + w.name;
    return;
  }
  if (workloads_.count(w.name)) {
    record.error = "a workload named " + w.name + " is running already";
    return;
  }
  uint64_t mib = w.size_mib.value_or(0);
  if (w.fraction) {
    Result<MemorySample> now = Sample(record.vm);
    if (!now.ok()) {
      record.error = "reading MemTotal for the fraction: " + now.error().message;
      return;
    }
    mib = static_cast<uint64_t>(*w.fraction * static_cast<double>(now->mem_total_bytes / kMiB));
    if (mib == 0) {
      record.error = "the fraction of MemTotal is less than 1 MiB";
      return;
    }
  }
  // memhp-touch maps and touches `mib` MiB of anonymous memory, then keeps touching it until
  // killed (--seconds 86400 is its most). Its output goes to a file; the shell prints the pid.
  const std::string out = "/tmp/memhp-scenario-" + w.name + ".out";
  std::string command = "memhp-touch --mib " + std::to_string(mib) + " --seconds 86400";
  if (w.node) command += " --node " + std::to_string(*w.node);
  command += " >" + out + " 2>&1 & echo wl\"\"pid $!";
  Result<std::string> started = peer_.Shell(record.vm, command, 10s);
  if (!started.ok()) {
    record.error = "starting the workload: " + started.error().message;
    return;
  }
  const long pid = NumberAfter(*started, "wlpid ");
  if (pid <= 0) {
    record.error = "starting the workload: the console gave no pid";
    return;
  }
  workloads_[w.name] = {record.vm, pid};
  record.detail = "workload " + w.name + ": " + std::to_string(mib) + " MiB anonymous" +
                  (w.node ? " on node " + std::to_string(*w.node) : "") + ", pid " + std::to_string(pid);
  // Started means holding: wait until its resident set is (nearly) all of it, or it died.
  const uint64_t want_kib = mib * 1024 * 9 / 10;
  const uint64_t deadline = peer_.MonotonicNs() + uint64_t{w.timeout_s} * 1'000'000'000;
  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  while (true) {
    Result<std::string> rss = peer_.Shell(record.vm, "grep VmRSS: " + status + " || echo wl\"\"gone 1", 10s);
    if (rss.ok() && NumberAfter(*rss, "wlgone ") == 1) {
      workloads_.erase(w.name);
      Result<std::string> why = peer_.Shell(record.vm, "tail -c 300 " + out, 10s);
      record.error = "the workload ended before it held its memory" + (why.ok() ? ": " + *why : std::string());
      return;
    }
    if (rss.ok() && NumberAfter(*rss, "VmRSS:") >= static_cast<long>(want_kib)) return;
    if (peer_.MonotonicNs() >= deadline) {
      record.error = "the workload did not hold " + std::to_string(mib) + " MiB within " + std::to_string(w.timeout_s) + " s";
      return;
    }
    peer_.Sleep(kPollInterval);
  }
}

Status ScenarioRunner::StopWorkload(const std::string& name, uint32_t timeout_s) {
  const Workload w = workloads_.at(name);
  const std::string pid = std::to_string(w.pid);
  Result<std::string> killed = peer_.Shell(w.vm, "kill -9 " + pid, 10s);
  if (!killed.ok()) return Error::Invalid("stopping workload " + name + ": " + killed.error().message);
  // Its memory is freed in exit_mm(), before the process becomes a zombie (kernel/exit.c
  // do_exit), so gone or a zombie both mean the memory is back.
  const uint64_t deadline = peer_.MonotonicNs() + uint64_t{timeout_s} * 1'000'000'000;
  while (true) {
    Result<std::string> state = peer_.Shell(w.vm, "grep State: /proc/" + pid + "/status || echo wl\"\"gone 1", 10s);
    if (state.ok() && (NumberAfter(*state, "wlgone ") == 1 || state->find("(zombie)") != std::string::npos)) {
      workloads_.erase(name);
      return Status();
    }
    if (peer_.MonotonicNs() >= deadline) {
      return Error::Invalid("workload " + name + " (pid " + pid + ") still runs after " + std::to_string(timeout_s) + " s");
    }
    peer_.Sleep(kPollInterval);
  }
}

void ScenarioRunner::RunWait(const ScenarioStep& step, StepRecord& record) {
  if (step.wait.until == WaitUntil::kTime) {
    peer_.Sleep(std::chrono::seconds(step.wait.seconds));
    record.detail = "waited " + std::to_string(step.wait.seconds) + " s";
    return;
  }
  const uint64_t deadline = peer_.MonotonicNs() + uint64_t{step.wait.seconds} * 1'000'000'000;
  std::string last;
  while (true) {
    memhp::v1::ControlRequest request;
    request.mutable_status()->set_refresh_inventory(true);
    Result<memhp::v1::ControlResponse> response = Checked(peer_.Call(record.vm, std::move(request), 30s));
    if (response.ok()) {
      const auto& blocks = response->status().agent().inventory().blocks();
      size_t offline = 0;
      for (const auto& b : blocks) offline += b.state() != memhp::v1::BLOCK_STATE_ONLINE;
      if (!blocks.empty() && offline == 0) {
        record.detail = "all " + std::to_string(blocks.size()) + " blocks online";
        return;
      }
      last = blocks.empty() ? "no inventory from the agent" : std::to_string(offline) + " of " + std::to_string(blocks.size()) + " blocks not online";
    } else {
      last = response.error().message;
    }
    if (peer_.MonotonicNs() >= deadline) {
      record.error = "not all blocks online within " + std::to_string(step.wait.seconds) + " s: " + last;
      return;
    }
    peer_.Sleep(kPollInterval);
  }
}

const StepRecord* ScenarioRunner::OperationFor(const ExpectStep& expect, const std::string& vm) const {
  for (auto it = run_.steps.rbegin(); it != run_.steps.rend(); ++it) {
    const bool operation = it->kind == StepKind::kPlug || it->kind == StepKind::kUnplug || it->kind == StepKind::kResize;
    if (!operation) continue;
    if (expect.of.empty() ? it->vm == vm : it->label == expect.of) return &*it;
  }
  return nullptr;
}

void ScenarioRunner::RunExpect(const ScenarioStep& step, StepRecord& record) {
  const ExpectStep& e = step.expect;
  auto verdict = [&record](bool held, std::string why) {
    record.held = held;
    record.why = std::move(why);
  };
  if (e.kind == ExpectKind::kNoAuditViolations) {
    record.detail = "no audit violations";
    memhp::v1::ControlRequest request;
    request.mutable_audit();
    Result<memhp::v1::ControlResponse> response = Checked(peer_.Call(record.vm, std::move(request), 30s));
    if (!response.ok()) return verdict(false, "audit: " + response.error().message);
    if (!response->has_audit()) return verdict(false, "memhpd answered without an audit report");
    const uint64_t total = response->audit().violations_total();
    return verdict(total == 0, std::to_string(total) + " violating accesses recorded by memhp-audit");
  }
  const StepRecord* op = OperationFor(e, record.vm);
  const std::string which = e.of.empty() ? "the last operation" : "operation \"" + e.of + "\"";
  if (!op) return verdict(false, "no operation ran before this expect");
  record.detail = "step " + std::to_string(op->index) + " (" + std::string(StepKindName(op->kind)) + ")";
  if (!op->operation) return verdict(false, which + " has no result: " + op->error);
  const memhp::v1::OperationResult& result = *op->operation;
  switch (e.kind) {
    case ExpectKind::kOutcome: {
      const std::string got = OutcomeName(result.outcome());
      record.detail += " outcome " + e.outcome;
      return verdict(got == e.outcome, which + " ended " + got + (result.detail().empty() ? "" : ": " + result.detail()));
    }
    case ExpectKind::kZone: {
      record.detail += " zone " + e.zone;
      size_t done = 0;
      std::string elsewhere;
      for (const auto& b : result.blocks()) {
        if (b.outcome() != memhp::v1::BLOCK_OUTCOME_DONE && b.outcome() != memhp::v1::BLOCK_OUTCOME_ALREADY) continue;
        ++done;
        const std::string zone(FormatZone(b.zone()));
        if (zone != e.zone && elsewhere.empty()) elsewhere = "block " + std::to_string(b.block()) + " is in " + zone;
      }
      if (done == 0) return verdict(false, which + " onlined no block");
      if (!elsewhere.empty()) return verdict(false, elsewhere);
      return verdict(true, "all " + std::to_string(done) + " blocks in " + e.zone);
    }
    case ExpectKind::kFractionUnplugged: {
      record.detail += " fraction unplugged in [" + std::to_string(e.min_fraction) + ", " + std::to_string(e.max_fraction) + "]";
      if (!op->fraction_unplugged) return verdict(false, which + " did not shrink a device of known size");
      const double f = *op->fraction_unplugged;
      const std::string got = std::to_string(f) + " (" + Mib(op->size_before) + " -> " + Mib(result.size_reached()) + ")";
      return verdict(f >= e.min_fraction && f <= e.max_fraction, "fraction unplugged " + got);
    }
    case ExpectKind::kNoAuditViolations: break;  // above
  }
}

}  // namespace memhp::ctl
