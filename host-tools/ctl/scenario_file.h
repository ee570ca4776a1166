// scenario_file — a scenario for `memhpctl scenario run`, parsed from its JSON text into plain
// values (docs/scenarios.md has the format). Pure: text in, a Scenario or an Error out, so good
// and bad files are unit-tested without a VM.
//
// JSON, not YAML: json-glib is already a dependency and no YAML library is. json-glib's parser
// reports where a syntax error is (JSON_PARSER_ERROR with "line:column"); the checks after it
// name the line of the object they reject (json_node_get_... has no position, so the parser's
// "object-end" signal records each object's line as it is read). Every number and list is
// bounded so a file cannot ask for an unbounded run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace memhp::ctl {

inline constexpr size_t kMaxScenarioBytes = size_t{1} << 20;
inline constexpr size_t kMaxScenarioSteps = 10'000;  // after `repeat` is unrolled
inline constexpr uint32_t kMaxRepeat = 1000;
inline constexpr uint32_t kMaxWaitSeconds = 3600;
inline constexpr uint64_t kMaxScenarioMib = uint64_t{1} << 24;  // 16 TiB

enum class StepKind { kPlug, kUnplug, kResize, kPolicy, kWorkload, kWait, kExpect, kRepeat };
[[nodiscard]] std::string_view StepKindName(StepKind kind);

// The zone a plug asks for (PlugRequest.target); kPolicy: the agent's policy decides.
enum class ZoneAsk { kPolicy, kDefault, kKernel, kMovable };

struct PlugStep {
  std::string device;  // "" = memhpd picks dimmN
  uint64_t size_mib = 0;
  int32_t node = 0;
  ZoneAsk zone = ZoneAsk::kPolicy;
  uint32_t timeout_s = 0;  // 0 = memhpd's default
};

struct UnplugStep {
  std::string device;
  bool force = false;
  uint32_t timeout_s = 0;
};

// resize: a size, or a size drawn (with the scenario's seed) from [min, max] in whole
// `align_mib` steps (the device's block size).
struct ResizeStep {
  std::string device;
  std::optional<uint64_t> size_mib;
  uint64_t min_mib = 0;
  uint64_t max_mib = 0;
  uint64_t align_mib = 2;
  bool offline_first = false;
  uint32_t timeout_s = 0;
};

struct PolicyStep {
  std::string policy;          // manual, online, online_kernel, online_movable, auto-movable
  uint32_t ratio_percent = 0;  // 0 = keep
};

// A guest workload (the image's memhp-touch): anonymous memory only — memhp-touch maps and
// touches anonymous pages; page cache and slab it cannot make (docs/scenarios.md).
enum class WorkloadAction { kStart, kStop };
struct WorkloadStep {
  WorkloadAction action = WorkloadAction::kStart;
  std::string name = "load";           // names the workload for its stop
  std::optional<uint64_t> size_mib;    // one of size_mib / fraction
  std::optional<double> fraction;      // of MemTotal at the start, 0 < f < 1
  std::optional<int32_t> node;         // memhp-touch --node (mbind)
  uint32_t timeout_s = 120;            // start: until it holds its memory; stop: until gone
};

enum class WaitUntil { kTime, kAllBlocksOnline };
struct WaitStep {
  WaitUntil until = WaitUntil::kTime;
  uint32_t seconds = 0;  // kTime: how long; a condition: the deadline
};

// What an expect checks; `of` names an operation step's label ("" = the last operation before).
enum class ExpectKind { kOutcome, kZone, kFractionUnplugged, kNoAuditViolations };
struct ExpectStep {
  ExpectKind kind = ExpectKind::kOutcome;
  std::string of;
  std::string outcome;      // kOutcome: DONE, REFUSED, PARTIAL, TIMED_OUT, FAILED
  std::string zone;         // kZone: Normal, Movable, ... every DONE block of the operation
  double min_fraction = 0;  // kFractionUnplugged: [min, max]
  double max_fraction = 1;
};

struct ScenarioStep {
  StepKind kind = StepKind::kWait;
  int line = 0;        // where the step's object is in the file
  std::string label;   // optional; expects refer to operations by it
  std::string vm;      // "" = the scenario's VM
  PlugStep plug;
  UnplugStep unplug;
  ResizeStep resize;
  PolicyStep policy;
  WorkloadStep workload;
  WaitStep wait;
  ExpectStep expect;
  uint32_t times = 0;               // kRepeat
  std::vector<ScenarioStep> steps;  // kRepeat: the sub-list
};

struct Scenario {
  std::string name;
  std::string description;
  std::string vm;      // "" = memhpctl's --vm
  uint64_t seed = 0;   // for resize's drawn sizes
  std::vector<ScenarioStep> steps;
};

// Parses a scenario. Errors say "line L: ..." (or json-glib's "L:C: ..." for syntax).
[[nodiscard]] Result<Scenario> ParseScenario(std::string_view text);

// How many steps run once every repeat is unrolled.
[[nodiscard]] size_t UnrolledStepCount(const std::vector<ScenarioStep>& steps);

}  // namespace memhp::ctl
