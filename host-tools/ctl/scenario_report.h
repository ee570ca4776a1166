// scenario_report — a scenario run as the JSON report `memhpctl scenario run` writes, and the
// comparison of two such reports (`memhpctl scenario compare A.json B.json`).
//
// The report (docs/scenarios.md, "The report") carries each operation's OperationResult in the
// proto JSON mapping memhpctl's --json prints (wire/proto_json.h), so a script that reads
// `memhpctl --json resize` reads a report's operations the same way. Compare reads reports back
// — files anyone may hand us — bounded and checked like any input, and lines their steps up by
// index: two runs of one scenario (two policies, two builds) have the same steps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ctl/scenario_runner.h"
#include "ctl/scols_table.h"

namespace memhp::ctl {

inline constexpr size_t kMaxReportBytes = size_t{64} << 20;

// What the report says beside the run: the scenario file, how many watch events were recorded
// (for the SVG) and what went wrong with the watch, where the SVG went ("" = none).
struct ReportContext {
  std::string file;
  size_t watch_events = 0;
  std::vector<std::string> watch_problems;
  std::string svg;
};

[[nodiscard]] std::string RenderScenarioReport(const ScenarioRun& run, const ReportContext& context);
// One line for people: "scenario NAME: 12 steps in 48.2 s, 3 of 3 expects held".
[[nodiscard]] std::string RenderScenarioSummary(const ScenarioRun& run);

// What compare reads of one step of a report.
struct ReportStep {
  size_t index = 0;
  std::string path;
  std::string kind;
  std::string label;
  uint64_t duration_ns = 0;
  std::string outcome;                // operations: DONE, REFUSED, ... ("" otherwise)
  std::optional<double> fraction_unplugged;
  std::optional<bool> held;           // expects
  std::string error;
};

struct ReportDigest {
  std::string name;
  uint64_t duration_ns = 0;
  size_t expects_held = 0;
  size_t expects_failed = 0;
  std::vector<ReportStep> steps;
};

// Reads a report back; an Error names what is wrong with it.
[[nodiscard]] Result<ReportDigest> ParseScenarioReport(std::string_view text);

// One row per step index of either report: kind, label, both durations and their difference,
// both outcomes, fractions unplugged and expect verdicts, and DIFF naming what differs
// (outcome, fraction, expect, kind; a duration alone is not a difference).
[[nodiscard]] ScolsTable CompareReports(const ReportDigest& a, const ReportDigest& b);
// How many rows CompareReports marks as differing.
[[nodiscard]] size_t CountDifferences(const ReportDigest& a, const ReportDigest& b);

}  // namespace memhp::ctl
