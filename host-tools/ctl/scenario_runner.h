// scenario_runner — runs a parsed scenario (scenario_file.h) against memhpd and the guest, and
// records what happened: every operation's OperationResult (timings and block results as memhpd
// sent them), the guest's memory after every step (ZoneReport and the devices' sizes from
// status), and each expect's verdict with its reason.
//
// Everything it touches goes through ScenarioPeer, given to the constructor: memhpctl passes
// one over the control socket (ControlClient) and the VM's serial console; the unit tests pass
// a fake. The guest workload runs through the console because memhpctl has no verb that runs a
// program in the guest (the agent's protocol does not carry one): so workloads need a VM whose
// console.sock memhp made (`memhpctl launch`), with the busybox or Debian image's memhp-touch.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/result.h"
#include "ctl/scenario_file.h"
#include "memhp/v1/control.pb.h"

namespace memhp::ctl {

class ScenarioPeer {
 public:
  virtual ~ScenarioPeer() = default;
  // One request to `vm`'s memhpd; its final answer (progress is not), or why there is none.
  [[nodiscard]] virtual Result<memhp::v1::ControlResponse> Call(const std::string& vm,
                                                               memhp::v1::ControlRequest request,
                                                               std::chrono::milliseconds timeout) = 0;
  // One command in `vm`'s console shell; what it printed (bounded by the peer), or why nothing.
  [[nodiscard]] virtual Result<std::string> Shell(const std::string& vm, const std::string& command,
                                                  std::chrono::milliseconds timeout) = 0;
  // A scenario's `wait` and the pause between a condition's checks.
  virtual void Sleep(std::chrono::milliseconds duration) = 0;
  // Monotonic nanoseconds (the steps' timings) and the wall clock (the report's start).
  [[nodiscard]] virtual uint64_t MonotonicNs() = 0;
  [[nodiscard]] virtual uint64_t UnixNs() = 0;
};

struct ZoneSample {
  uint32_t node = 0;
  std::string zone;
  uint64_t present_bytes = 0;
  uint64_t managed_bytes = 0;
  uint64_t free_bytes = 0;
};

struct DeviceSample {
  std::string id;
  uint64_t size = 0;
  uint64_t requested_size = 0;  // virtio-mem
};

// The guest's memory at one moment: after step `after_step` (0: before the first).
struct MemorySample {
  uint64_t t_ns = 0;  // since the run started
  size_t after_step = 0;
  std::string vm;
  uint64_t mem_total_bytes = 0;
  uint64_t mem_available_bytes = 0;
  std::vector<ZoneSample> zones;
  std::vector<DeviceSample> devices;
};

struct StepRecord {
  size_t index = 0;        // 1-based, in the unrolled order
  std::string path;        // where it is in the file: "3", or "4.2#1" (repeat 4, sub-step 2, iteration 1)
  int line = 0;
  StepKind kind = StepKind::kWait;
  std::string label;
  std::string vm;
  uint64_t start_ns = 0;   // since the run started
  uint64_t duration_ns = 0;
  std::string error;       // the step could not be run (memhpd unreachable, the console silent...)
  std::string detail;      // what was done, for people ("resize vmem0 to 512 MiB (drawn)")
  std::optional<memhp::v1::OperationResult> operation;  // plug, unplug, resize
  uint64_t size_before = 0;                              // the device's size before unplug/resize
  std::optional<double> fraction_unplugged;              // unplug/resize that shrinks: got / asked
  std::optional<bool> held;                              // expect
  std::string why;                                       // expect: why it held or failed
};

struct ScenarioRun {
  std::string name;
  uint64_t seed = 0;
  uint64_t started_unix_ns = 0;
  uint64_t duration_ns = 0;
  std::vector<StepRecord> steps;
  std::vector<MemorySample> memory;
  size_t expects_held = 0;
  size_t expects_failed = 0;
  size_t step_errors = 0;
};

// 0 when every expect held and every step ran; 1 otherwise (docs/scenarios.md, "Exit codes").
[[nodiscard]] int ScenarioExitCode(const ScenarioRun& run);

class ScenarioRunner {
 public:
  // `default_vm` is used when neither the scenario nor a step names one.
  ScenarioRunner(ScenarioPeer& peer, std::string default_vm) : peer_(peer), default_vm_(std::move(default_vm)) {}

  // Runs every step in order. A step that could not be run is recorded and the run goes on
  // (an expect after it then fails with the reason); workloads still running at the end are
  // stopped.
  [[nodiscard]] ScenarioRun Run(const Scenario& scenario);

 private:
  struct Workload {
    std::string vm;
    long pid = 0;
  };
  void RunSteps(const std::vector<ScenarioStep>& steps, const std::string& prefix, const std::string& scenario_vm);
  void RunOne(const ScenarioStep& step, StepRecord& record);
  void RunOperation(const ScenarioStep& step, StepRecord& record);
  void RunPolicy(const ScenarioStep& step, StepRecord& record);
  void RunWorkload(const ScenarioStep& step, StepRecord& record);
  void RunWait(const ScenarioStep& step, StepRecord& record);
  void RunExpect(const ScenarioStep& step, StepRecord& record);
  [[nodiscard]] Status StopWorkload(const std::string& name, uint32_t timeout_s);
  [[nodiscard]] Result<MemorySample> Sample(const std::string& vm);
  [[nodiscard]] const StepRecord* OperationFor(const ExpectStep& expect, const std::string& vm) const;
  [[nodiscard]] uint64_t Elapsed();

  ScenarioPeer& peer_;
  std::string default_vm_;
  ScenarioRun run_;
  uint64_t start_ns_ = 0;
  std::mt19937_64 rng_;  // seeded with the scenario's seed: fully specified, so runs repeat
  std::map<std::string, Workload> workloads_;
  std::map<std::string, MemorySample> last_sample_;  // per VM
};

}  // namespace memhp::ctl
